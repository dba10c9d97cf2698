// Ctrl-C on `baton up` the way a terminal sends it (SIGINT to the whole foreground process group): one orderly
// shutdown in which a running task is finished within the grace or handed back at once; a second Ctrl-C forces it.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { featureHistory } from "../../shared/client/index.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { names } from "../../shared/subjects.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";
import { BATON_BIN, baton } from "../helpers/procs.ts";

// The agent: records each run (its pid) in runs-<feature>; "short" features take 3 s; "long" ones sleep for
// 10 minutes on their first run and finish at once on later runs (a task handed back and run again).
const AGENT = `import { appendFileSync, existsSync, readFileSync } from "node:fs";
const file = new URL("./runs-" + process.env.BATON_FEATURE_ID, import.meta.url);
const runs = existsSync(file) ? readFileSync(file, "utf8").split("\\n").filter(Boolean).length : 0;
appendFileSync(file, process.pid + "\\n");
const ms = process.env.BATON_FEATURE_ID.startsWith("short") ? 3000 : runs === 0 ? 600000 : 0;
setTimeout(() => console.log("agent done after " + ms + " ms"), ms);
`;

let dir: string;
let nats: NatsServer;
const running: UpProc[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "baton-up-stop-"));
  writeFileSync(join(dir, "agent.mjs"), AGENT);
  // ackWaitSeconds 300: a task left to the ack wait would not come back within the test's time.
  const config = (grace: number) =>
    `workspace: ./ws\nworker:\n  ackWaitSeconds: 300\n  drainGraceSeconds: ${grace}\nroles:\n  qa:\n    exec: ["node", "./agent.mjs"]\n`;
  writeFileSync(join(dir, "grace20.yaml"), config(20));
  writeFileSync(join(dir, "grace2.yaml"), config(2));
  writeFileSync(join(dir, "grace600.yaml"), config(600));
  nats = await startNatsServer();
});
afterEach(() => {
  for (const up of running.splice(0)) up.killHard();
});
afterAll(async () => {
  await nats?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

interface UpProc {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | string>;
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  /** The pids `baton up` printed for its children. */
  childPids(): number[];
  /** Ctrl-C as a terminal sends it: SIGINT to every process of the foreground group. */
  ctrlC(): void;
  killHard(): void;
}

/** Starts `baton up` as the leader of its own process group, as a shell starts a foreground job. */
function startUp(configFile: string, env: Record<string, string>): UpProc {
  const child = spawn(process.execPath, [BATON_BIN, "up", "--config", join(dir, configFile)], {
    cwd: dir,
    detached: true,
    env: { ...process.env, BATON_LOG_LEVEL: "info", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const up: UpProc = {
    child,
    output: () => out,
    exited,
    waitFor: (re, timeoutMs = 60_000) => until(() => re.test(out), timeoutMs, () => `${re} in output:\n${out.slice(-3000)}`),
    childPids: () => [...out.matchAll(/started \S+ \(pid (\d+)\)/g)].map((match) => Number(match[1])),
    ctrlC: () => process.kill(-child.pid!, "SIGINT"),
    killHard: () => {
      // The children lead process groups of their own: a failed test must not leave them behind either.
      for (const pid of [child.pid!, ...up.childPids()]) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    },
  };
  running.push(up);
  return up;
}

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A process that exited but was not reaped yet (a zombie: its new parent may be slow to reap) counts as gone. */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

/** The pids of the agent's runs for a feature (one line per run). */
const agentRuns = (featureId: string): number[] => {
  const file = join(dir, `runs-${featureId}`);
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number) : [];
};

async function submit(featureId: string, env: Record<string, string>): Promise<void> {
  const file = join(dir, `${featureId}.yaml`);
  writeFileSync(file, `id: ${featureId}\ntitle: t\ntasks:\n  - { id: a, role: qa, title: A }\n`);
  const sub = baton(["submit", file], env, { cwd: dir });
  expect(await sub.exited, sub.output()).toBe(0);
}

async function history(prefix: string, featureId: string): Promise<StatusEvent[]> {
  const nc = await connect({ servers: nats.url });
  try {
    const events: StatusEvent[] = [];
    for await (const event of featureHistory(nc, names(prefix), featureId, { follow: false })) events.push(event);
    return events;
  } finally {
    await nc.close();
  }
}

describe("Ctrl-C on baton up", () => {
  it("drains: the running task finishes within the grace, then everything stops with exit 0", async () => {
    const env = { NATS_URL: nats.url, BATON_PREFIX: uniquePrefix("ups") };
    const up = startUp("grace20.yaml", env);
    await up.waitFor(/^baton up: ready/m);
    await submit("short1", env);
    await until(() => agentRuns("short1").length === 1, 60_000, () => "the task to start");

    up.ctrlC();
    expect(await up.exited, up.output()).toBe(0);
    const kinds = (await history(env.BATON_PREFIX, "short1")).map((event) => event.kind);
    expect(kinds).toContain("task.completed");
    expect(kinds).toContain("feature.completed");
    expect(kinds.filter((kind) => kind === "task.started")).toHaveLength(1);
    expect(kinds).not.toContain("task.failed");
    expect(agentRuns("short1")).toHaveLength(1);
    expect(up.output()).toMatch(/waiting for 1 running task \(grace 20s\)/);
    for (const pid of [...up.childPids(), ...agentRuns("short1")]) expect(alive(pid), `pid ${pid}`).toBe(false);
  }, 120_000);

  it("hands a task longer than the grace back at once: a new worker runs it without waiting for the ack wait", async () => {
    const env = { NATS_URL: nats.url, BATON_PREFIX: uniquePrefix("upl") };
    const first = startUp("grace2.yaml", env);
    await first.waitFor(/^baton up: ready/m);
    await submit("long1", env);
    await until(() => agentRuns("long1").length === 1, 60_000, () => "the task to start");

    first.ctrlC();
    expect(await first.exited, first.output()).toBe(0);
    expect(first.output()).toMatch(/handed back|handing .* back/);
    await until(() => !agentRuns("long1").some(alive), 10_000, () => "the agent of the first run to be killed");

    // The ack wait is 300 s: the task comes back within this test only if it was nak'ed.
    const second = startUp("grace2.yaml", env);
    await second.waitFor(/^baton up: ready/m);
    const watch = baton(["watch", "long1"], env, { cwd: dir });
    expect(await watch.exited, watch.output()).toBe(0);
    expect(agentRuns("long1")).toHaveLength(2);
    const events = await history(env.BATON_PREFIX, "long1");
    expect(events.filter((event) => event.kind === "task.started").map((event) => (event as { delivery: number }).delivery)).toEqual([1, 2]);
    second.ctrlC();
    expect(await second.exited).toBe(0);
  }, 150_000);

  it("a second Ctrl-C forces an immediate stop, says so, and exits 130; no process is left behind", async () => {
    const env = { NATS_URL: nats.url, BATON_PREFIX: uniquePrefix("upf") };
    const up = startUp("grace600.yaml", env);
    await up.waitFor(/^baton up: ready/m);
    await submit("long2", env);
    await until(() => agentRuns("long2").length === 1, 60_000, () => "the task to start");

    up.ctrlC();
    await up.waitFor(/waiting for 1 running task \(grace 600s\)/);
    up.ctrlC();
    // The grace is 10 minutes: only a forced stop ends within the test's time.
    expect(await up.exited, up.output()).toBe(130);
    expect(up.output()).toMatch(/second Ctrl-C: forcing an immediate stop/);
    const pids = [...up.childPids(), ...agentRuns("long2")];
    await until(() => !pids.some(alive), 10_000, () => `pids ${pids.filter(alive).join(", ")} to exit`);
  }, 120_000);

  it("if baton up itself is killed outright (SIGKILL), the coordinator and workers notice and stop on their own", async () => {
    const env = { NATS_URL: nats.url, BATON_PREFIX: uniquePrefix("upk") };
    const up = startUp("grace20.yaml", env);
    await up.waitFor(/^baton up: ready/m);
    const pids = up.childPids();
    expect(pids).toHaveLength(3); // the coordinator, the qa worker and the integrator
    process.kill(up.child.pid!, "SIGKILL");
    expect(await up.exited).toBe("SIGKILL");
    await until(() => !pids.some(alive), 30_000, () => `pids ${pids.filter(alive).join(", ")} to exit`);
  }, 120_000);
});
