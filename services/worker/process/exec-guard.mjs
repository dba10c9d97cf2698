// The exec guard: a tiny process between a worker and a task's command, so that no agent outlives its worker.
// Plain JavaScript (no tsx) to start fast. Protocol over the IPC channel (see guard.ts for the worker side):
//   worker → guard  { type: "spawn", command, args, cwd, env }   once, first
//                   { type: "kill", signal }                     to the command's whole process group
//   guard → worker  { type: "spawned", pid } | { type: "spawn-error", message, code }
//                   { type: "exit", code, signal, leftovers }   then the guard exits
// The command runs detached (its own process group) with the guard's stdin/stdout/stderr, which are the
// worker's pipes: output does not pass through the guard. When its leader exits, whatever it left in the
// group is killed. When the IPC channel closes without a goodbye (the worker died, even by SIGKILL) or the
// guard gets SIGTERM/SIGINT/SIGHUP, the group gets SIGTERM, then SIGKILL after ORPHAN_GRACE_MS, and the guard exits.
import { spawn } from "node:child_process";
import { constants } from "node:os";

const ORPHAN_GRACE_MS = 2000;

/** @type {import("node:child_process").ChildProcess | undefined} */
let child;
let exiting = false;

/** Sends a signal to the command's process group; false when the group is gone (or never started). */
function killGroup(signal) {
  if (child?.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Reports to the worker when it is still there (and there is something to report), then exits. */
function finish(message, exitCode) {
  if (exiting) return;
  exiting = true;
  if (message && process.connected) {
    process.send(message, () => process.exit(exitCode));
    setTimeout(() => process.exit(exitCode), 1000).unref();
  } else {
    process.exit(exitCode);
  }
}

function start({ command, args, cwd, env }) {
  // Never hand the worker↔guard channel on to the command, should a Node version leave these set.
  delete env.NODE_CHANNEL_FD;
  delete env.NODE_CHANNEL_SERIALIZATION_MODE;
  child = spawn(command, args, { cwd, env, stdio: "inherit", detached: true });
  child.once("error", (err) => {
    if (child?.pid !== undefined) return; // a kill that failed: the exit event reports the outcome
    finish({ type: "spawn-error", message: err.message, code: err.code ?? null }, 127);
  });
  if (child.pid !== undefined) process.send?.({ type: "spawned", pid: child.pid });
  child.once("exit", (code, signal) => {
    // The task's processes end with the task: kill whatever the leader left running in its group.
    const leftovers = killGroup("SIGKILL");
    finish({ type: "exit", code, signal, leftovers }, code ?? 128 + (constants.signals[signal] ?? 9));
  });
}

/** The worker is gone (or we were told to stop): terminate the group, escalate after the grace, exit. */
function abandon(why) {
  if (child?.pid === undefined) return finish(undefined, 0);
  if (exiting) return;
  process.stderr.write(`[baton] exec guard: ${why}; terminating the task's process group\n`);
  killGroup("SIGTERM");
  setTimeout(() => {
    killGroup("SIGKILL");
    process.exit(137);
  }, ORPHAN_GRACE_MS);
}

// Nothing may end the guard while the group runs: a closed stderr (dead worker) or a bug kills the group first.
process.stderr.on("error", () => {});
process.on("uncaughtException", (err) => {
  killGroup("SIGKILL");
  process.stderr.write(`[baton] exec guard failed: ${err?.stack ?? err}\n`);
  process.exit(70);
});
process.on("message", (message) => {
  if (message?.type === "spawn" && !child) start(message);
  else if (message?.type === "kill" && typeof message.signal === "string") killGroup(message.signal);
});
process.on("disconnect", () => abandon("lost its worker (IPC channel closed)"));
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => abandon(`received ${sig}`));
if (!process.connected) abandon("started without an IPC channel");
