// Supervising the real Codex and Gemini CLIs run by a real `baton worker` against the scripted model server in this
// process: a model that stops answering (STALLED within stallSeconds, no process of the run left), and a cancel while
// the CLI runs a long shell command through its tool (CANCELLED, every process gone in seconds, the command too).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { encode } from "../../shared/codec.ts";
import type { TaskResult } from "../../shared/protocol/index.ts";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import { Script } from "../../services/model-server/script.ts";
import { ModelServer } from "../../services/model-server/server.ts";
import { processesWithEnv, type FoundProcess } from "../helpers/agent-procs.ts";
import { agentHome } from "../helpers/agent-env.ts";
import { baton } from "../helpers/procs.ts";
import { workerSuite, type WorkerTest } from "./worker-harness.ts";

const suite = workerSuite();
const model = new ModelServer({ scripts: [], dialects: ALL_DIALECTS });
let geminiOperator = "";

beforeAll(async () => {
  await model.start();
  geminiOperator = mkdtempSync(join(tmpdir(), "baton-gemini-operator-"));
  mkdirSync(join(geminiOperator, ".gemini"));
  writeFileSync(join(geminiOperator, ".gemini", "settings.json"), JSON.stringify({ privacy: { usageStatisticsEnabled: false } }));
});
afterAll(async () => {
  await model.close();
  rmSync(geminiOperator, { recursive: true, force: true });
});

interface Agent {
  name: "codex" | "gemini";
  /** The variable pointing the CLI at its config home: every process of a run inherits it. */
  homeVar: string;
  role(): Record<string, unknown>;
  /** A tool call that runs `command` in the CLI's shell tool. */
  shell(command: string): { name: string; input: Record<string, unknown> };
}

const AGENTS: Agent[] = [
  {
    name: "codex",
    homeVar: "CODEX_HOME",
    role: () => ({
      agent: "codex", model: "gpt-5.5",
      args: ["-c", `model_providers.baton={name="baton",base_url="${model.url}/v1",env_key="BATON_TEST_KEY",wire_api="responses"}`, "-c", "model_provider=baton"],
      env: { BATON_TEST_KEY: "sk-codex-supervision-test", ...agentHome() },
    }),
    shell: (command) => ({ name: "exec_command", input: { cmd: command, yield_time_ms: 30_000 } }),
  },
  {
    name: "gemini",
    homeVar: "GEMINI_CLI_HOME",
    role: () => ({ agent: "gemini", model: "gemini-2.5-pro", env: { GEMINI_API_KEY: "gm-supervision-test", GOOGLE_GEMINI_BASE_URL: model.url, ...agentHome() } }),
    shell: (command) => ({ name: "run_shell_command", input: { command } }),
  },
];

/** A worker for role `backend` running `agent` (the Gemini operator config under GEMINI_CLI_HOME); cleans up every process of its runs. */
async function start(agent: Agent, script: Script, limits: { stallSeconds: number; timeoutSeconds: number }): Promise<WorkerTest> {
  model.setScripts([script]);
  const t = await suite.setup({ roles: { backend: { ...agent.role(), ...limits } } });
  suite.cleanup(() => processesWithEnv(`${agent.homeVar}=${t.dir}`).forEach((proc) => quietKill(-proc.pgid, proc.pid)));
  const worker = baton(["worker", "--role", "backend", "--config", t.cfgPath], { NATS_URL: suite.server().url, BATON_PREFIX: t.n.prefix, GEMINI_CLI_HOME: geminiOperator }, { cwd: t.dir });
  suite.cleanup(() => worker.kill("SIGKILL"));
  await worker.waitFor(/"msg":"worker ready"/);
  return t;
}

/** The run's processes: those that inherited the CLI's home variable, plus any whose command line holds `token`. */
const runProcesses = (agent: Agent, t: WorkerTest, token?: string): FoundProcess[] => {
  const found = processesWithEnv(`${agent.homeVar}=${t.dir}`);
  if (!token) return found;
  const known = new Set(found.map((proc) => proc.pid));
  return [...found, ...processesWithCommand(token).filter((proc) => !known.has(proc.pid))];
};

/** Live processes whose command line contains `token` (the test's own shell command, wherever it went). */
function processesWithCommand(token: string): FoundProcess[] {
  const found: FoundProcess[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const command = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      if (!command.includes(token)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z") found.push({ pid: Number(name), pgid: Number(fields[2]), command });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function quietKill(...targets: number[]): void {
  for (const target of targets) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // gone
    }
  }
}

const resultOf = (t: WorkerTest, timeoutMs: number): Promise<TaskResult> => t.msgs.until(() => t.msgs.results("t1")[0], timeoutMs);

async function cancel(t: WorkerTest, featureId: string): Promise<void> {
  const event = { type: "baton.v1.status_event", featureId, seq: 9, at: new Date().toISOString(), kind: "feature.cancelled", durationMs: 1, reason: "test" };
  await jetstream(suite.nc()).publish(t.n.status(featureId, "feature.cancelled"), encode(event), { msgID: `${featureId}.ev.9` });
}

describe.each(AGENTS)("$name under supervision", (agent) => {
  it("a model that stops answering: the task fails STALLED within stallSeconds and no process of the run is left", async () => {
    const t = await start(agent, Script.parse({ match: "stall case", turns: [{ stall: true }] }), { stallSeconds: 3, timeoutSeconds: 120 });
    await t.publish("backend", { title: "stall case" });
    await t.msgs.until(() => runProcesses(agent, t).length > 0, 20_000);
    const began = Date.now();
    const result = await resultOf(t, 30_000);
    expect(result).toMatchObject({ outcome: "failed", error: { code: "STALLED", message: expect.stringContaining("no output for 3s") } });
    expect(Date.now() - began).toBeLessThan(3000 + 15_000);
    await t.msgs.until(() => runProcesses(agent, t).length === 0, 5000);
  }, 60_000);

  it("a cancel while the CLI runs a long shell command: CANCELLED, and every process of the run is gone within seconds, the command too", async () => {
    const token = `baton-sleeper-${agent.name}-${process.pid}`;
    const sleeper = `node -e "setTimeout(() => {}, 60000)" ${token}`;
    const t = await start(agent, Script.parse({ match: "cancel case", turns: [{ tools: [agent.shell(sleeper)] }] }), { stallSeconds: 60, timeoutSeconds: 120 });
    await t.publish("backend", { featureId: "fcancel", title: "cancel case" });
    // the shell command runs (its node process, not only the shell that starts it)
    await t.msgs.until(() => processesWithCommand(token).some((proc) => proc.command.startsWith("node")), 30_000);
    const cancelledAt = Date.now();
    await cancel(t, "fcancel");
    const result = await resultOf(t, 20_000);
    expect(result).toMatchObject({ outcome: "failed", error: { code: "CANCELLED" } });
    await t.msgs.until(() => runProcesses(agent, t, token).length === 0, 8000).catch(() => {
      throw new Error(`left running: ${runProcesses(agent, t, token).map((proc) => `${proc.pid} ${proc.command.slice(0, 120)}`).join("\n")}`);
    });
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
  }, 60_000);
});
