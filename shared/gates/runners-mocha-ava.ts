// Test counts and failing tests' names from the summaries mocha and ava print with their default reporters.
// Both are worded so that no other runner's summary matches them (nor theirs another's). Pure: no I/O.
import { counts, grab, lastMatch, runStart, type SummaryParser } from "./summary.ts";

const MOCHA_PASSING = /^(\d+) passing \(\d+(?:\.\d+)?(?:ms|s|m|h)\)$/;

/** mocha's failure list after "N failing": "1) suite" then deeper lines "name:" (the full title, one level a
 *  line, the last ending with ":"); a one-level title is "1) name:". */
function mochaNames(lines: string[], from: number): string[] {
  const names: string[] = [];
  for (let index = from; index < lines.length && names.length < 10; index++) {
    const head = /^(\d+)\) (.+)$/.exec(lines[index]!.trim());
    if (!head) continue;
    const parts = [head[2]!];
    while (!parts.at(-1)!.endsWith(":") && index + 1 < lines.length && lines[index + 1]!.trim() !== "" && parts.length < 20) {
      parts.push(lines[++index]!.trim());
    }
    if (parts.at(-1)!.endsWith(":")) names.push(parts.join(" ").slice(0, -1));
  }
  return names;
}

/** mocha (spec, dot, list … reporters): "30 passing (13ms)", then "2 pending" and "1 failing" when there are
 *  any; "0 passing (1ms)" for no tests; "Error: No test files found" when the spec matched no file. Pending
 *  tests count as skipped. */
export const mocha: SummaryParser = (lines) =>
  lastMatch(lines, (line, index) => {
    if (/^Error: No test files found(?:: .*)?$/.test(line)) return counts("mocha", 0, 0, 0, 0);
    const passing = MOCHA_PASSING.exec(line);
    if (!passing) return null;
    let pending = 0;
    let failing = 0;
    let next = index + 1;
    const pendingLine = /^(\d+) pending$/.exec(lines[next]?.trim() ?? "");
    if (pendingLine) {
      pending = Number(pendingLine[1]);
      next++;
    }
    const failingLine = /^(\d+) failing$/.exec(lines[next]?.trim() ?? "");
    if (failingLine) failing = Number(failingLine[1]);
    const passed = Number(passing[1]);
    const names = failing > 0 ? mochaNames(lines, next + 1) : [];
    return counts("mocha", passed, failing, pending, passed + failing + pending, names);
  });

const AVA_LINE = /^(\d+) (tests? passed|tests? failed|tests? skipped|tests? todo|known failures?|tests? remained pending after a timeout|hooks? failed|uncaught exceptions?|unhandled rejections?|previous failures? in test files that were not rerun)$/;
/** ava's messages for a run that found no test to run. */
const AVA_NONE = /^✘ (?:No tests found in .+|Couldn['’]t find any (?:files to test|matching tests)|Based on your configuration, \d+ test files? (?:was|were) found, but did not match the filters:)$/;

/** ava's final summary: one line per kind ("20 tests passed", "2 tests failed", "20 tests skipped", "1 test
 *  todo", "1 known failure", …). ava leaves out the passed line when something failed, so passes are then the
 *  "✔" lines of the run. Known failures (`test.failing` that failed) count as passed, timed-out tests as
 *  failed, todo in the total only. "✘ No tests found in …" and the like give zero tests. Failing tests:
 *  "✘ [fail]: name message" (the title and the assertion's message, which ava prints on one line). */
export const ava: SummaryParser = (lines) =>
  lastMatch(lines, (line, index) => {
    if (AVA_NONE.test(line)) return counts("ava", 0, 0, 0, 0);
    if (!AVA_LINE.test(line) || AVA_LINE.test(lines[index + 1]?.trim() ?? "")) return null;
    let first = index;
    while (first > 0 && AVA_LINE.test(lines[first - 1]!.trim())) first--;
    const byKind = new Map<string, number>();
    for (let lineNo = first; lineNo <= index; lineNo++) {
      const match = AVA_LINE.exec(lines[lineNo]!.trim())!;
      const kind = match[2]!.replace(/^tests? /, "").replace(/s$/, "");
      byKind.set(kind, (byKind.get(kind) ?? 0) + Number(match[1]));
    }
    if (![...byKind.keys()].some((kind) => /^(?:passed|failed|skipped|todo|known failure)$/.test(kind))) return null;
    const start = runStart(lines, first, AVA_LINE);
    const ticks = grab(lines, /^(✔)(?: |$)/, start, first).length;
    const passed = byKind.has("passed") ? byKind.get("passed")! + (byKind.get("known failure") ?? 0) : ticks;
    const failed = (byKind.get("failed") ?? 0) + (byKind.get("remained pending after a timeout") ?? 0);
    const skipped = byKind.get("skipped") ?? 0;
    const names = grab(lines, /^✘ \[(?:fail|unexpected pass)\]: (.+)$/, start, first);
    return counts("ava", passed, failed, skipped, passed + failed + skipped + (byKind.get("todo") ?? 0), names);
  });
