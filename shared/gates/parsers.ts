// Pure parsers for quality gates: test counts from a runner's printed output (its summary, TAP or JUnit XML),
// coverage figures from a report file's text, and the bounded, ANSI-free output tail that gate events carry.
// This is the folder's export surface; the formats live beside it. No I/O here.
import { junit } from "./junit.ts";
import { cleanOutput } from "./output.ts";
import { ava, mocha } from "./runners-mocha-ava.ts";
import { exunit, jest, nodeTest, pytest, vitest } from "./runners.ts";
import type { Found, SummaryParser } from "./summary.ts";
import { tap } from "./tap.ts";
import { TEST_RUNNERS } from "./types.ts";
import type { TestCounts, TestRunner } from "./types.ts";

export { coverageFormatOf, parseCoverage } from "./coverage.ts";
export { parseJunit } from "./junit.ts";
export { cleanOutput, outputTail } from "./output.ts";

const PARSERS: Record<TestRunner, SummaryParser> = {
  vitest,
  jest,
  "node-test": nodeTest,
  pytest,
  exunit,
  mocha,
  ava,
  tap,
  junit,
};

/** The formats any runner may print; a runner's own summary of the same run is preferred to them. */
const GENERIC: ReadonlySet<TestRunner> = new Set(["tap", "junit"]);

/**
 * Test counts from the output of a run. Colour codes are ignored; when the output holds several summaries
 * (watch mode, several projects) the last one wins, and with `"auto"` the last summary any runner printed
 * wins — a named runner's over TAP or JUnit XML ending on the same line. `failedNames` holds the failing
 * tests' names where the output gives them.
 *
 * A run the runner reports as having no tests ("no tests ran", "No test files found", "Tests:  0 total",
 * "0 failures", "0 passing", a TAP plan `1..0`) gives counts with `total: 0`; `null` means no summary was
 * recognised at all (the runner crashed before its summary, or it is not the runner named). Use
 * {@link ranNoTests} to fail both.
 */
export function parseTestCounts(output: string, runner: TestRunner | "auto"): TestCounts | null {
  const lines = cleanOutput(output).split("\n");
  const runners = runner === "auto" ? TEST_RUNNERS : [runner];
  let best: Found | null = null;
  for (const candidate of runners) {
    const found = PARSERS[candidate](lines);
    if (!found) continue;
    const later = !best || found.line > best.line || (found.line === best.line && GENERIC.has(best.counts.runner) && !GENERIC.has(candidate));
    if (later) best = found;
  }
  return best?.counts ?? null;
}

/** True when a gate with `tests:` must fail for want of tests: no summary, or no test passed or failed
 *  (all skipped/excluded counts as none run). */
export function ranNoTests(counts: TestCounts | null): boolean {
  return counts === null || counts.passed + counts.failed === 0;
}
