// Issue 3: nothing acknowledged is lost. Real nats-server, real coordinator processes killed with
// SIGKILL at each crash point, several coordinators at once, deadlines across restarts, control duplicates.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode } from "../../shared/codec.ts";
import { silentLogger } from "../../shared/logging.ts";
import { ensureTopology } from "../../shared/nats.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { FeatureLoop } from "../../services/coordinator/runtime/index.ts";
import { FeatureStore } from "../../services/coordinator/runtime/index.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";
import { baton, type Proc } from "../helpers/procs.ts";
import { eventsOf, protocolWorker, testEnv, untilEnd, type Execution, type TestEnv } from "../helpers/baton-env.ts";

let server: NatsServer;
let dir: string;
let cfg: string;
beforeAll(async () => {
  server = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), "baton-recovery-"));
  cfg = join(dir, "baton.yaml");
  writeFileSync(cfg, "coordinator:\n  ackWaitSeconds: 1\n  rescanSeconds: 1\n");
});
afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function coordinator(env: TestEnv, extra: Record<string, string> = {}): Promise<Proc> {
  const p = baton(["coordinator", "--config", cfg], { NATS_URL: server.url, BATON_PREFIX: env.prefix, ...extra });
  await Promise.race([p.waitFor(/coordinator ready/, 30_000), p.exited]);
  return p;
}

const chain = (id: string, n = 4, maxParallel = 1) => ({
  id, title: id, maxParallel,
  tasks: Array.from({ length: n }, (_, i) => ({ id: `t${i}`, role: "backend", title: `step ${i}`, ...(i ? { dependsOn: [`t${i - 1}`] } : {}) })),
});

/** Every task ran exactly once and completed exactly once; one feature.completed. */
function assertExactlyOnce(events: StatusEvent[], log: Execution[], featureId: string, taskCount: number) {
  const completed = events.filter((e) => e.kind === "task.completed").map((e) => ("taskId" in e ? e.taskId : ""));
  expect(new Set(completed).size, featureId).toBe(taskCount);
  expect(completed.length, `${featureId}: a task completed twice`).toBe(taskCount);
  expect(events.filter((e) => e.kind === "feature.completed"), featureId).toHaveLength(1);
  const dispatched = events.filter((e) => e.kind === "task.dispatched");
  expect(dispatched.length, `${featureId}: a task was dispatched twice`).toBe(taskCount);
  const runs = log.filter((x) => x.featureId === featureId);
  expect(runs.length, `${featureId}: a task ran twice`).toBe(taskCount);
}

describe("coordinator crashes", () => {
  it.each(["after-write", "mid-publish", "after-publish", "before-ack"])(
    "SIGKILL at %s while handling a submission and while handling a result: the feature continues, nothing runs twice",
    async (point) => {
      const env = await testEnv(server.url);
      const log: Execution[] = [];
      const stop = await protocolWorker(env, "backend", { log, durationMs: 300 });
      try {
        // 1. a coordinator that dies at `point` on the first message it handles: the submission
        const c1 = await coordinator(env, { BATON_FAULTS: `${point}=1` });
        await env.js.publish(env.n.featureSubmit(), encode(chain("crash-submit", 3)));
        expect(await c1.exited).toBe("SIGKILL");
        // 2. a clean one finishes it
        const c2 = await coordinator(env);
        const r1 = await untilEnd(env, "crash-submit");
        expect(r1.view.state).toBe("completed");
        // 3. a feature whose first result is handled by a coordinator that dies at `point`
        await env.js.publish(env.n.featureSubmit(), encode(chain("crash-result", 3)));
        await waitForEvent(env, "crash-result", (e) => e.kind === "task.started");
        await c2.kill("SIGKILL");
        const c3 = await coordinator(env, { BATON_FAULTS: `${point}=1` });
        expect(await c3.exited).toBe("SIGKILL");
        const c4 = await coordinator(env);
        const r2 = await untilEnd(env, "crash-result");
        await new Promise((r) => setTimeout(r, 300));
        assertExactlyOnce(await eventsOf(env, "crash-submit"), log, "crash-submit", 3);
        assertExactlyOnce(await eventsOf(env, "crash-result"), log, "crash-result", 3);
        expect(r2.view.state).toBe("completed");
        await c4.kill();
      } finally {
        await stop();
        await env.close();
      }
    },
    90_000,
  );

  it("random SIGKILLs at every crash point while 5 features run: all complete, each task once", async () => {
    const env = await testEnv(server.url);
    const log: Execution[] = [];
    await ensureTopology(env.nc, env.n, { ackWaitSeconds: 1 });
    const stop = await protocolWorker(env, "backend", { log, durationMs: 20, slots: 3 });
    let crashes = 0;
    let stopping = false;
    let current: Proc | undefined;
    const supervise = (async () => {
      while (!stopping) {
        current = await coordinator(env, { BATON_FAULTS: "after-write=0.03,mid-publish=0.03,after-publish=0.03,before-ack=0.03" });
        if (stopping) await current.kill();
        const code = await current.exited;
        if (code === "SIGKILL") crashes++;
      }
    })();
    try {
      const ids = ["r1", "r2", "r3", "r4", "r5"];
      for (const id of ids) await env.js.publish(env.n.featureSubmit(), encode(chain(id, 5, 2)));
      const ends = await Promise.all(ids.map((id) => untilEnd(env, id, 90_000)));
      for (const e of ends) expect(e.view.state).toBe("completed");
      await new Promise((r) => setTimeout(r, 300));
      for (const id of ids) assertExactlyOnce(await eventsOf(env, id), log, id, 5);
      expect(crashes).toBeGreaterThan(0);
    } finally {
      stopping = true;
      await current?.kill();
      await supervise;
      await stop();
      await env.close();
    }
  }, 150_000);
});

