// Runs one command to its end for a runner (an exec task, a gate): behind the exec guard, with a timeout and a
// kill grace, its output split into lines as it arrives. Knows nothing of tasks or of the protocol.
import { StringDecoder } from "node:string_decoder";
import type { Readable } from "node:stream";
import type { Logger } from "../../../shared/logging.ts";
import { wireError } from "../../../shared/protocol/errors.ts";
import type { WireError } from "../../../shared/protocol/index.ts";
import { spawnGuarded, type GuardedProcess } from "./guard.ts";

/** After SIGTERM, how long the process group has before SIGKILL. */
export const KILL_GRACE_MS = 5000;
/** By default a line longer than this without a newline is passed on in pieces (it is truncated downstream anyway). */
const MAX_PENDING_LINE = 64 * 1024;
/** Output pipes held open by a process that left the group are closed this long after the leader exited. */
const ORPHAN_PIPE_MS = 2000;
/** After the caller saw the command's final result (`resultSeen`), how long it has to exit before its group is terminated. */
export const RESULT_EXIT_MS = 5000;

export type OutputStream = "stdout" | "stderr";

/** What `runProcess` needs from its caller (a runner's ExecContext fits). */
export interface ProcessContext {
  /** Aborting it terminates the process group (SIGTERM, then SIGKILL after KILL_GRACE_MS). */
  signal: AbortSignal;
  /** One line of output, without its line break (a trailing `\r` is dropped too). */
  onLine: (stream: OutputStream, line: string) => void;
  log: Logger;
}

export interface ProcessOptions {
  cwd: string;
  env: Record<string, string>;
  /** Written to the command's stdin, which is then closed. */
  stdin: string;
  timeoutMs: number;
  /** No output (stdout or stderr) for this long: the group is terminated and the run marked `stalled`. Absent: no limit. */
  stallMs?: number | undefined;
  /**
   * Aborted by the caller once the command's own final result was seen (an agent CLI's result event): the command
   * then has RESULT_EXIT_MS to exit before its group is terminated (`killedAfterResult`); no stall or timeout after it.
   */
  resultSeen?: AbortSignal | undefined;
  /** Longest line passed on whole (default 64 Ki characters); an agent's JSON events can be far longer. */
  maxLineChars?: number | undefined;
}

/** How a command ended. At most one of `spawnError`, `timedOut`, `aborted`, `stalled`, `killedAfterResult` explains an abnormal end. */
export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The command (or its guard) could not be started: SPAWN. */
  spawnError?: WireError;
  timedOut: boolean;
  aborted: boolean;
  /** No output for `stallMs`: the group was terminated. */
  stalled?: boolean;
  /** The command did not exit within RESULT_EXIT_MS of `resultSeen`: the group was terminated (its result stands). */
  killedAfterResult?: boolean;
  killedWith?: "SIGTERM" | "SIGKILL";
  /** The last non-blank stderr line (cut at 500 characters), for error messages. */
  lastStderr: string;
}

/**
 * Runs argv in its own process group behind the exec guard (guard.ts) and waits for it. Timeout, stall or abort:
 * SIGTERM to the whole group, SIGKILL after KILL_GRACE_MS; the same RESULT_EXIT_MS after `resultSeen` when it
 * has not exited. Processes the leader leaves behind are killed when it exits; if this worker dies, the guard
 * kills the group. stdout and stderr are drained concurrently. Never rejects: every failure is in the
 * returned ProcessRun. Already aborted: resolves at once without starting anything. Measured cost of the
 * guard before the command starts: ~4 ms with an idle guard from the worker's pool (guard-pool.ts), else one
 * `node` start (~40 ms median on a 2-core box); ~42 MB RSS (~6.5 MB of it its own) while the task runs.
 */
