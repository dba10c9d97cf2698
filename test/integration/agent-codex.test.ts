// The real Codex CLI (`codex exec --json`, devDependency @openai/codex) run by a real `baton worker` process against
// the scripted model server (OpenAI Responses API, in this process): the files it writes, the progress, summary,
// usage and session that arrive; an API error; and a fix round that continues the task's Codex session.
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import { Script } from "../../services/model-server/script.ts";
import { ModelServer } from "../../services/model-server/server.ts";
import type { TaskProgress, TaskResult, WorkerMessage } from "../../shared/protocol/index.ts";
import { gitRepo } from "../helpers/git-repo.ts";
import { workerSuite } from "./worker-harness.ts";
import { agentHome } from "../helpers/agent-env.ts";

const KEY = "sk-codex-test-secret-7373";
const server = new ModelServer({ scripts: [Script.parse({ turns: [{ text: "unused" }] })], dialects: ALL_DIALECTS });
let url: string;
beforeAll(async () => void (url = await server.start()));
afterAll(() => server.close());

const s = workerSuite();

/** A worker config whose backend role is Codex pointed at the scripted server, as an operator would write it. */
const config = () => ({
  workspaceRoots: [tmpdir()],
  roles: {
    backend: {
      agent: "codex",
      model: "gpt-5.5",
      args: ["-c", `model_providers.baton={name="baton",base_url="${url}/v1",env_key="BATON_TEST_KEY",wire_api="responses"}`, "-c", "model_provider=baton"],
      env: { BATON_TEST_KEY: KEY, ...agentHome() },
      timeoutSeconds: 90,
      stallSeconds: 60,
    },
  },
});

const patch = (path: string, line: string) => ({ name: "apply_patch", input: { input: `*** Begin Patch\n*** Add File: ${path}\n+${line}\n*** End Patch\n` } });

const progressOf = (all: { msg: WorkerMessage }[], taskId: string) =>
  all.map((entry) => entry.msg).filter((msg): msg is TaskProgress => msg.type === "baton.v1.task_progress" && msg.taskId === taskId);

describe("codex as a role worker", () => {
  it("writes the file, runs a command, and completes with its summary, progress naming tools and files, usage and session; a fix round resumes the session", async () => {
    server.setScripts([Script.parse({
      match: "Add an add function",
      turns: [
        { text: "Writing src/add.js.", tools: [patch("src/add.js", "export const add = (a, b) => a + b;")] },
        { tools: [{ name: "exec_command", input: { cmd: "node -e \"import('./src/add.js').then((m) => console.log('sum', m.add(2, 3)))\"" } }], usage: { input: 900, output: 40, cacheRead: 300 } },
        { text: "Added src/add.js exporting add(a, b); it prints sum 5." },
        // the fix round, in the same Codex session
        { tools: [patch("src/sub.js", "export const sub = (a, b) => a - b;")] },
        { text: "Fixed: added src/sub.js as the gate asked." },
      ],
    })]);
    const t = await s.setup(config());
    const workspace = gitRepo(join(t.dir, "ws"), { "README.md": "# calc\n" });
    await t.worker("backend");
    await t.publish("backend", { taskId: "t1", title: "Add an add function", instructions: "Create src/add.js exporting add(a, b).", workspace });
    const [result] = await t.msgs.until(() => t.msgs.results("t1").length > 0 && t.msgs.results("t1"), 60_000);
    expect(result).toMatchObject({ outcome: "completed", summary: "Added src/add.js exporting add(a, b); it prints sum 5." });
    expect(readFileSync(join(workspace, "src/add.js"), "utf8")).toBe("export const add = (a, b) => a + b;\n");
    expect(result!.usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number), cacheReadTokens: 300 });
    expect(result!.usage!.inputTokens).toBeGreaterThan(900 - 300);
    expect(result!.session).toMatchObject({ agent: "codex", id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const steps = progressOf(t.msgs.all(), "t1");
    expect(steps.some((step) => step.tool?.includes("file_change") && step.files?.some((file) => file.endsWith("src/add.js")))).toBe(true);
    expect(steps.some((step) => step.tool?.includes("command_execution"))).toBe(true);
    expect(JSON.stringify(t.msgs.all())).not.toContain(KEY);
    // the model saw the command's output: Codex really ran it in the workspace
    const third = server.exchanges.find((exchange) => exchange.turnIndex === 2)!;
    expect(JSON.stringify(third.body)).toContain("sum 5");

    const firstRun = server.exchanges.length;
    await t.publish("backend", { taskId: "t1", attempt: 2, title: "Add an add function", instructions: "The gate failed: add src/sub.js too.", workspace, session: result!.session });
    const fix = await t.msgs.until(() => t.msgs.results("t1").length > 1 && t.msgs.results("t1")[1], 60_000) as TaskResult;
    expect(fix).toMatchObject({ outcome: "completed", summary: "Fixed: added src/sub.js as the gate asked.", session: { id: result!.session!.id } });
    expect(existsSync(join(workspace, "src/sub.js"))).toBe(true);
    // continued, not restarted: the fix round's first request carries the first run's conversation (turn 3 of the script)
    expect(server.exchanges[firstRun]).toMatchObject({ dialect: "openai-responses", turnIndex: 3 });
    expect(JSON.stringify(server.exchanges[firstRun]!.body)).toContain("The gate failed: add src/sub.js too.");
  }, 150_000);

  it("an API error from the model fails the task with the CLI's error", async () => {
    server.setScripts([Script.parse({ match: "Break it", turns: [{ error: { status: 400, message: "scripted bad request for codex" } }] })]);
    const t = await s.setup(config());
    const workspace = gitRepo(join(t.dir, "ws"), { "README.md": "# calc\n" });
    await t.worker("backend");
    await t.publish("backend", { taskId: "t2", title: "Break it", instructions: "anything", workspace });
    const [result] = await t.msgs.until(() => t.msgs.results("t2").length > 0 && t.msgs.results("t2"), 60_000);
    expect(result).toMatchObject({ outcome: "failed", error: { message: expect.stringContaining("scripted bad request for codex") } });
  }, 90_000);

  it("the scripted server's Responses dialect also answers without streaming, and errors in OpenAI's shape with retry-after", async () => {
    server.setScripts([Script.parse({ turns: [{ error: { status: 429, message: "slow down", retryAfterSeconds: 2, times: 1 }, text: "hi", tools: [{ name: "exec_command", input: { cmd: "ls" } }] }] })]);
    const post = () => fetch(`${url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", input: "hello" }) });
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(await limited.json()).toEqual({ error: { message: "slow down", type: "rate_limit_error", param: null, code: "rate_limit_exceeded" } });
    const body = await (await post()).json() as { status: string; output: { type: string }[]; usage: { input_tokens: number } };
    expect(body).toMatchObject({ status: "completed", output: [{ type: "message", content: [{ type: "output_text", text: "hi" }] }, { type: "function_call", name: "exec_command", arguments: '{"cmd":"ls"}' }] });
    expect(body.usage.input_tokens).toBeGreaterThan(0);
  });
});
