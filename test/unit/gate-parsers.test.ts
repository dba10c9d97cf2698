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
  parseTestCounts,
  ranNoTests,
} from "../../shared/gates/parsers.ts";
import { GATE_PRESET_NAMES, GATE_PRESETS } from "../../shared/gates/presets.ts";
import { COVERAGE_FORMATS, COVERAGE_METRICS, TEST_RUNNERS } from "../../shared/gates/types.ts";
import type { CoverageFormat, TestCounts, TestRunner } from "../../shared/gates/types.ts";

const DIR = new URL("../fixtures/gates/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, DIR), "utf8");

/** [runner, passed, failed, skipped, total], read off each fixture's summary line. */
const EXPECTED: Record<string, [TestRunner, number, number, number, number]> = {
  "vitest-pass.txt": ["vitest", 4, 0, 0, 4], // Tests  4 passed (4)
  "vitest-fail.txt": ["vitest", 3, 1, 0, 4], // Tests  1 failed | 3 passed (4)
  "vitest-skip.txt": ["vitest", 2, 0, 1, 4], // Tests  2 passed | 1 skipped | 1 todo (4)
  "vitest-none.txt": ["vitest", 0, 0, 0, 0], // No test files found, exiting with code 1
  "vitest-empty.txt": ["vitest", 0, 0, 0, 0], // Tests  no tests
  "vitest-fail-color.txt": ["vitest", 3, 1, 0, 4],
  "vitest-tty-fail.txt": ["vitest", 3, 1, 0, 4],
  "vitest-watch.txt": ["vitest", 3, 0, 0, 3], // second run: Tests  3 passed (3)
  "vitest-coverage.txt": ["vitest", 4, 0, 0, 4],
  "vitest5-skip.txt": ["vitest", 2, 0, 1, 4],
  "jest-pass.txt": ["jest", 2, 0, 0, 2], // Tests:       2 passed, 2 total
  "jest-fail.txt": ["jest", 2, 1, 0, 3], // Tests:       1 failed, 2 passed, 3 total
  "jest-skip.txt": ["jest", 1, 1, 1, 4], // Tests:       1 failed, 1 skipped, 1 todo, 1 passed, 4 total
  "jest-none.txt": ["jest", 0, 0, 0, 0], // No tests found, exiting with code 1
  "jest-empty.txt": ["jest", 0, 0, 0, 0], // Tests:       0 total
  "jest-fail-color.txt": ["jest", 2, 1, 0, 3],
  "node-test-tap-pass.txt": ["node-test", 2, 0, 0, 2], // # tests 2 / # pass 2
  "node-test-tap-fail.txt": ["node-test", 2, 1, 0, 3], // # tests 3 / # pass 2 / # fail 1
  "node-test-tap-skip.txt": ["node-test", 1, 1, 1, 4], // # tests 4 / pass 1 / fail 1 / skipped 1 / todo 1
  "node-test-tap-none.txt": ["node-test", 0, 0, 0, 0], // # tests 0
  "node-test-spec-pass.txt": ["node-test", 2, 0, 0, 2], // ℹ tests 2
  "node-test-spec-fail.txt": ["node-test", 2, 1, 0, 3],
  "node-test-spec-skip.txt": ["node-test", 1, 1, 1, 4],
  "node-test-spec-fail-color.txt": ["node-test", 2, 1, 0, 3],
  "node-test-tty-fail.txt": ["node-test", 2, 1, 0, 3],
  "c8-node-test.txt": ["node-test", 4, 0, 0, 4],
  "pytest-pass.txt": ["pytest", 3, 0, 0, 3], // === 3 passed in 0.52s ===
  "pytest-fail.txt": ["pytest", 2, 1, 0, 3], // === 1 failed, 2 passed in 0.39s ===
  "pytest-skip.txt": ["pytest", 2, 1, 1, 4], // 1 failed, 1 passed, 1 skipped, 1 xfailed (xfailed counts as passed)
  "pytest-none.txt": ["pytest", 0, 0, 0, 0], // no tests ran in 0.39s
  "pytest-none-quiet.txt": ["pytest", 0, 0, 0, 0],
  "pytest-fail-quiet.txt": ["pytest", 2, 1, 0, 3], // 1 failed, 2 passed in 0.39s
  "pytest-fail-color.txt": ["pytest", 2, 1, 0, 3],
  "pytest-collect-error.txt": ["pytest", 0, 1, 0, 1], // === 1 error in 0.44s ===
  "pytest-warning.txt": ["pytest", 1, 0, 0, 1], // 1 passed, 1 warning in 0.38s
  "pytest-deselected.txt": ["pytest", 0, 0, 0, 0], // === 3 deselected in 0.41s ===
  "pytest-cov.txt": ["pytest", 3, 0, 0, 3],
  "exunit-pass.txt": ["exunit", 3, 0, 0, 3], // 3 tests, 0 failures
  "exunit-fail.txt": ["exunit", 2, 1, 0, 3], // 3 tests, 1 failure
  "exunit-doctests-skip.txt": ["exunit", 3, 1, 1, 5], // 2 doctests, 3 tests, 1 failure, 1 skipped
  "exunit-none.txt": ["exunit", 0, 0, 0, 0], // 0 failures
  "exunit-excluded.txt": ["exunit", 0, 0, 3, 3], // 3 tests, 0 failures, 3 excluded
  "exunit-fail-color.txt": ["exunit", 2, 1, 0, 3],
  "exunit-cover.txt": ["exunit", 3, 0, 0, 3],
};
const asCounts = ([runner, passed, failed, skipped, total]: [TestRunner, number, number, number, number]): TestCounts =>
  ({ runner, passed, failed, skipped, total });

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

  it.each(Object.entries(EXPECTED))("%s: no other runner claims it", (file, want) => {
    const text = fixture(file);
    for (const other of TEST_RUNNERS.filter((r) => r !== want[0])) expect(parseTestCounts(text, other)).toBeNull();
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

  it("are recognised as counts with total 0, one per runner at least", () => {
    expect(new Set(zero.map((f) => EXPECTED[f]![0]))).toEqual(new Set(TEST_RUNNERS));
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
