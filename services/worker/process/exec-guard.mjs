// The exec guard: a tiny process between a worker and a task's command, so that no agent outlives its worker.
// Plain JavaScript (no tsx) to start fast. Protocol over the IPC channel (see guard.ts for the worker side):
//   worker → guard  { type: "spawn", command, args, cwd, env }   once, first (possibly long after the start:
//                                                                 guard-pool.ts starts guards ahead; one idle
//                                                                 guard whose channel closes just exits)
//                   { type: "kill", signal }                     to the command's whole process group
//   guard → worker  { type: "spawned", pid } | { type: "spawn-error", message, code }
//                   { type: "exit", code, signal, leftovers }   then the guard exits
// The command runs detached (its own process group) with the guard's stdin/stdout/stderr, which are the
// worker's pipes: output does not pass through the guard. When its leader exits, whatever it left in the
// group is killed. When the IPC channel closes without a goodbye (the worker died, even by SIGKILL) or the
// guard gets SIGTERM/SIGINT/SIGHUP, the group gets SIGTERM, then SIGKILL after ORPHAN_GRACE_MS, and the guard exits.
// Processes that leave the group (agent CLIs start their shell tools with setsid or detached) are found too: the
// guard reads the command's process tree from /proc every TREE_SCAN_MS and remembers every descendant it saw (pid and
// start time, so a reused pid is never hit), and every kill reaches them as well as the group.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { constants } from "node:os";

const ORPHAN_GRACE_MS = 2000;
const TREE_SCAN_MS = 500;

/** Descendants of the command ever seen: pid → start time (field 22 of /proc/<pid>/stat). */
const tracked = new Map();

/** `{ ppid, pgrp, start }` of a live process, or undefined. */
function statOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), pgrp: Number(fields[2]), start: fields[19] };
  } catch {
    return undefined;
  }
}

/** Adds the command's current descendants (and those of descendants already tracked, reparented or not) to `tracked`. */
function scanTree() {
  if (child?.pid === undefined) return;
  let pids;
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return; // no /proc: only the process group is killed
  }
  const byParent = new Map();
  const stats = new Map();
  for (const pid of pids) {
    const st = statOf(pid);
    if (!st) continue;
    stats.set(pid, st);
    if (!byParent.has(st.ppid)) byParent.set(st.ppid, []);
    byParent.get(st.ppid).push(pid);
  }
  const roots = [child.pid, ...[...tracked].filter(([pid, start]) => stats.get(pid)?.start === start).map(([pid]) => pid)];
  const queue = [...roots];
  while (queue.length) {
    for (const kid of byParent.get(queue.pop()) ?? []) {
      if (kid === process.pid || tracked.has(kid)) continue;
      tracked.set(kid, stats.get(kid).start);
      queue.push(kid);
    }
  }
}

/** Signals every tracked descendant still alive (same start time) outside group `skipGroup`, and its group when it leads one; true if any was. */
function killTracked(signal, skipGroup) {
  scanTree();
  let any = false;
  for (const [pid, start] of tracked) {
    const st = statOf(pid);
    if (!st || st.start !== start) {
      tracked.delete(pid);
      continue;
    }
    if (st.pgrp === skipGroup) continue;
    for (const target of st.pgrp === pid ? [-pid, pid] : [pid]) {
      try {
        process.kill(target, signal);
        any = true;
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return any;
}

/** @type {import("node:child_process").ChildProcess | undefined} */
let child;
let exiting = false;

/** Sends a signal to the command's process group and to every descendant that left it; false when none was left. */
function killGroup(signal) {
  if (child?.pid === undefined) return false;
  scanTree(); // before the signal: a killed parent's children are reparented at once and drop out of the tree
  let any = false;
  try {
    process.kill(-child.pid, signal);
    any = true;
  } catch {
    /* the group is gone */
  }
  return killTracked(signal, child.pid) || any;
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
  if (child.pid !== undefined) {
    process.send?.({ type: "spawned", pid: child.pid });
    setInterval(scanTree, TREE_SCAN_MS).unref();
  }
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
