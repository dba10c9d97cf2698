// Gate parsers and presets against real runner output and real coverage reports (test/fixtures/gates;
// its README says which command and version produced each file).
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cleanOutput,
  coverageFormatOf,
  outputTail,
  parseCoverage,
  parseJunit,
  parseTestCounts,
  ranNoTests,
} from "../../shared/gates/parsers.ts";
import { GATE_PRESET_NAMES, GATE_PRESETS } from "../../shared/gates/presets.ts";
import { COVERAGE_FORMATS, COVERAGE_METRICS, TEST_RUNNERS } from "../../shared/gates/types.ts";
import type { CoverageFormat, TestCounts, TestRunner } from "../../shared/gates/types.ts";

const DIR = new URL("../fixtures/gates/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, DIR), "utf8");

/** [runner, passed, failed, skipped, total, failing names?], read off each fixture's summary line. */
type Want = [TestRunner, number, number, number, number, string[]?];
const EXPECTED: Record<string, Want> = {
  "vitest-pass.txt": ["vitest", 4, 0, 0, 4], // Tests  4 passed (4)
  "vitest-fail.txt": ["vitest", 3, 1, 0, 4, ["fail/math.test.js > math > adds wrongly"]], // Tests  1 failed | 3 passed (4)
  "vitest-skip.txt": ["vitest", 2, 0, 1, 4], // Tests  2 passed | 1 skipped | 1 todo (4)
  "vitest-none.txt": ["vitest", 0, 0, 0, 0], // No test files found, exiting with code 1
  "vitest-empty.txt": ["vitest", 0, 0, 0, 0], // Tests  no tests
  "vitest-fail-color.txt": ["vitest", 3, 1, 0, 4, ["fail/math.test.js > math > adds wrongly"]],
  "vitest-tty-fail.txt": ["vitest", 3, 1, 0, 4, ["fail/math.test.js > math > adds wrongly"]],
  "vitest-watch.txt": ["vitest", 3, 0, 0, 3], // second run: Tests  3 passed (3)
  "vitest-coverage.txt": ["vitest", 4, 0, 0, 4],
  "vitest5-skip.txt": ["vitest", 2, 0, 1, 4],
  "jest-pass.txt": ["jest", 2, 0, 0, 2], // Tests:       2 passed, 2 total
  "jest-fail.txt": ["jest", 2, 1, 0, 3, ["adds wrongly"]], // Tests:       1 failed, 2 passed, 3 total
  "jest-skip.txt": ["jest", 1, 1, 1, 4, ["adds wrongly"]], // Tests:       1 failed, 1 skipped, 1 todo, 1 passed, 4 total
  "jest-none.txt": ["jest", 0, 0, 0, 0], // No tests found, exiting with code 1
  "jest-empty.txt": ["jest", 0, 0, 0, 0], // Tests:       0 total
  "jest-fail-color.txt": ["jest", 2, 1, 0, 3, ["adds wrongly"]],
  "node-test-tap-pass.txt": ["node-test", 2, 0, 0, 2], // # tests 2 / # pass 2
  "node-test-tap-fail.txt": ["node-test", 2, 1, 0, 3, ["adds wrongly"]], // # tests 3 / # pass 2 / # fail 1
  "node-test-tap-skip.txt": ["node-test", 1, 1, 1, 4, ["adds wrongly"]], // # tests 4 / pass 1 / fail 1 / skipped 1 / todo 1
  "node-test-tap-none.txt": ["node-test", 0, 0, 0, 0], // # tests 0
  "node-test-spec-pass.txt": ["node-test", 2, 0, 0, 2], // ℹ tests 2
  "node-test-spec-fail.txt": ["node-test", 2, 1, 0, 3, ["adds wrongly"]],
  "node-test-spec-skip.txt": ["node-test", 1, 1, 1, 4, ["adds wrongly"]],
  "node-test-spec-fail-color.txt": ["node-test", 2, 1, 0, 3, ["adds wrongly"]],
  "node-test-tty-fail.txt": ["node-test", 2, 1, 0, 3, ["adds wrongly"]],
  "c8-node-test.txt": ["node-test", 4, 0, 0, 4],
  "pytest-pass.txt": ["pytest", 3, 0, 0, 3], // === 3 passed in 0.52s ===
  "pytest-fail.txt": ["pytest", 2, 1, 0, 3, ["fail/test_calc.py::test_add_wrongly"]], // === 1 failed, 2 passed in 0.39s ===
  "pytest-skip.txt": ["pytest", 2, 1, 1, 4, ["skip/test_calc.py::test_add_wrongly"]], // 1 failed, 1 passed, 1 skipped, 1 xfailed (xfailed counts as passed)
  "pytest-none.txt": ["pytest", 0, 0, 0, 0], // no tests ran in 0.39s
  "pytest-none-quiet.txt": ["pytest", 0, 0, 0, 0],
  "pytest-fail-quiet.txt": ["pytest", 2, 1, 0, 3, ["fail/test_calc.py::test_add_wrongly"]], // 1 failed, 2 passed in 0.39s
  "pytest-fail-color.txt": ["pytest", 2, 1, 0, 3, ["fail/test_calc.py::test_add_wrongly"]],
  "pytest-collect-error.txt": ["pytest", 0, 1, 0, 1, ["err/test_broken.py"]], // === 1 error in 0.44s ===
  "pytest-warning.txt": ["pytest", 1, 0, 0, 1], // 1 passed, 1 warning in 0.38s
  "pytest-deselected.txt": ["pytest", 0, 0, 0, 0], // === 3 deselected in 0.41s ===
  "pytest-cov.txt": ["pytest", 3, 0, 0, 3],
  "exunit-pass.txt": ["exunit", 3, 0, 0, 3], // 3 tests, 0 failures
  "exunit-fail.txt": ["exunit", 2, 1, 0, 3, ["test adds wrongly (CalcFailTest)"]], // 3 tests, 1 failure
  "exunit-doctests-skip.txt": ["exunit", 3, 1, 1, 5, ["test adds wrongly (CalcDocTest)"]], // 2 doctests, 3 tests, 1 failure, 1 skipped
  "exunit-none.txt": ["exunit", 0, 0, 0, 0], // 0 failures
  "exunit-excluded.txt": ["exunit", 0, 0, 3, 3], // 3 tests, 0 failures, 3 excluded
  "exunit-fail-color.txt": ["exunit", 2, 1, 0, 3, ["test adds wrongly (CalcFailTest)"]],
  "exunit-cover.txt": ["exunit", 3, 0, 0, 3],
  "node-test-tap-nested.txt": ["node-test", 2, 1, 1, 5, ["adds two and two"]], // describe > describe > it, a skip and a todo
  "node-test-spec-nested.txt": ["node-test", 2, 1, 1, 5, ["adds two and two"]], // the "✖ failing tests:" list after the summary
  "mocha-pass.txt": ["mocha", 3, 0, 0, 3], // 3 passing (5ms)
  "mocha-fail.txt": ["mocha", 2, 1, 0, 3, ["calc adds two and two"]], // 2 passing / 1 failing; "1) calc\n adds two and two:"
  "mocha-skip.txt": ["mocha", 1, 1, 2, 4, ["calc adds two and two"]], // 1 passing / 2 pending / 1 failing
  "mocha-nested.txt": ["mocha", 1, 2, 1, 4, ["calc add adds two and two", "calc clamp clamps above"]],
  "mocha-empty.txt": ["mocha", 0, 0, 0, 0], // 0 passing (1ms)
  "mocha-none.txt": ["mocha", 0, 0, 0, 0], // Error: No test files found: "none/*.test.js"
  "mocha-fail-color.txt": ["mocha", 2, 1, 0, 3, ["calc adds two and two"]],
  "mocha-tty-skip.txt": ["mocha", 1, 1, 2, 4, ["calc adds two and two"]],
  "ava-pass.txt": ["ava", 3, 0, 0, 3], // 3 tests passed
  "ava-fail.txt": ["ava", 2, 1, 0, 3, ["adds two and two"]], // 1 test failed (no passed line: the two ✔ lines)
  "ava-skip.txt": ["ava", 1, 1, 1, 4, ["adds two and two"]], // 1 test failed / 1 test skipped / 1 test todo
  "ava-empty.txt": ["ava", 0, 0, 0, 0], // ✘ No tests found in ava/empty/calc.test.js
  "ava-none.txt": ["ava", 0, 0, 0, 0], // ✘ Based on your configuration, 9 test files were found, but did not match the filters:
  "ava-fail-color.txt": ["ava", 2, 1, 0, 3, ["adds two and two"]],
  "ava-tty-skip.txt": ["ava", 1, 1, 1, 4, ["adds two and two"]],
  "mocha-tap-pass.txt": ["tap", 3, 0, 0, 3], // no "TAP version" line; plan last
  "mocha-tap-fail.txt": ["tap", 2, 1, 0, 3, ["calc adds two and two"]],
  "mocha-tap-skip.txt": ["tap", 1, 1, 2, 4, ["calc adds two and two"]], // "ok 3 calc clamps above # SKIP -"
  "mocha-tap-empty.txt": ["tap", 0, 0, 0, 0], // 1..0
  "ava-tap-pass.txt": ["tap", 3, 0, 0, 3],
  "ava-tap-fail.txt": ["tap", 2, 1, 0, 3, ["adds two and two"]],
  "ava-tap-skip.txt": ["tap", 1, 1, 1, 4, ["adds two and two"]], // "not ok 2 - clamps below # TODO" is not a failure
  "ava-tap-empty.txt": ["tap", 0, 0, 0, 0], // "not ok 1 - No tests found in …" under the plan 1..0
  "tap-nested.txt": ["tap", 2, 1, 1, 5, ["adds two and two"]], // node-tap: TAP 14, plan first, subtests 3 deep
  "vitest-junit-stdout-fail.txt": ["junit", 2, 1, 0, 3, ["calc > adds two & two <wrongly> (vt/fail/calc.test.js)"]],
};
const asCounts = ([runner, passed, failed, skipped, total, names]: Want): TestCounts =>
  ({ runner, passed, failed, skipped, total, ...(names ? { failedNames: names } : {}) });
/** Formats any runner may print: they may read another runner's output too (with that runner's counts). */
const GENERIC: readonly TestRunner[] = ["tap", "junit"];

describe("parseTestCounts on real runner output", () => {
  it("has an expectation for every output fixture", () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith(".txt")).sort();
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))("%s: the named runner and auto give the summary's counts", (file, want) => {
    const text = fixture(file);
    expect(parseTestCounts(text, want[0])).toEqual(asCounts(want));
    expect(parseTestCounts(text, "auto")).toEqual(asCounts(want));
  });

  it.each(Object.entries(EXPECTED))("%s: no other runner claims it (TAP and JUnit only with the same counts)", (file, want) => {
    const text = fixture(file);
    for (const other of TEST_RUNNERS.filter((r) => r !== want[0])) {
      const found = parseTestCounts(text, other);
      if (GENERIC.includes(other) && found) expect(found).toEqual({ ...asCounts(want), runner: other });
      else expect(found).toBeNull();
    }
  });

  it("returns null when the output has no summary (a crash before it, or unrelated text)", () => {
    const crashed = fixture("vitest-fail.txt").split(" Test Files")[0]!;
    expect(parseTestCounts(crashed, "vitest")).toBeNull();
    expect(parseTestCounts(crashed, "auto")).toBeNull();
    expect(parseTestCounts("", "auto")).toBeNull();
    expect(parseTestCounts("npm ERR! missing script: test\n", "auto")).toBeNull();
    // A bare "0 failures" counts only right after ExUnit's "Finished in" line.
    expect(parseTestCounts("0 failures\n", "exunit")).toBeNull();
  });
});

