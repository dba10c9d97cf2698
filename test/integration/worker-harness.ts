// Harness for the worker's integration suites: a real nats-server per suite, real `baton worker` processes
// running real agent scripts; the test plays the coordinator (publishes TaskAssigned, reads the results stream).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type ConsumerMessages } from "@nats-io/jetstream";
import { decode, encode } from "../../shared/codec.ts";
import { ensureTopology } from "../../shared/nats.ts";
import { type TaskAssigned, WorkerMessage, type TaskLog, type TaskResult, type TaskStarted } from "../../shared/protocol/index.ts";
import { names, type Names } from "../../shared/subjects.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";
import { baton, type Proc } from "../helpers/procs.ts";

export interface Suite {
  server(): NatsServer;
  nc(): NatsConnection;
  /** Runs after the current test, last registered first (kills its workers, removes its folders, …). */
  cleanup(fn: () => Promise<unknown> | unknown): void;
  setup: (config: SetupConfig, scripts?: Record<string, string>) => Promise<WorkerTest>;
  /** Messages waiting in the test's tasks stream (not yet acked or terminated). */
  queued(n: Names): Promise<number>;
}

export type WorkerTest = Awaited<ReturnType<typeof makeSetup>>;

/** The config file a test's workers get (written as JSON; relative `workspaceRoots` resolve against the test's folder). */
export type SetupConfig = { roles: Record<string, unknown>; worker?: Record<string, unknown>; workspaceRoots?: string[] };

/** Registers the suite's hooks (server per file, cleanups per test) and returns its helpers. */
export function workerSuite(): Suite {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  });
  afterEach(async () => {
    // last registered first: a test's pid files are read (and those processes killed) before its folder goes
    for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => {});
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });
  const s: Suite = {
    server: () => server!,
    nc: () => nc!,
    cleanup: (fn) => void cleanups.push(fn),
    setup: (config, scripts = {}) => makeSetup(s, config, scripts),
    queued: async (n) => (await (await jetstreamManager(nc!)).streams.info(n.streams.tasks)).state.messages,
  };
  return s;
}

/** Everything one test needs: its own prefix, config file, scripts folder, result reader and workers. */
async function makeSetup(s: Suite, config: SetupConfig, scripts: Record<string, string>) {
  const nc = s.nc();
  const prefix = uniquePrefix("w");
  const n = names(prefix);
  await ensureTopology(nc, n);
  const dir = mkdtempSync(join(tmpdir(), "baton-worker-test-"));
  s.cleanup(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  const cfgPath = join(dir, "baton.yaml");
  writeFileSync(cfgPath, JSON.stringify(config, null, 2));
  const env = { NATS_URL: s.server().url, BATON_PREFIX: prefix };
  const msgs = await readResults(s, n);
  const workers: Proc[] = [];
  s.cleanup(() => Promise.all(workers.map((w) => w.kill("SIGKILL"))));
  const task = (role: string, over: Partial<TaskAssigned> = {}): TaskAssigned => ({
    type: "baton.v1.task_assigned", featureId: "f1", taskId: "t1", attempt: 1, role, title: "a task",
    instructions: "do it", dependsOn: [], feature: { title: "a feature" }, handoffs: [], dispatchedAt: new Date().toISOString(), ...over,
  });
  return {
    n,
    dir,
    cfgPath,
    msgs,
    /** Starts `baton worker --role <role>` and waits until it pulls. */
    async worker(role: string, extra: string[] = []): Promise<Proc> {
      const w = baton(["worker", "--role", role, "--config", cfgPath, ...extra], env, { cwd: dir });
      workers.push(w);
      await w.waitFor(/"msg":"worker ready"/);
      return w;
    },
    task,
    /** Publishes a TaskAssigned (no msg id, like a test that wants every copy stored). */
    async publish(role: string, over: Partial<TaskAssigned> = {}): Promise<TaskAssigned> {
      const t = task(role, over);
      await jetstream(nc).publish(n.task(role), encode(t));
      return t;
    },
  };
}

/** Reads the results stream through the coordinators' durable consumer, validating every message. */
async function readResults(s: Suite, n: Names) {
  const list: { subject: string; msg: WorkerMessage }[] = [];
  const waiters: (() => void)[] = [];
  const c = await jetstream(s.nc()).consumers.get(n.streams.results, n.consumers.coordinatorResults);
  const iter: ConsumerMessages = await c.consume({ max_messages: 100, expires: 2000 });
  s.cleanup(() => iter.stop());
  void (async () => {
    for await (const m of iter) {
      list.push({ subject: m.subject, msg: decode(WorkerMessage, m.data) });
      m.ack();
      for (const w of waiters.splice(0)) w();
    }
  })();
  const of = <T extends WorkerMessage["type"]>(type: T, taskId?: string) =>
    list.filter((e) => e.msg.type === type && (!taskId || e.msg.taskId === taskId)).map((e) => e.msg as Extract<WorkerMessage, { type: T }>);
  return {
    all: () => list,
    results: (taskId?: string) => of("baton.v1.task_result", taskId) as TaskResult[],
    started: (taskId?: string) => of("baton.v1.task_started", taskId) as TaskStarted[],
    logs: (taskId?: string) => of("baton.v1.task_log", taskId) as TaskLog[],
    /** Resolves when `pred` holds; fails with everything received so far. */
    async until<T>(pred: () => T | undefined | false | 0 | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await pred();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out; received:\n${JSON.stringify(list.map((e) => e.msg), null, 1).slice(0, 4000)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}

export const safeKill = (pid: number) => {
  try {
    if (pid > 0) process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
};

/** True when no process has this pid any more (a zombie its parent has not reaped yet counts as gone). */
export const processGone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
};

/** Reads a pid a script wrote to a file. */
export const readPid = (path: string): number => Number(readFileSync(path, "utf8").trim());

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
