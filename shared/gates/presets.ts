// Named quality gates for common stacks, for an operator to pick from instead of writing argv by hand.
// Each gate runs the project's own tools in the workspace; nothing here downloads a tool at gate time.
import type { GateSpec } from "./types.ts";

export const GATE_PRESET_NAMES = ["node", "python", "elixir"] as const;
export type GatePresetName = (typeof GATE_PRESET_NAMES)[number];

/** Test and coverage runs get longer than linters and formatters. */
const TEST_TIMEOUT = 900;
const CHECK_TIMEOUT = 300;

/** `npx --no -- <bin> …`: the project's installed binary or a failure, never a registry download (older npx
 *  and some CI settings install a missing package without asking); `--` keeps the tool's flags from being
 *  read as npm's own (`npx --no prettier --check` hands `--check` to npm). */
function npx(...argv: string[]): string[] {
  return ["npx", "--no", "--", ...argv];
}

/** Freezes a preset table all the way down, so a caller that edits a gate must copy it first. */
function frozen<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const member of Object.values(value)) frozen(member);
    Object.freeze(value);
  }
  return value;
}

/**
 * Gate presets per stack, keyed by gate name. Read-only (deeply frozen): copy a gate
 * (`structuredClone`) before changing it.
 */
export const GATE_PRESETS: Record<GatePresetName, Record<string, GateSpec>> = frozen({
  /**
   * Node/TypeScript. Tools run through {@link npx}, so a missing one fails the gate instead of fetching a
   * package of that name (the `tsc` package on npm is not TypeScript).
   */
  node: {
    /** The project's own test script; counts are read from whichever runner it uses (vitest, jest, node --test,
     *  mocha, ava), or from TAP or JUnit XML it prints. */
    test: { run: ["npm", "test"], timeoutSeconds: TEST_TIMEOUT, tests: "auto" },
    /** Type-check only. */
    types: { run: npx("tsc", "--noEmit"), timeoutSeconds: CHECK_TIMEOUT },
    /** ESLint. With Biome instead: `["npx", "--no", "--", "biome", "lint", "."]` (`biome check` adds format). */
    lint: { run: npx("eslint", "."), timeoutSeconds: CHECK_TIMEOUT },
    /** Prettier in check mode: lists unformatted files and exits non-zero, writes nothing. */
    format: { run: npx("prettier", "--check", "."), timeoutSeconds: CHECK_TIMEOUT },
    /**
     * vitest with coverage (needs `@vitest/coverage-v8` in the project). The json-summary reporter writes
     * `coverage/coverage-summary.json`, whose `total` line percentage must reach 80.
     */
    coverage: {
      run: npx("vitest", "run", "--coverage", "--coverage.reporter=json-summary"),
      timeoutSeconds: TEST_TIMEOUT,
      tests: "vitest",
      coverage: { file: "coverage/coverage-summary.json", format: "istanbul-summary", metric: "lines", min: 80 },
    },
  },
  /** Python, with pytest, pytest-cov, ruff and mypy installed in the environment the worker runs in. */
  python: {
    /** pytest; it exits 5 when it collects no tests, and the parsed counts fail such a run too. */
    test: { run: ["pytest"], timeoutSeconds: TEST_TIMEOUT, tests: "pytest" },
    /**
     * pytest-cov: `--cov-report=xml` writes Cobertura `coverage.xml` in the workspace; its root line-rate
     * must reach 80 %. Add `--cov-branch` for a branch-rate (without it the report measures no branches).
     */
    coverage: {
      run: ["pytest", "--cov", "--cov-report=xml"],
      timeoutSeconds: TEST_TIMEOUT,
      tests: "pytest",
      coverage: { file: "coverage.xml", format: "cobertura", metric: "lines", min: 80 },
    },
    /** Ruff's linter. */
    lint: { run: ["ruff", "check", "."], timeoutSeconds: CHECK_TIMEOUT },
    /** Ruff's formatter in check mode (writes nothing). */
    format: { run: ["ruff", "format", "--check", "."], timeoutSeconds: CHECK_TIMEOUT },
    /** mypy over the workspace. */
    types: { run: ["mypy", "."], timeoutSeconds: CHECK_TIMEOUT },
  },
  /** Elixir/Mix projects. */
  elixir: {
    /** ExUnit through mix; Elixir 1.14 exits 0 when there are no tests, so the parsed counts matter here. */
    test: { run: ["mix", "test"], timeoutSeconds: TEST_TIMEOUT, tests: "exunit" },
    /**
     * Mix's built-in cover tool writes only HTML and a table, so this gate relies on mix itself: it exits
     * non-zero (3) when total coverage is under `test_coverage: [summary: [threshold: N]]` in mix.exs
     * (default 90). For a report this gate can read, add `{:excoveralls, only: :test}` and
     * `test_coverage: [tool: ExCoveralls]`, then use `run: ["mix", "coveralls.lcov"]` with
     * `coverage: { file: "cover/lcov.info", format: "lcov", min: 80 }` (lines only), or
     * `["mix", "coveralls.cobertura"]` with `cover/cobertura.xml`.
     */
    coverage: { run: ["mix", "test", "--cover"], timeoutSeconds: TEST_TIMEOUT, tests: "exunit" },
    /** `mix format` in check mode: exits non-zero when a file is not formatted. */
    format: { run: ["mix", "format", "--check-formatted"], timeoutSeconds: CHECK_TIMEOUT },
    /** Credo (a project dependency), strict mode. */
    lint: { run: ["mix", "credo", "--strict"], timeoutSeconds: CHECK_TIMEOUT },
    /**
     * Dialyzer via dialyxir (a project dependency). Its first run builds the PLT, which takes minutes, so it
     * gets the long timeout.
     */
    types: { run: ["mix", "dialyzer"], timeoutSeconds: TEST_TIMEOUT },
  },
});
