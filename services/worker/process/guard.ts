// Starts a task's command through the exec guard (exec-guard.mjs) so that its process group never outlives
// the worker. Why a guard process: Linux offers no portable "kill my children when I die" from Node
// (PR_SET_PDEATHSIG needs a native addon; a SIGKILLed worker runs no handler), and the command must sit in
// its own process group to be killed as a whole. The guard, a plain .mjs started without tsx, notices the
// worker's death through its IPC channel closing — which the kernel guarantees, even on SIGKILL — and kills
// the group (SIGTERM, then SIGKILL after 2 s). Its cost is one small `node` start per task, taken off the task's
// path when the worker holds the pool of guards started ahead (guard-pool.ts).
import type { Readable, Writable } from "node:stream";
import type { Logger } from "../../../shared/logging.ts";
import { GUARD_PATH, startGuard, takeIdleGuard } from "./guard-pool.ts";

export { GUARD_PATH };

/** How a guarded command ended. */
export interface GuardedExit {
  /** Exit code of the command; null when a signal ended it or it never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The command could not be started (e.g. `spawn ./agent ENOENT`). */
  spawnError?: string;
  /** Processes the command left behind in its group were killed. */
  leftovers: boolean;
}

export interface GuardedProcess {
  /** The command's pid (= its process group id) once known, for logs. */
  readonly pid: () => number | undefined;
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /**
   * Sends `signal` to the command's whole process group (through the guard, or directly when the guard
   * is gone). Safe to call at any time; false when there was nothing left to signal.
   */
  killGroup(signal: NodeJS.Signals): boolean;
  /** Resolves once the command and its guard have exited. Never rejects. */
  exited: Promise<GuardedExit>;
}

type FromGuard =
  | { type: "spawned"; pid: number }
  | { type: "spawn-error"; message: string; code: string | null }
  | { type: "exit"; code: number | null; signal: NodeJS.Signals | null; leftovers: boolean };

/**
 * Runs argv in its own process group behind a guard, with cwd/env as given; stdio are pipes to this process. The
 * guard is an idle one from the pool when there is one (never one that died meanwhile; each runs one command only),
 * else one started now.
 */
export function spawnGuarded(command: string, args: string[], options: { cwd: string; env: Record<string, string>; log: Logger }): GuardedProcess {
  const guard = takeIdleGuard() ?? startGuard();
  let commandPid: number | undefined;
  let reported: Extract<FromGuard, { type: "exit" }> | undefined;
  let spawnError: string | undefined;
  let guardExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let disconnected = false;

  const killDirectly = (signal: NodeJS.Signals): boolean => {
    if (commandPid === undefined) return false;
    try {
      process.kill(-commandPid, signal);
      return true;
    } catch {
      return false;
    }
  };

  const exited = new Promise<GuardedExit>((resolve) => {
    let done = false;
    const settle = () => {
      if (done || !guardExit || !disconnected) return;
      done = true;
      if (reported) return resolve({ code: reported.code, signal: reported.signal, leftovers: reported.leftovers });
      if (spawnError !== undefined) return resolve({ code: null, signal: null, spawnError, leftovers: false });
      // The guard itself died (killed, or crashed) without a report: make sure nothing of the command survives.
      const leftovers = killDirectly("SIGKILL");
      options.log.warn({ guard: guardExit, commandPid, leftovers }, "the exec guard ended without reporting the command's exit");
      resolve({ code: guardExit.code, signal: guardExit.signal ?? null, leftovers });
    };
    guard.on("message", (message: FromGuard) => {
      if (message.type === "spawned") commandPid = message.pid;
      else if (message.type === "spawn-error") spawnError = message.message;
      else if (message.type === "exit") reported = message;
    });
    guard.once("disconnect", () => ((disconnected = true), settle()));
    guard.once("exit", (code, signal) => {
      guardExit = { code, signal };
      settle();
      // The channel closes with the guard; do not wait forever should the event be missed.
      setTimeout(() => ((disconnected = true), settle()), 1000).unref();
    });
    guard.once("error", (err: NodeJS.ErrnoException) => {
      if (guard.pid !== undefined) return options.log.warn({ err }, "exec guard process error");
      spawnError = `cannot start the exec guard (${process.execPath} ${GUARD_PATH}): ${err.message}`;
      guardExit = { code: null, signal: null };
      disconnected = true;
      settle();
    });
  });

  guard.send({ type: "spawn", command, args, cwd: options.cwd, env: options.env }, () => {});
  return {
    pid: () => commandPid,
    stdin: guard.stdin!,
    stdout: guard.stdout!,
    stderr: guard.stderr!,
    killGroup(signal) {
      if (guard.connected) {
        guard.send({ type: "kill", signal }, () => {});
        return true;
      }
      return killDirectly(signal);
    },
    exited,
  };
}
