// Pure parsers for quality gates: test counts from a runner's printed summary, coverage figures from a
// report file's text, and the bounded, ANSI-free output tail that gate events carry. No I/O here.
import { stripVTControlCharacters } from "node:util";
import { TEST_RUNNERS } from "./types.ts";
import type { CoverageFigures, CoverageFormat, TestCounts, TestRunner } from "./types.ts";

/** What the terminal would show: ANSI/VT sequences and other control characters (but tabs) removed,
 *  CRLF → LF, and for a line redrawn with a bare CR (progress bars) only the text after the last CR. */
export function cleanOutput(output: string): string {
  return stripVTControlCharacters(output)
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => line.slice(line.lastIndexOf("\r") + 1).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ""))
    .join("\n");
}

/** A summary found in the output, and the line it ends on (to pick the last one across runners). */
interface Found {
  counts: TestCounts;
  line: number;
}
type SummaryParser = (lines: string[]) => Found | null;

function counts(runner: TestRunner, passed: number, failed: number, skipped: number, total: number): TestCounts {
  return { runner, passed, failed, skipped, total };
}

/** Runs `match` on every line from the end and returns the first (= last in the output) hit. */
function lastMatch(lines: string[], match: (line: string, index: number) => TestCounts | null): Found | null {
  for (let index = lines.length - 1; index >= 0; index--) {
    const matched = match(lines[index]!.trim(), index);
    if (matched) return { counts: matched, line: index };
  }
  return null;
}

/** Splits "3 passed | 1 skipped" (given a separator) into word → number; null if any part is not "N word". */
function tally(body: string, sep: string): Map<string, number> | null {
  const out = new Map<string, number>();
  for (const part of body.split(sep)) {
    const match = /^(\d+) ([a-z][a-z ]*)$/.exec(part.trim());
    if (!match) return null;
    out.set(match[2]!, (out.get(match[2]!) ?? 0) + Number(match[1]));
  }
  return out;
}
const countOf = (t: Map<string, number>, ...words: string[]): number => words.reduce((s, w) => s + (t.get(w) ?? 0), 0);

/** vitest: "Tests  1 failed | 3 passed | 1 skipped | 1 todo (6)", "Tests  no tests", "No test files found". */
const vitest: SummaryParser = (lines) =>
  lastMatch(lines, (line) => {
    if (/^No test files found, exiting with code \d+$/.test(line)) return counts("vitest", 0, 0, 0, 0);
    const match = /^Tests\s+(?:(no tests)|(.+) \((\d+)\))$/.exec(line);
    if (!match) return null;
    if (match[1]) return counts("vitest", 0, 0, 0, 0);
    const byWord = tally(match[2]!, " | ");
    if (!byWord) return null;
    // "expected fail" (`it.fails`) met its expectation: it ran and did not fail the run.
    return counts("vitest", countOf(byWord, "passed", "expected fail"), countOf(byWord, "failed"), countOf(byWord, "skipped"), Number(match[3]));
  });

/** jest: "Tests:       1 failed, 1 skipped, 1 todo, 2 passed, 5 total", "No tests found, exiting with code 1". */
const jest: SummaryParser = (lines) =>
  lastMatch(lines, (line) => {
    if (/^No tests found, exiting with code \d+$/.test(line)) return counts("jest", 0, 0, 0, 0);
    const match = /^Tests:\s+(.+), (\d+) total$/.exec(line) ?? /^Tests:\s+()(\d+) total$/.exec(line);
    if (!match) return null;
    const byWord = match[1] ? tally(match[1], ", ") : new Map<string, number>();
    if (!byWord) return null;
    return counts("jest", countOf(byWord, "passed"), countOf(byWord, "failed"), countOf(byWord, "skipped"), Number(match[2]));
  });

/** node --test: the block "# tests 4 / # pass 1 / # fail 1 / # cancelled 0 / # skipped 1 / # todo 1" (TAP)
 *  or the same with "ℹ" (spec reporter, the default on a TTY). Cancelled tests count as failed. */
