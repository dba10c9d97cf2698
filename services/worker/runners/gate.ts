// Runs quality gates on a qa worker: the task message names a gate, this worker's operator config says what
// it runs (an argv, in the task's workspace, with a timeout), and the gate's parsers decide what passing
// means beyond the exit code — test counts (a run of zero tests fails) and a coverage minimum.
import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import type { GateConfig } from "../../../shared/config.ts";
import { coverageFormatOf, outputTail, parseCoverage, parseTestCounts } from "../../../shared/gates/parsers.ts";
import { runVerdict, spawnReason } from "../../../shared/gates/verdict.ts";
import { wireError } from "../../../shared/protocol/errors.ts";
import type { GateReport, TaskAssigned } from "../../../shared/protocol/index.ts";
import { runProcess } from "../process/run.ts";
import { clearJunitReport, readJunitReport } from "./junit-report.ts";
import { workspaceFor } from "../workspace/resolve.ts";
import { childEnv, type ExecContext, type ExecutorDeps, type Runner } from "./types.ts";

/** Output kept per gate run for parsing and the report's tail (the summaries runners print come last). */
const MAX_CAPTURE_CHARS = 512 * 1024;

/**
 * The runner of gate runs: looks the gate the task names up in `gates` (UNKNOWN_GATE when it is not there),
 * runs it in the task's workspace and answers completed with its report, or GATE_FAILED. Never rejects.
 */
export function createGateRunner(gates: Readonly<Record<string, GateConfig>>, deps: ExecutorDeps): Runner {
  const known = Object.keys(gates);
  return {
    kind: "gate",
    describe: `gates (${known.length ? known.join(", ") : "none configured"})`,
    reports: "gate",
    async run(task, ctx) {
      const ref = task.gate!;
      const spec = gates[ref.name];
      if (!spec) {
        const message = `gate "${ref.name}" is not configured on this worker (${known.length ? `it has ${known.join(", ")}` : "it has no gates"}): give qa workers the same config as the coordinators`;
        return { outcome: "failed", exitCode: null, error: wireError("UnknownGate", message) };
      }
      const ws = await workspaceFor(task, deps);
      if ("error" in ws) return { outcome: "failed", exitCode: null, error: ws.error };
      const report = await runGate(spec, ref, ws.dir, deps, ctx);
      return report.passed
        ? { outcome: "completed", exitCode: report.exitCode, gateReport: report }
        : { outcome: "failed", exitCode: report.exitCode, gateReport: report, error: wireError("GateFailed", `gate "${ref.name}" failed: ${report.reason ?? "did not pass"}`) };
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
  // Runners print colour and progress bars for terminals only; CI=1 asks the common ones for plain output.
  const env = Object.assign(childEnv(deps.env), { CI: "1", FORCE_COLOR: "0", NO_COLOR: "1" });
  // The coordinator may override the expectation (a test-driven task's red phase); never the command.
  const expect = ref.expect ?? spec.expect;
  // A JUnit report left by an earlier run must not be read as this run's.
  const clearError = spec.junit ? await clearJunitReport(dir, spec.junit) : undefined;
  if (clearError) return { ...ref, expect, command: spec.run, exitCode: null, durationMs: 0, outputTail: "", passed: false, reason: clearError };
  const started = Date.now();
  const run = await runProcess(command, args, { cwd: dir, env, stdin: "", timeoutMs: spec.timeoutSeconds * 1000 }, capture);
  const durationMs = Date.now() - started;
  const base = {
    ...ref, expect, command: spec.run, exitCode: run.code, durationMs,
    outputTail: outputTail(captured + (run.spawnError ? `\n${run.spawnError.message}` : "")),
  };
  const fail = (reason: string, extra: Partial<GateReport> = {}): GateReport => ({ ...base, ...extra, passed: false, reason });
  if (run.spawnError) return fail(spawnReason(command, run.spawnError.message));
  if (run.timedOut) return fail(`timed out after ${spec.timeoutSeconds}s (the process group was killed)`);
  if (run.aborted) return fail("aborted by the worker (drain or cancellation)");
  if (run.code === null) return fail(`killed by signal ${run.signal}`);

  // The exit code first, then the runner's counts: one distinct reason per case (shared/gates/verdict.ts).
  const report = spec.junit ? await readJunitReport(dir, spec.junit) : undefined;
  const runner = spec.junit ? "junit" : spec.tests;
  const counts = report ? ("counts" in report ? report.counts : null) : spec.tests ? parseTestCounts(captured, spec.tests) : null;
  const tests: GateReport["tests"] = counts ?? undefined;
  const reason = runVerdict({ exitCode: run.code, expect, runner, counts });
  if (reason) return fail(report && "error" in report ? `${reason}; ${report.error}` : reason, { tests });
  // TDD red: the command failed with tests reported, as it must; coverage is not judged on a red phase.
  if (expect === "fail") return { ...base, tests, passed: true };
  let coverage: GateReport["coverage"];
  if (spec.coverage) {
    const wanted = spec.coverage;
    const path = isAbsolute(wanted.file) ? wanted.file : join(dir, wanted.file);
    if (relative(dir, path).startsWith("..")) return fail(`coverage file ${wanted.file} is outside the workspace`, { tests });
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      return fail(`no coverage report at ${wanted.file}: ${(err as Error).message}`, { tests });
    }
    let pct: number | undefined;
    try {
      pct = parseCoverage(text, wanted.format ?? coverageFormatOf(wanted.file))[wanted.metric];
    } catch (err) {
      return fail(`cannot read coverage report ${wanted.file}: ${(err as Error).message}`, { tests });
    }
    if (pct === undefined) return fail(`coverage report ${wanted.file} has no ${wanted.metric} figure`, { tests });
    coverage = { file: wanted.file, metric: wanted.metric, pct: Math.round(pct * 100) / 100, min: wanted.min };
    if (pct < wanted.min) return fail(`coverage ${pct.toFixed(1)}% (${wanted.metric}) is under the minimum ${wanted.min}%`, { tests, coverage });
  }
  return { ...base, tests, coverage, passed: true };
}
