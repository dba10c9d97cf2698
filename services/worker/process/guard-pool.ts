// Exec guards started ahead of need, so that a task's command does not wait for its guard's `node` start (~45 ms
// on a 2-core box). One pool per process: the worker holds it while it runs, spawnGuarded (guard.ts) takes from it.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";

export const GUARD_PATH = fileURLToPath(new URL("./exec-guard.mjs", import.meta.url));

/** How long `release` waits for an idle guard to exit once told to, before SIGKILL. */
const CLOSE_GRACE_MS = 2000;

/** Guards started ahead and not yet taken (some may still be booting: a message sent meanwhile waits for them). */
const idle: ChildProcess[] = [];
/** The sizes asked for by the current holders; the pool keeps the largest. */
const holds = new Set<{ size: number }>();
const target = (): number => Math.max(0, ...[...holds].map((hold) => hold.size));

/**
 * Starts one exec guard: `node exec-guard.mjs` with an empty environment, stdio pipes and an IPC channel. Detached:
 * it has its own session, so a Ctrl-C meant for the worker (which drains) does not reach it. Errors are the caller's.
 */
export function startGuard(): ChildProcess {
  return spawn(process.execPath, [GUARD_PATH], { env: {}, detached: true, stdio: ["pipe", "pipe", "pipe", "ipc"] });
}

/** Counts (or stops counting) the guard's process, channel and pipes in this process's event loop. */
function setRef(guard: ChildProcess, on: boolean): void {
  const handles: { ref(): unknown; unref(): unknown }[] = [guard];
  if (guard.channel) handles.push(guard.channel);
  for (const stream of [guard.stdin, guard.stdout, guard.stderr]) if (stream) handles.push(stream as unknown as Socket);
  for (const handle of handles) (on ? handle.ref() : handle.unref());
}

/** True while the process runs: not gone, not a zombie waiting to be reaped (so an exit event not yet delivered counts too). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZXx]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    try {
      process.kill(pid, 0); // no /proc: the best a portable check can do
      return true;
    } catch {
      return false;
    }
  }
}

const forget = (guard: ChildProcess): void => {
  const index = idle.indexOf(guard);
  if (index >= 0) idle.splice(index, 1);
};

/** Starts guards until `target()` are idle. A guard that cannot start or dies while idle just leaves the pool (no retry loop). */
function fill(): void {
  while (idle.length < target()) {
    const guard = startGuard();
    // Until it is taken, the pool owns its events: any end removes it; nothing of it keeps this process alive.
    guard.on("error", () => forget(guard));
    guard.once("exit", () => forget(guard));
    guard.once("disconnect", () => forget(guard));
    if (guard.pid === undefined) return; // spawn failed at once (the error event follows): try again on the next take
    setRef(guard, false);
    idle.push(guard);
  }
}

/**
 * An idle guard that is still running and connected, handed out for exactly one command (it leaves the pool for
 * good), or undefined when there is none. Guards found dead are dropped. A replacement starts right after
 * (on the next turn of the event loop, so the caller's spawn message goes out first). The guard counts in this
 * process's event loop again, and no listener of the pool's is left on it: its events are the caller's.
 */
export function takeIdleGuard(): ChildProcess | undefined {
  let taken: ChildProcess | undefined;
  while (!taken && idle.length > 0) {
    const guard = idle.shift()!;
    if (guard.connected && guard.exitCode === null && guard.signalCode === null && running(guard.pid!)) taken = guard;
    else guard.kill("SIGKILL"); // half-dead (channel closed, or exiting): make sure, and never hand it out
  }
  if (holds.size > 0) setImmediate(fill);
  if (!taken) return undefined;
  for (const event of ["error", "exit", "disconnect"]) taken.removeAllListeners(event);
  setRef(taken, true);
  return taken;
}

/** Pids of the idle guards (for logs and tests). */
export function idleGuardPids(): number[] {
  return idle.map((guard) => guard.pid!);
}

export interface GuardPoolHold {
  /**
   * Lets go of the pool. When no holder asks for as many guards any more, the idle ones beyond the new size are
   * closed (their IPC channel is closed: the guard exits; SIGKILL after CLOSE_GRACE_MS) and the promise resolves once
   * they have exited. Same promise on every call; never rejects. Guards already taken are not affected.
   */
  release(): Promise<void>;
}

/**
 * Keeps up to `size` idle guards ready for this process (the largest size any holder asks for) from now until
 * `release()`: they start now, and a replacement after each one is taken. An idle guard whose process dies
 * (even by SIGKILL) sees its IPC channel close and exits: idle guards never outlive this process.
 */
export function holdIdleGuards(size: number): GuardPoolHold {
  const hold = { size: Math.max(0, Math.floor(size)) };
  holds.add(hold);
  fill();
  let released: Promise<void> | undefined;
  return {
    release: () =>
      (released ??= (() => {
        holds.delete(hold);
        return Promise.all(idle.splice(target()).map(closeGuard)).then(() => undefined);
      })()),
  };
}

/** Closes an idle guard (it exits when its channel closes with no command); resolves once it has exited. */
function closeGuard(guard: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (guard.exitCode !== null || guard.signalCode !== null) return resolve();
    const killer = setTimeout(() => guard.kill("SIGKILL"), CLOSE_GRACE_MS);
    guard.once("exit", () => (clearTimeout(killer), resolve()));
    if (guard.connected) guard.disconnect();
    else guard.kill("SIGTERM");
  });
}
