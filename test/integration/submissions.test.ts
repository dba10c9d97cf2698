// Issue 10 on a real nats-server: a reused id on both submit paths (a repeat runs once; a different request is
// refused by name and the feature is untouched), and work for a role no live worker serves (task.unserved, then
// dispatchTimeoutSeconds fails it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awaitSubmission, getFeature, publishFeature, requestSubmit } from "../../shared/client/index.ts";
import { FeatureRequest, requestHash } from "../../shared/protocol/index.ts";
import { connect } from "@nats-io/transport-node";
import { Coordinator } from "../../services/coordinator/coordinator.ts";
import { silentLogger } from "../../shared/logging.ts";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.ts";
import { eventsOf, protocolWorker, testEnv, untilEnd, type Execution, type TestEnv } from "../helpers/baton-env.ts";

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.dispose();
});

const request = (id: string, title: string) => ({ id, title, tasks: [{ id: "only", role: "backend", title: "only" }] });

async function withStack(fn: (env: TestEnv) => Promise<void>, coordinator: Record<string, number> = {}) {
  const env = await testEnv(server.url);
  const config = Object.freeze({ ...env.config, coordinator: { ...env.config.coordinator, ...coordinator } });
  const nc = await connect({ servers: server.url });
  const c = new Coordinator({ nc, config, log: silentLogger });
  await c.start();
  try {
    await fn(env);
  } finally {
    await c.close();
    await env.close();
  }
}

describe("a reused feature id", () => {
  it("on the stream: the same request runs once; a different one is refused by a seq-0 notice naming the feature's state", async () => {
    await withStack(async (env) => {
      const log: Execution[] = [];
      const stop = await protocolWorker(env, "backend", { durationMs: 10, log });
      const first = await publishFeature(env.nc, env.n, request("reuse1", "the first"));
      expect(await awaitSubmission(env.nc, env.n, first, { timeoutMs: 10_000 })).toMatchObject({ kind: "accepted" });
      await untilEnd(env, "reuse1");
      const before = await eventsOf(env, "reuse1");

      const repeat = await publishFeature(env.nc, env.n, request("reuse1", "the first"));
      expect(repeat.duplicate).toBe(true); // same id, same request: JetStream drops it
      expect(await awaitSubmission(env.nc, env.n, repeat, { timeoutMs: 10_000 })).toMatchObject({ kind: "accepted" });

      const other = await publishFeature(env.nc, env.n, request("reuse1", "something else"));
      expect(other.duplicate).toBe(false); // not dropped by JetStream: it reaches the coordinator
      const outcome = await awaitSubmission(env.nc, env.n, other, { timeoutMs: 10_000 });
      expect(outcome).toMatchObject({ kind: "refused", existingState: "completed" });
      expect(outcome.kind === "refused" && outcome.errors[0]!.message).toMatch(/^feature "reuse1" already exists \(completed\) from a different request/);
      await stop();

      // the old feature is untouched: its history gained only the notice (seq 0), its view is the same
      const after = await eventsOf(env, "reuse1");
      expect(after.filter((e) => e.seq > 0)).toEqual(before.filter((e) => e.seq > 0));
      expect(after.filter((e) => e.seq === 0)).toEqual([expect.objectContaining({ kind: "feature.rejected", reason: "duplicate-id", existing: { state: "completed" }, requestHash: other.requestHash })]);
      const read = await getFeature(env.nc, env.n, "reuse1");
      expect(read.view).toMatchObject({ state: "completed", title: "the first" });
      expect(log).toHaveLength(1);
    });
  });

  it("on baton.api.submit: the same request is a duplicate; a different one is refused with the existing feature's state", async () => {
    await withStack(async (env) => {
      const ok = await requestSubmit(env.nc, env.n, request("reuse2", "api first"));
      expect(ok).toEqual({ ok: true, featureId: "reuse2" });
      const accepted = await awaitSubmission(env.nc, env.n, { featureId: "reuse2", requestHash: requestHash(FeatureRequest.parse(request("reuse2", "api first"))) }, { timeoutMs: 10_000 });
      expect(accepted.kind).toBe("accepted");
      expect(await requestSubmit(env.nc, env.n, request("reuse2", "api first"))).toEqual({ ok: true, featureId: "reuse2", duplicate: true });
      const refused = await requestSubmit(env.nc, env.n, request("reuse2", "api second"));
      expect(refused).toEqual({ ok: false, errors: [{ path: "id", message: expect.stringMatching(/^feature "reuse2" already exists \(executing\) from a different request/) }] });
      const events = await eventsOf(env, "reuse2");
      expect(events.filter((e) => e.kind === "feature.accepted")).toEqual([expect.objectContaining({ title: "api first" })]);
    });
  });
});

describe("work for a role no live worker serves", () => {
  it("is reported as task.unserved (once, then again), and fails after dispatchTimeoutSeconds with the remedy", async () => {
    await withStack(async (env) => {
      // no worker of role docs lives (nor any other)
      const published = await publishFeature(env.nc, env.n, {
        id: "lonely", title: "docs nobody writes", dispatchTimeoutSeconds: 4,
        tasks: [{ id: "docs", role: "docs", title: "write the docs" }],
      });
      const { events, view } = await untilEnd(env, published.featureId, 30_000);
      const unserved = events.filter((e) => e.kind === "task.unserved");
      expect(unserved.length).toBeGreaterThanOrEqual(2); // first seen, then repeated every second
      expect(unserved[0]).toMatchObject({ taskId: "docs", role: "docs", liveWorkers: 0, remedy: expect.stringContaining("`baton worker --role docs`"), failsAt: expect.any(String) });
      expect(new Set(events.map((e) => e.seq)).size).toBe(events.length); // real history events, each with its own seq
      expect(view.state).toBe("failed");
      const failed = events.find((e) => e.kind === "task.failed");
      expect(failed).toMatchObject({ taskId: "docs", error: { code: "UNSERVED", message: "no worker of role docs took the task within 4s; start one with `baton worker --role docs`" } });
    }, { unservedRepeatSeconds: 1 });
  });
});