describe("zero-test runs", () => {
  const zero = Object.entries(EXPECTED).filter(([, w]) => w[4] === 0).map(([f]) => f);

  it("are recognised as counts with total 0, one per runner at least (JUnit's from report files)", () => {
    const junitZero = ["jest-empty.xml", "mocha-empty.xml", "pytest-none.xml"].map((f) => parseJunit(fixture(`reports/junit/${f}`)));
    for (const counts of junitZero) expect(counts).toEqual({ runner: "junit", passed: 0, failed: 0, skipped: 0, total: 0 });
    expect(new Set([...zero.map((f) => EXPECTED[f]![0]), "junit"])).toEqual(new Set(TEST_RUNNERS));
    for (const f of zero) expect(parseTestCounts(fixture(f), "auto")).toMatchObject({ total: 0 });
  });

  it("ranNoTests fails them, a run where every test was excluded, and an unreadable output", () => {
    for (const f of zero) expect(ranNoTests(parseTestCounts(fixture(f), "auto"))).toBe(true);
    expect(ranNoTests(parseTestCounts(fixture("exunit-excluded.txt"), "exunit"))).toBe(true);
    expect(ranNoTests(null)).toBe(true);
  });

  it("ranNoTests passes runs that executed tests, failing ones included", () => {
    for (const f of ["vitest-fail.txt", "jest-skip.txt", "node-test-tap-pass.txt", "pytest-collect-error.txt", "exunit-doctests-skip.txt"]) {
      expect(ranNoTests(parseTestCounts(fixture(f), "auto"))).toBe(false);
    }
  });
});

