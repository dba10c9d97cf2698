// Test counts and failing tests' names from the summaries vitest, jest, node --test, pytest and ExUnit
// print. Pure: no I/O.
import { counts, countOf, grab, lastMatch, runStart, tally, type SummaryParser } from "./summary.ts";
import { tapFailedNames } from "./tap.ts";

/** vitest: "Tests  1 failed | 3 passed | 1 skipped | 1 todo (6)", "Tests  no tests", "No test files found".
 *  Failing tests: "FAIL  file > suite > name". */
export const vitest: SummaryParser = (lines) =>
  lastMatch(lines, (line, index) => {
    if (/^No test files found, exiting with code \d+$/.test(line)) return counts("vitest", 0, 0, 0, 0);
    const match = /^Tests\s+(?:(no tests)|(.+) \((\d+)\))$/.exec(line);
    if (!match) return null;
    if (match[1]) return counts("vitest", 0, 0, 0, 0);
    const byWord = tally(match[2]!, " | ");
    if (!byWord) return null;
    const names = grab(lines, /^FAIL\s+(.+)$/, runStart(lines, index, /^Tests\s/), index);
    // "expected fail" (`it.fails`) met its expectation: it ran and did not fail the run.
    return counts("vitest", countOf(byWord, "passed", "expected fail"), countOf(byWord, "failed"), countOf(byWord, "skipped"), Number(match[3]), names);
  });

/** jest: "Tests:       1 failed, 1 skipped, 1 todo, 2 passed, 5 total", "No tests found, exiting with code 1".
 *  Failing tests: "● suite › name" (not "● Console"). */
export const jest: SummaryParser = (lines) =>
  lastMatch(lines, (line, index) => {
    if (/^No tests found, exiting with code \d+$/.test(line)) return counts("jest", 0, 0, 0, 0);
    const match = /^Tests:\s+(.+), (\d+) total$/.exec(line) ?? /^Tests:\s+()(\d+) total$/.exec(line);
    if (!match) return null;
    const byWord = match[1] ? tally(match[1], ", ") : new Map<string, number>();
    if (!byWord) return null;
    const names = grab(lines, /^● (?!Console$)(.+)$/, runStart(lines, index, /^Tests:\s/), index);
    return counts("jest", countOf(byWord, "passed"), countOf(byWord, "failed"), countOf(byWord, "skipped"), Number(match[2]), names);
  });

/** node --test: the block "# tests 4 / # pass 1 / # fail 1 / # cancelled 0 / # skipped 1 / # todo 1" (TAP)
 *  or the same with "ℹ" (spec reporter, the default on a TTY). Cancelled tests count as failed. The
 *  "cancelled" line tells it from mocha's and ava's shorter TAP trailers. Failing tests: the spec reporter's
 *  "✖ failing tests:" list, or the TAP stream's failing leaves. */
export const nodeTest: SummaryParser = (lines) => {
  const key = /^(?:#|ℹ) (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\d+(?:\.\d+)?)$/;
  return lastMatch(lines, (line, index) => {
    if (!/^(?:#|ℹ) tests \d+$/.test(line)) return null;
    const byKey = new Map<string, number>();
    let end = index;
    for (; end < lines.length; end++) {
      const match = key.exec(lines[end]!.trim());
      if (!match || (end > index && match[1] === "tests")) break;
      byKey.set(match[1]!, Number(match[2]));
    }
    if (!byKey.has("pass") || !byKey.has("fail") || !byKey.has("cancelled")) return null;
    const failed = countOf(byKey, "fail", "cancelled");
    const names = failed > 0 ? nodeTestNames(lines, index, end) : [];
    return counts("node-test", countOf(byKey, "pass"), failed, countOf(byKey, "skipped"), countOf(byKey, "tests"), names);
  });
};

/** The spec reporter lists failures after its summary block ("✖ failing tests:", then "✖ name (1.2ms)"). */
function nodeTestNames(lines: string[], summary: number, blockEnd: number): string[] {
  const list = lines.findIndex((line, index) => index >= blockEnd && line.trim() === "✖ failing tests:");
  if (list >= 0) {
    const next = lines.findIndex((line, index) => index > list && /^(?:#|ℹ) tests \d+$/.test(line.trim()));
    return grab(lines, /^✖ (.+?)(?: \([\d.]+m?s\))?$/, list + 1, next < 0 ? lines.length : next);
  }
  return tapFailedNames(lines.slice(runStart(lines, summary, /^(?:#|ℹ) duration_ms /), summary));
}

/** pytest: "=== 1 failed, 2 passed, 1 skipped, 1 xfailed, 1 warning in 0.12s ===", "no tests ran in 0.01s",
 *  "3 deselected in 0.41s". Errors count as failed; xfailed/xpassed as passed (they did not fail the run);
 *  warnings and deselected tests are not tests that ran. Failing tests: "FAILED path::name - message". */
export const pytest: SummaryParser = (lines) =>
  lastMatch(lines, (line, index) => {
    const match = /^(?:=+ )?(.+?) in \d+(?:\.\d+)? ?s(?:econds)?(?: \([\d:.]+\))?(?: =+)?$/.exec(line);
    if (!match) return null;
    if (match[1] === "no tests ran") return counts("pytest", 0, 0, 0, 0);
    const byWord = tally(match[1]!, ", ");
    const known = /^(?:passed|failed|skipped|deselected|xfailed|xpassed|errors?|warnings?|rerun)$/;
    if (!byWord || ![...byWord.keys()].every((w) => known.test(w))) return null;
    const passed = countOf(byWord, "passed", "xfailed", "xpassed");
    const failed = countOf(byWord, "failed", "error", "errors");
    const skipped = countOf(byWord, "skipped");
    const names = grab(lines, /^(?:FAILED|ERROR) (.+?)(?: - .*)?$/, runStart(lines, index, / in \d+(?:\.\d+)? ?s/), index);
    return counts("pytest", passed, failed, skipped, passed + failed + skipped, names);
  });

/** ExUnit: "2 doctests, 3 tests, 1 failure, 1 skipped", "3 tests, 0 failures, 3 excluded"; with no tests at all
 *  Elixir 1.14 prints a bare "0 failures" (accepted only right after "Finished in …"). Invalid tests count as
 *  failed, excluded as skipped. Failing tests: "1) test name (Module)". */
export const exunit: SummaryParser = (lines) =>
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
    const names = grab(lines, /^\d+\) ((?:test|doctest) .+)$/, runStart(lines, index, /^(?:\d+ [a-z_]+, )*\d+ failures?(?:,|$)/), index);
    return counts("exunit", Math.max(0, total - failed - skipped), failed, skipped, total, names);
  });
