// The `llm` executor: a role answered by one model API call (plus bounded re-asks) instead of an agent CLI. The
// structured answer gives the task's summary and handoff, the files to write into the workspace, and on a review
// gate run the reviewer's verdict. No process is started; aborting stops the HTTP request.
import { readFile } from "node:fs/promises";
import { llmKeyEnv } from "../../../../shared/agents.ts";
import { LlmConfig, type ExecRoleConfig } from "../../../../shared/config.ts";
import { wireError } from "../../../../shared/protocol/errors.ts";
import { REVIEW_GATE, type TaskAssigned, type WireError } from "../../../../shared/protocol/index.ts";
import type { ExecContext, ExecOutcome, Executor, ExecutorDeps } from "../../runners/types.ts";
import { workspaceFor } from "../../workspace/resolve.ts";
import { buildPrompt } from "../prompt.ts";
import { reviewSection } from "../review-verdict.ts";
import { converse, systemInstruction, UsageTally } from "./converse.ts";
import { writeOutputFiles } from "./files.ts";
import type { LlmOutput } from "./output.ts";
import { createProvider, describeApiError } from "./providers.ts";

interface LlmSetup {
  role: string;
  rc: ExecRoleConfig;
  llm: LlmConfig;
  deps: ExecutorDeps;
  rolePrompt: () => Promise<string | undefined>;
}

/**
 * The executor of an `agent: llm` role. Its runs never reject: a missing model or API key, an API failure after
 * the SDK's retries, an answer still invalid after `repairAttempts` re-asks, a file it may not write, the role's
 * timeout and an abort all become failed outcomes (with the usage of the calls made so far).
 */
export function createLlmExecutor(role: string, rc: ExecRoleConfig, deps: ExecutorDeps): Executor {
  const llm = rc.llm ?? LlmConfig.parse({});
  let prompt: Promise<string | undefined> | undefined;
  const rolePrompt = (): Promise<string | undefined> => {
    // Read once; a failed read is tried again by the next task.
    prompt ??= rc.prompt ? readFile(rc.prompt, "utf8").catch((err: Error) => { prompt = undefined; throw err; }) : Promise.resolve(undefined);
    return prompt;
  };
  const setup: LlmSetup = { role, rc, llm, deps, rolePrompt };
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
    rolePrompt = await setup.rolePrompt();
  } catch (err) {
    return fail(wireError("LlmError", `cannot read the role's prompt file ${rc.prompt}: ${(err as Error).message}`));
  }
  const review = task.gate?.name === REVIEW_GATE;
  const prompt = buildPrompt({ rolePrompt, task, handoffs: task.handoffs, extra: review ? [reviewSection(task, { answer: "field" })] : undefined });
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
    return await finish(answer.output, ws.dir, review, tally, ctx);
  } catch (err) {
    if (ctx.signal.aborted) return fail(wireError("Aborted", "aborted by the worker; the model API request was cancelled"), tally.total());
    if (deadline.signal.aborted) return fail(wireError("Timeout", `timed out after ${rc.timeoutSeconds}s (the role's timeoutSeconds); the model API request was cancelled`), tally.total());
    return fail(wireError("LlmError", describeApiError(err, llm.requestTimeoutSeconds)), tally.total());
  } finally {
    clearTimeout(timer);
  }
}

/** Writes the answer's files (not on a review) and turns the answer into the outcome. */
async function finish(output: LlmOutput, dir: string, review: boolean, tally: UsageTally, ctx: ExecContext): Promise<ExecOutcome> {
  const usage = tally.total();
  if (review && output.files?.length) ctx.onLine("stderr", `ignored ${output.files.length} file(s) in a review's answer: a reviewer changes no files`);
  if (!review && output.files?.length) {
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
    ...(usage ? { usage } : {}),
  };
}
