// The role worker against a real nats-server: real `baton worker` processes run real agent scripts;
// the test plays the coordinator (publishes TaskAssigned, reads the results stream).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type ConsumerMessages } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { decode, encode } from "../../shared/codec.ts";
import { ensureTopology } from "../../shared/nats.ts";
import { TaskAssigned, WorkerMessage, type TaskLog, type TaskResult, type TaskStarted } from "../../shared/protocol/index.ts";
import { names, type Names } from "../../shared/subjects.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";
import { baton, type Proc } from "../helpers/procs.ts";

let server: NatsServer;
let nc: NatsConnection;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
});
afterEach(async () => {
  await Promise.allSettled(cleanups.splice(0).map((fn) => fn()));
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

/** Everything one test needs: its own prefix, config file, scripts folder, result reader and workers. */
async function setup(config: { roles: Record<string, unknown>; worker?: Record<string, unknown> }, scripts: Record<string, string> = {}) {
  const prefix = uniquePrefix("w");
  const n = names(prefix);
  await ensureTopology(nc, n);
  const dir = mkdtempSync(join(tmpdir(), "baton-worker-test-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  const cfgPath = join(dir, "baton.yaml");
  writeFileSync(cfgPath, JSON.stringify(config, null, 2));
  const env = { NATS_URL: server.url, BATON_PREFIX: prefix };
  const msgs = await readResults(n);
  const workers: Proc[] = [];
  cleanups.push(() => Promise.all(workers.map((w) => w.kill("SIGKILL"))));
  return {
    n,
    dir,
    cfgPath,
    msgs,
    async worker(role: string, extra: string[] = []): Promise<Proc> {
      const w = baton(["worker", "--role", role, "--config", cfgPath, ...extra], env, { cwd: dir });
      workers.push(w);
      await w.waitFor(/"msg":"worker ready"/);
      return w;
    },
    async publish(role: string, over: Partial<TaskAssigned> = {}): Promise<TaskAssigned> {
      const task: TaskAssigned = {
        type: "baton.v1.task_assigned", featureId: "f1", taskId: "t1", attempt: 1, role, title: "a task",
        instructions: "do it", dependsOn: [], feature: { title: "a feature" }, handoffs: [], dispatchedAt: new Date().toISOString(), ...over,
      };
      await jetstream(nc).publish(n.task(role), encode(task));
      return task;
    },
  };
}

/** Reads the results stream through the coordinators' durable consumer, validating every message. */
async function readResults(n: Names) {
  const list: { subject: string; msg: WorkerMessage }[] = [];
  const waiters: (() => void)[] = [];
  const c = await jetstream(nc).consumers.get(n.streams.results, n.consumers.coordinatorResults);
  const iter: ConsumerMessages = await c.consume({ max_messages: 100, expires: 2000 });
  cleanups.push(() => iter.stop());
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

const queued = async (n: Names): Promise<number> => (await (await jetstreamManager(nc)).streams.info(n.streams.tasks)).state.messages;

const safeKill = (pid: number) => {
  try {
    if (pid > 0) process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
};

const processGone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // an exited process its parent has not reaped yet is dead too
  return /\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
};

describe("baton worker", () => {
  it("runs a task: task on stdin, BATON_* env, default workspace, result file → summary and handoff, then acks", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"], env: { EXTRA: "from-config" } } } },
      {
        "agent.sh": `input=$(cat)
echo "working in $(pwd)"
echo "a note on stderr" >&2
printf '{"summary":"did %s","handoff":{"task":%s,"cwd":"%s","env":["%s","%s","%s","%s","%s","%s"],"resultFile":"%s"}}' \\
  "$BATON_TASK_ID" "$input" "$(pwd)" "$BATON_FEATURE_ID" "$BATON_TASK_ID" "$BATON_ROLE" "$BATON_ATTEMPT" "$BATON_WORKSPACE" "$EXTRA" "$BATON_RESULT_FILE" > "$BATON_RESULT_FILE"`,
      },
    );
    await t.worker("backend", ["--id", "be-1"]);
    const task = await t.publish("backend", { featureId: "feat-a", taskId: "api", attempt: 2 });
    const [r] = await t.msgs.until(() => t.msgs.results("api").length && t.msgs.results("api"));
    const ws = join(t.dir, ".baton", "workspaces", "feat-a");
    expect(r).toMatchObject({ outcome: "completed", exitCode: 0, workerId: "be-1", role: "backend", attempt: 2, summary: "did api" });
    const handoff = r!.handoff as { task: unknown; cwd: string; env: string[]; resultFile: string };
    expect(handoff.task).toEqual(task);
    expect(handoff.cwd).toBe(ws);
    expect(handoff.env).toEqual(["feat-a", "api", "backend", "2", ws, "from-config"]);
    expect(existsSync(dirname(handoff.resultFile))).toBe(false); // per-task temp dir removed
    const [started] = t.msgs.started("api");
    expect(started).toMatchObject({ type: "baton.v1.task_started", delivery: 1, workerId: "be-1", attempt: 2 });
    // every message about the task went to its result subject, started before logs before the result
    const all = t.msgs.all();
    expect(all.every((e) => e.subject === t.n.result("feat-a", "api"))).toBe(true);
    expect(all[0]!.msg.type).toBe("baton.v1.task_started");
    expect(all.at(-1)!.msg.type).toBe("baton.v1.task_result");
    const lines = t.msgs.logs("api").flatMap((l) => l.lines.map((line) => `${l.stream}:${line}`));
    expect(lines).toEqual(expect.arrayContaining([`stdout:working in ${ws}`, "stderr:a note on stderr"]));
    // acked after the result: the work queue empties
    await t.msgs.until(async () => (await queued(t.n)) === 0);
  });

  it("reports a non-zero exit as failed with the exit code and the last stderr line", async () => {
    const t = await setup({ roles: { backend: { exec: ["./agent.sh"] } } }, { "agent.sh": `echo starting\necho "boom: the build broke" >&2\nexit 3` });
    await t.worker("backend");
    await t.publish("backend");
    const [r] = await t.msgs.until(() => t.msgs.results().length && t.msgs.results());
    expect(r).toMatchObject({ outcome: "failed", exitCode: 3, error: { name: "ExitCode", code: "EXIT_CODE", message: "exited with code 3: boom: the build broke" } });
  });

  it("kills the whole process group on timeout, grandchildren included", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"], timeoutSeconds: 1 } } },
      { "agent.sh": `sleep 300 &\necho $! > "$BATON_WORKSPACE/sleep.pid"\nwait` },
    );
    const ws = join(t.dir, "given-workspace");
    mkdirSync(ws);
    await t.worker("backend");
    const t0 = Date.now();
    await t.publish("backend", { workspace: ws });
    const [r] = await t.msgs.until(() => t.msgs.results().length && t.msgs.results());
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r).toMatchObject({ outcome: "failed", error: { name: "Timeout", code: "TIMEOUT" } });
    const pid = Number(readFileSync(join(ws, "sleep.pid"), "utf8"));
    expect(pid).toBeGreaterThan(0);
    await t.msgs.until(() => processGone(pid), 3000);
  });

  it("streams output as TaskLog batches: long lines truncated, excess lines over the rate limit counted as dropped", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"] } }, worker: { logLinesPerSecond: 20, logLineMaxChars: 100 } },
      { "agent.sh": `head -c 300 /dev/zero | tr '\\0' x; echo\ni=1; while [ $i -le 150 ]; do echo "line $i"; i=$((i+1)); done` },
    );
    await t.worker("backend");
    await t.publish("backend");
    await t.msgs.until(() => t.msgs.results().length);
    const logs = t.msgs.logs();
    expect(logs.map((l) => l.batch)).toEqual(logs.map((_, i) => i + 1));
    expect(logs.every((l) => l.delivery === 1 && l.lines.length >= 1 && l.lines.length <= 100)).toBe(true);
    const lines = logs.flatMap((l) => l.lines);
    expect(lines[0]!.length).toBeLessThanOrEqual(100);
    expect(lines[0]).toMatch(/^x{50,}… \[truncated \d+ chars\]$/);
    const forwarded = lines.filter((l) => !l.startsWith("[baton]"));
    const dropped = logs.reduce((s, l) => s + l.dropped, 0);
    expect(dropped).toBeGreaterThan(100);
    expect(forwarded.length + dropped).toBe(151);
    expect(forwarded.slice(1, 4)).toEqual(["line 1", "line 2", "line 3"]);
    expect(t.msgs.results()[0]).toMatchObject({ outcome: "completed" });
  });

  it("fails a task whose result file is invalid, and one whose command cannot be started", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"] }, api: { exec: ["./missing-agent"] } } },
      { "agent.sh": `echo '{"summary": 42}' > "$BATON_RESULT_FILE"` },
    );
    await Promise.all([t.worker("backend"), t.worker("api")]);
    await t.publish("backend", { taskId: "bad-result" });
    await t.publish("api", { taskId: "no-binary" });
    const [r] = await t.msgs.until(() => t.msgs.results("bad-result").length && t.msgs.results("bad-result"));
    expect(r).toMatchObject({ outcome: "failed", exitCode: 0, error: { name: "ProtocolError" } });
    expect(r!.error!.message).toMatch(/result file.*summary/);
    const [s] = await t.msgs.until(() => t.msgs.results("no-binary").length && t.msgs.results("no-binary"));
    expect(s).toMatchObject({ outcome: "failed", error: { name: "SpawnError" } });
    expect(s!.error!.message).toContain(join(t.dir, "missing-agent"));
  });

  it("fails tasks with NO_EXECUTOR when its config has no executor for the role", async () => {
    const t = await setup({ roles: { backend: { exec: ["true"] } } });
    const w = await t.worker("ghost", ["--id", "ghost-1"]);
    expect(w.output()).toMatch(/no executor configured for role/);
    await t.publish("ghost");
    const [r] = await t.msgs.until(() => t.msgs.results().length && t.msgs.results());
    expect(r).toMatchObject({
      outcome: "failed",
      error: { name: "NoExecutor", code: "NO_EXECUTOR", message: `no executor configured for role "ghost" on worker ghost-1 (config ${t.cfgPath})` },
    });
    expect(t.msgs.started()).toEqual([]);
  });

  it("survives invalid task messages: fails those naming a task, terminates them, and goes on", async () => {
    const t = await setup({ roles: { backend: { exec: ["true"] } } });
    const w = await t.worker("backend");
    await jetstream(nc).publish(t.n.task("backend"), "not json at all");
    await jetstream(nc).publish(t.n.task("backend"), JSON.stringify({ type: "baton.v1.task_assigned", featureId: "f1", taskId: "broken", attempt: 1 }));
    await t.publish("backend", { taskId: "good" });
    const [good] = await t.msgs.until(() => t.msgs.results("good").length && t.msgs.results("good"));
    expect(good).toMatchObject({ outcome: "completed" });
    const [bad] = t.msgs.results("broken");
    expect(bad).toMatchObject({ outcome: "failed", error: { name: "ProtocolError" } });
    expect(bad!.error!.message).toMatch(/failed validation/);
    expect(w.output()).toMatch(/malformed JSON/);
    expect(w.child.exitCode).toBeNull();
    await t.msgs.until(async () => (await queued(t.n)) === 0); // all three acked or terminated
  });

  it("shares a role's tasks between two workers, one task per free slot", async () => {
    const t = await setup({ roles: { backend: { exec: ["./agent.sh"] } } }, { "agent.sh": "sleep 1" });
    await Promise.all([t.worker("backend", ["--id", "w-a", "--concurrency", "1"]), t.worker("backend", ["--id", "w-b", "--concurrency", "1"])]);
    const t0 = Date.now();
    for (const id of ["t1", "t2", "t3", "t4"]) await t.publish("backend", { taskId: id });
    const results = await t.msgs.until(() => t.msgs.results().length === 4 && t.msgs.results());
    expect(new Set(results.map((r) => r.workerId))).toEqual(new Set(["w-a", "w-b"]));
    expect(results.every((r) => r.outcome === "completed")).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3900); // two at a time, not one after another
  });
});

