// `baton up`'s supervision of its child processes: each in its own process group (a terminal's Ctrl-C reaches
// only `baton up`, which stops them in order), restarted when it dies, reported while draining, killed with it.
import { spawn, type ChildProcess } from "node:child_process";
import type { WriteStream } from "node:fs";
import { resolve } from "node:path";
import { red, yellow } from "./render.ts";

export interface Child {
  name: string;
  args: string[];
  ready: RegExp;
  proc?: ChildProcess;
  restarts: number[];
  log: WriteStream;
}

const isRunning = (proc: ChildProcess | undefined): proc is ChildProcess => proc !== undefined && proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null;

/** Sends `signal` to the whole process group of `proc` (it leads its group: spawned detached); false when it is gone. */
export function signalGroup(proc: ChildProcess | undefined, signal: NodeJS.Signals): boolean {
  if (!isRunning(proc)) return false;
  try {
    process.kill(-proc.pid!, signal);
    return true;
  } catch {
    return false;
  }
}

/** Starts child processes and restarts those that die, until `stopping`. */
export class Supervisor {
  stopping = false;
  private readonly others = new Set<ChildProcess>();
  private readonly children: Child[] = [];

  /**
   * `bin` is the `baton` entry the children run; `print` shows a line to the user. Installs an exit hook that
   * kills every group still running, however `baton up` ends (a crash, a forced stop).
   */
  constructor(
    private readonly bin: string,
    private readonly logDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly print: (line: string) => void,
  ) {
    process.once("exit", () => this.killAll("SIGKILL"));
  }

  /** A process started elsewhere (the local nats-server, spawned detached) that must die with `baton up`. */
  adopt(proc: ChildProcess): void {
    this.others.add(proc);
  }

  /** Sends `signal` to every running child's process group (SIGKILL: the forced stop). Safe to call any time. */
  killAll(signal: NodeJS.Signals): void {
    for (const child of this.children) signalGroup(child.proc, signal);
    for (const proc of this.others) signalGroup(proc, signal);
  }

  /**
   * Spawns `child` detached (its own process group and session) with an IPC channel, whose closing tells it
   * that `baton up` died (shared/process.ts onShutdown); resolves once it printed its ready line (or exited).
   * A death restarts it with backoff. Does nothing once stopping.
   */
  start(child: Child): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (!this.children.includes(child)) this.children.push(child);
    return new Promise((ready) => {
      const proc = spawn(process.execPath, [this.bin, ...child.args], { env: this.env, detached: true, stdio: ["ignore", "pipe", "pipe", "ipc"] });
      child.proc = proc;
      let buffered = "";
      let isReady = false;
      const onData = (chunk: Buffer) => {
        child.log.write(chunk);
        if (isReady && !this.stopping) return;
        buffered += chunk.toString();
        if (!isReady && child.ready.test(buffered)) {
          isReady = true;
          buffered = "";
          ready();
        }
        if (this.stopping) buffered = this.reportDrain(child.name, buffered);
      };
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", onData);
      proc.once("exit", (code, signal) => {
        if (!isReady) ready();
        if (!this.stopping) this.restartLater(child, code, signal);
      });
    });
  }

  /**
   * While stopping, turns a worker's drain log lines (services/worker/slots.ts) into progress for the user;
   * returns the unfinished last line.
   */
  private reportDrain(name: string, text: string): string {
    const lines = text.split("\n");
    const rest = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.includes('"msg":"drain: ')) continue;
      let entry: { msg?: string; tasks?: unknown[]; graceSeconds?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      const count = entry.tasks?.length ?? 0;
      const tasks = `${count} running task${count === 1 ? "" : "s"}`;
      if (entry.msg?.startsWith("drain: waiting for running tasks")) this.print(`${name}: waiting for ${tasks} (grace ${entry.graceSeconds}s)…`);
      else if (entry.msg?.startsWith("drain: grace over")) this.print(yellow(`${name}: grace over: ${tasks} stopped and handed back (nak) for another worker`));
      else if (entry.msg === "drain: no tasks running") this.print(`${name}: no tasks running`);
    }
    return rest;
  }

  private restartLater(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    const now = Date.now();
    child.restarts = child.restarts.filter((at) => now - at < 60_000);
    if (child.restarts.length >= 5) {
      console.error(red(`${child.name} exited (${signal ?? code}) 5 times within a minute; not restarting it. See ${resolve(this.logDir, child.name + ".log")}`));
      return;
    }
    child.restarts.push(now);
    const delay = 500 * 2 ** (child.restarts.length - 1);
    console.error(yellow(`${child.name} exited (${signal ?? `code ${code}`}); restarting in ${delay}ms`));
    setTimeout(() => !this.stopping && void this.start(child), delay);
  }
}

/**
 * SIGTERM to each running process of the group, SIGKILL to its process group after `graceMs`; `onWait` is
 * called every 10 s with the names still running. Resolves when all exited.
 */
export async function stopAll(group: Child[], graceMs: number, onWait?: (names: string[]) => void): Promise<void> {
  const ticker = onWait && setInterval(() => onWait(group.filter((child) => isRunning(child.proc)).map((child) => child.name)), 10_000);
  try {
    await Promise.all(group.map(async (child) => {
      const proc = child.proc;
      if (!isRunning(proc)) return;
      const exited = new Promise<void>((done) => proc.once("exit", () => done()));
      proc.kill("SIGTERM");
      const killer = setTimeout(() => signalGroup(proc, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(killer);
    }));
  } finally {
    clearInterval(ticker);
  }
}