describe("several coordinators", () => {
  it("three coordinator processes share the work: each feature completes once, no task completes twice", async () => {
    const env = await testEnv(server.url);
    const log: Execution[] = [];
    const stops = await Promise.all(["backend", "qa"].map((r) => protocolWorker(env, r, { log, durationMs: 10, slots: 4 })));
    const cs = await Promise.all([coordinator(env), coordinator(env), coordinator(env)]);
    try {
      const ids = Array.from({ length: 12 }, (_, i) => `multi${i}`);
      for (const id of ids) {
        await env.js.publish(env.n.featureSubmit(), encode({
          id, title: id, maxParallel: 3,
          tasks: [
            { id: "a", role: "backend", title: "a" },
            { id: "b", role: "qa", title: "b", dependsOn: ["a"] },
            { id: "c", role: "backend", title: "c", dependsOn: ["a"] },
            { id: "d", role: "qa", title: "d", dependsOn: ["a"] },
            { id: "e", role: "backend", title: "e", dependsOn: ["b", "c", "d"] },
          ],
        }));
      }
      for (const id of ids) expect((await untilEnd(env, id, 60_000)).view.state).toBe("completed");
      await new Promise((r) => setTimeout(r, 300));
      for (const id of ids) assertExactlyOnce(await eventsOf(env, id), log, id, 5);
    } finally {
      await Promise.all(cs.map((c) => c.kill()));
      await Promise.all(stops.map((s) => s()));
      await env.close();
    }
  }, 90_000);

  it("concurrent updates of one feature from two coordinators resolve by compare-and-set on the journal", async () => {
    const env = await testEnv(server.url);
    const topo = await ensureTopology(env.nc, env.n);
    const store = new FeatureStore(topo.features, topo.jsm, env.n);
    const loops = [0, 1].map(() => new FeatureLoop(store, env.js, env.n, silentLogger));
    let conflicts = 0;
    const counting = new FeatureStore(topo.features, topo.jsm, env.n);
    // every apply commits by appending to the feature's journal with the expected last sequence
    const append = counting.append.bind(counting);
    counting.append = async (...args) => {
      const r = await append(...args);
      if (r === null) conflicts++;
      return r;
    };
    const racing = [0, 1].map(() => new FeatureLoop(counting, env.js, env.n, silentLogger));
    try {
      const at = () => new Date().toISOString();
      for (let round = 0; round < 10; round++) {
        const id = `cas${round}`;
        const tasks = Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, role: "backend", title: `p${i}` }));
        await loops[0]!.apply(id, [{ type: "feature.submit", at: at(), request: { id, title: id, maxParallel: 6, tasks } }], { create: true });
        // two coordinators get the six results at the same moment, three each
        const result = (taskId: string) => ({
          type: "task.result" as const, at: at(),
          msg: { type: "baton.v1.task_result" as const, featureId: id, taskId, attempt: 1, role: "backend", workerId: "w", outcome: "completed" as const, startedAt: at(), finishedAt: at() },
        });
        await Promise.all(tasks.map((t, i) => racing[i % 2]!.apply(id, [result(t.id)])));
        const events = await eventsOf(env, id);
        expect(events.filter((e) => e.kind === "task.completed")).toHaveLength(6);
        expect(events.filter((e) => e.kind === "feature.completed")).toHaveLength(1);
        const seqs = events.map((e) => e.seq);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      }
      expect(conflicts).toBeGreaterThan(0); // the race really happened, and CAS resolved it
    } finally {
      await env.close();
    }
  });
});

