// Scheduling of a feature's task DAG, driven through step() with simulated workers: dependency
// order, the maxParallel bound, handoffs, and (property) no stalls under any completion order.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { step, type Stepped, type StoredFeature } from "../../services/coordinator/domain/index.ts";
import type { FeatureEvent } from "../../services/coordinator/domain/index.ts";
import type { FeatureContext, OutboxEntry } from "../../services/coordinator/domain/index.ts";
import type { FeatureRequest, StatusEvent, TaskAssigned, TaskResult, TaskStarted } from "../../shared/protocol/index.ts";

const T0 = Date.parse("2025-01-01T00:00:00.000Z");

/** Plays the coordinator's loop for one feature: step from stored JSON, publish the outbox, confirm. */
class Coordinator {
  /** The snapshot as KV holds it: JSON text. */
  stored: string | null = null;
  last!: Stepped;
  private clock = 0;
  readonly published: OutboxEntry[] = [];
  constructor(readonly featureId = "feat") {}

  now(): string {
    return new Date(T0 + ++this.clock * 1000).toISOString();
  }
  send(...events: FeatureEvent[]): Stepped {
    this.last = step(this.featureId, this.stored === null ? null : (JSON.parse(this.stored) as StoredFeature), events);
    this.stored = JSON.stringify(this.last.stored);
    return this.last;
  }
  submit(req: Omit<FeatureRequest, "id">): Stepped {
    return this.send({ type: "feature.submit", request: { ...req, id: this.featureId }, at: this.now() });
  }
  /** Publishes the named entries (all by default) and confirms them; returns what was published. */
  flush(msgIds?: string[]): OutboxEntry[] {
    const out = this.last.context.outbox.filter((e) => !msgIds || msgIds.includes(e.msgId));
    if (out.length) {
      this.published.push(...out);
      this.send({ type: "outbox.flushed", msgIds: out.map((e) => e.msgId) });
    }
    return out;
  }
  get events(): StatusEvent[] {
    return this.published.flatMap((e) => (e.to === "status" ? [e.payload] : []));
  }
  get assigned(): TaskAssigned[] {
    return this.published.flatMap((e) => (e.to === "task" ? [e.payload] : []));
  }
  started(a: TaskAssigned, workerId = "w-1"): TaskStarted {
    return { type: "baton.v1.task_started", featureId: a.featureId, taskId: a.taskId, attempt: a.attempt, role: a.role, workerId, delivery: 1, at: this.now() };
  }
  result(a: TaskAssigned, extra: Partial<TaskResult> = {}): TaskResult {
    return {
      type: "baton.v1.task_result", featureId: a.featureId, taskId: a.taskId, attempt: a.attempt, role: a.role, workerId: "w-1",
      outcome: "completed", startedAt: a.dispatchedAt, finishedAt: this.now(), summary: `summary of ${a.taskId}`, handoff: { from: a.taskId }, ...extra,
    };
  }
  complete(taskId: string): Stepped {
    const a = this.assigned.find((x) => x.taskId === taskId);
    if (!a) throw new Error(`task ${taskId} was never published`);
    return this.send({ type: "task.result", msg: this.result(a), at: this.now() });
  }
}

const task = (id: string, dependsOn: string[] = []) => ({ id, role: "backend", title: `do ${id}`, dependsOn });
const DIAMOND = [task("a"), task("b", ["a"]), task("c", ["a"]), task("d", ["b", "c"])];
const dispatchedIn = (entries: readonly OutboxEntry[]) => entries.flatMap((e) => (e.to === "task" ? [e.payload.taskId] : []));
const active = (ctx: FeatureContext) => ctx.order.filter((id) => ["dispatched", "running"].includes(ctx.tasks[id]!.status));

