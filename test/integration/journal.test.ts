// The coordinator's journal (docs/design.md): every apply appends its events to the feature's journal
// subject with the subject's last sequence as the expectation; checkpoints in KV cover a prefix of it.
// Real nats-server; FeatureLoop driven directly with simulated worker results.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/logging.ts";
import { ensureTopology } from "../../shared/nats.ts";
import { view } from "../../services/coordinator/domain/index.ts";
import { CHECKPOINT_EVERY, FeatureLoop, listSummaries, loadFeature } from "../../services/coordinator/runtime/index.ts";
import type { FeatureEvent } from "../../services/coordinator/domain/index.ts";
import { FeatureStore } from "../../services/coordinator/runtime/index.ts";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.ts";
import { eventsOf, testEnv, type TestEnv } from "../helpers/baton-env.ts";

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.dispose();
});

const at = () => new Date().toISOString();
const submit = (id: string, tasks: { id: string; dependsOn?: string[] }[], maxParallel = 1): FeatureEvent => ({
  type: "feature.submit", at: at(),
  request: { id, title: id, maxParallel, tasks: tasks.map((t) => ({ ...t, role: "backend", title: t.id })) },
});
const result = (featureId: string, taskId: string, handoff?: unknown): FeatureEvent => ({
  type: "task.result", at: at(),
  msg: { type: "baton.v1.task_result", featureId, taskId, attempt: 1, role: "backend", workerId: "w", outcome: "completed", startedAt: at(), finishedAt: at(), handoff },
});
const chain = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `t${i}`, ...(i ? { dependsOn: [`t${i - 1}`] } : {}) }));

async function setup(env: TestEnv, hooks: ConstructorParameters<typeof FeatureLoop>[4] = {}) {
  const topo = await ensureTopology(env.nc, env.n);
  const store = new FeatureStore(topo.features, topo.jsm, env.n);
  return { topo, store, loop: () => new FeatureLoop(store, env.js, env.n, silentLogger, hooks) };
}

