// The supervised executor of an agent CLI (Claude Code, Codex, Gemini): per run it resolves the workspace, builds
// the prompt, claims a config home of its own, starts the CLI as its dialect says and turns its stream into
// progress, a summary, usage and a session (docs/agents.md). The dialect knows the CLI; this module knows processes.
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { resolveAgentCommand } from "../../../shared/agents.ts";
import type { ExecRoleConfig } from "../../../shared/config.ts";
import { toWireError } from "../../../shared/errors.ts";
import { REVIEW_GATE, type TaskAssigned } from "../../../shared/protocol/index.ts";
import { workspaceFor } from "../workspace/resolve.ts";
import { childEnv, type ExecContext, type ExecOutcome, type Executor, type ExecutorDeps } from "../runners/types.ts";
import { buildPrompt, type PromptParts } from "./prompt.ts";
import { homeForRun } from "./session-home.ts";
import { reviewSection, verdictFromText } from "./review-verdict.ts";
import { agentOutcome, superviseAgent } from "./supervise.ts";
import type { AgentDialect } from "./types.ts";

/**
 * The executor of a role whose `agent` is a CLI. Each run gets its own config home (never shared by two
 * concurrent runs) and its own process group; the run never rejects (every failure is a failed outcome).
 * On a review gate run the prompt asks for a verdict, read from the agent's final message into `review`.
 */
export function createCliExecutor(role: string, rc: ExecRoleConfig, dialect: AgentDialect, deps: ExecutorDeps): Executor {
  let rolePrompt: Promise<string | undefined> | undefined;
  // Read once; a failed read is not kept, so fixing the file fixes the next run without a restart.
  const readRolePrompt = () =>
    (rolePrompt ??= rc.prompt ? readFile(rc.prompt, "utf8").catch((err: Error) => ((rolePrompt = undefined), Promise.reject(err))) : Promise.resolve(undefined));
  const argv = resolveAgentCommand(dialect.agent, rc.command, deps.cwd);
  return {
    kind: "agent",
    describe: `${dialect.agent} ${argv.join(" ")}`,
    reports: "task",
    workspace: (task) => workspaceFor(task, deps),
    async run(task, ctx) {
      try {
        return await runOnce(task, ctx);
      } catch (err) {
        ctx.log.error({ err }, "agent run failed before the CLI could run");
        return { outcome: "failed", exitCode: null, error: toWireError(err) };
      }
    },
  };

  async function runOnce(task: TaskAssigned, ctx: ExecContext): Promise<ExecOutcome> {
    const ws = await workspaceFor(task, deps);
    if ("error" in ws) return { outcome: "failed", exitCode: null, error: ws.error };
    const isReview = task.gate?.name === REVIEW_GATE;
    const parts: PromptParts = { rolePrompt: await readRolePrompt(), task, handoffs: task.handoffs, extra: isReview ? [reviewSection(task)] : undefined };
    const { lease, resume, copiedFrom } = await homeForRun(dialect, deps.cwd, task.session, ws.dir, ctx.log);
    try {
      await dialect.seedHome(lease.dir, deps.env);
      const invocation = dialect.invocation({
        prompt: buildPrompt(parts), cwd: ws.dir, home: lease.dir, model: rc.model, permissionMode: rc.permissionMode,
        allowedTools: rc.allowedTools, extraArgs: rc.args, resume,
      });
      const env = Object.assign(childEnv(deps.env), rc.env, invocation.env, {
        BATON_FEATURE_ID: task.featureId, BATON_TASK_ID: task.taskId, BATON_ROLE: role, BATON_ATTEMPT: String(task.attempt), BATON_WORKSPACE: ws.dir,
      });
      ctx.log.info({ agent: dialect.agent, home: lease.dir, resume, copiedFrom }, resume ? "agent run continues its session" : "agent run starts");
      const { run, report } = await superviseAgent([...argv, ...invocation.args], dialect.createParser(), {
        cwd: ws.dir, env, stdin: invocation.stdin, timeoutMs: rc.timeoutSeconds * 1000, stallMs: rc.stallSeconds * 1000,
      }, ctx);
      if (run.killedAfterResult) ctx.log.warn("the agent did not exit after its result: its process group was killed; keeping the result");
      const out = agentOutcome(run, report, rc);
      const session = report.session ?? resume;
      if (session) out.session = { agent: dialect.agent, id: session, host: hostname() };
      if (isReview && out.outcome === "completed") out.review = verdictFromText(out.summary ?? "");
      return out;
    } finally {
      await lease.release();
    }
  }
}
