// Why a gate run failed (shared/gates/verdict.ts): the exit code is judged first and named in every reason, and
// each case — failing tests, a deleted suite, an all-skipped one, an unreadable one, a broken command, a red
// phase that passed — has its own exact sentence instead of one "found no test runner summary" for all.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTestCounts } from "../../shared/gates/parsers.ts";
import { TEST_RUNNERS, type TestCounts } from "../../shared/gates/types.ts";
import { runVerdict, spawnReason, unreadableHint } from "../../shared/gates/verdict.ts";

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "../fixtures/gates", name), "utf8");
const counts = (passed: number, failed: number, skipped: number, extra: Partial<TestCounts> & { failedNames?: string[] } = {}): TestCounts =>
  ({ runner: "vitest", passed, failed, skipped, total: passed + failed + skipped, ...extra });
const KNOWN = `\`tests: auto\` knows ${TEST_RUNNERS.join(", ")}`;
const FORMATS = "make the runner print TAP or write a JUnit report (`junit: <file>`)";

describe("a gate that must pass", () => {
  it("exit 1 with a failing test names the exit code, the counts and the failing tests' names", () => {
    expect(runVerdict({ exitCode: 1, expect: "pass", runner: "auto", counts: counts(29, 1, 0, { failedNames: ["math > adds"] }) }))
      .toBe("exit 1: 1 of 30 tests failed: math > adds");
  });

  it("with a real runner's output; without names, the counts alone; with many names, the first three and how many more", () => {
    expect(runVerdict({ exitCode: 1, expect: "pass", runner: "jest", counts: parseTestCounts(fixture("jest-fail.txt"), "jest") }))
      .toBe("exit 1: 1 of 3 tests failed: adds wrongly");
    expect(runVerdict({ exitCode: 1, expect: "pass", runner: "auto", counts: counts(29, 1, 0) })).toBe("exit 1: 1 of 30 tests failed");
    expect(runVerdict({ exitCode: 1, expect: "pass", runner: "auto", counts: counts(0, 5, 0, { failedNames: ["a", "b", "c", "d", "e"] }) }))
      .toBe("exit 1: 5 of 5 tests failed: a, b, c and 2 more");
  });

  it("a broken suite (exit 2, no summary: the runner crashed) says so, what `auto` knows and what to configure", () => {
    const crashed = "node:internal/modules/run_main:123\nSyntaxError: Unexpected token '}'\n    at compileSourceTextModule (node:internal/modules/esm/utils:340:16)\n";
    expect(runVerdict({ exitCode: 2, expect: "pass", runner: "auto", counts: parseTestCounts(crashed, "vitest") }))
      .toBe(`exit 2: no test runner summary found (${KNOWN}: set \`tests: <runner>\`, or ${FORMATS})`);
    // pytest stopped at collection does print a summary: its error counts as a failure
    expect(runVerdict({ exitCode: 2, expect: "pass", runner: "pytest", counts: parseTestCounts(fixture("pytest-collect-error.txt"), "pytest") }))
      .toBe("exit 2: 1 of 1 tests failed: err/test_broken.py");
  });

  it("a healthy suite the parser cannot read (exit 0, no summary) fails naming exit 0 and the runner it looked for", () => {
    expect(runVerdict({ exitCode: 0, expect: "pass", runner: "vitest", counts: parseTestCounts("all good\n", "vitest") }))
      .toBe(`exit 0 but no vitest summary found (is the command running vitest? ${KNOWN}; or ${FORMATS})`);
    expect(unreadableHint("auto")).toBe(`${KNOWN}: set \`tests: <runner>\`, or ${FORMATS}`);
    expect(runVerdict({ exitCode: 0, expect: "pass", runner: "junit", counts: null }))
      .toBe(`exit 0 but no JUnit report found (does the command write the JUnit XML report (or print JUnit XML)? ${KNOWN}; or ${FORMATS})`);
  });

  it("an all-skipped suite: exit 0 but no tests ran, with the skipped count", () => {
    expect(runVerdict({ exitCode: 0, expect: "pass", runner: "auto", counts: counts(0, 0, 5) })).toBe("exit 0 but no tests ran (0 of 0; 5 skipped)");
  });

  it("a deleted suite: exit 0 with zero tests, or the runner's own non-zero exit for none found", () => {
    expect(runVerdict({ exitCode: 0, expect: "pass", runner: "auto", counts: counts(0, 0, 0) })).toBe("exit 0 but no tests ran (0 of 0)");
    expect(runVerdict({ exitCode: 1, expect: "pass", runner: "jest", counts: parseTestCounts(fixture("jest-none.txt"), "jest") }))
      .toBe("exit 1: no tests ran (0 of 0)");
  });

  it("exit 1 although every test passed: the command failed outside the tests", () => {
    expect(runVerdict({ exitCode: 1, expect: "pass", runner: "auto", counts: counts(30, 0, 0) }))
      .toBe("exit 1, yet no test failed (30 of 30 passed): the command failed outside the tests — see its output");
  });

  it("a gate that counts no tests fails on its exit code alone, and passes on exit 0", () => {
    expect(runVerdict({ exitCode: 3, expect: "pass", counts: null })).toBe("exit 3");
    expect(runVerdict({ exitCode: 0, expect: "pass", counts: null })).toBeUndefined();
  });

  it("exit 0 with tests that ran passes (coverage is judged after)", () => {
    expect(runVerdict({ exitCode: 0, expect: "pass", runner: "auto", counts: counts(30, 0, 2) })).toBeUndefined();
  });
});

describe("a gate that must fail (a TDD red phase)", () => {
  it("exit 0 fails: the red phase did not fail", () => {
    expect(runVerdict({ exitCode: 0, expect: "fail", runner: "auto", counts: counts(3, 0, 0) }))
      .toBe("exit 0: the command passed but this gate expects it to fail (red phase did not fail)");
  });

  it("a non-zero exit passes when tests ran, and fails when none did or no summary was found", () => {
    expect(runVerdict({ exitCode: 1, expect: "fail", runner: "auto", counts: counts(2, 1, 0) })).toBeUndefined();
    expect(runVerdict({ exitCode: 1, expect: "fail", runner: "auto", counts: counts(0, 0, 0) }))
      .toBe("exit 1: no tests ran (0 of 0), so nothing failed for the right reason");
    expect(runVerdict({ exitCode: 2, expect: "fail", runner: "auto", counts: null }))
      .toBe(`exit 2: no test runner summary found (${KNOWN}: set \`tests: <runner>\`, or ${FORMATS})`);
  });
});

describe("a command that cannot start", () => {
  it("a missing command is 'command not found'; any other error is named", () => {
    expect(spawnReason("pytest", 'cannot run "pytest" (cwd /w): spawn pytest ENOENT')).toBe("command not found: pytest");
    expect(spawnReason("./run.sh", 'cannot run "./run.sh" (cwd /w): spawn ./run.sh EACCES')).toBe('could not start ./run.sh: cannot run "./run.sh" (cwd /w): spawn ./run.sh EACCES');
  });
});
