// Runs quality gates on a qa worker: the task message names a gate, this worker's operator config says what
// it runs (an argv, in the task's workspace, with a timeout), and the gate's parsers decide what passing
// means beyond the exit code — test counts (a run of zero tests fails) and a coverage minimum.
import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import type { GateConfig } from "../../shared/config.ts";
import { coverageFormatOf, outputTail, parseCoverage, parseTestCounts, ranNoTests } from "../../shared/gates/parsers.ts";
import type { GateReport, TaskAssigned } from "../../shared/protocol/index.ts";
import type { ExecContext, ExecOutcome, ExecutorDeps } from "./executor.ts";
import { runProcess } from "./exec.ts";
import { workspaceFor } from "./exec.ts";

/** Output kept per gate run for parsing and the report's tail (the summaries runners print come last). */
const MAX_CAPTURE_CHARS = 512 * 1024;

export interface GateRunner {
  run(task: TaskAssigned, ctx: ExecContext): Promise<ExecOutcome>;
}

export function createGateRunner(gates: Readonly<Record<string, GateConfig>>, deps: ExecutorDeps): GateRunner {
  return {
    async run(task, ctx) {
      const ref = task.gate!;
      const spec = gates[ref.name];
      if (!spec) {
        const known = Object.keys(gates);
        const message = `gate "${ref.name}" is not configured on this worker (${known.length ? `it has ${known.join(", ")}` : "it has no gates"}): give qa workers the same config as the coordinators`;
        return { outcome: "failed", exitCode: null, error: { name: "UnknownGate", code: "UNKNOWN_GATE", message } };
      }
      const ws = await workspaceFor(task, deps);
      if ("error" in ws) return { outcome: "failed", exitCode: null, error: ws.error };
      const report = await runGate(spec, ref, ws.dir, deps, ctx);
      return report.passed
        ? { outcome: "completed", exitCode: report.exitCode, gateReport: report }
        : { outcome: "failed", exitCode: report.exitCode, gateReport: report, error: { name: "GateFailed", code: "GATE_FAILED", message: `gate "${ref.name}" failed: ${report.reason ?? "did not pass"}` } };
    },
  };
}

/** Runs one gate in `dir` and judges it. Never throws. */
export async function runGate(spec: GateConfig, ref: NonNullable<TaskAssigned["gate"]>, dir: string, deps: Pick<ExecutorDeps, "env">, ctx: ExecContext): Promise<GateReport> {
  const [command, ...args] = spec.run as [string, ...string[]];
  let captured = "";
  const capture: ExecContext = {
    ...ctx,
    onLine: (_stream, line) => {
      captured += line + "\n";
      if (captured.length > MAX_CAPTURE_CHARS * 2) captured = captured.slice(-MAX_CAPTURE_CHARS);
    },
  };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(deps.env)) if (v !== undefined) env[k] = v;
  // Runners print colour and progress bars for terminals only; CI=1 asks the common ones for plain output.
  Object.assign(env, { CI: "1", FORCE_COLOR: "0", NO_COLOR: "1" });
  // The coordinator may override the expectation (a test-driven task's red phase); never the command.
  const expect = ref.expect ?? spec.expect;
  const started = Date.now();
  const run = await runProcess(command, args, { cwd: dir, env, stdin: "", timeoutMs: spec.timeoutSeconds * 1000 }, capture);
  const durationMs = Date.now() - started;
  const base = {
    ...ref, expect, command: spec.run, exitCode: run.code, durationMs,
    outputTail: outputTail(captured + (run.spawnError ? `\n${run.spawnError.message}` : "")),
  };
  const fail = (reason: string, extra: Partial<GateReport> = {}): GateReport => ({ ...base, ...extra, passed: false, reason });
  if (run.spawnError) return fail(`could not start ${command}: ${run.spawnError.message}`);
  if (run.timedOut) return fail(`timed out after ${spec.timeoutSeconds}s (the process group was killed)`);
  if (run.aborted) return fail("aborted by the worker (drain or cancellation)");
  if (run.code === null) return fail(`killed by signal ${run.signal}`);

  let tests: GateReport["tests"];
  if (spec.tests) {
    const counts = parseTestCounts(captured, spec.tests);
    if (!counts) return fail(`found no ${spec.tests === "auto" ? "test runner" : spec.tests} summary in the output: cannot tell how many tests ran`);
    tests = counts;
    // Zero tests, or only skipped/excluded ones: nothing was tested.
    if (ranNoTests(counts)) return fail(counts.total === 0 ? "ran zero tests" : `ran no tests (all ${counts.total} skipped or excluded)`, { tests });
  }
  const ok = run.code === 0;
  if (expect === "fail") {
    // TDD red: the tests must exist and fail. A pass means the tests do not test the missing work.
    if (ok) return fail("the command passed but this gate expects it to fail (red phase did not fail)", { tests });
    return { ...base, tests, passed: true };
  }
  if (!ok) {
    const failedTests = tests && tests.failed ? `${tests.failed} of ${tests.total} tests failed` : `exit code ${run.code}`;
    return fail(failedTests, { tests });
  }
  let coverage: GateReport["coverage"];
  if (spec.coverage) {
    const c = spec.coverage;
    const path = isAbsolute(c.file) ? c.file : join(dir, c.file);
    if (relative(dir, path).startsWith("..")) return fail(`coverage file ${c.file} is outside the workspace`, { tests });
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      return fail(`no coverage report at ${c.file}: ${(e as Error).message}`, { tests });
    }
    let pct: number | undefined;
    try {
      pct = parseCoverage(text, c.format ?? coverageFormatOf(c.file))[c.metric];
    } catch (e) {
      return fail(`cannot read coverage report ${c.file}: ${(e as Error).message}`, { tests });
    }
    if (pct === undefined) return fail(`coverage report ${c.file} has no ${c.metric} figure`, { tests });
    coverage = { file: c.file, metric: c.metric, pct: Math.round(pct * 100) / 100, min: c.min };
    if (pct < c.min) return fail(`coverage ${pct.toFixed(1)}% (${c.metric}) is under the minimum ${c.min}%`, { tests, coverage });
  }
  return { ...base, tests, coverage, passed: true };
}