describe("baton worker: redeliveries and reconnects", () => {
  it("keeps a long task with in-progress acks; fails a task whose worker died as WORKER_LOST once maxDeliver is used up", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"] } }, worker: { ackWaitSeconds: 1, maxDeliver: 1 } },
      { "agent.sh": `echo $$ > "$BATON_WORKSPACE/pid.$BATON_TASK_ID"\nexec sleep "$(cat | sed -n 's/.*"instructions":"sleep \\([0-9.]*\\)".*/\\1/p')"` },
    );
    const ws = join(t.dir, ".baton", "workspaces", "f1");
    cleanups.push(() => {
      for (const f of existsSync(ws) ? readdirSync(ws) : []) safeKill(Number(readFileSync(join(ws, f), "utf8")));
    });
    const [a, b] = await Promise.all([t.worker("backend", ["--id", "w-a"]), t.worker("backend", ["--id", "w-b"])]);
    // 2.5 s of work with a 1 s ack wait: without in-progress acks the idle worker would get it again
    await t.publish("backend", { taskId: "long", instructions: "sleep 2.5" });
    const [long] = await t.msgs.until(() => t.msgs.results("long").length && t.msgs.results("long"));
    expect(long).toMatchObject({ outcome: "completed" });
    expect(t.msgs.started("long")).toHaveLength(1);
    // a worker dies mid-task: the other one gets delivery 2 > maxDeliver 1 and fails it without running it
    await t.publish("backend", { taskId: "crash", instructions: "sleep 30" });
    const [started] = await t.msgs.until(() => t.msgs.started("crash").length && t.msgs.started("crash"));
    const [victim, survivor] = started!.workerId === "w-a" ? [a!, "w-b"] : [b!, "w-a"];
    victim.child.kill("SIGKILL");
    const [lost] = await t.msgs.until(() => t.msgs.results("crash").length && t.msgs.results("crash"));
    expect(lost).toMatchObject({
      outcome: "failed", workerId: survivor,
      error: { name: "WorkerLost", code: "WORKER_LOST", message: "worker lost: task was delivered 1 times without finishing (maxDeliver 1)" },
    });
    expect(t.msgs.started("crash")).toHaveLength(1);
    await t.msgs.until(async () => (await queued(t.n)) === 0);
  });

  it("keeps pulling after the NATS server restarts", async () => {
    const t = await setup({ roles: { backend: { exec: ["true"] } } });
    const w = await t.worker("backend");
    await server.stop();
    await new Promise((r) => setTimeout(r, 1000));
    await server.start();
    await w.waitFor(/"msg":"nats reconnect"/);
    await t.publish("backend", { taskId: "after-restart" });
    const [r] = await t.msgs.until(() => t.msgs.results("after-restart").length && t.msgs.results("after-restart"), 25_000);
    expect(r).toMatchObject({ outcome: "completed" });
    expect(w.child.exitCode).toBeNull();
  });
});