describe("the coordinator's snapshot cache", () => {
  it("stays within its byte bound by evicting, and features still complete correctly", async () => {
    const env = await testEnv(server.url);
    const topo = await ensureTopology(env.nc, env.n);
    const store = new FeatureStore(topo.features, topo.jsm, env.n);
    // 1 byte: every apply evicts every other feature, so each event starts from a KV load.
    const loop = new FeatureLoop(store, env.js, env.n, silentLogger, { cacheMaxBytes: 1 });
    try {
      const at = () => new Date().toISOString();
      const ids = ["cb1", "cb2", "cb3"];
      for (const id of ids) {
        await loop.apply(id, [{ type: "feature.submit", at: at(), request: { id, title: id, maxParallel: 2, tasks: [{ id: "a", role: "backend", title: "a" }, { id: "b", role: "backend", title: "b" }] } }], { create: true });
      }
      for (const t of ["a", "b"]) {
        for (const id of ids) {
          await loop.apply(id, [{
            type: "task.result", at: at(),
            msg: { type: "baton.v1.task_result", featureId: id, taskId: t, attempt: 1, role: "backend", workerId: "w", outcome: "completed", startedAt: at(), finishedAt: at() },
          }]);
        }
      }
      for (const id of ids) {
        const events = await eventsOf(env, id);
        expect(events.filter((e) => e.kind === "feature.completed"), id).toHaveLength(1);
        expect(events.filter((e) => e.kind === "task.completed"), id).toHaveLength(2);
      }
    } finally {
      await loop.settle();
      await env.close();
    }
  });
});

describe("timers and control", () => {
  it("a task deadline is data: it fires after the coordinator that armed it was killed and another started", async () => {
    const env = await testEnv(server.url);
    const log: Execution[] = [];
    const stop = await protocolWorker(env, "backend", { log, hang: () => true });
    const c1 = await coordinator(env);
    try {
      await env.js.publish(env.n.featureSubmit(), encode({ id: "deadline1", title: "t", tasks: [{ id: "slow", role: "backend", title: "slow", timeoutSeconds: 3 }] }));
      await waitForEvent(env, "deadline1", (e) => e.kind === "task.started");
      const startedAt = Date.now();
      await c1.kill("SIGKILL");
      const c2 = await coordinator(env);
      const { events, view } = await untilEnd(env, "deadline1", 30_000);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2500);
      expect(view.state).toBe("failed");
      const failed = events.find((e) => e.kind === "task.failed");
      expect(failed?.kind === "task.failed" && failed.error.code).toBe("DEADLINE");
      expect(view.reason).toMatch(/no result within 3s/);
      await c2.kill();
    } finally {
      await stop();
      await env.close();
    }
  }, 60_000);

  it("duplicate control messages are harmless; pause holds dispatch, resume continues, cancel ends it", async () => {
    const env = await testEnv(server.url);
    const c = await coordinator(env);
    const log: Execution[] = [];
    try {
      await env.js.publish(env.n.featureSubmit(), encode(chain("ctl1", 3)));
      await waitForEvent(env, "ctl1", (e) => e.kind === "task.dispatched");
      const send = (verb: "pause" | "resume" | "cancel") =>
        env.js.publish(env.n.control("ctl1", verb), encode({ type: "baton.v1.control", featureId: "ctl1", verb, by: "test" }));
      await send("pause");
      await send("pause"); // duplicate
      await waitForEvent(env, "ctl1", (e) => e.kind === "feature.paused");
      // the running step finishes while paused, but nothing new is dispatched
      const stop = await protocolWorker(env, "backend", { log, durationMs: 1500 });
      await waitForEvent(env, "ctl1", (e) => e.kind === "task.completed");
      await new Promise((r) => setTimeout(r, 800));
      let events = await eventsOf(env, "ctl1");
      expect(events.filter((e) => e.kind === "feature.paused")).toHaveLength(1);
      expect(events.filter((e) => e.kind === "task.dispatched")).toHaveLength(1);
      await send("resume");
      await send("resume");
      await waitForEvent(env, "ctl1", (e) => e.kind === "task.dispatched" && e.taskId === "t1");
      await send("cancel");
      await send("cancel");
      const { view } = await untilEnd(env, "ctl1");
      expect(view.state).toBe("cancelled");
      await stop();
      await send("pause"); // too late: answered, not applied
      await waitForEvent(env, "ctl1", (e) => e.kind === "message.rejected");
      events = await eventsOf(env, "ctl1");
      expect(events.filter((e) => e.kind === "feature.resumed")).toHaveLength(1);
      expect(events.filter((e) => e.kind === "feature.cancelled")).toHaveLength(1);
      const rej = events.find((e) => e.kind === "message.rejected");
      expect(rej?.kind === "message.rejected" && rej.error.message).toMatch(/is cancelled; cannot pause/);
      // the CLI: cancelling again reports it is already cancelled
      const cli = baton(["cancel", "ctl1", "--timeout", "3"], { NATS_URL: server.url, BATON_PREFIX: env.prefix });
      expect(await cli.exited).toBe(0);
      expect(cli.output()).toMatch(/already cancelled/);
      // an invalid control message and one for an unknown feature get a clear answer
      await env.js.publish(env.n.control("ctl1", "cancel"), "{nope");
      await env.js.publish(env.n.control("ghost", "cancel"), encode({ type: "baton.v1.control", featureId: "ghost", verb: "cancel" }));
      await waitForEvent(env, "ghost", (e) => e.kind === "message.rejected");
      await waitForEvent(env, "ctl1", (e) => e.kind === "message.rejected" && e.error.message.includes("malformed JSON"));
    } finally {
      await c.kill();
      await env.close();
    }
  }, 60_000);
});

