// The supervised executor of an agent CLI (Claude Code, Codex, Gemini): per run it resolves the workspace, builds
// the prompt, claims a config home of its own, starts the CLI as its dialect says and turns its stream into
// progress, a summary, usage and a session (docs/agents.md). The dialect knows the CLI; this module knows processes.
import { hostname } from "node:os";
import { resolveAgentCommand } from "../../../shared/agents.ts";
import type { ExecRoleConfig } from "../../../shared/config.ts";
import { toWireError } from "../../../shared/errors.ts";
import { wireError } from "../../../shared/protocol/errors.ts";
import { REVIEW_GATE, type TaskAssigned } from "../../../shared/protocol/index.ts";
import { workspaceFor } from "../workspace/resolve.ts";
import { childEnv, type ExecContext, type ExecOutcome, type Executor, type ExecutorDeps } from "../runners/types.ts";
import { askedInText } from "./asks.ts";
import { plannerPromptFor } from "./planner-context.ts";
import { buildPrompt } from "./prompt.ts";
import { createRoleSource } from "./role-prompt.ts";
import { homeForRun } from "./session-home.ts";
import { reviewSection, verdictFromText } from "./review-verdict.ts";
import { agentOutcome, superviseAgent } from "./supervise.ts";
import type { AgentDialect } from "./types.ts";

/**
 * The executor of a role whose `agent` is a CLI. Each run gets its own config home (never shared by two
 * concurrent runs) and its own process group; the run never rejects (every failure is a failed outcome).
 * On a review gate run the prompt asks for a verdict, read from the agent's final message into `review`; on any
 * other run a question (or a planner's plan) ending the final message goes into `question` (`plan`). A planner run
 * works in the user's own checkout, so it runs read-only (the dialect's `readOnlyPermissionMode`) unless the role
 * sets `permissionMode`.
 */
export function createCliExecutor(role: string, rc: ExecRoleConfig, dialect: AgentDialect, deps: ExecutorDeps): Executor {
  const roles = createRoleSource({ role, rc, deps, useTools: dialect.agent === "claude-code" });
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
    const { prompt: rolePrompt, model, allowedTools } = await roles.forRun(task, ws.dir, ctx.log);
    const prompt = task.planning
      ? await plannerPromptFor({ ...task, planning: task.planning }, ws.dir, deps, { rolePrompt, answer: "fenced", log: ctx.log })
      : buildPrompt({ rolePrompt, task, handoffs: task.handoffs, extra: isReview ? [reviewSection(task)] : undefined, ask: isReview ? "none" : "fenced" });
    const { lease, resume, copiedFrom } = await homeForRun(dialect, deps.cwd, task.session, ws.dir, ctx.log);
    try {
      await dialect.seedHome(lease.dir, deps.env);
      const invocation = dialect.invocation({
        prompt, cwd: ws.dir, home: lease.dir, model, permissionMode: rc.permissionMode ?? (task.planning ? dialect.readOnlyPermissionMode : undefined),
        // a planner's tools widen only by the operator's config, never by a role file in the repository it reads
        allowedTools: task.planning ? rc.allowedTools : allowedTools, extraArgs: rc.args, resume,
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
      else if (out.outcome === "completed") return withAsked(out, !!task.planning, ctx);
      return out;
    } finally {
      await lease.release();
    }
  }
}

/**
 * A completed run's question and plan, from the fenced json block ending its final message (asks.ts). A question
 * block that is not a valid question fails the run INVALID_OUTPUT naming what is wrong: the agent stopped to ask, so
 * taking the run for finished work would lose the question. A planner run without a plan is passed on as it is
 * (the coordinator tells the planner that it gave none); only a planner run's plan is kept.
 */
export function withAsked(out: ExecOutcome, planner: boolean, ctx: Pick<ExecContext, "log">): ExecOutcome {
  const asked = askedInText(out.summary ?? "", { planner });
  if (asked.problems) {
    ctx.log.warn({ problems: asked.problems }, "the agent's question block is invalid");
    const message = `the agent ended with a question block that is not a valid question: ${asked.problems.join("; ")}`;
    return { ...out, outcome: "failed", error: wireError("InvalidOutput", message.slice(0, 4000), { problems: asked.problems }) };
  }
  if (planner && asked.plan === undefined) ctx.log.warn("the planner's final message holds no plan block");
  // only a planner run proposes a plan; another agent's `{ "plan": … }` is its own notes
  return { ...out, ...(asked.question ? { question: asked.question } : {}), ...(planner && asked.plan !== undefined ? { plan: asked.plan } : {}) };
}
