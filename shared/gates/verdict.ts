// Why a gate run failed, in one distinct sentence per case: the exit code is judged first and named, then
// what the runner's summary says (failed tests, none run, none readable). Pure; the qa worker's gate runner uses it.
import { TEST_RUNNERS, type TestCounts, type TestRunner } from "./types.ts";

/** What a finished gate command gives the verdict (it started, and ended by itself with an exit code). */
export interface RunFacts {
  exitCode: number;
  expect: "pass" | "fail";
  /** The gate's `tests:` setting; absent when the gate does not count tests. */
  runner?: TestRunner | "auto" | undefined;
  /** The counts its runner reported, or null when no summary was readable. */
  counts: TestCounts | null;
}

/** Failing test names shown in a reason, at most; the rest are counted ("and 4 more"). */
const NAMES_SHOWN = 3;
const NAME_MAX_CHARS = 120;

/** Tests that ran (passed or failed); skipped, excluded and todo ones did not. */
export const testsRan = (counts: Pick<TestCounts, "passed" | "failed">): number => counts.passed + counts.failed;

/** What to do when no summary was found: which runners `auto` knows, and what to configure. */
export function unreadableHint(runner: TestRunner | "auto"): string {
  const known = `\`tests: auto\` knows ${TEST_RUNNERS.join(", ")}`;
  const formats = "make the runner print TAP or write a JUnit report (`junit: <file>`)";
  if (runner === "auto") return `${known}: set \`tests: <runner>\`, or ${formats}`;
  const question = runner === "junit" ? "does the command write the JUnit XML report (or print JUnit XML)?"
    : runner === "tap" ? "does the command print TAP?" : `is the command running ${runner}?`;
  return `${question} ${known}; or ${formats}`;
}

/** "test runner summary", "vitest summary", "JUnit report": what was looked for. */
const summaryOf = (runner: TestRunner | "auto"): string =>
  runner === "auto" ? "test runner summary" : runner === "junit" ? "JUnit report" : runner === "tap" ? "TAP summary" : `${runner} summary`;

/** "(0 of 0; 5 skipped)": tests run out of those not skipped, and the skipped ones. */
function ranOf(counts: TestCounts): string {
  return `(${testsRan(counts)} of ${counts.total - counts.skipped}${counts.skipped ? `; ${counts.skipped} skipped` : ""})`;
}

/** ": a, b, c and 4 more" from the runner's failing test names, when it gave any. */
function namesOf(counts: TestCounts): string {
  const names = (counts as TestCounts & { failedNames?: readonly string[] | undefined }).failedNames ?? [];
  if (!names.length) return "";
  const shown = names.slice(0, NAMES_SHOWN).map((name) => (name.length > NAME_MAX_CHARS ? `${name.slice(0, NAME_MAX_CHARS - 1)}…` : name));
  const more = names.length > NAMES_SHOWN ? ` and ${names.length - NAMES_SHOWN} more` : "";
  return `: ${shown.join(", ")}${more}`;
}

/** Why a command failed with `exitCode` ≠ 0, from what its runner reported. */
function nonZeroReason(code: number, runner: RunFacts["runner"], counts: TestCounts | null): string {
  const exit = `exit ${code}`;
  if (!runner) return exit;
  if (!counts) return `${exit}: no ${summaryOf(runner)} found (${unreadableHint(runner)})`;
  if (counts.failed) return `${exit}: ${counts.failed} of ${counts.total} tests failed${namesOf(counts)}`;
  if (!testsRan(counts)) return `${exit}: no tests ran ${ranOf(counts)}`;
  return `${exit}, yet no test failed (${counts.passed} of ${counts.total} passed): the command failed outside the tests — see its output`;
}

/**
 * The reason a gate run fails, or undefined when it passes as far as exit code and test counts go
 * (coverage is judged after). Every case has its own sentence, and every sentence names the exit code:
 * - expect `pass`: exit ≠ 0 fails (naming the failed tests, no tests, or no summary); exit 0 fails only
 *   when the gate counts tests and none ran, or no summary was found.
 * - expect `fail` (a TDD red phase): exit 0 fails; exit ≠ 0 passes only when tests ran (with `tests:`).
 */
export function runVerdict(facts: RunFacts): string | undefined {
  const { exitCode, expect, runner, counts } = facts;
  if (expect === "fail") {
    if (exitCode === 0) return "exit 0: the command passed but this gate expects it to fail (red phase did not fail)";
    if (!runner) return undefined;
    if (!counts) return nonZeroReason(exitCode, runner, counts);
    return testsRan(counts) ? undefined : `exit ${exitCode}: no tests ran ${ranOf(counts)}, so nothing failed for the right reason`;
  }
  if (exitCode !== 0) return nonZeroReason(exitCode, runner, counts);
  if (!runner) return undefined;
  if (!counts) return `exit 0 but no ${summaryOf(runner)} found (${unreadableHint(runner)})`;
  if (!testsRan(counts)) return `exit 0 but no tests ran ${ranOf(counts)}`;
  return undefined;
}

/** Why a command could not start: "command not found: pytest" when it does not exist, else the error. */
export function spawnReason(command: string, message: string): string {
  return /\bENOENT\b/.test(message) ? `command not found: ${command}` : `could not start ${command}: ${message}`;
}