const nodeTest: SummaryParser = (lines) => {
  const key = /^(?:#|ℹ) (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\d+(?:\.\d+)?)$/;
  return lastMatch(lines, (line, index) => {
    if (!/^(?:#|ℹ) tests \d+$/.test(line)) return null;
    const byKey = new Map<string, number>();
    for (let lineNo = index; lineNo < lines.length; lineNo++) {
      const match = key.exec(lines[lineNo]!.trim());
      if (!match || (lineNo > index && match[1] === "tests")) break;
      byKey.set(match[1]!, Number(match[2]));
    }
    if (!byKey.has("pass") || !byKey.has("fail")) return null;
    return counts("node-test", countOf(byKey, "pass"), countOf(byKey, "fail", "cancelled"), countOf(byKey, "skipped"), countOf(byKey, "tests"));
  });
};

/** pytest: "=== 1 failed, 2 passed, 1 skipped, 1 xfailed, 1 warning in 0.12s ===", "no tests ran in 0.01s",
 *  "3 deselected in 0.41s". Errors count as failed; xfailed/xpassed as passed (they did not fail the run);
 *  warnings and deselected tests are not tests that ran. */
const pytest: SummaryParser = (lines) =>
  lastMatch(lines, (line) => {
    const match = /^(?:=+ )?(.+?) in \d+(?:\.\d+)? ?s(?:econds)?(?: \([\d:.]+\))?(?: =+)?$/.exec(line);
    if (!match) return null;
    if (match[1] === "no tests ran") return counts("pytest", 0, 0, 0, 0);
    const byWord = tally(match[1]!, ", ");
    const known = /^(?:passed|failed|skipped|deselected|xfailed|xpassed|errors?|warnings?|rerun)$/;
    if (!byWord || ![...byWord.keys()].every((w) => known.test(w))) return null;
    const passed = countOf(byWord, "passed", "xfailed", "xpassed");
    const failed = countOf(byWord, "failed", "error", "errors");
    const skipped = countOf(byWord, "skipped");
    return counts("pytest", passed, failed, skipped, passed + failed + skipped);
  });

/** ExUnit: "2 doctests, 3 tests, 1 failure, 1 skipped", "3 tests, 0 failures, 3 excluded"; with no tests at all
 *  Elixir 1.14 prints a bare "0 failures" (accepted only right after "Finished in …"). Invalid tests count as
 *  failed, excluded as skipped. */
const exunit: SummaryParser = (lines) =>
  lastMatch(lines, (line, index) => {
    const match = /^((?:\d+ [a-z_]+, )*)(\d+) failures?((?:, \d+ (?:excluded|invalid|skipped))*)$/.exec(line);
    if (!match) return null;
    if (!match[1]) {
      const prev = lines.slice(Math.max(0, index - 3), index).map((l) => l.trim());
      if (!prev.some((l) => l.startsWith("Finished in "))) return null;
    }
    const kinds = match[1] ? tally(match[1].slice(0, -2), ", ") : new Map<string, number>();
    const extra = match[3] ? tally(match[3].slice(2), ", ") : new Map<string, number>();
    if (!kinds || !extra) return null;
    const total = [...kinds.values()].reduce((s, x) => s + x, 0);
    const failed = Number(match[2]) + countOf(extra, "invalid");
    const skipped = countOf(extra, "skipped", "excluded");
    return counts("exunit", Math.max(0, total - failed - skipped), failed, skipped, total);
  });

const PARSERS: Record<TestRunner, SummaryParser> = {
  vitest,
  jest,
  "node-test": nodeTest,
  pytest,
  exunit,
};

/**
 * Test counts from the summary a runner printed. Colour codes are ignored; when the output holds several
 * summaries (watch mode, several projects) the last one wins, and with `"auto"` the last summary any runner
 * printed wins.
 *
 * A run the runner reports as having no tests ("no tests ran", "No test files found", "Tests:  0 total",
 * "0 failures") gives counts with `total: 0`; `null` means no summary was recognised at all (the runner
 * crashed before its summary, or it is not the runner named). Use {@link ranNoTests} to fail both.
 */
export function parseTestCounts(output: string, runner: TestRunner | "auto"): TestCounts | null {
  const lines = cleanOutput(output).split("\n");
  const runners = runner === "auto" ? TEST_RUNNERS : [runner];
  let best: Found | null = null;
  for (const candidate of runners) {
    const found = PARSERS[candidate](lines);
    if (found && (!best || found.line > best.line)) best = found;
  }
  return best?.counts ?? null;
}

/** True when a gate with `tests:` must fail for want of tests: no summary, or no test passed or failed
 *  (all skipped/excluded counts as none run). */
export function ranNoTests(counts: TestCounts | null): boolean {
  return counts === null || counts.passed + counts.failed === 0;
}

/** `covered / total` as a percentage floored to two decimals (never rounded up past a threshold). */
function pct(covered: number, total: number): number {
  return Math.floor((covered * 10_000) / total) / 100;
}

function coverageError(format: CoverageFormat, why: string): Error {
  return new Error(`not a valid ${format} coverage report: ${why}`);
}

function parseIstanbulSummary(content: string): CoverageFigures {
  let doc: unknown;
  try {
    doc = JSON.parse(content);
  } catch (err) {
    throw new Error(`not a valid istanbul-summary coverage report: not JSON (${(err as Error).message})`, { cause: err });
  }
  const total = typeof doc === "object" && doc !== null ? (doc as Record<string, unknown>)["total"] : undefined;
  if (typeof total !== "object" || total === null) throw coverageError("istanbul-summary", 'no "total" entry');
  const out: CoverageFigures = {};
  for (const metric of ["lines", "statements", "functions", "branches"] as const) {
    const entry = (total as Record<string, unknown>)[metric];
    const value = typeof entry === "object" && entry !== null ? (entry as { pct?: unknown }).pct : undefined;
    if (typeof value === "number" && Number.isFinite(value)) out[metric] = value;
  }
  if (Object.keys(out).length === 0) throw coverageError("istanbul-summary", 'the "total" entry has no pct figures');
  return out;
}

/** Sums LF/LH, BRF/BRH, FNF/FNH over every record; a record without a summary line is counted from its
 *  DA/BRDA/FNDA lines. */
function parseLcov(content: string): CoverageFigures {
  const sum = { LF: 0, LH: 0, BRF: 0, BRH: 0, FNF: 0, FNH: 0 };
  let records = 0;
  let rec = new Map<string, number>();
  for (const raw of content.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "end_of_record") {
      for (const [found, hit, detail] of [["LF", "LH", "DA"], ["BRF", "BRH", "BRDA"], ["FNF", "FNH", "FNDA"]] as const) {
        sum[found] += rec.get(found) ?? rec.get(`${detail}#`) ?? 0;
        sum[hit] += rec.get(hit) ?? rec.get(`${detail}+`) ?? 0;
      }
      records++;
      rec = new Map();
      continue;
    }
    const match = /^([A-Z]+):(.*)$/.exec(line);
    if (!match) {
      if (line !== "") throw coverageError("lcov", `unexpected line "${line.slice(0, 80)}"`);
      continue;
    }
    const key = match[1]!;
    const value = match[2]!;
    if (/^(?:LF|LH|BRF|BRH|FNF|FNH)$/.test(key)) {
      if (!/^\d+$/.test(value.trim())) throw coverageError("lcov", `${key}:${value.slice(0, 20)} is not a count`);
      rec.set(key, Number(value));
    } else if (key === "DA" || key === "BRDA" || key === "FNDA") {
      const parts = value.split(",");
      const hits = key === "DA" ? parts[1] : key === "BRDA" ? parts[3] : parts[0];
      rec.set(`${key}#`, (rec.get(`${key}#`) ?? 0) + 1);
      if (hits !== undefined && hits !== "-" && Number(hits) > 0) rec.set(`${key}+`, (rec.get(`${key}+`) ?? 0) + 1);
    }
  }
  if (records === 0) throw coverageError("lcov", "no end_of_record");
  if (rec.size > 0) throw coverageError("lcov", "the last record has no end_of_record (truncated?)");
  const out: CoverageFigures = {};
  if (sum.LF > 0) out.lines = pct(sum.LH, sum.LF);
  if (sum.FNF > 0) out.functions = pct(sum.FNH, sum.FNF);
  if (sum.BRF > 0) out.branches = pct(sum.BRH, sum.BRF);
  return out;
}

/** The root `<coverage line-rate=".." branch-rate="..">` element; branches are left out when the report
 *  says it measured none (`branches-valid="0"`, as coverage.py without --cov-branch and excoveralls write). */
function parseCobertura(content: string): CoverageFigures {
  const xml = content.replace(/<!--[\s\S]*?-->/g, "");
  const root = /<([A-Za-z_][\w.-]*)\b([^>]*)>/.exec(xml.replace(/<[?!][^>]*>/g, ""));
  if (!root || root[1] !== "coverage") throw coverageError("cobertura", "the root element is not <coverage>");
  const attrs = new Map<string, string>();
  for (const attr of root[2]!.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs.set(attr[1]!, attr[2] ?? attr[3] ?? "");
  const rate = (name: string): number | undefined => {
    const raw = attrs.get(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value) || value < 0 || value > 1) {
      throw coverageError("cobertura", `${name}="${raw}" is not a rate between 0 and 1`);
    }
    return Math.round(value * 10_000) / 100;
  };
  const lines = rate("line-rate");
  if (lines === undefined) throw coverageError("cobertura", "<coverage> has no line-rate");
  const out: CoverageFigures = { lines };
  const branches = rate("branch-rate");
  if (branches !== undefined && attrs.get("branches-valid") !== "0") out.branches = branches;
  return out;
}

/**
 * Coverage percentages (0–100) from a report's text. istanbul `coverage-summary.json`: the `total` entry's
 * `pct`s as written; `lcov.info`: lines, functions and branches summed over all records (no statements);
 * Cobertura XML: the root's line-rate/branch-rate × 100. A metric the report does not measure is left out.
 * Throws an Error naming the format when the content is not that format.
 */
export function parseCoverage(content: string, format: CoverageFormat): CoverageFigures {
  switch (format) {
    case "istanbul-summary":
      return parseIstanbulSummary(content);
    case "lcov":
      return parseLcov(content);
    case "cobertura":
      return parseCobertura(content);
  }
}

/** The report format a file name implies: `*.json` → istanbul-summary, `*.info` or a name with "lcov" →
 *  lcov, `*.xml` → cobertura. Throws when the name says nothing (the gate must then name the format). */
export function coverageFormatOf(path: string): CoverageFormat {
  const name = (path.split(/[\\/]/).pop() ?? "").toLowerCase();
  if (name.endsWith(".json")) return "istanbul-summary";
  if (name.endsWith(".info") || name.includes("lcov")) return "lcov";
  if (name.endsWith(".xml")) return "cobertura";
  throw new Error(`cannot tell the coverage format of "${path}" from its name; set coverage.format`);
}

/** The end of a command's output for an event: ANSI stripped, at most `maxLines` lines and `maxChars`
 *  characters (a line cut by the character bound is dropped unless it is the only one). */
export function outputTail(output: string, maxLines = 40, maxChars = 4000): string {
  const lines = cleanOutput(output).trimEnd().split("\n");
  let tail = lines.slice(Math.max(0, lines.length - maxLines)).join("\n");
  if (tail.length > maxChars) {
    tail = tail.slice(tail.length - maxChars);
    const nl = tail.indexOf("\n");
    if (nl >= 0) tail = tail.slice(nl + 1);
  }
  return tail;
}