describe("baton worker shutdown (SIGTERM)", () => {
  it("lets a running task finish within the grace period, publishes its result, deletes its heartbeat, exits 0", async () => {
    const t = await setup({ roles: { backend: { exec: ["./agent.sh"] } }, worker: { drainGraceSeconds: 30 } }, { "agent.sh": "sleep 1.5\necho done" });
    const w = await t.worker("backend", ["--id", "w-grace"]);
    await t.publish("backend");
    await t.msgs.until(() => t.msgs.started().length);
    const kv = await new Kvm(nc).open(t.n.buckets.workers);
    const beat = await t.msgs.until(async () => {
      const e = await kv.get("backend.w-grace");
      const body = e?.operation === "PUT" ? (e.json() as { busy: number }) : undefined;
      return body && body.busy === 1 ? body : undefined;
    });
    expect(beat).toMatchObject({ workerId: "w-grace", role: "backend", slots: 1, busy: 1, state: "working", tasks: [{ featureId: "f1", taskId: "t1" }] });
    w.child.kill("SIGTERM");
    expect(await w.exited).toBe(0);
    expect(t.msgs.results()[0] ?? (await t.msgs.until(() => t.msgs.results()[0]))).toMatchObject({ outcome: "completed", workerId: "w-grace" });
    expect((await kv.get("backend.w-grace"))?.operation ?? "gone").not.toBe("PUT");
    expect(w.output()).toMatch(/drain: waiting for running tasks/);
  });

  it("hands a task back when the grace period is over; another worker of the role picks it up and completes it", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"] } }, worker: { drainGraceSeconds: 0.3 } },
      { "agent.sh": `echo $$ > "$BATON_WORKSPACE/pid.$(date +%s%N)"\nsleep 2\necho done` },
    );
    const a = await t.worker("backend", ["--id", "w-a"]);
    await t.publish("backend");
    await t.msgs.until(() => t.msgs.started().length);
    const b = await t.worker("backend", ["--id", "w-b"]);
    a.child.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    expect(a.output()).toMatch(/handed back \(nak\)/);
    const ws = join(t.dir, ".baton", "workspaces", "f1");
    const [first] = readdirSync(ws).filter((f) => f.startsWith("pid.")).sort();
    expect(processGone(Number(readFileSync(join(ws, first!), "utf8")))).toBe(true); // w-a's agent was killed
    const [r] = await t.msgs.until(() => t.msgs.results().length && t.msgs.results());
    expect(r).toMatchObject({ outcome: "completed", workerId: "w-b" });
    expect(t.msgs.started().map((s) => [s.workerId, s.delivery])).toEqual([["w-a", 1], ["w-b", 2]]);
    expect(t.msgs.results()).toHaveLength(1);
    expect(b.child.exitCode).toBeNull();
  });
});