describe("the feature journal", () => {
  it("checkpoints a long feature every CHECKPOINT_EVERY entries and trims what a checkpoint covers; any reader gets the same state", async () => {
    const env = await testEnv(server.url);
    try {
      // a long quiet delay: only the periodic checkpoints happen while the chain runs
      const { store, loop } = await setup(env, { clearDelayMs: 60_000 });
      const a = loop();
      const n = CHECKPOINT_EVERY * 2 + 10;
      await a.apply("long", [submit("long", chain(n))], { create: true });
      for (let i = 0; i < n; i++) await a.apply("long", [result("long", `t${i}`)]);
      const stored = await store.load("long");
      expect(stored!.stored.journal).toBeGreaterThan(0); // checkpointed on the way
      const counts = await store.journalCounts();
      // the journal holds what the last checkpoint does not cover, plus the entry it ends at
      expect(counts.get("long")).toBeLessThanOrEqual(CHECKPOINT_EVERY + 1);
      expect(counts.get("long")).toBeGreaterThan(1);

      // a reader that starts from KV replays the tail and gets what the writer has
      const fresh = await loadFeature(store, "long");
      const v = view(fresh!.snapshot);
      expect(v.state).toBe("completed");
      expect(Object.values(v.context.tasks).every((t) => t.status === "completed")).toBe(true);
      // another coordinator continues from there: a duplicate result is a no-op, seqs stay gap-free
      const b = loop();
      await b.apply("long", [result("long", "t0")]);
      const events = await eventsOf(env, "long");
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.kind === "feature.completed")).toHaveLength(1);
      // and `baton ls` (the read model coordinators answer it from) shows the current state, not the last checkpoint's
      const rows = await listSummaries(store);
      expect(rows.find((r) => r.featureId === "long")).toMatchObject({ state: "completed", tasks: n, completed: n });
    } finally {
      await env.close();
    }
  });

  it("a stale writer loses its append, reloads and applies on top of the other coordinator's entries", async () => {
    const env = await testEnv(server.url);
    try {
      const { store, loop } = await setup(env);
      const a = loop();
      const b = loop();
      await a.apply("race", [submit("race", [{ id: "p0" }, { id: "p1" }, { id: "p2" }], 3)], { create: true });
      await b.apply("race", [result("race", "p0")]); // b loads; a's cache is now behind
      let conflicts = 0;
      const append = store.append.bind(store);
      store.append = async (...args) => {
        const r = await append(...args);
        if (r === null) conflicts++;
        return r;
      };
      await a.apply("race", [result("race", "p1")]);
      await b.apply("race", [result("race", "p2")]);
      expect(conflicts).toBeGreaterThanOrEqual(2); // a was behind b, then b behind a
      const v = view((await loadFeature(store, "race"))!.snapshot);
      expect(v.state).toBe("completed");
      const events = await eventsOf(env, "race");
      expect(events.filter((e) => e.kind === "task.completed")).toHaveLength(3);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    } finally {
      await env.close();
    }
  });

  it("continues from the checkpoint when the journal was emptied by hand", async () => {
    const env = await testEnv(server.url);
    try {
      const { topo, store, loop } = await setup(env, { clearDelayMs: 20 });
      const a = loop();
      await a.apply("purged", [submit("purged", chain(3))], { create: true });
      await a.apply("purged", [result("purged", "t0")]);
      await a.apply("purged", [result("purged", "t1")]);
      // wait for the quiet-time checkpoint
      for (let i = 0; i < 100 && !(await store.load("purged"))!.stored.journal; i++) await new Promise((r) => setTimeout(r, 20));
      expect((await store.load("purged"))!.stored.journal).toBeGreaterThan(0);
      await topo.jsm.streams.purge(env.n.streams.journal, { filter: env.n.journal("purged") });
      const r = await loop().apply("purged", [result("purged", "t2")]);
      expect(r.kind === "applied" && r.state).toBe("completed");
      expect(view((await loadFeature(store, "purged"))!.snapshot).state).toBe("completed");
    } finally {
      await env.close();
    }
  });

  it("splits a batch too large for one message into several entries", async () => {
    const env = await testEnv(server.url);
    try {
      const { store, loop } = await setup(env, { clearDelayMs: 60_000 });
      const a = loop();
      const tasks = Array.from({ length: 24 }, (_, i) => ({ id: `p${i}` }));
      await a.apply("big", [submit("big", tasks, 24)], { create: true });
      const before = (await store.journalCounts()).get("big") ?? 0;
      // 24 results of ~40 KB each: about 1 MB of events, over one entry's limit and over NATS's max payload
      const handoff = { notes: "x".repeat(40_000) };
      const r = await a.apply("big", tasks.map((t) => result("big", t.id, handoff)));
      expect(r.kind === "applied" && r.state).toBe("completed");
      expect(((await store.journalCounts()).get("big") ?? 0) - before).toBeGreaterThanOrEqual(2);
      expect(view((await loadFeature(store, "big"))!.snapshot).state).toBe("completed");
    } finally {
      await env.close();
    }
  });
  it("reads a checkpoint written before the reshape (format v1) and runs the feature on; refuses a format it does not know", async () => {
    const env = await testEnv(server.url);
    try {
      const { topo, store, loop } = await setup(env);
      const v1 = readFileSync(new URL("../fixtures/stored-v1/retrying.json", import.meta.url), "utf8");
      await topo.features.put("retry", v1);
      const due = new Date(Date.parse(view(JSON.parse(v1) as never).context.tasks.a!.retryAt!) + 1000).toISOString();
      const r = await loop().apply("retry", [{ type: "timer.fired", at: due }]);
      expect(r.kind === "applied" && r.context.tasks.a).toMatchObject({ status: "dispatched", attempt: 2 });
      expect((await store.load("retry"))!.stored.v).toBe(2); // migrated when read; rewritten as v2 by the next checkpoint
      await topo.features.put("future", JSON.stringify({ ...JSON.parse(v1), v: 3 }));
      await expect(loop().apply("future", [{ type: "timer.fired", at: due }])).rejects.toThrow(/feature future: stored with format version 3/);
      const rows = await listSummaries(store);
      expect(rows.find((row) => row.featureId === "future")).toMatchObject({ state: "unreadable", error: expect.stringMatching(/format version 3/) });
      expect(rows.find((row) => row.featureId === "retry")).toMatchObject({ state: "executing" });
    } finally {
      await env.close();
    }
  });
});
