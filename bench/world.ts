// The benchmark's private world: a work directory, its own nats-server on a free port, and every process it starts
// (tracked by the chaos run's Supervisor, so cleanup signals exactly those). A Stack is one scenario's Baton:
// a fresh prefix, one coordinator and its workers, an event observer; stopping it deletes its streams and buckets.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ConfigFile } from "../shared/config.ts";
import { encode } from "../shared/codec.ts";
import { names, type Names } from "../shared/subjects.ts";
import { freePort, Supervisor, type Slot } from "../scripts/chaos/processes.ts";
export { freePort };
import { cpuMeter, type CpuUse } from "./cpu.ts";
import { ScenarioObserver } from "./observer.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BATON_BIN = join(ROOT, "bin", "baton.mjs");
/**
 * Extra node flags for the coordinator and worker processes (Baton's and the design floor's), e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` to profile them (not allowed in NODE_OPTIONS).
 */
export const NODE_ARGS = (process.env.BATON_BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5000;

/** VmRSS and VmHWM (peak) of a process in MiB, from /proc/<pid>/status; undefined when unreadable. */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1]);
    const rss = kb("VmRSS");
    const peak = kb("VmHWM");
    return Number.isFinite(rss) ? { rssMiB: rss / 1024, peakMiB: peak / 1024 } : undefined;
  } catch {
    return undefined;
  }
}

export type RoleConfig =
  | { executor: "noop" }
  | { executor: "sleep"; sleepMs?: number }
  | { agent: "claude-code"; timeoutSeconds: number; stallSeconds: number; env: Record<string, string> }
  | { exec: string[]; timeoutSeconds: number; env?: Record<string, string> };

/** Settings of a scenario's config file besides its roles: `workspaceRoots`, and `worktreesDir` (worker.worktrees.dir), for git features. */
export type ConfigSettings = { workspaceRoots?: string[]; worktreesDir?: string };

export interface FeatureRequest {
  id: string;
  title: string;
  maxParallel?: number;
  /** A git repository: a git feature (docs/workspaces.md). */
  workspace?: string;
  isolation?: "shared" | "worktree";
  tasks: { id: string; role: string; title: string; instructions?: string; dependsOn?: string[] }[];
}

export class World {
  readonly dir = mkdtempSync(join(tmpdir(), "baton-bench-"));
  readonly logs = join(this.dir, "logs");
  readonly sup: Supervisor;
  natsUrl = "";
  nc!: NatsConnection;
  js!: JetStreamClient;
  /** One line for each process that exited by itself (a benchmark never restarts one). */
  readonly exits: string[] = [];
  private seq = 0;
  private cleaned: Promise<void> | undefined;

  constructor(private readonly say: (line: string) => void) {
    mkdirSync(this.logs, { recursive: true });
    this.sup = new Supervisor(this.logs, {
      restartDelayMs: 1000,
      onEvent: (line) => {
        this.exits.push(line);
        say(`  ! ${line}`);
      },
    });
    this.sup.autoRestart = false; // a benchmark never restarts anything: a crash ends the scenario
  }

