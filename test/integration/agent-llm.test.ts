// The `llm` executor through the official SDKs against the scripted model server (real HTTP, in-process): both
// providers, the SDKs' retries honouring retry-after, re-asks carrying the validation errors, timeouts, aborts,
// missing configuration, and review gate runs producing the reviewer's verdict.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import { Script } from "../../services/model-server/script.ts";
import type * as z from "zod";
import { ModelServer } from "../../services/model-server/server.ts";
import { createLlmExecutor } from "../../services/worker/agents/llm/executor.ts";
import { createReviewRunner } from "../../services/worker/runners/review.ts";
import type { AgentProgress, ExecOutcome, Executor, Runner } from "../../services/worker/runners/types.ts";
import { ExecRoleConfig } from "../../shared/config.ts";
import { silentLogger } from "../../shared/logging.ts";
import type { TaskAssigned } from "../../shared/protocol/index.ts";
import { gitRepo } from "../helpers/git-repo.ts";

const KEY = "sk-test-llm-secret-4242";
const server = new ModelServer({ scripts: [Script.parse({ turns: [{ text: "unused" }] })], dialects: ALL_DIALECTS });
let root: string;
let url: string;

beforeAll(async () => {
  url = await server.start();
  root = mkdtempSync(join(tmpdir(), "baton-llm-"));
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => void server.exchanges.splice(0));

let wsCount = 0;
const freshWorkspace = (): string => gitRepo(join(root, `ws-${++wsCount}`), { "README.md": "# project\n" });

function executor(llm: Record<string, unknown> = {}, rc: Record<string, unknown> = {}, env: Record<string, string> = { TEST_LLM_KEY: KEY }): Executor {
  const provider = (llm.provider as string | undefined) ?? "openai";
  const config = ExecRoleConfig.parse({
    agent: "llm", model: "test-model", timeoutSeconds: 30,
    llm: { provider, baseUrl: provider === "openai" ? `${url}/v1` : url, apiKeyEnv: "TEST_LLM_KEY", maxRetries: 2, ...llm },
    ...rc,
  });
  return createLlmExecutor("planner", config, { env, cwd: root, workspaceRoots: [root] });
}

const task = (over: Partial<TaskAssigned> = {}): TaskAssigned => ({
  type: "baton.v1.task_assigned", featureId: "f1", taskId: "t1", attempt: 1, role: "planner", title: "plan the work",
  instructions: "Write docs/plan.md", dependsOn: [], feature: { title: "a feature" }, handoffs: [], dispatchedAt: new Date().toISOString(),
  workspace: freshWorkspace(), ...over,
});

interface Ran { out: ExecOutcome; lines: string[]; progress: AgentProgress[]; ms: number }

async function run(ex: Pick<Runner, "run">, scripts: z.input<typeof Script>[], t: TaskAssigned = task(), signal = new AbortController().signal): Promise<Ran> {
  server.setScripts(scripts.map((script) => Script.parse(script)));
  const lines: string[] = [];
  const progress: AgentProgress[] = [];
  const started = Date.now();
  const out = await ex.run(t, { signal, onLine: (stream, line) => lines.push(`${stream}: ${line}`), onProgress: (step) => progress.push(step), log: silentLogger });
  expect(JSON.stringify({ out, lines, progress })).not.toContain(KEY);
  return { out, lines, progress, ms: Date.now() - started };
}

const requestBody = (index: number) => server.exchanges[index]!.body as { messages: { role: string; content: string }[]; system?: string };

describe("llm executor, openai provider (chat completions)", () => {
  it("a 429 with retry-after is retried after the wait, then the answer's files, summary, handoff and usage arrive", async () => {
    const t = task();
    const answer = { summary: "Planned it.\nDetails follow.", files: [{ path: "docs/plan.md", content: "# Plan\n" }], handoff: { steps: ["a", "b"] } };
    const { out, lines, progress } = await run(executor(), [{ turns: [{ error: { status: 429, message: "slow down", retryAfterSeconds: 1, times: 1 }, json: answer, usage: { input: 100, output: 20, cacheRead: 30 } }] }], t);
    expect(out).toMatchObject({ outcome: "completed", summary: answer.summary, handoff: answer.handoff });
    expect(out.usage).toEqual({ inputTokens: 100, outputTokens: 20, cacheReadTokens: 30, turns: 1, model: "test-model" });
    expect(server.exchanges.map((ex) => [ex.path, ex.status])).toEqual([["/v1/chat/completions", 429], ["/v1/chat/completions", 200]]);
    expect(server.exchanges[1]!.at - server.exchanges[0]!.at).toBeGreaterThanOrEqual(900);
    expect(lines.join("\n")).toMatch(/429.*retrying/);
    expect(readFileSync(join(t.workspace!, "docs/plan.md"), "utf8")).toBe("# Plan\n");
    expect(progress).toContainEqual(expect.objectContaining({ tool: "write_file", files: ["docs/plan.md"] }));
    expect(progress).toContainEqual(expect.objectContaining({ text: "answer 1: Planned it.", usage: out.usage }));
    expect(requestBody(1).messages[0]).toMatchObject({ role: "system", content: expect.stringContaining("exactly one JSON object") });
    expect(requestBody(1).messages[1]!.content).toContain("# Your task: plan the work");
  });

  it("invalid structured output is re-asked with the validation errors, and the valid answer is used", async () => {
    const t = task();
    const { out, progress } = await run(executor(), [{ turns: [{ text: 'Sure! {"files":[{"path":"../escape.txt","content":"x"}]}' }, { json: { summary: "fixed" } }] }], t);
    expect(out).toMatchObject({ outcome: "completed", summary: "fixed", usage: { turns: 2 } });
    const again = requestBody(1).messages;
    expect(again.map((msg) => msg.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(again[2]!.content).toContain("../escape.txt");
    expect(again[3]!.content).toMatch(/^- summary: /m);
    expect(again[3]!.content).toMatch(/files\.0\.path: path "\.\.\/escape\.txt" must not contain \.\./);
    expect(progress[0]!.text).toMatch(/^answer 1 invalid, asking again/);
    expect(existsSync(join(t.workspace!, "..", "escape.txt"))).toBe(false);
  });

  it("still invalid after repairAttempts re-asks: INVALID_OUTPUT, with the usage of every call", async () => {
    const { out } = await run(executor({ repairAttempts: 1 }), [{ turns: [{ text: "no json" }, { text: "still none" }] }]);
    expect(out).toMatchObject({ outcome: "failed", error: { code: "INVALID_OUTPUT", message: expect.stringContaining("no JSON object") }, usage: { turns: 2 } });
    expect(server.exchanges).toHaveLength(2);
  });

  it("5xx answers are retried maxRetries times, then the task fails LLM_ERROR with the API's message", async () => {
    const { out } = await run(executor({ maxRetries: 2 }), [{ turns: [{ error: { status: 503, message: "overloaded right now", retryAfterSeconds: 0.1 } }] }]);
    expect(out).toMatchObject({ outcome: "failed", error: { code: "LLM_ERROR", message: expect.stringMatching(/503.*overloaded right now/) } });
    expect(server.exchanges.map((ex) => ex.status)).toEqual([503, 503, 503]);
  });

  it("a call that does not answer within requestTimeoutSeconds fails LLM_ERROR (after the SDK's retries)", async () => {
    const { out, ms } = await run(executor({ requestTimeoutSeconds: 0.5, maxRetries: 1 }), [{ turns: [{ delayMs: 5000, json: { summary: "late" } }] }]);
    expect(out).toMatchObject({ outcome: "failed", error: { code: "LLM_ERROR", message: expect.stringContaining("requestTimeoutSeconds (0.5s)") } });
    expect(server.exchanges).toHaveLength(2);
    expect(ms).toBeLessThan(10_000);
  });

  it("the whole run is bounded by the role's timeoutSeconds (an answer that starts, then stalls): TIMEOUT", async () => {
    const { out, ms } = await run(executor({ requestTimeoutSeconds: 60 }, { timeoutSeconds: 1 }), [{ turns: [{ stall: true, json: { summary: "never" } }] }]);
    expect(out).toMatchObject({ outcome: "failed", error: { code: "TIMEOUT", message: expect.stringContaining("timed out after 1s") } });
    expect(ms).toBeLessThan(10_000);
  });

  it("aborting (cancel, drain) stops the request at once: ABORTED", async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const { out, ms } = await run(executor(), [{ turns: [{ stall: true, json: { summary: "never" } }] }], task(), abort.signal);
    expect(out).toMatchObject({ outcome: "failed", error: { code: "ABORTED" } });
    expect(ms).toBeLessThan(5000);
  });

  it("a missing key variable fails the task before any call, naming what to set; a missing model is refused by the config", async () => {
    const noKey = await run(executor({}, {}, {}), [{ turns: [{ json: { summary: "x" } }] }]);
    expect(noKey.out).toMatchObject({ outcome: "failed", error: { code: "LLM_ERROR", message: expect.stringContaining("TEST_LLM_KEY is not set") } });
    // a role without a model never gets this far: the config is refused when the worker starts
    const noModel = ExecRoleConfig.safeParse({ agent: "llm", llm: { provider: "openai" } });
    expect(noModel.success).toBe(false);
    expect(noModel.error?.issues[0]).toMatchObject({ path: ["model"], message: expect.stringContaining("needs a `model`") });
    expect(server.exchanges).toHaveLength(0);
  });

  it("a file through a symlink leading outside the workspace fails INVALID_OUTPUT and writes nothing outside", async () => {
    const t = task();
    const outside = mkdtempSync(join(root, "outside-"));
    execFileSync("ln", ["-s", outside, join(t.workspace!, "out")]);
    const { out } = await run(executor(), [{ turns: [{ json: { summary: "s", files: [{ path: "out/x.txt", content: "x" }] } }] }], t);
    expect(out).toMatchObject({ outcome: "failed", error: { code: "INVALID_OUTPUT", message: expect.stringContaining("leads outside the workspace") } });
    expect(existsSync(join(outside, "x.txt"))).toBe(false);
  });
});

describe("llm executor, anthropic provider (Messages API)", () => {
  it("a 429 with retry-after is retried, then the answer and its usage (cache reads apart) arrive", async () => {
    const { out } = await run(executor({ provider: "anthropic" }), [{ turns: [{ error: { status: 429, message: "rate limited", retryAfterSeconds: 1, times: 1 }, json: { summary: "from claude" }, usage: { input: 50, output: 7, cacheRead: 11 } }] }]);
    expect(out).toMatchObject({ outcome: "completed", summary: "from claude", usage: { inputTokens: 50, outputTokens: 7, cacheReadTokens: 11, turns: 1 } });
    expect(server.exchanges.map((ex) => [ex.path, ex.status])).toEqual([["/v1/messages", 429], ["/v1/messages", 200]]);
    expect(server.exchanges[1]!.at - server.exchanges[0]!.at).toBeGreaterThanOrEqual(900);
    expect(requestBody(1).system).toContain("exactly one JSON object");
  });

  it("invalid output is re-asked with the errors here too", async () => {
    const { out } = await run(executor({ provider: "anthropic" }), [{ turns: [{ text: '{"summary": ""}' }, { json: { summary: "ok now" } }] }]);
    expect(out).toMatchObject({ outcome: "completed", summary: "ok now" });
    expect(requestBody(1).messages.map((msg) => msg.role)).toEqual(["user", "assistant", "user"]);
    expect(requestBody(1).messages[2]!.content).toMatch(/summary: /);
  });
});

describe("llm executor on a review gate run (runners/review.ts)", () => {
  const reviewTask = (workspace: string): TaskAssigned => task({ role: "reviewer", workspace, gate: { name: "review", scope: "task", run: 1 }, review: { since: new Date(Date.now() + 60_000).toISOString() } });
  const changeSomething = (ws: string) => execFileSync("sh", ["-c", "printf 'export const add = (a, b) => a + b;\\n' > add.js"], { cwd: ws });

  it("the model sees the diff and its verdict decides the gate: changes_requested fails it, approve passes it", async () => {
    const ws = freshWorkspace();
    changeSomething(ws);
    const verdict = { verdict: "changes_requested", comments: [{ file: "add.js", line: 1, message: "export a default too" }] };
    const rejected = await run(createReviewRunner(executor()), [{ turns: [{ json: { summary: "needs work", review: verdict, files: [{ path: "sneaky.txt", content: "x" }] } }] }], reviewTask(ws));
    expect(rejected.out).toMatchObject({ outcome: "failed", error: { code: "CHANGES_REQUESTED", message: "changes requested: export a default too" }, gateReport: { passed: false, review: verdict } });
    const prompt = requestBody(0).messages[1]!.content;
    expect(prompt).toContain("# Review");
    expect(prompt).toContain("+export const add = (a, b) => a + b;");
    expect(existsSync(join(ws, "sneaky.txt"))).toBe(false);
    server.exchanges.splice(0);
    const approved = await run(createReviewRunner(executor()), [{ turns: [{ json: { summary: "fine" } }, { json: { summary: "fine", review: { verdict: "approve" } } }] }], reviewTask(ws));
    expect(approved.out).toMatchObject({ outcome: "completed", gateReport: { passed: true, review: { verdict: "approve", comments: [] } } });
    expect(requestBody(1).messages[3]!.content).toMatch(/review: required on a review/);
  });
});

describe("the scripted server's chat completions dialect, read by the openai SDK", () => {
  it("streams text and tool calls in chunks, then usage and [DONE]; counts turns by assistant messages", async () => {
    server.setScripts([Script.parse({ turns: [{ text: "first" }, { text: "Writing it now.", tools: [{ name: "write_file", input: { path: "a.js" } }], usage: { input: 9, output: 4, cacheRead: 2 } }] })]);
    const client = new OpenAI({ apiKey: KEY, baseURL: `${url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "m", stream: true, stream_options: { include_usage: true },
      messages: [{ role: "user", content: "go" }, { role: "assistant", content: "first" }, { role: "user", content: "more" }],
    });
    let text = "";
    const tools: string[] = [];
    let usage: unknown;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      text += choice?.delta.content ?? "";
      for (const call of choice?.delta.tool_calls ?? []) tools.push(`${call.function?.name}(${call.function?.arguments})`);
      finish = choice?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Writing it now.");
    expect(tools).toEqual(['write_file({"path":"a.js"})']);
    expect(finish).toBe("tool_calls");
    expect(usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 2 } });
    expect(server.exchanges[0]).toMatchObject({ dialect: "openai-chat", turnIndex: 1 });
  });
});
