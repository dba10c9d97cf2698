// The `llm` executor: a role answered by one model API call (plus bounded re-asks) instead of an agent CLI. The
// structured answer gives the task's summary and handoff, the files to write into the workspace, on a review gate run
// the reviewer's verdict, a question for a person, and on a planner run (planner-prompt.ts) the plan. No process is
// started; aborting stops the HTTP request.
import { llmKeyEnv } from "../../../../shared/agents.ts";
import { LlmConfig, type ExecRoleConfig } from "../../../../shared/config.ts";
import { wireError } from "../../../../shared/protocol/errors.ts";
import { REVIEW_GATE, type TaskAssigned, type WireError } from "../../../../shared/protocol/index.ts";
import type { ExecContext, ExecOutcome, Executor, ExecutorDeps } from "../../runners/types.ts";
import { workspaceFor } from "../../workspace/resolve.ts";
import { plannerPromptFor } from "../planner-context.ts";
import { buildPrompt } from "../prompt.ts";
import { reviewSection } from "../review-verdict.ts";
import { createRoleSource, type RoleSource } from "../role-prompt.ts";
import { converse, systemInstruction, UsageTally } from "./converse.ts";
import { writeOutputFiles } from "./files.ts";
import type { LlmOutput } from "./output.ts";
import { createProvider, describeApiError } from "./providers.ts";

interface LlmSetup {
  role: string;
  rc: ExecRoleConfig;
  llm: LlmConfig;
  deps: ExecutorDeps;
  roles: RoleSource;
}

/**
 * The executor of an `agent: llm` role. Its runs never reject: a missing model or API key, an API failure after
 * the SDK's retries, an answer still invalid after `repairAttempts` re-asks, a file it may not write, the role's
 * timeout and an abort all become failed outcomes (with the usage of the calls made so far).
 */
export function createLlmExecutor(role: string, rc: ExecRoleConfig, deps: ExecutorDeps): Executor {
  const llm = rc.llm ?? LlmConfig.parse({});
  // the model is the config's (an llm role must set one); the role file gives the prompt when the config names none
  const setup: LlmSetup = { role, rc, llm, deps, roles: createRoleSource({ role, rc, deps, useTools: false }) };
  return {
    kind: "agent",
    describe: `llm ${llm.provider}${rc.model ? ` ${rc.model}` : ""}`,
    reports: "task",
    workspace: (task) => workspaceFor(task, deps),
    run: (task, ctx) => runLlm(setup, task, ctx).catch((err: Error) => fail(wireError("LlmError", `the llm executor failed: ${err.message}`))),
  };
}

const fail = (error: WireError, usage?: ExecOutcome["usage"]): ExecOutcome => ({ outcome: "failed", exitCode: null, error, ...(usage ? { usage } : {}) });

async function runLlm(setup: LlmSetup, task: TaskAssigned, ctx: ExecContext): Promise<ExecOutcome> {
  const { role, rc, llm, deps } = setup;
  if (!rc.model) return fail(wireError("LlmError", `role "${role}" runs agent llm without a model: set roles.${role}.model in the worker's config`));
  const keyEnv = llmKeyEnv(llm);
  const apiKey = deps.env[keyEnv];
  if (!apiKey) return fail(wireError("LlmError", `the API key variable ${keyEnv} is not set in the worker's environment (role "${role}", provider ${llm.provider})`));
  const ws = await workspaceFor(task, deps);
  if ("error" in ws) return fail(ws.error);
  let rolePrompt: string | undefined;
  try {
    rolePrompt = (await setup.roles.forRun(task, ws.dir, ctx.log)).prompt;
  } catch (err) {
    return fail(wireError("LlmError", `cannot read the role's prompt file ${rc.prompt}: ${(err as Error).message}`));
  }
  const review = task.gate?.name === REVIEW_GATE;
  const prompt = task.planning
    ? await plannerPromptFor({ ...task, planning: task.planning }, ws.dir, deps, { rolePrompt, answer: "field", log: ctx.log })
    : buildPrompt({ rolePrompt, task, handoffs: task.handoffs, extra: review ? [reviewSection(task, { answer: "field" })] : undefined, ask: review ? "none" : "field" });
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), rc.timeoutSeconds * 1000);
  const tally = new UsageTally(rc.model);
  try {
    const answer = await converse({
      provider: createProvider(llm, apiKey, (line) => ctx.onLine("stderr", line)),
      model: rc.model,
      system: systemInstruction(role, review),
      prompt,
      repairAttempts: llm.repairAttempts,
      requireReview: review,
      tally,
      signal: AbortSignal.any([ctx.signal, deadline.signal]),
      ctx,
    });
    if ("problems" in answer) {
      const message = `the model's answer was still invalid after ${llm.repairAttempts} re-asks: ${answer.problems.join("; ")}`;
      return fail(wireError("InvalidOutput", message.slice(0, 4000), { problems: answer.problems }), tally.total());
    }
    return await finish(answer.output, ws.dir, { review, planner: !!task.planning }, tally, ctx);
  } catch (err) {
    if (ctx.signal.aborted) return fail(wireError("Aborted", "aborted by the worker; the model API request was cancelled"), tally.total());
    if (deadline.signal.aborted) return fail(wireError("Timeout", `timed out after ${rc.timeoutSeconds}s (the role's timeoutSeconds); the model API request was cancelled`), tally.total());
    return fail(wireError("LlmError", describeApiError(err, llm.requestTimeoutSeconds)), tally.total());
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Writes the answer's files and turns the answer into the outcome. A review, a planner run and an answer that asks a
 * question change no files (the task runs again with the answer); their files are ignored, and the log says so.
 */
async function finish(output: LlmOutput, dir: string, run: { review: boolean; planner: boolean }, tally: UsageTally, ctx: ExecContext): Promise<ExecOutcome> {
  const usage = tally.total();
  const noFiles = run.review ? "a reviewer changes no files" : run.planner ? "a planner changes no files" : output.question ? "a task that asks changes no files" : undefined;
  if (noFiles && output.files?.length) ctx.onLine("stderr", `ignored ${output.files.length} file(s) in the answer: ${noFiles}`);
  if (!noFiles && output.files?.length) {
    const wrote = await writeOutputFiles(dir, output.files, (path) => ctx.onProgress?.({ tool: "write_file", files: [path], usage }));
    if (wrote.error) return fail(wireError("InvalidOutput", `cannot write the model's files: ${wrote.error}`, { written: wrote.written }), usage);
  }
  return {
    outcome: "completed",
    exitCode: null,
    summary: output.summary,
    ...(output.handoff !== undefined ? { handoff: output.handoff } : {}),
    ...(output.review ? { review: output.review } : {}),
    ...(output.nextSteps?.length ? { nextSteps: output.nextSteps } : {}),
    ...(output.constraints?.length ? { constraints: output.constraints } : {}),
    ...(output.question ? { question: output.question } : {}),
    ...(run.planner && output.plan !== undefined ? { plan: output.plan } : {}),
    ...(usage ? { usage } : {}),
  };
}
