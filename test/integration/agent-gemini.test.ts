// The real Gemini CLI (node_modules/.bin/gemini) as a role's agent, run by a real `baton worker` against the scripted
// model server (GOOGLE_GEMINI_BASE_URL): it writes a file with its write tool and runs a shell command under the
// unattended approval default, the task completes with its summary, progress and usage; an API error fails the task;
// a fix round continues the agent's session.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import { Script } from "../../services/model-server/script.ts";
import { ModelServer } from "../../services/model-server/server.ts";
import type { TaskProgress } from "../../shared/protocol/index.ts";
import { baton } from "../helpers/procs.ts";
import { workerSuite } from "./worker-harness.ts";
import { agentHome } from "../helpers/agent-env.ts";

const s = workerSuite();
const model = new ModelServer({ dialects: ALL_DIALECTS, scripts: [Script.parse({ turns: [{ text: "No script for this." }] })] });
const KEY = "gm-test-key-5be1c0ffee";
const ADD = "export const add = (a, b) => a + b;\n";
let operatorHome = "";

beforeAll(async () => {
  await model.start();
  // the operator's own Gemini config, which each worker slot's home is seeded from
  operatorHome = mkdtempSync(join(tmpdir(), "baton-gemini-operator-"));
  mkdirSync(join(operatorHome, ".gemini"));
  writeFileSync(join(operatorHome, ".gemini", "settings.json"), JSON.stringify({ privacy: { usageStatisticsEnabled: false } }));
});
afterAll(async () => {
  await model.close();
  rmSync(operatorHome, { recursive: true, force: true });
});

/** A worker for role `backend` running Gemini CLI against the model server; the operator's config under GEMINI_CLI_HOME. */
async function geminiWorker() {
  const t = await s.setup({
    roles: {
      backend: {
        agent: "gemini", model: "gemini-2.5-pro", timeoutSeconds: 120, stallSeconds: 60,
        env: { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: model.url, ...agentHome() },
      },
    },
  });
  const env = { NATS_URL: s.server().url, BATON_PREFIX: t.n.prefix, GEMINI_CLI_HOME: operatorHome };
  const worker = baton(["worker", "--role", "backend", "--config", t.cfgPath], env, { cwd: t.dir });
  s.cleanup(() => worker.kill("SIGKILL"));
  await worker.waitFor(/"msg":"worker ready"/);
  return { t, worker };
}

describe("gemini as a role's agent", () => {
  it("writes src/add.js and runs node, completes with summary, progress and usage; fails on an API error; resumes its session", async () => {
    model.setScripts([
      Script.parse({
        match: "Add the add function",
        turns: [
          { text: "I'll write the module.", tools: [{ name: "write_file", input: { file_path: "src/add.js", content: ADD } }], usage: { input: 1200, output: 40, cacheRead: 300 } },
          { tools: [{ name: "run_shell_command", input: { command: "node -e \"import('./src/add.js').then((m) => console.log('sum', m.add(2, 3)))\"" } }], usage: { input: 1300, output: 30 } },
          { text: "Added src/add.js: add(a, b) returns a + b (checked: sum 5).", usage: { input: 1400, output: 20 } },
        ],
        then: "Continued the earlier session: nothing left to fix.",
      }),
      Script.parse({ match: "Call a forbidden model", turns: [{ error: { status: 403, message: "Permission denied on resource project scripted." } }] }),
    ]);
    const { t, worker } = await geminiWorker();

    await t.publish("backend", { taskId: "t1", title: "Add the add function", instructions: "Create src/add.js exporting add(a, b)." });
    const done = await t.msgs.until(() => t.msgs.results("t1")[0], 60_000);
    expect(done.outcome, JSON.stringify(done.error)).toBe("completed");
    expect(readFileSync(join(t.dir, ".baton", "workspaces", "f1", "src", "add.js"), "utf8")).toBe(ADD);
    expect(done.summary).toBe("Added src/add.js: add(a, b) returns a + b (checked: sum 5).");
    expect(done.usage).toEqual({ inputTokens: 3900, outputTokens: 90, cacheReadTokens: 300, model: "gemini-2.5-pro" });
    expect(done.session).toMatchObject({ agent: "gemini", id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const progress = t.msgs.all().map((entry) => entry.msg).filter((msg): msg is TaskProgress => msg.type === "baton.v1.task_progress" && msg.taskId === "t1");
    expect(progress.some((step) => step.tool?.includes("write_file") && step.files?.includes("src/add.js"))).toBe(true);
    expect(progress.some((step) => step.tool?.includes("run_shell_command"))).toBe(true);
    // the shell command really ran: its output went back to the model in the next request
    const shellRan = JSON.stringify(model.exchanges.filter((exchange) => exchange.turnIndex === 2).map((exchange) => exchange.body)).includes("sum 5");
    expect(shellRan, "the output of the shell command reached the model").toBe(true);
    // the slot's home was seeded from the operator's settings; no key was written there
    const home = join(t.dir, ".baton", "agent-homes", "gemini", "0", ".gemini");
    expect(JSON.parse(readFileSync(join(home, "settings.json"), "utf8"))).toMatchObject({ privacy: { usageStatisticsEnabled: false } });
    expect(readFileSync(join(home, "settings.json"), "utf8")).not.toContain(KEY);
    expect(existsSync(join(operatorHome, ".gemini", "tmp"))).toBe(false); // the CLI never wrote into the operator's home

    await t.publish("backend", { taskId: "t2", title: "Call a forbidden model", instructions: "Anything." });
    const failed = await t.msgs.until(() => t.msgs.results("t2")[0], 60_000);
    expect(failed.outcome).toBe("failed");
    expect(failed.error?.message).toContain("Permission denied on resource project scripted.");

    // a fix round for t1 continues its session (--resume): the conversation goes on after its three model turns
    await t.publish("backend", { taskId: "t1", attempt: 2, title: "Fix the add function", instructions: "The gate failed.", session: done.session });
    const resumed = await t.msgs.until(() => t.msgs.results("t1").find((result) => result.attempt === 2), 60_000);
    expect(resumed.outcome, JSON.stringify(resumed.error)).toBe("completed");
    expect(resumed.summary).toBe("Continued the earlier session: nothing left to fix.");
    expect(resumed.session?.id).toBe(done.session?.id);
    expect(model.exchanges.at(-1)).toMatchObject({ dialect: "gemini", scriptIndex: 0, turnIndex: 3 });

    expect(JSON.stringify(t.msgs.all())).not.toContain(KEY);
    expect(worker.output()).not.toContain(KEY);
  }, 120_000);
});