  /** Starts `nats-server -js` on a free port with its store in the work directory and connects to it. */
  async startNats(): Promise<void> {
    const port = await freePort();
    this.natsUrl = `nats://127.0.0.1:${port}`;
    const store = join(this.dir, "nats-store");
    mkdirSync(store);
    const slot = this.sup.add({
      name: "nats", kind: "nats", command: "nats-server", cwd: this.dir, env: process.env,
      args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store], ready: /Server is ready/,
    });
    slot.start();
    await this.sup.waitReady(["nats"], 20_000);
    this.exits.length = 0;
    // No async stack traces, like Baton's own connections (shared/nats.ts): the floor is then like for like.
    this.nc = await connect({ servers: this.natsUrl, name: "baton-bench", noAsyncTraces: true });
    this.js = jetstream(this.nc);
  }

  /** A function telling whether a process exited by itself since now (and which): scenarios stop at once then. */
  crashWatch(): () => string | undefined {
    const from = this.exits.length;
    return () => this.exits[from];
  }

  /** Adds and starts a tracked process; resolves once its log shows `ready`, throws (with its log) if it exits first. */
  async spawn(spec: { name: string; kind: "coordinator" | "worker" | "nats"; command: string; args: string[]; env: NodeJS.ProcessEnv; ready: RegExp }): Promise<Slot> {
    const slot = this.sup.add({ ...spec, cwd: this.dir });
    slot.start();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!slot.pollReady()) {
      if (!slot.current) throw new Error(`${spec.name} exited before it was ready: ${slot.logTail(800).trim() || "(no output)"}`);
      if (Date.now() > deadline) throw new Error(`${spec.name} not ready within ${READY_TIMEOUT_MS / 1000} s: ${slot.logTail(800).trim() || "(no output)"}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return slot;
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves when every one has exited. */
  async stop(slots: Slot[]): Promise<void> {
    await Promise.all(slots.map(async (s) => {
      const t = setTimeout(() => s.killNow(), STOP_GRACE_MS);
      await s.kill("SIGTERM").catch(() => s.killNow());
      clearTimeout(t);
    }));
  }

  /** A unique, valid prefix for one scenario run. */
  prefix(tag: string): string {
    return `b${(++this.seq).toString(36)}${tag}`.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 24);
  }

  batonEnv(prefix: string): NodeJS.ProcessEnv {
    // Nothing Baton-specific is inherited (a stray BATON_CONFIG or BATON_FAULTS would change the figures).
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("BATON_")));
    return { ...inherited, NATS_URL: this.natsUrl, BATON_PREFIX: prefix, BATON_LOG_LEVEL: "info" };
  }

  writeConfig(name: string, roles: Record<string, RoleConfig>, settings: ConfigSettings = {}): string {
    const { worktreesDir, ...top } = settings;
    const config = { ...top, roles, worker: { drainGraceSeconds: 2, ...(worktreesDir !== undefined ? { worktrees: { dir: worktreesDir } } : {}) } };
    const check = ConfigFile.safeParse(config);
    if (!check.success) throw new Error(`benchmark config ${name} does not validate: ${check.error.message}`);
    const path = join(this.dir, `${name}.json`);
    writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
    return path;
  }

  /** Stops every process it started (workers, then coordinators, then servers) and removes the work directory. Safe to call twice. */
  cleanup(keep: boolean): Promise<void> {
    return (this.cleaned ??= (async () => {
      await this.nc?.close().catch(() => {});
      await this.sup.stopAll([["worker"], ["coordinator"], ["nats"]], STOP_GRACE_MS).catch(() => this.sup.killAllNow());
      if (!keep) rmSync(this.dir, { recursive: true, force: true });
    })());
  }
}

export interface WorkerSpec {
  role: string;
  concurrency: number;
}

/** One scenario's Baton: its prefix, coordinator, workers and event observer. */
export class Stack {
  readonly workers: Slot[] = [];
  private constructor(
    readonly world: World,
    readonly name: string,
    readonly prefix: string,
    readonly n: Names,
    readonly config: string,
    readonly coordinator: Slot,
    readonly observer: ScenarioObserver,
    /** Which of its processes exited by itself, if one did. */
    readonly crashed: () => string | undefined,
  ) {}

  /** Starts a coordinator for a fresh prefix, waits until it is ready, then starts the event observer. */
  static async start(world: World, name: string, roles: Record<string, RoleConfig>, settings: ConfigSettings = {}): Promise<Stack> {
    const prefix = world.prefix(name);
    const config = world.writeConfig(name, roles, settings);
    const crashed = world.crashWatch();
    const coordinator = await world.spawn({
      name: `${name}-coordinator`, kind: "coordinator", command: process.execPath,
      args: [...NODE_ARGS, BATON_BIN, "coordinator", "--config", config], env: world.batonEnv(prefix), ready: /coordinator ready/,
    });
    const n = names(prefix);
    const observer = new ScenarioObserver(world.nc, n);
    await observer.start();
    return new Stack(world, name, prefix, n, config, coordinator, observer, crashed);
  }

  /** Starts worker processes (all at once) and resolves when every one logged "worker ready". */
  async addWorkers(specs: WorkerSpec[]): Promise<Slot[]> {
    const base = this.workers.length;
    const slots = await Promise.all(specs.map((w, i) =>
      this.world.spawn({
        name: `${this.name}-worker-${base + i + 1}`, kind: "worker", command: process.execPath,
        args: [...NODE_ARGS, BATON_BIN, "worker", "--role", w.role, "--config", this.config, "--concurrency", String(w.concurrency), "--id", `${this.name}-w${base + i + 1}`],
        env: this.world.batonEnv(this.prefix), ready: /worker ready/,
      })));
    this.workers.push(...slots);
    return slots;
  }

  /** Publishes feature requests (`window` at a time) through the public submit subject, each with its id as Nats-Msg-Id. */
  async submit(features: FeatureRequest[], window = 256): Promise<void> {
    const subject = this.n.featureSubmit();
    let next = 0;
    const lane = async () => {
      while (next < features.length) {
        const f = features[next++]!;
        await this.world.js.publish(subject, encode(f), { msgID: f.id, timeout: 30_000 });
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, features.length) }, lane));
  }

  /** Measures the CPU of this stack's coordinator, its workers and nats-server (and the bench process itself). */
  cpu(): { stop(): CpuUse } {
    const pid = (s: Slot) => (s.current ? [s.current.pid] : []);
    return cpuMeter({ coordinator: pid(this.coordinator), workers: this.workers.flatMap(pid), nats: pid(this.world.sup.get("nats")) });
  }

  /**
   * Counts the messages written to each of its streams and buckets from now until `stop()` (last sequence
   * deltas), per `units` of work: how many NATS writes a task or step costs, by kind.
   */
  async writes(): Promise<{ stop(units: number): Promise<Record<string, number>> }> {
    const jsm = await jetstreamManager(this.world.nc);
    const b = this.n.buckets;
    const st = this.n.streams;
    const names: Record<string, string> = {
      "tasks (dispatches)": st.tasks, "results (worker messages)": st.results, "events (status events)": st.events,
      "journal (coordinator commits)": st.journal,
      "KV features (checkpoints)": `KV_${b.features}`, "KV workers (heartbeats)": `KV_${b.workers}`,
    };
    const read = async () =>
      Object.fromEntries(await Promise.all(Object.entries(names).map(async ([k, name]) => [k, (await jsm.streams.info(name).catch(() => null))?.state.last_seq ?? 0] as const)));
    const start = await read();
    return {
      async stop(units) {
        const end = await read();
        return Object.fromEntries(Object.keys(names).map((k) => [k, (end[k]! - start[k]!) / units]));
      },
    };
  }

  /** Stops its processes and observer, then deletes its streams and KV buckets so that later scenarios start clean. */
  async stop(): Promise<void> {
    await this.world.stop(this.workers);
    await this.world.stop([this.coordinator]);
    await this.observer.stop();
    const jsm = await jetstreamManager(this.world.nc);
    const b = this.n.buckets;
    for (const s of [...Object.values(this.n.streams), `KV_${b.features}`, `KV_${b.workers}`, `KV_${b.locks}`]) {
      await jsm.streams.delete(s).catch(() => {});
    }
  }
}
