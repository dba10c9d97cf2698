// Coverage figures from a report file's text (istanbul json-summary, lcov, Cobertura XML). Pure: no I/O.
import type { CoverageFigures, CoverageFormat } from "./types.ts";

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
