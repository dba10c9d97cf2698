// The toolkit every test-output parser shares: where a summary was found, counts with failing names, and
// line scanners. Pure: no I/O.
import { MAX_FAILED_NAME_CHARS, MAX_FAILED_NAMES } from "./types.ts";
import type { TestCounts, TestRunner } from "./types.ts";

/** A summary found in the output, and the line it ends on (to pick the last one across runners). */
export interface Found {
  counts: TestCounts;
  line: number;
}
/** Finds a runner's last summary in the cleaned output's lines, or null. Never throws. */
export type SummaryParser = (lines: string[]) => Found | null;

/** The names kept for a report: trimmed, deduplicated, at most 10 of at most 200 characters each. */
export function keepNames(names: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const raw of names) {
    const name = raw.trim();
    if (name === "") continue;
    out.add(name.length > MAX_FAILED_NAME_CHARS ? `${name.slice(0, MAX_FAILED_NAME_CHARS - 1)}…` : name);
    if (out.size === MAX_FAILED_NAMES) break;
  }
  return [...out];
}

/** Counts as reported; `failedNames` only when something failed and names were found. */
export function counts(runner: TestRunner, passed: number, failed: number, skipped: number, total: number, names: Iterable<string> = []): TestCounts {
  const out: TestCounts = { runner, passed, failed, skipped, total };
  const kept = failed > 0 ? keepNames(names) : [];
  if (kept.length > 0) out.failedNames = kept;
  return out;
}

/** Runs `match` on every line from the end and returns the first (= last in the output) hit. */
export function lastMatch(lines: string[], match: (line: string, index: number) => TestCounts | null): Found | null {
  for (let index = lines.length - 1; index >= 0; index--) {
    const matched = match(lines[index]!.trim(), index);
    if (matched) return { counts: matched, line: index };
  }
  return null;
}

/** Capture group 1 of `pattern` on every trimmed line of `lines[from, to)`. */
export function grab(lines: string[], pattern: RegExp, from = 0, to = lines.length): string[] {
  const out: string[] = [];
  for (let index = Math.max(0, from); index < Math.min(to, lines.length); index++) {
    const match = pattern.exec(lines[index]!.trim());
    if (match?.[1]) out.push(match[1]);
  }
  return out;
}

/** Splits "3 passed | 1 skipped" (given a separator) into word → number; null if any part is not "N word". */
export function tally(body: string, sep: string): Map<string, number> | null {
  const out = new Map<string, number>();
  for (const part of body.split(sep)) {
    const match = /^(\d+) ([a-z][a-z ]*)$/.exec(part.trim());
    if (!match) return null;
    out.set(match[2]!, (out.get(match[2]!) ?? 0) + Number(match[1]));
  }
  return out;
}

export const countOf = (t: Map<string, number>, ...words: string[]): number => words.reduce((s, w) => s + (t.get(w) ?? 0), 0);

/** The first line of the run whose summary is on `line`: the line after the previous line that `isSummary`
 *  matches (an earlier run in watch mode or a multi-project output), else 0. */
export function runStart(lines: string[], line: number, isSummary: RegExp): number {
  for (let index = line - 1; index >= 0; index--) if (isSummary.test(lines[index]!.trim())) return index + 1;
  return 0;
}
