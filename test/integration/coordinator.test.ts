// The coordinator against a real nats-server: scheduling over the wire, idempotent submission, bad input.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeliverPolicy } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, encode } from "../../shared/codec.ts";
import { getFeature, listFeatures } from "../../shared/client/index.ts";
import { FeatureGetReply, FeatureListReply, SubmitReply } from "../../shared/protocol/index.ts";
import type { Coordinator } from "../../services/coordinator/coordinator.ts";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.ts";
import { eventsOf, protocolWorker, startCoordinator, testEnv, untilEnd, type Execution, type TestEnv } from "../helpers/baton-env.ts";

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.dispose();
});

/** A config that names its roles (with none named, a coordinator accepts any well-formed role). */
let ROLES: Record<string, string> = {};
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "baton-roles-"));
  writeFileSync(join(dir, "baton.yaml"), "knownRoles: [backend, frontend, qa]\n");
  ROLES = { BATON_CONFIG: join(dir, "baton.yaml") };
});

async function withCoordinator(fn: (env: TestEnv, c: Coordinator) => Promise<void>, overrides: Record<string, string> = {}) {
  const env = await testEnv(server.url, overrides);
  const c = await startCoordinator(env, server.url);
  try {
    await fn(env, c);
  } finally {
    await c.close();
    await env.close();
  }
}

const diamond = (id: string, maxParallel: number) => ({
  id, title: "diamond", maxParallel,
  tasks: [
    { id: "a", role: "backend", title: "A" },
    { id: "b", role: "backend", title: "B", dependsOn: ["a"] },
    { id: "c", role: "frontend", title: "C", dependsOn: ["a"] },
    { id: "d", role: "qa", title: "D", dependsOn: ["b", "c"] },
  ],
});