describe("a diamond a -> (b, c) -> d", () => {
  it("with maxParallel 1 runs strictly one task at a time, in request order among ready tasks", () => {
    const c = new Coordinator();
    c.submit({ title: "T", maxParallel: 1, tasks: DIAMOND });
    const timeline: string[] = [];
    for (let i = 0; ; i++) {
      expect(i, "did not finish").toBeLessThan(DIAMOND.length + 1);
      const out = c.flush();
      for (const id of dispatchedIn(out)) timeline.push(`+${id}`);
      if (c.last.state !== "executing") break;
      expect(active(c.last.context)).toHaveLength(1);
      const [running] = active(c.last.context);
      c.complete(running!);
      timeline.push(`-${running}`);
    }
    expect(timeline).toEqual(["+a", "-a", "+b", "-b", "+c", "-c", "+d", "-d"]);
    expect(c.last.state).toBe("completed");
  });

  it("with maxParallel 2 dispatches both branches at once, and the join only after both", () => {
    const c = new Coordinator();
    expect(dispatchedIn(c.submit({ title: "T", maxParallel: 2, tasks: DIAMOND }).context.outbox)).toEqual(["a"]);
    c.flush();
    expect(dispatchedIn(c.complete("a").context.outbox)).toEqual(["b", "c"]);
    c.flush();
    expect(active(c.last.context)).toEqual(["b", "c"]);
    expect(dispatchedIn(c.complete("c").context.outbox)).toEqual([]);
    c.flush();
    expect(dispatchedIn(c.complete("b").context.outbox)).toEqual(["d"]);
    c.flush();
    const done = c.complete("d");
    expect(done.state).toBe("completed");
    c.flush();
    const kinds = c.events.map((e) => e.kind);
    expect(kinds.filter((k) => k === "feature.completed")).toHaveLength(1);
    expect(kinds.slice(-2)).toEqual(["task.completed", "feature.completed"]);
    expect(c.events.at(-2)).toMatchObject({ taskId: "d" });
  });

  it("passes each task the handoffs of its direct dependencies only", () => {
    const c = new Coordinator();
    c.submit({ title: "T", maxParallel: 2, tasks: [...DIAMOND, task("e", ["d", "d"])] });
    c.flush();
    for (const id of ["a", "b", "c", "d"]) {
      c.complete(id);
      c.flush();
    }
    const byId = new Map(c.assigned.map((a) => [a.taskId, a]));
    const h = (id: string) => ({ taskId: id, role: "backend", summary: `summary of ${id}`, handoff: { from: id } });
    expect(byId.get("a")!.handoffs).toEqual([]);
    expect(byId.get("b")!.handoffs).toEqual([h("a")]);
    expect(byId.get("d")!.handoffs).toEqual([h("b"), h("c")]);
    // duplicate dependsOn entries count once
    expect(byId.get("e")!.dependsOn).toEqual(["d"]);
    expect(byId.get("e")!.handoffs).toEqual([h("d")]);
  });

  it("hands off nothing more than a dependency reported", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a"), task("b", ["a"])] });
    c.flush();
    const a = c.assigned[0]!;
    c.send({ type: "task.result", msg: { ...c.result(a), summary: undefined, handoff: undefined }, at: c.now() });
    c.flush();
    expect(c.assigned[1]!.handoffs).toEqual([{ taskId: "a", role: "backend" }]);
  });
});

// ---- property: random DAGs, random worker behaviour ----

