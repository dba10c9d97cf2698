// Supervising the real Claude Code CLI (`claude -p`) run by a real `baton worker`, against the scripted model server
// in this process: a model that stops answering (STALLED, group gone), a CLI that does not exit after its result
// (killed, the task still completes), an API error (the CLI's error), and a cancel mid-run (group gone in seconds).
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { encode } from "../../shared/codec.ts";
import type { TaskResult } from "../../shared/protocol/index.ts";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import type { Script } from "../../services/model-server/script.ts";
import { ModelServer } from "../../services/model-server/server.ts";
import { resolveAgentCommand } from "../../shared/agents.ts";
import { groupGone, processesWithEnv, type FoundProcess } from "../helpers/agent-procs.ts";
import { sleep, workerSuite, type WorkerTest } from "./worker-harness.ts";
import { agentHome } from "../helpers/agent-env.ts";

const suite = workerSuite();
const HANG_AFTER = fileURLToPath(new URL("../fixtures/agents/claude/hang-after.mjs", import.meta.url));
const CLAUDE = resolveAgentCommand("claude-code", undefined, process.cwd())[0]!;

let model: ModelServer;
beforeAll(async () => {
  model = new ModelServer({ scripts: [], dialects: ALL_DIALECTS });
  await model.start();
});
afterAll(() => model.close());

/** A claude-code backend role pointed at the model server; no telemetry or other network traffic. */
const claudeRole = (over: Record<string, unknown> = {}) => ({
  agent: "claude-code", timeoutSeconds: 120, stallSeconds: 60,
  env: { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "test-key", DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", ...agentHome() },
  ...over,
});

async function start(script: Script, role: Record<string, unknown> = {}): Promise<WorkerTest> {
  model.setScripts([script]);
  const t = await suite.setup({ roles: { backend: claudeRole(role) } });
  // whatever happens, nothing the test's agents started survives it
  suite.cleanup(() => processesWithEnv(`CLAUDE_CONFIG_DIR=${t.dir}`).forEach((proc) => quietKill(-proc.pgid)));
  await t.worker("backend");
  return t;
}

/** The agent's processes (found by the config home each inherits), once the CLI runs. */
const agentProcesses = (t: WorkerTest): Promise<FoundProcess[]> =>
  t.msgs.until(() => {
    const found = processesWithEnv(`CLAUDE_CONFIG_DIR=${t.dir}`);
    return found.some((proc) => proc.command.includes("claude")) && found;
  }, 20_000);

const resultOf = async (t: WorkerTest, timeoutMs = 30_000): Promise<TaskResult> => (await t.msgs.until(() => t.msgs.results("t1")[0], timeoutMs));

function quietKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
}

describe("claude-code under supervision", () => {
  it("a model that stops answering: the task fails STALLED after stallSeconds and the CLI's process group is gone", async () => {
    const t = await start({ match: "stall case", turns: [{ stall: true, tools: [], delayMs: 0 }], then: "Done." }, { stallSeconds: 3 });
    await t.publish("backend", { title: "stall case" });
    const procs = await agentProcesses(t);
    const began = Date.now();
    const result = await resultOf(t);
    expect(result).toMatchObject({ outcome: "failed", error: { code: "STALLED", message: expect.stringContaining("no output for 3s") } });
    expect(Date.now() - began).toBeLessThan(3000 + 15_000);
    await t.msgs.until(() => procs.every((proc) => groupGone(proc.pgid)), 5000);
    expect(processesWithEnv(`CLAUDE_CONFIG_DIR=${t.dir}`)).toEqual([]);
  }, 60_000);

  it("a CLI that prints its result and then does not exit is killed with its group, and the task completes on its result", async () => {
    const t = await start(
      { match: "hang case", turns: [{ text: "Nothing to change; all good.", tools: [], delayMs: 0, stall: false }], then: "Done." },
      { command: ["node", HANG_AFTER, CLAUDE] },
    );
    await t.publish("backend", { title: "hang case", instructions: "check it" });
    const procs = await agentProcesses(t);
    const result = await resultOf(t);
    expect(result).toMatchObject({ outcome: "completed", summary: "Nothing to change; all good.", usage: { inputTokens: expect.any(Number) } });
    await t.msgs.until(() => procs.every((proc) => groupGone(proc.pgid)) && processesWithEnv(`CLAUDE_CONFIG_DIR=${t.dir}`).length === 0, 5000);
  }, 60_000);

  it("an API error from the model: the task fails AGENT_ERROR with the CLI's own error text", async () => {
    const t = await start({ match: "error case", turns: [{ error: { status: 400, message: "scripted: this request is malformed" }, tools: [], delayMs: 0, stall: false }], then: "Done." });
    await t.publish("backend", { title: "error case" });
    const result = await resultOf(t);
    expect(result).toMatchObject({ outcome: "failed", error: { code: "AGENT_ERROR", message: expect.stringContaining("scripted: this request is malformed") } });
    expect(result.error!.message).toContain("400");
  }, 60_000);

  it("a cancel mid-run answers CANCELLED and leaves no process of the CLI's group within seconds", async () => {
    const t = await start({ match: "cancel case", turns: [{ text: "thinking", tools: [], delayMs: 120_000, stall: false }], then: "Done." });
    await t.publish("backend", { featureId: "fcancel", title: "cancel case" });
    const procs = await agentProcesses(t);
    await sleep(500);
    const event = { type: "baton.v1.status_event", featureId: "fcancel", seq: 9, at: new Date().toISOString(), kind: "feature.cancelled", durationMs: 1, reason: "test" };
    const cancelledAt = Date.now();
    await jetstream(suite.nc()).publish(t.n.status("fcancel", "feature.cancelled"), encode(event), { msgID: `fcancel.ev.9` });
    const [result] = await t.msgs.until(() => t.msgs.results("t1").length && t.msgs.results("t1"), 20_000);
    expect(result).toMatchObject({ outcome: "failed", error: { code: "CANCELLED" } });
    await t.msgs.until(() => procs.every((proc) => groupGone(proc.pgid)), 8000);
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
  }, 60_000);
});
