// Exec guards started ahead (process/guard-pool.ts): a command runs behind an idle guard when there is one, each
// guard runs one command only, a guard that died while idle is never handed out, and idle guards end with their
// worker — a SIGKILLed one, and one that shuts down in order (then before it exits).
import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/logging.ts";
import { spawnGuarded } from "../../services/worker/process/guard.ts";
import { holdIdleGuards, idleGuardPids, type GuardPoolHold } from "../../services/worker/process/guard-pool.ts";
import { processGone, safeKill, sleep, workerSuite } from "./worker-harness.ts";

const suite = workerSuite();
const holds: GuardPoolHold[] = [];
const pids: number[] = [];
afterEach(async () => {
  await Promise.all(holds.splice(0).map((hold) => hold.release()));
  for (const pid of pids.splice(0)) safeKill(pid);
});

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

async function until<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Runs `sh -c script` behind a guard with `input` on stdin; resolves with its exit and its stdout. */
async function run(script: string, input = ""): Promise<{ code: number | null; out: string }> {
  const guarded = spawnGuarded("sh", ["-c", script], { cwd: process.cwd(), env, log: silentLogger });
  let out = "";
  guarded.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  guarded.stderr.resume();
  guarded.stdin.end(input);
  const exit = await guarded.exited;
  return { code: exit.code, out };
}

/** The process state letter from /proc (R, S, Z, …), or undefined once it is gone. */
function state(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

/** Live exec guards whose parent is `ppid`. */
function guardsOf(ppid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) !== ppid || fields[0] === "Z") continue;
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes("exec-guard.mjs")) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe("exec guards started ahead", () => {
  it("runs a command behind the idle guard, with its stdio, then replaces it; each guard runs one command", async () => {
    holds.push(holdIdleGuards(1));
    const [pooled] = await until(() => idleGuardPids().length === 1 && idleGuardPids(), 5000, "an idle guard");
    await sleep(300); // let it finish booting: the command's start must then not wait for it
    const first = await run('read line; echo "$PPID got $line"', "the task\n");
    expect(first).toEqual({ code: 0, out: `${pooled} got the task\n` });
    expect(processGone(pooled!)).toBe(true); // it ran its command and exited: never back in the pool
    const [next] = await until(() => idleGuardPids().length === 1 && idleGuardPids(), 5000, "a replacement");
    expect(next).not.toBe(pooled);
    const second = await run("echo $PPID");
    expect(second).toEqual({ code: 0, out: `${next}\n` });
  });

  it("never hands out an idle guard that died, even before its exit was noticed: the command runs behind a fresh one", async () => {
    holds.push(holdIdleGuards(1));
    const [pooled] = await until(() => idleGuardPids().length === 1 && idleGuardPids(), 5000, "an idle guard");
    process.kill(pooled!, "SIGKILL");
    // Busy-wait (the event loop does not run, so the pool has not seen the exit) until it is a zombie.
    const deadline = Date.now() + 2000;
    while (state(pooled!) !== "Z" && Date.now() < deadline) readFileSync("/proc/self/stat");
    expect(state(pooled!)).toBe("Z");
    const ran = await run("echo $PPID");
    expect(ran.code).toBe(0);
    expect(Number(ran.out)).toBeGreaterThan(0);
    expect(Number(ran.out)).not.toBe(pooled);
  });

  it("closes its idle guards on release, and hands none out afterwards", async () => {
    const hold = holdIdleGuards(2);
    const idle = await until(() => idleGuardPids().length === 2 && idleGuardPids(), 5000, "two idle guards");
    await hold.release();
    expect(idle.every(processGone)).toBe(true);
    expect(idleGuardPids()).toEqual([]);
    const ran = await run("echo $PPID");
    expect(idle).not.toContain(Number(ran.out));
    await sleep(100);
    expect(idleGuardPids()).toEqual([]); // no holder: no replacement
  });
});

describe("baton worker: idle exec guards", () => {
  const config = { roles: { backend: { exec: ["./agent.sh"] } } };

  it("keeps min(slots, 2) idle guards; a SIGKILLed worker's idle guards exit", async () => {
    const t = await suite.setup(config, { "agent.sh": "exit 0" });
    const worker = await t.worker("backend", ["--concurrency", "3"]);
    const idle = await until(() => guardsOf(worker.child.pid!).length >= 2 && guardsOf(worker.child.pid!), 10_000, "the worker's idle guards");
    pids.push(...idle);
    await sleep(300);
    expect(guardsOf(worker.child.pid!)).toHaveLength(2);
    worker.child.kill("SIGKILL");
    await until(() => idle.every(processGone), 3000, "the idle guards to exit");
  });

  it("closes its idle guards before it exits on SIGTERM, and ran a task behind one", async () => {
    const t = await suite.setup(config, { "agent.sh": 'echo "guard $PPID"' });
    const worker = await t.worker("backend");
    const [pooled] = await until(() => guardsOf(worker.child.pid!).length === 1 && guardsOf(worker.child.pid!), 10_000, "the worker's idle guard");
    await t.publish("backend");
    const [result] = await t.msgs.until(() => t.msgs.results().length && t.msgs.results());
    expect(result).toMatchObject({ outcome: "completed" });
    expect(t.msgs.logs().flatMap((log) => log.lines)).toContain(`guard ${pooled}`);
    const idle = await until(() => guardsOf(worker.child.pid!).length === 1 && guardsOf(worker.child.pid!), 5000, "a replacement");
    pids.push(...idle);
    expect(await worker.kill("SIGTERM")).toBe(0);
    expect(idle.every(processGone)).toBe(true);
  });
});