describe("colour and terminal control codes", () => {
  it.each([
    ["vitest-fail-color.txt", "vitest-fail.txt"],
    ["vitest-tty-fail.txt", "vitest-fail.txt"],
    ["jest-fail-color.txt", "jest-fail.txt"],
    ["node-test-spec-fail-color.txt", "node-test-tap-fail.txt"],
    ["node-test-tty-fail.txt", "node-test-tap-fail.txt"],
    ["pytest-fail-color.txt", "pytest-fail.txt"],
    ["exunit-fail-color.txt", "exunit-fail.txt"],
  ])("%s reads like the plain %s", (coloured, plain) => {
    expect(fixture(coloured)).toMatch(/\x1b\[/);
    expect(parseTestCounts(fixture(coloured), "auto")).toEqual(parseTestCounts(fixture(plain), "auto"));
  });

  it("cleanOutput removes escape sequences, CRs and screen clears", () => {
    for (const f of ["vitest-tty-fail.txt", "node-test-tty-fail.txt", "vitest-watch.txt"]) {
      expect(cleanOutput(fixture(f))).not.toMatch(/[\x1b\r]/);
    }
    expect(cleanOutput("\x1b[32m✓\x1b[39m ok\r\n")).toBe("✓ ok\n");
    expect(cleanOutput("progress 10%\rprogress 100%\ndone")).toBe("progress 100%\ndone");
  });
});

describe("the last summary wins", () => {
  it("in watch mode (vitest: 1 failed, then fixed and rerun)", () => {
    const text = fixture("vitest-watch.txt");
    expect(cleanOutput(text)).toContain("Tests  1 failed | 2 passed (3)");
    expect(parseTestCounts(text, "vitest")).toEqual({ runner: "vitest", passed: 3, failed: 0, skipped: 0, total: 3 });
  });

  it("over vitest's live progress summary on a TTY", () => {
    expect(cleanOutput(fixture("vitest-tty-fail.txt"))).toContain("Tests 0 passed (0)");
    expect(parseTestCounts(fixture("vitest-tty-fail.txt"), "vitest")).toMatchObject({ failed: 1, total: 4 });
  });

  it("across runs of one runner and, with auto, across runners", () => {
    expect(parseTestCounts(fixture("pytest-fail.txt") + fixture("pytest-pass.txt"), "pytest")).toMatchObject({ failed: 0, total: 3 });
    expect(parseTestCounts(fixture("pytest-pass.txt") + fixture("pytest-fail.txt"), "pytest")).toMatchObject({ failed: 1, total: 3 });
    expect(parseTestCounts(fixture("jest-fail.txt") + fixture("vitest-pass.txt"), "auto")?.runner).toBe("vitest");
    expect(parseTestCounts(fixture("vitest-pass.txt") + fixture("jest-fail.txt"), "auto")?.runner).toBe("jest");
    expect(parseTestCounts(fixture("exunit-fail.txt") + fixture("node-test-tap-none.txt"), "auto")).toMatchObject({ runner: "node-test", total: 0 });
    // Naming the runner ignores the others' summaries wherever they are.
    expect(parseTestCounts(fixture("jest-fail.txt") + fixture("vitest-pass.txt"), "jest")).toMatchObject({ failed: 1, total: 3 });
  });
});

describe("JUnit XML report files (reports/junit/)", () => {
  it.each<[string, Want]>([
    ["vitest-pass.xml", ["junit", 2, 0, 0, 2]],
    ["vitest-fail.xml", ["junit", 2, 1, 0, 3, ["calc > adds two & two <wrongly> (vt/fail/calc.test.js)"]]], // entities decoded
    ["vitest-skip.xml", ["junit", 1, 1, 2, 4, ["calc > adds two & two <wrongly> (vt/skip/calc.test.js)"]]], // todo is <skipped/> here
    // vitest reports an empty describe as two failing "No test found in suite" cases (its console says "no tests")
    ["vitest-empty.xml", ["junit", 0, 2, 0, 2, ["vt/empty/calc.test.js", "calc"]]],
    ["jest-pass.xml", ["junit", 2, 0, 0, 2]],
    ["jest-fail.xml", ["junit", 2, 1, 0, 3, ["calc adds two & two <wrongly>"]]], // classname repeats the name: not shown twice
    ["jest-skip.xml", ["junit", 2, 1, 1, 4, ["calc adds two & two <wrongly>"]]], // jest-junit writes a todo as a plain (passing) case
    ["jest-empty.xml", ["junit", 0, 0, 0, 0]],
    ["mocha-pass.xml", ["junit", 3, 0, 0, 3]],
    ["mocha-fail.xml", ["junit", 2, 1, 0, 3, ["calc adds two and two"]]], // CDATA body
    ["mocha-skip.xml", ["junit", 1, 1, 2, 4, ["calc adds two and two"]]], // pending tests only in the root's skipped="2"
    ["mocha-empty.xml", ["junit", 0, 0, 0, 0]],
    ["pytest-pass.xml", ["junit", 2, 0, 0, 2]],
    ["pytest-fail.xml", ["junit", 2, 1, 0, 3, ["test_add_wrongly (fail.test_calc)"]]],
    ["pytest-skip.xml", ["junit", 1, 1, 2, 4, ["test_add_wrongly (skip.test_calc)"]]], // xfail is <skipped type="pytest.xfail">
    ["pytest-none.xml", ["junit", 0, 0, 0, 0]],
    ["node-test-nested.xml", ["junit", 2, 1, 2, 5, ["adds two and two (test)"]]], // nested <testsuite>s; todo is <skipped type="todo">
  ])("%s", (file, want) => {
    expect(parseJunit(fixture(`reports/junit/${file}`))).toEqual(asCounts(want));
  });

  it("every report file has an expectation, and JUnit XML printed on stdout reads like the file", () => {
    expect(readdirSync(new URL("reports/junit/", DIR)).length).toBe(17);
    const { runner: _, ...fromStdout } = parseTestCounts(fixture("vitest-junit-stdout-fail.txt"), "junit")!;
    const { runner: __, ...fromFile } = parseJunit(fixture("reports/junit/vitest-fail.xml"));
    expect(fromStdout).toEqual(fromFile);
  });

  it("a file that is not a JUnit report is refused with the reason", () => {
    expect(() => parseJunit(fixture("reports/c8/cobertura-coverage.xml"))).toThrow("not a valid JUnit XML report: the root element is <coverage>");
    const truncated = fixture("reports/junit/mocha-fail.xml").slice(0, 400);
    expect(() => parseJunit(truncated)).toThrow(/not a valid JUnit XML report: .*(never closed|malformed)/);
    expect(() => parseJunit("")).toThrow("no root element");
    expect(() => parseJunit(fixture("mocha-fail.txt"))).toThrow("not a valid JUnit XML report");
  });
});

describe("one project, every format its runner prints: the same counts", () => {
  const same = (a: TestCounts | null, b: TestCounts | null) => expect({ ...a, runner: "" }).toEqual({ ...b, runner: "" });
  it.each([
    ["mocha-skip.txt", "mocha-tap-skip.txt"],
    ["mocha-fail.txt", "mocha-tap-fail.txt"],
    ["ava-skip.txt", "ava-tap-skip.txt"],
    ["ava-fail.txt", "ava-tap-fail.txt"],
    ["node-test-spec-nested.txt", "node-test-tap-nested.txt"],
  ])("%s = %s", (summary, tapOutput) => {
    same(parseTestCounts(fixture(summary), "auto"), parseTestCounts(fixture(tapOutput), "tap"));
  });

  it("mocha's JUnit report (mocha-junit-reporter) = its summary", () => {
    same(parseJunit(fixture("reports/junit/mocha-skip.xml")), parseTestCounts(fixture("mocha-skip.txt"), "mocha"));
  });

  it("with auto, node --test's own trailer wins over the TAP stream it ends (same line order, the runner named)", () => {
    expect(parseTestCounts(fixture("node-test-tap-skip.txt"), "auto")?.runner).toBe("node-test");
    expect(parseTestCounts(fixture("node-test-tap-skip.txt"), "tap")?.runner).toBe("tap");
  });

  it("the last summary still wins across mocha, ava, TAP and the others", () => {
    expect(parseTestCounts(fixture("mocha-fail.txt") + fixture("ava-pass.txt"), "auto")).toMatchObject({ runner: "ava", total: 3 });
    expect(parseTestCounts(fixture("ava-pass.txt") + fixture("mocha-fail.txt"), "auto")).toMatchObject({ runner: "mocha", failed: 1 });
    expect(parseTestCounts(fixture("jest-fail.txt") + fixture("mocha-tap-pass.txt"), "auto")).toMatchObject({ runner: "tap", passed: 3 });
    expect(parseTestCounts(fixture("mocha-tap-fail.txt") + fixture("pytest-pass.txt"), "auto")).toMatchObject({ runner: "pytest", passed: 3 });
  });

  it("npm's banner before mocha's or ava's output (the node preset runs `npm test`) changes nothing", () => {
    const banner = "\n> calc@1.0.0 test\n> mocha\n\n";
    expect(parseTestCounts(banner + fixture("mocha-skip.txt"), GATE_PRESETS.node["test"]!.tests!)).toEqual(asCounts(EXPECTED["mocha-skip.txt"]!));
    expect(parseTestCounts(banner + fixture("ava-skip.txt"), GATE_PRESETS.node["test"]!.tests!)).toEqual(asCounts(EXPECTED["ava-skip.txt"]!));
  });
});

describe("parseCoverage on real reports", () => {
  const report = (path: string): [string, CoverageFormat] => [fixture(path), coverageFormatOf(path)];

  it.each([
    ["reports/vitest-v8/coverage-summary.json", { lines: 42.85, statements: 55.55, functions: 66.66, branches: 50 }],
    ["reports/vitest-v8/lcov.info", { lines: 42.85, functions: 66.66, branches: 50 }],
    ["reports/c8/coverage-summary.json", { lines: 65.21, statements: 65.21, functions: 80, branches: 66.66 }],
    ["reports/c8/lcov.info", { lines: 65.21, functions: 80, branches: 66.66 }],
    ["reports/c8/cobertura-coverage.xml", { lines: 65.21, branches: 66.66 }],
    ["reports/pytest-cov/coverage.xml", { lines: 66.67, branches: 50 }],
    ["reports/pytest-cov-lines/coverage.xml", { lines: 66.67 }],
  ])("%s", (path, want) => {
    expect(parseCoverage(...report(path))).toEqual(want);
  });

  it("lcov sums every record and agrees with istanbul's summary of the same run", () => {
    const summary = parseCoverage(...report("reports/c8/coverage-summary.json"));
    const lcov = parseCoverage(...report("reports/c8/lcov.info"));
    expect(lcov).toEqual({ lines: summary.lines, functions: summary.functions, branches: summary.branches });
  });

  it("lcov without summary lines is counted from DA/BRDA/FNDA; lines-only lcov (excoveralls) gives lines only", () => {
    // Hand-written records in the shapes excoveralls writes (DA, LF, LH only) and without LF/LH.
    expect(parseCoverage("TN:\nSF:lib/calc.ex\nDA:1,1\nDA:2,0\nDA:3,4\nLF:3\nLH:2\nend_of_record\n", "lcov")).toEqual({ lines: 66.66 });
    const stripped = fixture("reports/c8/lcov.info").split("\n").filter((l) => !/^(LF|LH|BRF|BRH|FNF|FNH):/.test(l)).join("\n");
    expect(parseCoverage(stripped, "lcov")).toEqual({ lines: 65.21, functions: 80, branches: 66.66 });
  });

  it("throws a clear error when the content is not the format named", () => {
    const texts: Record<CoverageFormat, string> = {
      "istanbul-summary": fixture("reports/c8/coverage-summary.json"),
      lcov: fixture("reports/c8/lcov.info"),
      cobertura: fixture("reports/c8/cobertura-coverage.xml"),
    };
    for (const format of COVERAGE_FORMATS) {
      for (const [other, text] of Object.entries(texts)) {
        if (other !== format) expect(() => parseCoverage(text, format)).toThrow(`not a valid ${format} coverage report`);
      }
      expect(() => parseCoverage("", format)).toThrow(`not a valid ${format} coverage report`);
    }
    const lcov = fixture("reports/c8/lcov.info");
    expect(() => parseCoverage(lcov.slice(0, lcov.lastIndexOf("end_of_record")), "lcov")).toThrow("truncated");
    expect(() => parseCoverage(lcov.replace("LF:14", "LF:fourteen"), "lcov")).toThrow("LF:fourteen is not a count");
    expect(() => parseCoverage('{"src/a.js": {}}', "istanbul-summary")).toThrow('no "total" entry');
    expect(() => parseCoverage('{"total": {"lines": {"pct": "Unknown"}}}', "istanbul-summary")).toThrow("no pct figures");
    expect(() => parseCoverage('<?xml version="1.0"?><report name="jacoco"/>', "cobertura")).toThrow("root element is not <coverage>");
    expect(() => parseCoverage('<coverage generated="1" clover="4.4.1"><project/></coverage>', "cobertura")).toThrow("no line-rate");
    expect(() => parseCoverage('<coverage line-rate="high"></coverage>', "cobertura")).toThrow('line-rate="high"');
  });
});

describe("coverageFormatOf", () => {
  it.each([
    ["coverage/coverage-summary.json", "istanbul-summary"],
    ["coverage/lcov.info", "lcov"],
    ["cover/lcov.info", "lcov"],
    ["reports/LCOV.txt", "lcov"],
    ["coverage.xml", "cobertura"],
    ["coverage\\cobertura-coverage.xml", "cobertura"],
  ])("%s → %s", (path, format) => {
    expect(coverageFormatOf(path)).toBe(format);
  });

  it("throws for a name that says nothing", () => {
    expect(() => coverageFormatOf("coverage/report.html")).toThrow("set coverage.format");
  });
});

describe("outputTail", () => {
  it("keeps the last 40 lines, ANSI stripped, by default", () => {
    const text = Array.from({ length: 100 }, (_, i) => `\x1b[31mline ${i}\x1b[39m`).join("\n") + "\n";
    const tail = outputTail(text).split("\n");
    expect(tail).toHaveLength(40);
    expect(tail[0]).toBe("line 60");
    expect(tail[39]).toBe("line 99");
  });

  it("holds the real failure summary of a coloured TTY run", () => {
    const tail = outputTail(fixture("vitest-tty-fail.txt"), 10);
    expect(tail).toContain("Tests  1 failed | 3 passed (4)");
    expect(tail).not.toMatch(/[\x1b\r]/);
  });

  it("cuts to maxChars at a line boundary, or inside the only line", () => {
    const text = ["a".repeat(50), "b".repeat(50), "c".repeat(50)].join("\n");
    expect(outputTail(text, 40, 120)).toBe(`${"b".repeat(50)}\n${"c".repeat(50)}`);
    expect(outputTail("x".repeat(10_000))).toBe("x".repeat(4000));
  });

  it("never exceeds its bounds and never leaves a control character but tab and newline (property)", () => {
    const piece = fc.oneof(
      fc.constantFrom("\x1b[31m", "\x1b[0m", "\x1b[2K", "\x1b[?25l", "\x1bc", "\x1b", "\r", "\r\n", "\n", "\t", "\x07"),
      fc.string({ maxLength: 200 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 2000 }), (parts, lines, chars) => {
        const tail = outputTail(parts.join(""), lines, chars);
        expect(tail.length).toBeLessThanOrEqual(chars);
        expect(tail.split("\n").length).toBeLessThanOrEqual(lines);
        expect(tail).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
      }),
    );
  });
});