describe("coordinator", () => {
  it("runs a diamond DAG in dependency order within maxParallel, with handoffs and one feature.completed", async () => {
    await withCoordinator(async (env) => {
      const log: Execution[] = [];
      const stops = await Promise.all(["backend", "frontend", "qa"].map((r) => protocolWorker(env, r, { durationMs: 150, log, slots: 2 })));
      await env.js.publish(env.n.featureSubmit(), encode(diamond("dia1", 2)));
      const { events, view } = await untilEnd(env, "dia1");
      await Promise.all(stops.map((s) => s()));
      expect(view.state).toBe("completed");
      expect(events.filter((e) => e.kind === "feature.completed")).toHaveLength(1);
      const by = Object.fromEntries(log.map((x) => [x.taskId, x]));
      expect(log).toHaveLength(4);
      expect(by.b!.start).toBeGreaterThanOrEqual(by.a!.end);
      expect(by.c!.start).toBeGreaterThanOrEqual(by.a!.end);
      expect(by.d!.start).toBeGreaterThanOrEqual(Math.max(by.b!.end, by.c!.end));
      // b and c ran at the same time (maxParallel 2 allows it)
      expect(Math.min(by.b!.end, by.c!.end)).toBeGreaterThan(Math.max(by.b!.start, by.c!.start));
      const seqs = events.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    });
  });

  it("maxParallel 1 (the default) runs strictly sequentially", async () => {
    await withCoordinator(async (env) => {
      const log: Execution[] = [];
      const stops = await Promise.all(["backend", "frontend", "qa"].map((r) => protocolWorker(env, r, { durationMs: 60, log, slots: 2 })));
      const { maxParallel: _m, ...req } = diamond("seq1", 1);
      await env.js.publish(env.n.featureSubmit(), encode(req));
      const { view } = await untilEnd(env, "seq1");
      await Promise.all(stops.map((s) => s()));
      expect(view.state).toBe("completed");
      const sorted = [...log].sort((x, y) => x.start - y.start);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.start).toBeGreaterThanOrEqual(sorted[i - 1]!.end);
    });
  });

  it("a task failure fails the feature and nothing further is dispatched", async () => {
    await withCoordinator(async (env) => {
      const log: Execution[] = [];
      const stops = await Promise.all(["backend", "frontend", "qa"].map((r) =>
        protocolWorker(env, r, { durationMs: 30, log, fail: (t) => t.taskId === "b" })));
      await env.js.publish(env.n.featureSubmit(), encode(diamond("fail1", 1)));
      const { events, view } = await untilEnd(env, "fail1");
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all(stops.map((s) => s()));
      expect(view.state).toBe("failed");
      expect(view.reason).toMatch(/task "b" \(backend\) failed: exited with code 3/);
      expect(log.map((x) => x.taskId)).not.toContain("d");
      expect(events.filter((e) => e.kind === "task.dispatched").map((e) => "taskId" in e && e.taskId)).not.toContain("d");
    });
  });

  it("submitting the same id twice runs the feature once, even past the duplicate window", async () => {
    await withCoordinator(async (env) => {
      const log: Execution[] = [];
      const stop = await protocolWorker(env, "backend", { durationMs: 10, log });
      const req = { id: "same1", title: "once", tasks: [{ id: "only", role: "backend", title: "only" }] };
      await env.js.publish(env.n.featureSubmit(), encode(req), { msgID: "same1" });
      await env.js.publish(env.n.featureSubmit(), encode(req), { msgID: "same1" }); // dropped by JetStream
      await env.js.publish(env.n.featureSubmit(), encode(req)); // no msg id: reaches the coordinator
      await untilEnd(env, "same1");
      await new Promise((r) => setTimeout(r, 500));
      await stop();
      const events = await eventsOf(env, "same1");
      expect(events.filter((e) => e.kind === "feature.accepted")).toHaveLength(1);
      expect(log).toHaveLength(1);
    });
  });

  it("baton.api.submit replies after storing, and lists every error for bad requests", async () => {
    await withCoordinator(async (env) => {
      const ask = async (body: string | Uint8Array) => SubmitReply.parse((await env.nc.request(env.n.apiSubmit(), body, { timeout: 5000 })).json());
      const ok = await ask(JSON.stringify({ title: "via api", tasks: [{ id: "x", role: "backend", title: "X" }] }));
      expect(ok.ok).toBe(true);
      const id = ok.ok ? ok.featureId : "";
      const again = await ask(JSON.stringify({ id, title: "via api", tasks: [{ id: "x", role: "backend", title: "X" }] }));
      expect(again).toEqual({ ok: true, featureId: id, duplicate: true });
      const accepted = await eventsUntil(env, id, "feature.accepted");
      expect(accepted).toBe(true);

      const bad = await ask(JSON.stringify({ title: "", tasks: [{ id: "a b", role: "wizard", title: "A", dependsOn: ["zz"] }] }));
      expect(bad.ok).toBe(false);
      const msgs = bad.ok ? [] : bad.errors.map((e) => `${e.path}: ${e.message}`);
      expect(msgs.some((m) => m.startsWith("title:"))).toBe(true);
      expect(msgs.some((m) => m.startsWith("tasks[0].id:"))).toBe(true);

      const malformed = await ask("{not json");
      expect(malformed.ok ? "" : malformed.errors[0]!.message).toMatch(/malformed JSON/);
      const big = await ask(JSON.stringify({ title: "big", description: "x".repeat(300_000), tasks: [{ id: "a", role: "backend", title: "A" }] }));
      expect(big.ok ? "" : big.errors[0]!.message).toMatch(/bytes; the limit is 262144 bytes/);
      const unknownRole = await ask(JSON.stringify({ title: "r", tasks: [{ id: "a", role: "wizard", title: "A" }] }));
      expect(unknownRole.ok ? "" : unknownRole.errors[0]!.message).toMatch(/unknown role "wizard"/);
    }, ROLES);
  });

  it("rejects bad submissions on the stream with a feature.rejected event naming the problem, and keeps working", async () => {
    await withCoordinator(async (env) => {
      const cases: [string, unknown, RegExp][] = [
        ["rej-schema", { id: "rej-schema", tasks: [{ id: "a", role: "backend", title: "A" }] }, /title/],
        ["rej-deps", { id: "rej-deps", title: "t", tasks: [{ id: "a", role: "backend", title: "A", dependsOn: ["nope"] }] }, /unknown task id "nope"/],
        ["rej-dup", { id: "rej-dup", title: "t", tasks: [{ id: "a", role: "backend", title: "A" }, { id: "a", role: "qa", title: "A2" }] }, /duplicate task id "a"/],
        ["rej-cycle", { id: "rej-cycle", title: "t", tasks: [
          { id: "a", role: "backend", title: "A", dependsOn: ["c"] },
          { id: "b", role: "backend", title: "B", dependsOn: ["a"] },
          { id: "c", role: "backend", title: "C", dependsOn: ["b"] }] }, /dependency cycle: (a|b|c) dependsOn (a|b|c) dependsOn (a|b|c) dependsOn \1/],
        ["rej-empty", { id: "rej-empty", title: "t", tasks: [] }, /at least one task/],
        ["rej-role", { id: "rej-role", title: "t", tasks: [{ id: "a", role: "wizard", title: "A" }] }, /unknown role "wizard"/],
        ["rej-taskid", { id: "rej-taskid", title: "t", tasks: [{ id: "a.b", role: "backend", title: "A" }] }, /tasks\[0\]\.id/],
      ];
      for (const [, body] of cases) await env.js.publish(env.n.featureSubmit(), encode(body));
      for (const [id, , re] of cases) {
        const { events, view } = await untilEnd(env, id, 10_000);
        expect(view.state, id).toBe("rejected");
        const rej = events.find((e) => e.kind === "feature.rejected");
        expect(rej && rej.kind === "feature.rejected" ? rej.errors.map((e) => `${e.path}: ${e.message}`).join("\n") : "", id).toMatch(re);
      }
      // malformed JSON and an invalid feature id: rejected under a generated id; find it via the stream
      await env.js.publish(env.n.featureSubmit(), "{oops");
      await env.js.publish(env.n.featureSubmit(), encode({ id: "bad id!", title: "t", tasks: [{ id: "a", role: "backend", title: "A" }] }));
      await env.js.publish(env.n.featureSubmit(), encode({ title: "big", description: "y".repeat(270_000), tasks: [{ id: "a", role: "backend", title: "A" }] }));
      const rejected = await collectRejections(env, 3);
      expect(rejected.join("\n")).toMatch(/malformed JSON/);
      expect(rejected.join("\n")).toMatch(/id: must be 1-64 characters/);
      expect(rejected.join("\n")).toMatch(/the limit is 262144 bytes/);
      // and a good feature still runs afterwards
      const log: Execution[] = [];
      const stop = await protocolWorker(env, "backend", { log });
      await env.js.publish(env.n.featureSubmit(), encode({ id: "after-bad", title: "ok", tasks: [{ id: "a", role: "backend", title: "A" }] }));
      expect((await untilEnd(env, "after-bad")).view.state).toBe("completed");
      await stop();
    }, ROLES);
  });

  it("rejects results for unknown tasks or features and invalid worker messages, without disturbing the feature", async () => {
    await withCoordinator(async (env) => {
      await env.js.publish(env.n.featureSubmit(), encode({ id: "res1", title: "t", tasks: [{ id: "a", role: "backend", title: "A" }] }));
      await eventsUntil(env, "res1", "task.dispatched");
      const now = new Date().toISOString();
      const result = (taskId: string, featureId = "res1") => ({
        type: "baton.v1.task_result", featureId, taskId, attempt: 1, role: "backend", workerId: "w", outcome: "completed", startedAt: now, finishedAt: now,
      });
      await env.js.publish(env.n.result("res1", "ghost"), encode(result("ghost")));
      await env.js.publish(env.n.result("res1", "a"), "{broken");
      await env.js.publish(env.n.result("res1", "a"), encode({ ...result("a"), outcome: "maybe" }));
      await env.js.publish(env.n.result("nofeature", "a"), encode(result("a", "nofeature")));
      expect(await eventsUntil(env, "nofeature", "message.rejected")).toBe(true);
      const events = await waitForCount(env, "res1", "message.rejected", 3);
      const texts = events.filter((e) => e.kind === "message.rejected").map((e) => (e.kind === "message.rejected" ? e.error.message : ""));
      expect(texts.join("\n")).toMatch(/has no task "ghost"/);
      expect(texts.join("\n")).toMatch(/malformed JSON/);
      expect(texts.join("\n")).toMatch(/outcome/);
      // the real result still completes the feature; a duplicate of it changes nothing
      await env.js.publish(env.n.result("res1", "a"), encode(result("a")));
      await env.js.publish(env.n.result("res1", "a"), encode(result("a")));
      const { events: all, view } = await untilEnd(env, "res1");
      expect(view.state).toBe("completed");
      await new Promise((r) => setTimeout(r, 300));
      const after = await eventsOf(env, "res1");
      expect(after.filter((e) => e.kind === "task.completed")).toHaveLength(1);
      expect(after.length).toBe(all.length);
    });
  });

  it("a role with no live workers leaves its task waiting (dispatched), not failed", async () => {
    await withCoordinator(async (env) => {
      await env.js.publish(env.n.featureSubmit(), encode({ id: "idle1", title: "t", tasks: [{ id: "a", role: "devops", title: "A" }] }));
      await eventsUntil(env, "idle1", "task.dispatched");
      await new Promise((r) => setTimeout(r, 1000));
      const events = await eventsOf(env, "idle1");
      expect(events.map((e) => e.kind)).toEqual(["feature.accepted", "task.dispatched"]);
      // a worker that arrives later gets the queued task
      const log: Execution[] = [];
      const stop = await protocolWorker(env, "devops", { log });
      expect((await untilEnd(env, "idle1")).view.state).toBe("completed");
      await stop();
    });
  });

  it("answers the read model: a feature's state equal to its folded history, the list newest first, and clear errors", async () => {
    await withCoordinator(async (env) => {
      const stops = await Promise.all(["backend", "frontend", "qa"].map((r) => protocolWorker(env, r, { durationMs: 20, log: [] })));
      await env.js.publish(env.n.featureSubmit(), encode(diamond("rm1", 2)));
      const { view: folded } = await untilEnd(env, "rm1");
      await env.js.publish(env.n.featureSubmit(), encode({ ...diamond("rm2", 1), tasks: [{ id: "x", role: "devops", title: "waits" }] }));
      await eventsUntil(env, "rm2", "task.dispatched");
      await Promise.all(stops.map((s) => s()));

      const read = await getFeature(env.nc, env.n, "rm1", { fallback: false });
      expect(read.source).toBe("coordinator");
      expect(read.view).toMatchObject({ featureId: "rm1", state: "completed", seq: folded.seq });
      expect(read.view!.tasks.map((t) => [t.id, t.state, t.attempt])).toEqual(folded.tasks.map((t) => [t.id, t.state, t.attempt]));
      expect((await getFeature(env.nc, env.n, "rm2", { fallback: false })).view).toMatchObject({ state: "executing", tasks: [{ id: "x", state: "dispatched" }] });
      expect(await getFeature(env.nc, env.n, "nope", { fallback: false })).toEqual({ view: null, source: "coordinator" });

      const list = await listFeatures(env.nc, env.n, { limit: 1 });
      expect(list.total).toBe(2);
      expect(list.features).toEqual([expect.objectContaining({ featureId: "rm2", state: "executing", tasks: 1, completed: 0 })]);

      // A malformed request is answered with the validation error, and the coordinator keeps answering.
      const bad = decode(FeatureGetReply, (await env.nc.request(env.n.apiFeatureGet(), encode({ type: "baton.v1.feature_get", featureId: "no such id!" }))).data);
      expect(bad).toMatchObject({ ok: false, error: { name: "ProtocolError", code: "PROTOCOL" } });
      const garbage = decode(FeatureListReply, (await env.nc.request(env.n.apiFeatureList(), new TextEncoder().encode("not json"))).data);
      expect(garbage).toMatchObject({ ok: false, error: { code: "PROTOCOL" } });
      expect((await listFeatures(env.nc, env.n)).total).toBe(2);
    });
  });
});

async function eventsUntil(env: TestEnv, featureId: string, kind: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await eventsOf(env, featureId)).some((e) => e.kind === kind)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function waitForCount(env: TestEnv, featureId: string, kind: string, count: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await eventsOf(env, featureId);
    if (events.filter((e) => e.kind === kind).length >= count || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Rejection messages published under generated ids (the request had no usable id). */
async function collectRejections(env: TestEnv, count: number): Promise<string[]> {
  const out: string[] = [];
  const deadline = Date.now() + 10_000;
  const c = await env.js.consumers.get(env.n.streams.events, { filter_subjects: `${env.n.prefix}.status.*.feature.rejected`, deliver_policy: DeliverPolicy.All });
  while (out.length < count && Date.now() < deadline) {
    const m = await c.next({ expires: 1000 });
    if (!m) continue;
    const e = m.json<{ featureId: string; errors: { path: string; message: string }[] }>();
    if (e.featureId.startsWith("rejected-")) out.push(e.errors.map((x) => `${x.path}: ${x.message}`).join("\n"));
  }
  return out;
}
