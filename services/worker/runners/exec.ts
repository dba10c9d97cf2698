// The `exec` executor: runs the operator's argv (never a shell line built from task text) in the task's
// workspace, in its own process group behind the exec guard (process/guard.ts), with the task on stdin and
// the result read from $BATON_RESULT_FILE. A planner run's stdin also carries `plannerContext` (the role catalogue and
// a summary of the workspace); a run may answer a question or a plan there (docs/planning.md).
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode } from "../../../shared/codec.ts";
import type { ExecRoleConfig } from "../../../shared/config.ts";
import { toWireError } from "../../../shared/errors.ts";
import { wireError } from "../../../shared/protocol/errors.ts";
import { ExecutorOutput, MAX_HANDOFF_BYTES, MAX_SUMMARY_CHARS, type WireError } from "../../../shared/protocol/index.ts";
import { plannerContext } from "../agents/planner-context.ts";
import { runProcess, type ProcessRun } from "../process/run.ts";
import { workspaceFor } from "../workspace/resolve.ts";
import { childEnv, type ExecOutcome, type Executor, type ExecutorDeps } from "./types.ts";

/** Room for a MAX_HANDOFF_BYTES handoff (pretty-printed JSON may double it) and a MAX_SUMMARY_CHARS summary (≤ 4 bytes a character, escaped). */
const MAX_RESULT_FILE_BYTES = 2 * MAX_HANDOFF_BYTES + 6 * MAX_SUMMARY_CHARS;

const fail = (error: WireError, exitCode: number | null = null): ExecOutcome => ({ outcome: "failed", exitCode, error });

/** The executor of an `exec` role: one guarded process per task, killed on timeout, abort, or the worker's death. */
export function createExecExecutor(role: string, rc: ExecRoleConfig, deps: ExecutorDeps): Executor {
  const [command, ...args] = rc.exec as [string, ...string[]];
  return {
    kind: "exec",
    describe: `exec ${rc.exec!.join(" ")}`,
    reports: "task",
    workspace: (task) => workspaceFor(task, deps),
    async run(task, ctx) {
      const ws = await workspaceFor(task, deps);
      if ("error" in ws) return fail(ws.error);
      const tmp = await mkdtemp(join(tmpdir(), "baton-task-"));
      const resultFile = join(tmp, "result.json");
      try {
        const env = Object.assign(childEnv(deps.env), rc.env, {
          BATON_FEATURE_ID: task.featureId,
          BATON_TASK_ID: task.taskId,
          BATON_ROLE: role,
          BATON_ATTEMPT: String(task.attempt),
          BATON_WORKSPACE: ws.dir,
          BATON_RESULT_FILE: resultFile,
        });
        const stdin = JSON.stringify(task.planning ? { ...task, plannerContext: await plannerContext(task, ws.dir, deps) } : task);
        const run = await runProcess(command, args, { cwd: ws.dir, env, stdin, timeoutMs: rc.timeoutSeconds * 1000 }, ctx);
        const out = outcomeOf(run, rc.timeoutSeconds);
        if (run.spawnError || run.timedOut || run.aborted) return out;
        const file = await readResultFile(resultFile);
        if ("error" in file) {
          if (out.outcome === "completed") return fail(file.error, run.code);
          ctx.log.warn({ error: file.error }, "ignoring invalid result file of a failed task");
        } else if (file.output) {
          out.summary = file.output.summary;
          out.handoff = file.output.handoff;
          out.review = file.output.review;
          out.nextSteps = file.output.nextSteps;
          out.constraints = file.output.constraints;
          // a run that asks stays "completed": the coordinator holds the task until a person answers
          out.question = file.output.question;
          out.plan = file.output.plan;
        }
        return out;
      } finally {
        await rm(tmp, { recursive: true, force: true }).catch(() => {});
      }
    },
  };
}

/** How the process ended, as an outcome: SPAWN, TIMEOUT (the role's timeoutSeconds), ABORTED, EXIT_CODE, SIGNAL or completed. */
function outcomeOf(run: ProcessRun, timeoutSeconds: number): ExecOutcome {
  if (run.spawnError) return fail(run.spawnError);
  if (run.timedOut) return fail(wireError("Timeout", `timed out after ${timeoutSeconds}s; the process group was killed (${run.killedWith})`));
  if (run.aborted) return fail(wireError("Aborted", `aborted by the worker; the process group was killed (${run.killedWith})`));
  const tail = run.lastStderr ? `: ${run.lastStderr}` : "";
  if (run.code === 0) return { outcome: "completed", exitCode: 0 };
  if (run.code !== null) return fail(wireError("ExitCode", `exited with code ${run.code}${tail}`), run.code);
  return fail(wireError("Killed", `killed by signal ${run.signal}${tail}`));
}

/** The executor's result file: nothing (absent or empty), its validated output, or a PROTOCOL error. Never rejects. */
async function readResultFile(path: string): Promise<{ output?: ExecutorOutput } | { error: WireError }> {
  const st = await stat(path).catch(() => undefined);
  if (!st || st.size === 0) return {};
  const bad = (message: string, details?: unknown): { error: WireError } => ({ error: wireError("ProtocolError", message, details) });
  if (!st.isFile()) return bad("$BATON_RESULT_FILE is not a regular file");
  if (st.size > MAX_RESULT_FILE_BYTES) return bad(`$BATON_RESULT_FILE is ${st.size} bytes; the limit is ${MAX_RESULT_FILE_BYTES}`);
  try {
    return { output: decode(ExecutorOutput, await readFile(path, "utf8"), "result file ($BATON_RESULT_FILE)") };
  } catch (err) {
    const wire = toWireError(err);
    return bad(wire.message, wire.details);
  }
}