/** A cheap assertion for hot loops; fast-check reports the throw with its counterexample. */
function invariant(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

/** mulberry32: a small deterministic PRNG so that fast-check's seed reproduces a whole run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const scenarioArb = fc
  .integer({ min: 3, max: 25 })
  .chain((n) =>
    fc.record({
      deps: fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: n, maxLength: n }),
      maxParallel: fc.integer({ min: 1, max: 5 }),
      seed: fc.integer(),
    }),
  )
  .map(({ deps, maxParallel, seed }) => {
    const tasks = deps.map((raw, i) => task(`t${i}`, i === 0 ? [] : raw.map((k) => `t${k % i}`)));
    // list them in a random order: request order must not be mistaken for dependency order
    const rand = rng(seed ^ 0x5bd1e995);
    for (let i = tasks.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [tasks[i], tasks[j]] = [tasks[j]!, tasks[i]!];
    }
    return { tasks, maxParallel, seed };
  });

/**
 * Runs one feature to the end: the coordinator publishes random parts of its outbox; workers start
 * and finish published tasks in random order, sometimes several results in one step, and
 * sometimes deliver a message they already sent. Checks the scheduling invariants after every step.
 */
function simulate({ tasks, maxParallel, seed }: { tasks: ReturnType<typeof task>[]; maxParallel: number; seed: number }) {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const deps = new Map(tasks.map((t) => [t.id, new Set(t.dependsOn)]));
  const c = new Coordinator("prop");
  const seen = new Set<string>();
  const dispatchedTask = new Map<string, string>();
  const sent: FeatureEvent[] = [];
  const startedBy = new Set<string>();
  const finished = new Set<string>();
  const results = new Map<string, TaskResult>();

  const check = (r: Stepped) => {
    const ctx = r.context;
    for (const e of ctx.outbox) {
      if (seen.has(e.msgId)) continue;
      seen.add(e.msgId);
      if (e.to !== "task") continue;
      const a = e.payload;
      // (c) each task dispatched once, as attempt 1
      invariant(a.attempt === 1, `attempt ${a.attempt}`);
      invariant(e.msgId === `prop.task.${a.taskId}.1`, `dispatch msg id ${e.msgId}`);
      invariant(!dispatchedTask.has(a.taskId), `${a.taskId} dispatched twice`);
      dispatchedTask.set(a.taskId, e.msgId);
      // (a) only after all its dependencies completed, carrying their handoffs
      for (const d of deps.get(a.taskId)!) invariant(results.has(d), `${a.taskId} dispatched before ${d} finished`);
      expect(a.handoffs.map((h) => h.taskId).sort()).toEqual([...deps.get(a.taskId)!].sort());
      for (const h of a.handoffs) expect(h.summary).toBe(results.get(h.taskId)!.summary);
    }
    // (plain checks here: this runs after every step of every run)
    for (const id of ctx.order) {
      if (["dispatched", "running", "completed"].includes(ctx.tasks[id]!.status)) {
        for (const d of deps.get(id)!) invariant(ctx.tasks[d]!.status === "completed", `${id} is ${ctx.tasks[id]!.status} but its dependency ${d} is ${ctx.tasks[d]!.status}`);
      }
    }
    const n = active(ctx).length;
    // (b) never more than maxParallel at once
    invariant(n <= maxParallel, `${n} tasks active with maxParallel ${maxParallel}`);
    // (e) never stalled: while the feature runs, something is dispatched or running
    invariant(r.state !== "executing" || n > 0, `stalled: nothing active, statuses ${JSON.stringify(ctx.order.map((id) => ctx.tasks[id]!.status))}`);
    invariant(r.state === "executing" || r.state === "completed", `unexpected state ${r.state}`);
  };

  const deliver = (...events: FeatureEvent[]) => {
    sent.push(...events);
    check(c.send(...events));
  };

  check(c.submit({ title: "prop", maxParallel, tasks }));
  const limit = 40 * tasks.length + 100;
  for (let i = 0; ; i++) {
    invariant(i < limit, "did not finish");
    const outbox = c.last.context.outbox;
    const open = c.assigned.filter((a) => !finished.has(a.taskId));
    if (c.last.state === "completed" && outbox.length === 0) break;
    const roll = rand();
    if (outbox.length && (roll < 0.3 || !open.length)) {
      // publish a random part of the outbox (at least one entry)
      const part = outbox.filter(() => rand() < 0.6).map((e) => e.msgId);
      c.flush(part.length ? part : [outbox[0]!.msgId]);
      check(c.last);
    } else if (roll < 0.45 && sent.some((e) => e.type !== "outbox.flushed")) {
      // a duplicate delivery changes nothing at all
      const dup = pick(sent.filter((e) => e.type !== "outbox.flushed"));
      const before = c.stored;
      const r = c.send(dup);
      invariant(!r.changed && c.stored === before, `duplicate ${dup.type} changed the feature`);
    } else if (open.length) {
      const a = pick(open);
      if (!startedBy.has(a.taskId) && rand() < 0.7) {
        startedBy.add(a.taskId);
        deliver({ type: "task.started", msg: c.started(a), at: c.now() });
      } else {
        // finish this one, and maybe a few more in the same step
        const batch = [a, ...open.filter((o) => o !== a && rand() < 0.2)];
        const events = batch.map((b): FeatureEvent => {
          const m = c.result(b);
          finished.add(b.taskId);
          results.set(b.taskId, m);
          return { type: "task.result", msg: m, at: c.now() };
        });
        deliver(...events);
      }
    }
  }

  // (c) every task dispatched exactly once; (d) completed with exactly one feature.completed, last
  expect([...dispatchedTask.keys()].sort()).toEqual(tasks.map((t) => t.id).sort());
  expect(c.last.state).toBe("completed");
  // entries may have been published out of order; seq gives the history's order
  const events = [...c.events].sort((x, y) => x.seq - y.seq);
  expect(events.filter((e) => e.kind === "feature.completed")).toHaveLength(1);
  expect(events.at(-1)!.kind).toBe("feature.completed");
  expect(events.filter((e) => e.kind === "task.completed")).toHaveLength(tasks.length);
  // seq numbers 1..N without gaps or repeats
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  // after the end, redelivering anything changes nothing
  for (let k = 0; k < 5; k++) expect(c.send(pick(sent)).changed).toBe(false);
}

describe("scheduling (property)", () => {
  it("respects dependencies and maxParallel, dispatches each task once, never stalls, completes once", () => {
    fc.assert(fc.property(scenarioArb, (s) => simulate(s)), { numRuns: 200 });
  });

  it("with maxParallel 1 is strictly sequential and in a topological order", () => {
    fc.assert(
      fc.property(scenarioArb, ({ tasks, seed }) => {
        const c = new Coordinator("seq");
        c.submit({ title: "T", maxParallel: 1, tasks });
        const order: string[] = [];
        const rand = rng(seed);
        while (c.last.state === "executing") {
          invariant(order.length <= tasks.length, "a task was dispatched twice");
          const out = c.flush();
          order.push(...dispatchedIn(out));
          expect(dispatchedIn(out).length).toBeLessThanOrEqual(1);
          const [id] = active(c.last.context);
          expect(active(c.last.context)).toHaveLength(1);
          if (rand() < 0.5) c.send({ type: "task.started", msg: c.started(c.assigned.find((a) => a.taskId === id)!), at: c.now() });
          c.complete(id!);
        }
        expect(c.last.state).toBe("completed");
        expect([...order].sort()).toEqual(tasks.map((t) => t.id).sort());
        const pos = new Map(order.map((id, i) => [id, i]));
        for (const t of tasks) for (const d of t.dependsOn) expect(pos.get(d)!).toBeLessThan(pos.get(t.id)!);
      }),
      { numRuns: 100 },
    );
  });
});