it("parseTestCounts never throws and only reports non-negative whole counts (property)", () => {
  const lines = Object.keys(EXPECTED).flatMap((f) => cleanOutput(fixture(f)).split("\n"));
  const line = fc.oneof(fc.constantFrom(...lines), fc.string({ maxLength: 40 }));
  fc.assert(
    fc.property(fc.array(line, { maxLength: 30 }), fc.constantFrom(...TEST_RUNNERS, "auto" as const), (ls, runner) => {
      const c = parseTestCounts(ls.join("\n"), runner);
      if (c) for (const v of [c.passed, c.failed, c.skipped, c.total]) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
    }),
  );
});

describe("GATE_PRESETS", () => {
  const gates = GATE_PRESET_NAMES.flatMap((p) => Object.entries(GATE_PRESETS[p]).map(([name, g]) => [`${p}.${name}`, g] as const));

  it("give every stack test, coverage, lint, format and types gates", () => {
    for (const p of GATE_PRESET_NAMES) {
      expect(Object.keys(GATE_PRESETS[p]).sort()).toEqual(["coverage", "format", "lint", "test", "types"]);
    }
  });

  it.each(gates)("%s has an argv and valid fields", (name, g) => {
    expect(g.run.length).toBeGreaterThan(0);
    for (const arg of g.run) expect(arg.length).toBeGreaterThan(0);
    // Tests and coverage get 900 s, checks 300 s; dialyzer too gets 900 s (its first run builds the PLT).
    const long = /\.(test|coverage)$/.test(name) || name === "elixir.types";
    expect(g.timeoutSeconds).toBe(long ? 900 : 300);
    expect([undefined, "pass", "fail"]).toContain(g.expect);
    if (g.tests !== undefined) expect([...TEST_RUNNERS, "auto"]).toContain(g.tests);
    if (g.coverage) {
      const format = g.coverage.format ?? coverageFormatOf(g.coverage.file);
      expect(COVERAGE_FORMATS).toContain(format);
      expect(coverageFormatOf(g.coverage.file)).toBe(format);
      expect(COVERAGE_METRICS).toContain(g.coverage.metric ?? "lines");
      expect(g.coverage.min).toBeGreaterThan(0);
      expect(g.coverage.min).toBeLessThanOrEqual(100);
    }
  });

  it("test gates parse counts, and node tools never come from the registry at gate time", () => {
    for (const p of GATE_PRESET_NAMES) expect(GATE_PRESETS[p]["test"]?.tests).toBeDefined();
    for (const g of Object.values(GATE_PRESETS.node)) {
      if (g.run[0] === "npx") expect(g.run.slice(0, 3)).toEqual(["npx", "--no", "--"]);
    }
  });

  it("are frozen, so one config cannot change another's gate", () => {
    const g = GATE_PRESETS.python["test"]!;
    expect(Object.isFrozen(GATE_PRESETS)).toBe(true);
    expect(Object.isFrozen(g)).toBe(true);
    expect(() => g.run.push("-x")).toThrow(TypeError);
  });
});
