// Every process the chaos run starts, as named slots (coordinator-1, api-2, nats): spawn with the log
// going to a file, SIGKILL, restart, readiness from the log, and cleanup. It signals only its own children.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, openSync, readSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { ProcessKind } from "./plan.ts";

export interface Instance {
  pid: number;
  startedAt: number;
  /** When the log showed the ready line; undefined until then (or never). */
  readyAt?: number;
  exit?: { at: number; code: number | null; signal: NodeJS.Signals | null; killedByUs: boolean };
}

export interface UnexpectedExit {
  slot: string;
  kind: ProcessKind;
  pid: number;
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  logTail: string;
}

interface SlotSpec {
  name: string;
  kind: ProcessKind;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** A line in the log that means "up" (matched in the output of the current instance only). */
  ready: RegExp;
}

export class Slot {
  readonly instances: Instance[] = [];
  readonly logPath: string;
  private child: ChildProcess | undefined;
  private logFrom = 0;
  private killing = false;

  constructor(
    readonly spec: SlotSpec,
    logsDir: string,
    private readonly onUnexpectedExit: (slot: Slot, e: UnexpectedExit) => void,
  ) {
    this.logPath = join(logsDir, `${spec.name}.log`);
  }

  get name(): string {
    return this.spec.name;
  }

  get kind(): ProcessKind {
    return this.spec.kind;
  }

  get current(): Instance | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null ? this.instances.at(-1) : undefined;
  }

  /** Starts a new instance (the slot must be down). Its stdout and stderr are appended to the slot's log. */
  start(): Instance {
    if (this.current) throw new Error(`${this.name} is already running (pid ${this.current.pid})`);
    appendFileSync(this.logPath, "");
    this.logFrom = statSync(this.logPath).size;
    const fd = openSync(this.logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, this.spec.args, { cwd: this.spec.cwd, env: this.spec.env, stdio: ["ignore", fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${this.name}: ${this.spec.command}`);
    const inst: Instance = { pid: child.pid, startedAt: Date.now() };
    this.instances.push(inst);
    this.child = child;
    this.killing = false;
    child.on("error", () => {});
    child.once("exit", (code, signal) => {
      const killedByUs = this.killing;
      inst.exit = { at: Date.now(), code, signal, killedByUs };
      if (!killedByUs) {
        this.onUnexpectedExit(this, { slot: this.name, kind: this.kind, pid: inst.pid, at: inst.exit.at, code, signal, logTail: this.logTail(1500) });
      }
    });
    return inst;
  }

  /** Sends `signal` to the current instance and resolves when it has exited (immediately if down). */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.killing = true;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill(signal);
    await exited;
  }

  /** SIGKILL without waiting; for the last-resort cleanup in process.on("exit"). */
  killNow(): void {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.killing = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }

  /** Checks the current instance's log for its ready line; records when it first appeared. */
  pollReady(): boolean {
    const inst = this.instances.at(-1);
    if (!inst) return false;
    if (inst.readyAt !== undefined) return true;
    if (this.spec.ready.test(this.readLogFrom(this.logFrom))) inst.readyAt = Date.now();
    return inst.readyAt !== undefined;
  }

  logTail(chars: number): string {
    const size = statSync(this.logPath).size;
    return this.readLogFrom(Math.max(this.logFrom, size - chars));
  }

  private readLogFrom(offset: number): string {
    const fd = openSync(this.logPath, "r");
    try {
      const size = statSync(this.logPath).size;
      const len = Math.max(0, size - offset);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, offset);
      return buf.toString("utf8");
    } finally {
      closeSync(fd);
    }
  }
}

export class Supervisor {
  readonly slots = new Map<string, Slot>();
  readonly unexpectedExits: UnexpectedExit[] = [];
  /** While true, a process that exits by itself is started again after `restartDelayMs` (like `restart: always`). */
  autoRestart = true;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly logsDir: string,
    private readonly o: { restartDelayMs: number; onEvent: (line: string) => void },
  ) {}

  add(spec: SlotSpec): Slot {
    const slot = new Slot(spec, this.logsDir, (s, e) => {
      this.unexpectedExits.push(e);
      this.o.onEvent(`${s.name} (pid ${e.pid}) exited by itself: code ${e.code} signal ${e.signal}; log: ${s.logPath}`);
      if (this.autoRestart) this.later(this.o.restartDelayMs, () => this.startIfDown(s));
    });
    this.slots.set(spec.name, slot);
    return slot;
  }

  get(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`no process slot ${name}`);
    return slot;
  }

  startIfDown(slot: Slot): void {
    if (!this.autoRestart || slot.current) return;
    try {
      slot.start();
    } catch (error) {
      this.o.onEvent(`could not restart ${slot.name}: ${(error as Error).message}`);
    }
  }

  /** Runs `fn` after `ms` unless the supervisor is stopped first. */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** Restart timers still pending. */
  get pendingRestarts(): number {
    return this.timers.size;
  }

  /** Polls until every slot in `names` logged its ready line; throws after `timeoutMs` naming the laggards. */
  async waitReady(names: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const waiting = names.filter((n) => !this.get(n).pollReady());
      if (!waiting.length) return;
      if (Date.now() > deadline) {
        const detail = waiting.map((n) => `${n}: ${this.get(n).logTail(600).trim() || "(no output)"}`).join("\n");
        throw new Error(`not ready within ${timeoutMs / 1000}s: ${waiting.join(", ")}\n${detail}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Stops restarting, then SIGTERMs the given kinds (in order) and SIGKILLs what is left after `graceMs`. */
  async stopAll(order: ProcessKind[][], graceMs: number): Promise<void> {
    this.autoRestart = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const kinds of order) {
      const group = [...this.slots.values()].filter((slot) => kinds.includes(slot.kind));
      await Promise.all(
        group.map(async (slot) => {
          const timer = setTimeout(() => slot.killNow(), graceMs);
          await slot.kill("SIGTERM");
          clearTimeout(timer);
        }),
      );
    }
  }

  /** Synchronous last resort: SIGKILL every child still running. */
  killAllNow(): void {
    this.autoRestart = false;
    for (const timer of this.timers) clearTimeout(timer);
    for (const slot of this.slots.values()) slot.killNow();
  }
}

/** A free TCP port on 127.0.0.1, never one of the well-known ports of this machine's services (NATS 4222, Redis 6379). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((res, rej) => {
      const srv = createServer();
      srv.once("error", rej);
      srv.listen(0, "127.0.0.1", () => {
        const found = (srv.address() as { port: number }).port;
        srv.close(() => res(found));
      });
    });
    if (port !== 4222 && port !== 6379) return port;
  }
}