export function runProcess(command: string, args: string[], options: ProcessOptions, ctx: ProcessContext): Promise<ProcessRun> {
  const run: ProcessRun = { code: null, signal: null, timedOut: false, aborted: false, lastStderr: "" };
  if (ctx.signal.aborted) {
    run.aborted = true;
    return Promise.resolve(run);
  }
  return new Promise((resolve) => {
    const child = spawnGuarded(command, args, { cwd: options.cwd, env: options.env, log: ctx.log });
    const watch = watchdog(child, run, options, ctx);

    const open = new Set<Readable>([child.stdout, child.stderr]);
    const emit = (stream: OutputStream, line: string) => {
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (stream === "stderr" && line.trim()) run.lastStderr = line.length > 500 ? `${line.slice(0, 500)}…` : line;
      ctx.onLine(stream, line);
    };
    const onClosed = (readable: Readable) => {
      open.delete(readable);
      if (open.size === 0) finish();
    };
    const maxLine = options.maxLineChars ?? MAX_PENDING_LINE;
    splitLines(child.stdout, (line) => emit("stdout", line), onClosed, watch.activity, maxLine);
    splitLines(child.stderr, (line) => emit("stderr", line), onClosed, watch.activity, maxLine);
    child.stdin.on("error", () => {}); // EPIPE when the command does not read its input
    child.stdin.end(options.stdin);

    let exited = false;
    let done = false;
    const finish = () => {
      if (done || !exited) return;
      done = true;
      watch.stop();
      resolve(run);
    };
    void child.exited.then((exit) => {
      run.code = exit.code;
      run.signal = exit.signal;
      exited = true;
      if (exit.spawnError !== undefined) {
        run.spawnError = wireError("SpawnError", `cannot run ${JSON.stringify(command)} (cwd ${options.cwd}): ${exit.spawnError}`);
        for (const readable of open) readable.destroy();
        open.clear();
        return finish();
      }
      if (exit.leftovers) ctx.log.info("killed processes left behind in the task's process group");
      if (open.size === 0) finish();
      // Output pipes held open by a process that left the group (setsid) must not hold the task.
      else setTimeout(() => { for (const readable of open) readable.destroy(); }, ORPHAN_PIPE_MS).unref();
    });
  });
}

type EndReason = "timedOut" | "aborted" | "stalled" | "killedAfterResult";

const END_MESSAGES: Record<EndReason, string> = {
  timedOut: "task timed out: terminating its process group",
  aborted: "task aborted: terminating its process group",
  stalled: "no output for the stall limit: terminating its process group",
  killedAfterResult: "the command did not exit after its final result: terminating its process group",
};

/**
 * The timers of one run: timeout, stall (re-armed by `activity`), abort and the post-result exit limit. The
 * first reason to end wins; it terminates the group (SIGTERM, SIGKILL after KILL_GRACE_MS). `stop` clears all.
 */
function watchdog(child: GuardedProcess, run: ProcessRun, options: ProcessOptions, ctx: ProcessContext): { activity: () => void; stop: () => void } {
  let ended = false;
  let resultSeen = false;
  let killTimer: NodeJS.Timeout | undefined;
  let stallTimer: NodeJS.Timeout | undefined;
  let exitTimer: NodeJS.Timeout | undefined;
  const terminate = (why: EndReason) => {
    if (ended) return;
    ended = true;
    run[why] = true;
    clearTimeout(stallTimer);
    ctx.log.warn({ pid: child.pid() }, END_MESSAGES[why]);
    if (child.killGroup("SIGTERM")) run.killedWith = "SIGTERM";
    killTimer = setTimeout(() => {
      if (child.killGroup("SIGKILL")) run.killedWith = "SIGKILL";
    }, KILL_GRACE_MS);
  };
  const timeout = setTimeout(() => !resultSeen && terminate("timedOut"), options.timeoutMs);
  const onAbort = () => terminate("aborted");
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const activity = () => {
    if (options.stallMs === undefined || ended || resultSeen) return;
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => terminate("stalled"), options.stallMs);
  };
  const onResult = () => {
    resultSeen = true;
    clearTimeout(stallTimer);
    exitTimer = setTimeout(() => terminate("killedAfterResult"), RESULT_EXIT_MS);
  };
  if (options.resultSeen?.aborted) onResult();
  else options.resultSeen?.addEventListener("abort", onResult, { once: true });
  activity();
  return {
    activity,
    stop() {
      for (const timer of [timeout, killTimer, stallTimer, exitTimer]) clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      options.resultSeen?.removeEventListener("abort", onResult);
    },
  };
}

/** Decodes `readable` as UTF-8 and passes on each line (pieces of `maxLine` for endless ones); the last unterminated line on close. */
function splitLines(readable: Readable, onLine: (line: string) => void, onClosed: (readable: Readable) => void, onData: () => void, maxLine: number): void {
  const decoder = new StringDecoder("utf8");
  let buffer = "";
  const take = (text: string) => {
    // only the new text is searched, so a long line arriving in many chunks costs linear time
    let start = 0;
    let newline: number;
    while ((newline = text.indexOf("\n", start)) >= 0) {
      onLine(buffer + text.slice(start, newline));
      buffer = "";
      start = newline + 1;
    }
    buffer += text.slice(start);
    while (buffer.length > maxLine) {
      onLine(buffer.slice(0, maxLine));
      buffer = buffer.slice(maxLine);
    }
  };
  readable.on("data", (chunk: Buffer) => {
    onData();
    take(decoder.write(chunk));
  });
  readable.on("error", () => {});
  readable.on("close", () => {
    take(decoder.end());
    if (buffer) onLine(buffer);
    buffer = "";
    onClosed(readable);
  });
}
