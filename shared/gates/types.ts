// Types shared by the gate parsers (pure), the presets, the config schema and the qa worker's gate runner.

/** Runners whose output a gate can parse for test counts: summaries of named runners, then the formats any
 *  runner can emit (`tap` on stdout, `junit` XML on stdout or in a report file named by the gate's `junit`). */
export const TEST_RUNNERS = ["vitest", "jest", "node-test", "pytest", "exunit", "mocha", "ava", "tap", "junit"] as const;
export type TestRunner = (typeof TEST_RUNNERS)[number];

/** What a test runner's output says it ran. `total` = passed + failed + skipped (+ todo where the runner has it). */
export interface TestCounts {
  runner: TestRunner;
  passed: number;
  failed: number;
  skipped: number;
  total: number;
  /** Names of failing tests where the output gives them: at most {@link MAX_FAILED_NAMES}, each trimmed to
   *  {@link MAX_FAILED_NAME_CHARS} characters; absent when none failed or none could be read. */
  failedNames?: string[];
}
export const MAX_FAILED_NAMES = 10;
export const MAX_FAILED_NAME_CHARS = 200;

/** Coverage report formats a gate can read. */
export const COVERAGE_FORMATS = ["istanbul-summary", "lcov", "cobertura"] as const;
export type CoverageFormat = (typeof COVERAGE_FORMATS)[number];

export const COVERAGE_METRICS = ["lines", "statements", "functions", "branches"] as const;
export type CoverageMetric = (typeof COVERAGE_METRICS)[number];

/** Percentages (0–100) a coverage report gives; a format that lacks a metric leaves it out. */
export type CoverageFigures = Partial<Record<CoverageMetric, number>>;

/** A gate as the operator writes it in config (before defaults). */
export interface GateSpec {
  /** argv, run in the task's workspace; never a shell string, never from a request. */
  run: string[];
  timeoutSeconds?: number;
  /** `pass` (default): exit 0 passes. `fail`: a non-zero exit passes (TDD red). */
  expect?: "pass" | "fail";
  /** Parse test counts from the output; a gate whose runner reports zero tests fails. `auto` tries each runner. */
  tests?: TestRunner | "auto";
  /** A JUnit XML report the command writes (path relative to the workspace): the counts are read from it. */
  junit?: string;
  /** Read a coverage report the command wrote (path relative to the workspace) and require a minimum. */
  coverage?: { file: string; format?: CoverageFormat; metric?: CoverageMetric; min: number };
}