describe("nats-server restart", () => {
  it("features finish after nats-server is killed and restarted on the same store; submit fails fast while it is down", async () => {
    const own = await startNatsServer();
    const prefix = uniquePrefix("nr");
    const env = await testEnv(own.url, { BATON_PREFIX: prefix });
    const agent = join(dir, "agent.mjs");
    writeFileSync(agent, "await new Promise((r) => setTimeout(r, 400)); console.log('done ' + process.env.BATON_TASK_ID);\n");
    const wcfg = join(dir, "workers.yaml");
    writeFileSync(wcfg, `workspace: ${join(dir, "ws")}\ncoordinator: { ackWaitSeconds: 1, rescanSeconds: 1 }\nworker: { ackWaitSeconds: 2 }\nroles:\n  backend: { exec: ["node", "${agent}"] }\n`);
    const penv = { NATS_URL: own.url, BATON_PREFIX: prefix };
    const procs = [baton(["coordinator", "--config", wcfg], penv), baton(["worker", "--role", "backend", "--config", wcfg, "--concurrency", "2"], penv)];
    try {
      await procs[0]!.waitFor(/coordinator ready/, 30_000);
      await procs[1]!.waitFor(/worker ready/, 30_000);
      const ids = ["nr1", "nr2", "nr3", "nr4"];
      for (const id of ids) await env.js.publish(env.n.featureSubmit(), encode(chain(id, 4, 2)));
      await waitForEvent(env, "nr1", (e) => e.kind === "task.completed");
      await own.stop(true); // SIGKILL nats-server
      const f = join(dir, "during.yaml");
      writeFileSync(f, "title: t\ntasks: [{ id: a, role: backend, title: A }]\n");
      const t0 = Date.now();
      const sub = baton(["submit", f], penv);
      expect(await sub.exited).toBe(1);
      expect(sub.output()).toMatch(/cannot connect to NATS/);
      expect(Date.now() - t0).toBeLessThan(15_000);
      await new Promise((r) => setTimeout(r, 1500));
      await own.start();
      await jetStreamAnswers(env);
      for (const id of ids) expect((await untilEnd(env, id, 60_000)).view.state, id).toBe("completed");
      for (const id of ids) {
        const events = await eventsOf(env, id);
        const completed = events.filter((e) => e.kind === "task.completed").map((e) => ("taskId" in e ? e.taskId : ""));
        expect(completed.length, `${id}: a task completed twice`).toBe(new Set(completed).size);
        expect(events.filter((e) => e.kind === "feature.completed")).toHaveLength(1);
      }
    } finally {
      await Promise.all(procs.map((p) => p.kill()));
      await env.close();
      await own.dispose();
    }
  }, 120_000);
});

/** The test's own client reconnects on its schedule; wait until JetStream answers it again. */
async function jetStreamAnswers(env: TestEnv, timeoutMs = 30_000): Promise<void> {
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await (await jetstreamManager(env.nc, { timeout: 1000 })).getAccountInfo();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function waitForEvent(env: TestEnv, featureId: string, pred: (e: StatusEvent) => boolean, timeoutMs = 20_000): Promise<StatusEvent> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = (await eventsOf(env, featureId)).find(pred);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no matching event for ${featureId} within ${timeoutMs}ms`);
}
