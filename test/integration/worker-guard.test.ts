// The exec guard on its own (no NATS): a command behind it gets the worker's stdio, reports its exit, is killed
// as a group on request, and never outlives its worker — even one that dies by SIGKILL — nor the guard itself.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/logging.ts";
import { GUARD_PATH, spawnGuarded, type GuardedProcess } from "../../services/worker/process/guard.ts";
import { processGone, readPid, safeKill, sleep } from "./worker-harness.ts";

const dirs: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const p of pids.splice(0)) safeKill(p);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "baton-guard-test-"));
  dirs.push(d);
  return d;
}

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

function collect(g: GuardedProcess): { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  g.stdout.on("data", (d: Buffer) => (out += d.toString()));
  g.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return { out: () => out, err: () => err };
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Pids a script wrote to `<dir>/<name>`; registered for cleanup. */
async function pidsIn(dir: string, ...names: string[]): Promise<number[]> {
  await until(() => names.every((n) => existsSync(join(dir, n)) && readPid(join(dir, n)) > 0), 5000, names.join(", "));
  const out = names.map((n) => readPid(join(dir, n)));
  pids.push(...out);
  return out;
}

describe("exec guard", () => {
  it("passes stdin, stdout, stderr, cwd and env through, and reports the exit code", async () => {
    const cwd = tmp();
    const g = spawnGuarded("sh", ["-c", 'read line; echo "got $line in $(pwd) with $GREETING"; echo oops >&2; exit 7'], { cwd, env: { ...env, GREETING: "hi" }, log: silentLogger });
    const io = collect(g);
    g.stdin.end("the task\n");
    expect(await g.exited).toEqual({ code: 7, signal: null, leftovers: false });
    expect(io.out()).toBe(`got the task in ${cwd} with hi\n`);
    expect(io.err()).toBe("oops\n");
  });

  it("reports a command that cannot be started", async () => {
    const g = spawnGuarded("./no-such-agent", [], { cwd: tmp(), env, log: silentLogger });
    g.stdin.end();
    const x = await g.exited;
    expect(x).toMatchObject({ code: null, signal: null });
    expect(x.spawnError).toMatch(/ENOENT/);
  });

  it("signals the whole group on request, and kills what the leader leaves behind when it exits", async () => {
    const dir = tmp();
    const g = spawnGuarded("sh", ["-c", `sleep 300 & echo $! > ${dir}/bg.pid; echo $$ > ${dir}/agent.pid; wait`], { cwd: dir, env, log: silentLogger });
    g.stdin.end();
    const [bg, agent] = await pidsIn(dir, "bg.pid", "agent.pid");
    await until(() => g.pid() !== undefined, 2000, "the guard's spawned message"); // may come after the files
    expect(g.pid()).toBe(agent);
    expect(g.killGroup("SIGTERM")).toBe(true);
    expect(await g.exited).toMatchObject({ code: null, signal: "SIGTERM" });
    await until(() => processGone(bg!), 2000, "the background process to die");

    const h = spawnGuarded("sh", ["-c", `sleep 300 & echo $! > ${dir}/left.pid; exit 0`], { cwd: dir, env, log: silentLogger });
    h.stdin.end();
    expect(await h.exited).toEqual({ code: 0, signal: null, leftovers: true });
    const [left] = await pidsIn(dir, "left.pid");
    await until(() => processGone(left!), 2000, "the left-over process to die");
  });

  it("kills the group (SIGTERM, then SIGKILL after 2 s) when its worker dies by SIGKILL", async () => {
    const dir = tmp();
    // A stand-in worker in plain Node: starts the guard like guard.ts does, then waits to be killed.
    const script = `
      const { spawn } = require("node:child_process");
      const g = spawn(process.execPath, [${JSON.stringify(GUARD_PATH)}], { env: {}, detached: true, stdio: ["pipe", "ignore", "ignore", "ipc"] });
      g.send({ type: "spawn", command: "sh", args: ["-c", "trap '' TERM; sleep 300 & echo $! > bg.pid; echo $PPID > guard.pid; echo $$ > agent.pid; wait"], cwd: ${JSON.stringify(dir)}, env: { PATH: process.env.PATH } });
      setInterval(() => {}, 1000);`;
    const worker = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
    pids.push(worker.pid!);
    const [bg, guard, agent] = await pidsIn(dir, "bg.pid", "guard.pid", "agent.pid");
    const t0 = Date.now();
    worker.kill("SIGKILL");
    await sleep(1000);
    expect(processGone(agent!)).toBe(false); // it ignores SIGTERM: the guard waits 2 s before SIGKILL
    await until(() => [bg!, guard!, agent!].every(processGone), 3000, "the agent, its child and the guard to be gone");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  });

  it("terminates the group and still reports the exit when the guard itself gets SIGTERM", async () => {
    const dir = tmp();
    const g = spawnGuarded("sh", ["-c", `echo $PPID > ${dir}/guard.pid; echo $$ > ${dir}/agent.pid; sleep 300`], { cwd: dir, env, log: silentLogger });
    const io = collect(g);
    g.stdin.end();
    const [guard, agent] = await pidsIn(dir, "guard.pid", "agent.pid");
    process.kill(guard!, "SIGTERM");
    expect(await g.exited).toMatchObject({ code: null, signal: "SIGTERM" });
    expect(processGone(agent!)).toBe(true);
    expect(io.err()).toMatch(/exec guard: received SIGTERM; terminating the task's process group/);
  });

  it("is itself no single point of failure: if the guard is killed, the worker kills the group directly", async () => {
    const dir = tmp();
    const g = spawnGuarded("sh", ["-c", `echo $PPID > ${dir}/guard.pid; echo $$ > ${dir}/agent.pid; sleep 300`], { cwd: dir, env, log: silentLogger });
    g.stdin.end();
    const [guard, agent] = await pidsIn(dir, "guard.pid", "agent.pid");
    // The worker can kill the group only once the guard told it the command's pid (its "spawned" message): under
    // load the agent may write its pid file first, so wait for that message before killing the guard.
    await until(() => g.pid() !== undefined, 5000, "the guard to report the command's pid");
    process.kill(guard!, "SIGKILL");
    expect(await g.exited).toMatchObject({ signal: "SIGKILL", leftovers: true });
    await until(() => processGone(agent!), 2000, "the agent to die");
  });
});
