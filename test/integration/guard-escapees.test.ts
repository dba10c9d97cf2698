// Processes that leave the command's process group — agent CLIs start their shell tools with setsid or detached (seen
// with Gemini CLI) — still end with the task: the exec guard tracks the command's process tree and kills them too,
// whether the task is killed (timeout, cancel, stall) or its leader just exits.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/logging.ts";
import { spawnGuarded } from "../../services/worker/process/guard.ts";
import { processGone, readPid, safeKill, sleep } from "./worker-harness.ts";

const dirs: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) safeKill(pid);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

async function escapedPid(dir: string): Promise<number> {
  const file = join(dir, "escaped.pid");
  const deadline = Date.now() + 5000;
  while (!(existsSync(file) && readPid(file) > 0)) {
    if (Date.now() > deadline) throw new Error("the command never wrote the escaped process's pid");
    await sleep(50);
  }
  const pid = readPid(file);
  pids.push(pid);
  return pid;
}

/** A shell that starts `sleep` in a session of its own (setsid: a new process group), records its pid, then `then`. */
const script = (dir: string, then: string) =>
  `setsid sh -c 'echo $$ > ${join(dir, "escaped.pid")}; exec sleep 300' & sleep 1; ${then}`;

describe("the exec guard and processes that leave the group", () => {
  it("kills a setsid grandchild when the task is killed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-escape-"));
    dirs.push(dir);
    const guarded = spawnGuarded("sh", ["-c", script(dir, "sleep 300")], { cwd: dir, env, log: silentLogger });
    guarded.stdout.resume();
    guarded.stderr.resume();
    const pid = await escapedPid(dir);
    expect(processGone(pid)).toBe(false);
    guarded.killGroup("SIGKILL");
    await guarded.exited;
    const deadline = Date.now() + 3000;
    while (!processGone(pid) && Date.now() < deadline) await sleep(50);
    expect(processGone(pid)).toBe(true);
  });

  it("kills a setsid grandchild left behind when the leader exits by itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-escape-"));
    dirs.push(dir);
    const guarded = spawnGuarded("sh", ["-c", script(dir, "exit 0")], { cwd: dir, env, log: silentLogger });
    guarded.stdout.resume();
    guarded.stderr.resume();
    const pid = await escapedPid(dir);
    const exit = await guarded.exited;
    expect(exit.code).toBe(0);
    expect(exit.leftovers).toBe(true);
    const deadline = Date.now() + 3000;
    while (!processGone(pid) && Date.now() < deadline) await sleep(50);
    expect(processGone(pid)).toBe(true);
  });
});
