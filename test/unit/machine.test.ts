// The pure feature machine driven through step() as the coordinator drives it: every step starts
// from the JSON-round-tripped snapshot (as KV stores it) and its outbox is published, then confirmed.
import { describe, expect, it } from "vitest";
import { step, type Stepped, type StoredFeature } from "../../services/coordinator/domain/index.ts";
import type { FeatureEvent } from "../../services/coordinator/domain/index.ts";
import type { OutboxEntry } from "../../services/coordinator/domain/index.ts";
import {
  StatusEvent,
  TaskAssigned,
  type FeatureRequest,
  type TaskLog,
  type TaskResult,
  type TaskStarted,
} from "../../shared/protocol/index.ts";

/** A dispatch's msg id: four tokens, so it never equals a status event's `<feature>.ev.<seq>`. */
const dispatchId = (featureId: string, taskId: string, attempt = 1) => `${featureId}.task.${taskId}.${attempt}`;

const T0 = Date.parse("2025-01-01T00:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Plays the coordinator's loop for one feature: step from stored JSON, publish the outbox, confirm. */
class Coordinator {
  stored: StoredFeature | null = null;
  last!: Stepped;
  private clock = 0;
  /** Every entry ever published, in publish order. */
  readonly published: OutboxEntry[] = [];
  constructor(readonly featureId = "feat") {}

  now(): string {
    return at(++this.clock);
  }
  send(...events: FeatureEvent[]): Stepped {
    this.last = step(this.featureId, this.stored && json(this.stored), events);
    this.stored = json(this.last.stored);
    return this.last;
  }
  submit(req: Omit<FeatureRequest, "id">): Stepped {
    return this.send({ type: "feature.submit", request: { ...req, id: this.featureId }, at: this.now() });
  }
  /** Publishes the whole outbox and confirms it (FeatureLoop.flush); returns what was published. */
  flush(): OutboxEntry[] {
    const out = this.last.context.outbox;
    if (out.length) {
      this.published.push(...out);
      this.send({ type: "outbox.flushed", msgIds: out.map((e) => e.msgId) });
    }
    return out;
  }
  /** Publishes only the named entries (one publish succeeded, others not yet) and confirms them. */
  confirm(msgIds: string[]): Stepped {
    this.published.push(...this.last.context.outbox.filter((e) => msgIds.includes(e.msgId)));
    return this.send({ type: "outbox.flushed", msgIds });
  }
  get events(): StatusEvent[] {
    return this.published.flatMap((e) => (e.to === "status" ? [e.payload] : []));
  }
  get assigned(): TaskAssigned[] {
    return this.published.flatMap((e) => (e.to === "task" ? [e.payload] : []));
  }
  assignment(taskId: string): TaskAssigned {
    const a = this.assigned.find((x) => x.taskId === taskId);
    if (!a) throw new Error(`task ${taskId} was never published`);
    return a;
  }
  started(taskId: string, workerId = "w-1", delivery = 1): Stepped {
    return this.send({ type: "task.started", msg: startedMsg(this.assignment(taskId), workerId, delivery, this.now()), at: this.now() });
  }
  result(taskId: string, outcome: "completed" | "failed" = "completed", extra: Partial<TaskResult> = {}): Stepped {
    return this.send({ type: "task.result", msg: resultMsg(this.assignment(taskId), outcome, this.now(), extra), at: this.now() });
  }
}

function startedMsg(a: TaskAssigned, workerId: string, delivery: number, now: string): TaskStarted {
  return { type: "baton.v1.task_started", featureId: a.featureId, taskId: a.taskId, attempt: a.attempt, role: a.role, workerId, delivery, at: now };
}

function resultMsg(a: TaskAssigned, outcome: "completed" | "failed", now: string, extra: Partial<TaskResult> = {}): TaskResult {
  return {
    type: "baton.v1.task_result", featureId: a.featureId, taskId: a.taskId, attempt: a.attempt, role: a.role, workerId: "w-1",
    outcome, startedAt: a.dispatchedAt, finishedAt: now, ...extra,
  };
}

function logMsg(featureId: string, taskId: string, lines: string[], now: string): TaskLog {
  return {
    type: "baton.v1.task_log", featureId, taskId, attempt: 1, role: "backend", workerId: "w-1", delivery: 1, batch: 1,
    stream: "stdout", lines, dropped: 0, at: now,
  };
}

const task = (id: string, dependsOn: string[] = [], role = "backend") => ({ id, role, title: `do ${id}`, dependsOn });
const kinds = (entries: readonly OutboxEntry[]) => entries.map((e) => (e.to === "task" ? `dispatch ${e.payload.taskId}` : e.kind));
const statusKinds = (entries: readonly OutboxEntry[]) => entries.flatMap((e) => (e.to === "status" ? [e.kind] : []));

describe("submitting a feature", () => {
  it("accepts it and dispatches the tasks without dependencies, with deterministic msg ids", () => {
    const c = new Coordinator("feat");
    // no workspace: a scratch feature dispatches at once (a git feature prepares its workspace first: workspace-domain.test.ts)
    const r = c.submit({ title: "Login", description: "why", tasks: [task("a"), task("b", ["a"])] });
    expect(r.state).toBe("executing");
    expect(r.changed).toBe(true);
    expect(r.context.outbox.map((e) => [e.to, e.msgId])).toEqual([
      ["status", "feat.ev.1"],
      ["task", dispatchId("feat", "a")],
      ["status", "feat.ev.2"],
    ]);
    const [accepted, dispatch, dispatched] = r.context.outbox;
    expect(accepted).toMatchObject({ kind: "feature.accepted", payload: { seq: 1, title: "Login", maxParallel: 1 } });
    expect(dispatch).toMatchObject({ to: "task", role: "backend" });
    expect(dispatch!.payload).toEqual({
      type: "baton.v1.task_assigned", featureId: "feat", taskId: "a", attempt: 1, role: "backend", title: "do a",
      instructions: undefined, dependsOn: [], workspace: undefined, feature: { title: "Login", description: "why" },
      handoffs: [], dispatchedAt: at(1),
    });
    expect(dispatched).toMatchObject({ kind: "task.dispatched", payload: { seq: 2, taskId: "a", attempt: 1, role: "backend" } });
  });

  it("puts only valid wire messages in the outbox", () => {
    const c = new Coordinator();
    c.submit({ title: "T", maxParallel: 2, tasks: [task("a"), task("b"), task("c", ["a", "b"])] });
    c.flush();
    c.started("a");
    c.result("a", "completed", { summary: "s", handoff: { k: [1] } });
    c.flush();
    c.result("b", "failed", { exitCode: 3 });
    c.flush();
    expect(c.published.length).toBeGreaterThan(6);
    for (const e of c.published) {
      const r = (e.to === "task" ? TaskAssigned : StatusEvent).safeParse(json(e.payload));
      expect(r.error).toBeUndefined();
    }
  });

  it("ignores a second submission of the same feature", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    const r = c.submit({ title: "Other", tasks: [task("x"), task("y")] });
    expect(r.changed).toBe(false);
    expect(r.context.title).toBe("T");
    expect(r.context.outbox).toEqual([]);
  });

  it("records a rejection as a terminal feature.rejected event", () => {
    const c = new Coordinator("bad");
    const errors = [{ path: "tasks", message: "a feature needs at least one task" }];
    const r = c.send({ type: "feature.reject", errors, at: at(1) });
    expect(r.state).toBe("rejected");
    expect(r.context.outbox).toEqual([
      { msgId: "bad.ev.1", to: "status", kind: "feature.rejected", payload: { type: "baton.v1.status_event", featureId: "bad", seq: 1, at: at(1), kind: "feature.rejected", errors } },
    ]);
    c.flush();
    expect(c.send({ type: "feature.submit", request: { id: "bad", title: "t", tasks: [task("a")] }, at: at(2) }).changed).toBe(false);
  });
});

describe("task.started", () => {
  it("marks the task running and emits task.started", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    const r = c.started("a", "w-7", 1);
    expect(r.changed).toBe(true);
    expect(r.context.tasks.a).toMatchObject({ status: "running", workerId: "w-7" });
    expect(r.context.outbox).toEqual([
      expect.objectContaining({ kind: "task.started", payload: expect.objectContaining({ taskId: "a", workerId: "w-7", delivery: 1, attempt: 1 }) }),
    ]);
  });

  it("is idempotent: the same start again changes nothing", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    c.started("a");
    c.flush();
    const before = c.stored;
    const r = c.started("a");
    expect(r.changed).toBe(false);
    expect(r.context.outbox).toEqual([]);
    expect(r.stored).toEqual(before);
  });

  it("records a redelivery to another worker as a new start, keeping the first start time", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    const first = c.started("a", "w-1").context.tasks.a!.startedAt;
    c.flush();
    const r = c.started("a", "w-2", 2);
    expect(r.context.tasks.a).toMatchObject({ status: "running", workerId: "w-2", startedAt: first });
    expect(statusKinds(r.context.outbox)).toEqual(["task.started"]);
  });

  it("for another attempt, or after the task finished, changes nothing", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a"), task("b")] });
    c.flush();
    const a = c.assignment("a");
    expect(c.send({ type: "task.started", msg: { ...startedMsg(a, "w", 1, at(9)), attempt: 2 }, at: at(9) }).changed).toBe(false);
    c.result("a");
    c.flush();
    expect(c.started("a").changed).toBe(false);
  });
});

describe("task.log", () => {
  it("emits task.log events with increasing seq and leaves the task alone", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    c.started("a");
    c.flush();
    const r1 = c.send({ type: "task.log", msg: logMsg("feat", "a", ["one"], at(50)), at: at(50) });
    const r2 = c.send({ type: "task.log", msg: { ...logMsg("feat", "a", ["two", "three"], at(51)), stream: "stderr", dropped: 4 }, at: at(51) });
    expect(r2.context.tasks.a!.status).toBe("running");
    const logs = r2.context.outbox.map((e) => e.payload);
    expect(logs).toEqual([
      expect.objectContaining({ kind: "task.log", seq: 4, taskId: "a", lines: ["one"], stream: "stdout", dropped: 0 }),
      expect.objectContaining({ kind: "task.log", seq: 5, taskId: "a", lines: ["two", "three"], stream: "stderr", dropped: 4 }),
    ]);
    expect(r1.changed && r2.changed).toBe(true);
  });
});

describe("task results", () => {
  it("a duplicate result changes nothing", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a"), task("b", ["a"])] });
    c.flush();
    const msg = resultMsg(c.assignment("a"), "completed", at(10), { summary: "ok" });
    c.send({ type: "task.result", msg, at: at(10) });
    c.flush();
    const before = c.stored;
    const r = c.send({ type: "task.result", msg, at: at(11) });
    expect(r.changed).toBe(false);
    expect(r.context.outbox).toEqual([]);
    expect(r.stored).toEqual(before);
    // also when the duplicate says the opposite
    expect(c.send({ type: "task.result", msg: { ...msg, outcome: "failed" }, at: at(12) }).changed).toBe(false);
    expect(c.last.state).toBe("executing");
  });

  it("a result for an attempt other than the current one changes nothing", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    const before = c.stored;
    const r = c.send({ type: "task.result", msg: { ...resultMsg(c.assignment("a"), "completed", at(5)), attempt: 2 }, at: at(5) });
    expect(r.changed).toBe(false);
    expect(r.context.outbox).toEqual([]);
    expect(r.stored).toEqual(before);
    expect(r.context.tasks.a!.status).toBe("dispatched");
  });

  it("the last completion emits feature.completed exactly once, with its duration", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a"), task("b", ["a"])] });
    c.flush();
    c.result("a");
    c.flush();
    c.started("b");
    c.flush();
    const r = c.result("b");
    expect(r.state).toBe("completed");
    expect(statusKinds(r.context.outbox)).toEqual(["task.completed", "feature.completed"]);
    c.flush();
    const done = c.events.filter((e) => e.kind === "feature.completed");
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ durationMs: Date.parse(r.context.finishedAt!) - Date.parse(r.context.submittedAt) });
    expect(c.events.at(-1)!.kind).toBe("feature.completed");
    // late duplicates after completion change nothing
    expect(c.result("b").changed).toBe(false);
    expect(c.result("a").changed).toBe(false);
  });

  it("a failure emits task.failed then feature.failed, and nothing is dispatched after it", () => {
    const c = new Coordinator();
    c.submit({ title: "T", maxParallel: 2, tasks: [task("a"), task("b"), task("c", ["a"])] });
    c.flush();
    c.started("a");
    c.started("b");
    c.flush();
    const r = c.result("b", "failed", { exitCode: 2, error: { name: "ExecutorError", message: "tests failed", code: "EXIT" } });
    expect(r.state).toBe("failed");
    expect(statusKinds(r.context.outbox)).toEqual(["task.failed", "feature.failed"]);
    expect(r.context.outbox[0]!.payload).toMatchObject({ taskId: "b", exitCode: 2, error: { name: "ExecutorError", message: "tests failed" } });
    expect(r.context.outbox[1]!.payload).toMatchObject({ taskId: "b", reason: 'task "b" (backend) failed: tests failed' });
    c.flush();
    // the still-running task finishes: recorded, but its dependent is never dispatched
    const late = c.result("a", "completed", { summary: "late" });
    expect(late.state).toBe("failed");
    expect(kinds(late.context.outbox)).toEqual(["task.completed"]);
    expect(late.context.tasks.c!.status).toBe("blocked");
    c.flush();
    expect(c.assigned.map((a) => a.taskId)).toEqual(["a", "b"]);
    expect(c.events.filter((e) => e.kind === "feature.failed")).toHaveLength(1);
  });

  it("a second failure after the feature failed does not fail it again", () => {
    const c = new Coordinator();
    c.submit({ title: "T", maxParallel: 2, tasks: [task("a"), task("b")] });
    c.flush();
    c.result("a", "failed", { exitCode: 1 });
    c.flush();
    const r = c.result("b", "failed", { exitCode: 1 });
    // b never reported task_started (a short task): its start is recorded from the result
    expect(statusKinds(r.context.outbox)).toEqual(["task.started", "task.failed"]);
    expect(r.context.reason).toBe('task "a" (backend) failed: exit code 1');
  });

  it("a failure without an error is described by its exit code", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    const r = c.result("a", "failed", { exitCode: null });
    expect(r.context.outbox[0]!.payload).toMatchObject({ kind: "task.started", taskId: "a" });
    expect(r.context.outbox[1]!.payload).toMatchObject({ kind: "task.failed", error: { name: "TaskFailed", message: "exit code unknown" } });
  });
});

describe("messages for a task the feature does not have", () => {
  const unknown = (c: Coordinator, type: "task.started" | "task.log" | "task.result"): FeatureEvent => {
    const fake = { ...c.assignment("a"), taskId: "ghost" };
    const now = c.now();
    return type === "task.started" ? { type, msg: startedMsg(fake, "w", 1, now), at: now }
      : type === "task.log" ? { type, msg: logMsg(c.featureId, "ghost", ["x"], now), at: now }
      : { type, msg: resultMsg(fake, "completed", now), at: now };
  };

  it.each(["task.started", "task.log", "task.result"] as const)("%s is answered with message.rejected", (type) => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    const r = c.send(unknown(c, type));
    expect(r.changed).toBe(true);
    expect(r.context.outbox).toEqual([
      expect.objectContaining({
        msgId: "feat.ev.3", to: "status", kind: "message.rejected",
        payload: expect.objectContaining({ taskId: "ghost", error: expect.objectContaining({ name: "UnknownTask", code: "UNKNOWN_TASK" }) }),
      }),
    ]);
    expect(r.context.tasks.a!.status).toBe("dispatched");
    expect(r.state).toBe("executing");
  });

  it("a result is rejected after the feature failed", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    c.result("a", "failed");
    c.flush();
    expect(statusKinds(c.send(unknown(c, "task.result")).context.outbox)).toEqual(["message.rejected"]);
  });

  // Regression: the `completed` state once dropped these silently, unlike `executing` and `failed`.
  it("a result is rejected after the feature completed, as it is after a failure", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    c.result("a");
    c.flush();
    expect(c.last.state).toBe("completed");
    const r = c.send(unknown(c, "task.result"));
    expect(statusKinds(r.context.outbox)).toEqual(["message.rejected"]);
  });

  it("a rejection passed in by ingress is recorded in any state", () => {
    const c = new Coordinator();
    c.submit({ title: "T", tasks: [task("a")] });
    c.flush();
    const error = { name: "ProtocolError", message: "bad", code: "PROTOCOL" };
    const r = c.send({ type: "message.rejected", subject: "baton.result.feat.a", taskId: "a", error, at: c.now() });
    expect(r.context.outbox.map((e) => e.payload)).toEqual([expect.objectContaining({ kind: "message.rejected", subject: "baton.result.feat.a", error })]);
  });
});

describe("the outbox", () => {
  it("outbox.flushed removes exactly the named entries, in any state", () => {
    const c = new Coordinator();
    c.submit({ title: "T", maxParallel: 2, tasks: [task("a"), task("b")] });
    const ids = c.last.context.outbox.map((e) => e.msgId);
    expect(ids).toEqual(["feat.ev.1", dispatchId("feat", "a"), "feat.ev.2", dispatchId("feat", "b"), "feat.ev.3"]);
    const r = c.confirm([dispatchId("feat", "a"), "feat.ev.3", "feat.nope.9"]);
    expect(r.changed).toBe(true);
    expect(r.context.outbox.map((e) => e.msgId)).toEqual(["feat.ev.1", "feat.ev.2", dispatchId("feat", "b")]);
    expect(c.confirm(["feat.nope.9"]).changed).toBe(false);
    expect(c.confirm([]).changed).toBe(false);
    c.flush();
    expect(c.last.context.outbox).toEqual([]);
    c.result("a", "failed");
    expect(c.last.state).toBe("failed");
    expect(c.flush().length).toBe(3); // task.started (recorded from the result), task.failed, feature.failed
    expect(c.last.context.outbox).toEqual([]);
  });

  // Regression: with `<feature>.<task>.<attempt>`, the dispatch of a task named "ev" collided with
  // the status event id `<feature>.ev.<seq>`, so confirming one confirmed (and lost) the other.
  it("msg ids are unique, even for a task named ev", () => {
    const c = new Coordinator("feat");
    c.submit({ title: "T", tasks: [task("ev")] });
    const ids = c.last.context.outbox.map((e) => e.msgId);
    expect(new Set(ids).size).toBe(ids.length);
    // publishing only the feature.accepted event must leave the dispatch to be published
    const accepted = c.last.context.outbox.find((e) => e.to === "status" && e.kind === "feature.accepted")!;
    const r = c.confirm([accepted.msgId]);
    expect(r.context.outbox.filter((e) => e.to === "task")).toHaveLength(1);
  });

  it("status seq numbers run 1, 2, 3, ... across steps, each with msg id <feature>.ev.<seq>", () => {
    const c = new Coordinator("f9");
    c.submit({ title: "T", maxParallel: 2, tasks: [task("a"), task("b"), task("c", ["a", "b"])] });
    c.flush();
    c.started("a");
    c.send({ type: "task.log", msg: logMsg("f9", "a", ["hi"], c.now()), at: c.now() });
    c.flush();
    c.result("a");
    c.result("b");
    c.flush();
    c.started("c");
    c.result("c");
    c.flush();
    const status = c.published.filter((e) => e.to === "status");
    expect(status.map((e) => e.payload.seq)).toEqual(status.map((_, i) => i + 1));
    expect(status.map((e) => e.msgId)).toEqual(status.map((_, i) => `f9.ev.${i + 1}`));
    expect(c.published.filter((e) => e.to === "task").map((e) => e.msgId)).toEqual(["a", "b", "c"].map((t) => dispatchId("f9", t)));
    expect(c.last.state).toBe("completed");
  });

  it("re-running the same events from the same snapshot gives identical results", () => {
    const c = new Coordinator();
    c.submit({ title: "T", maxParallel: 3, tasks: [task("a"), task("b"), task("c", ["a"]), task("d", ["b", "c"])] });
    const snapshot = JSON.stringify(c.stored);
    const assigned = c.last.context.outbox.flatMap((e) => (e.to === "task" ? [e.payload] : []));
    const events: FeatureEvent[] = [
      { type: "outbox.flushed", msgIds: c.last.context.outbox.map((e) => e.msgId) },
      { type: "task.started", msg: startedMsg(assigned[0]!, "w", 1, at(20)), at: at(20) },
      { type: "task.result", msg: resultMsg(assigned[0]!, "completed", at(21), { summary: "s" }), at: at(21) },
      { type: "task.result", msg: resultMsg(assigned[1]!, "completed", at(22)), at: at(22) },
    ];
    const one = step("feat", JSON.parse(snapshot) as StoredFeature, events);
    const two = step("feat", JSON.parse(snapshot) as StoredFeature, events);
    expect(one.context.outbox.length).toBeGreaterThan(3);
    expect(JSON.stringify(two.stored)).toBe(JSON.stringify(one.stored));
    expect(two.context.outbox).toEqual(one.context.outbox);
    // and one event per step gives the same outcome as one batch
    let stored = JSON.parse(snapshot) as StoredFeature;
    for (const e of events) stored = json(step("feat", stored, [e]).stored);
    expect(stored).toEqual(json(one.stored));
  });
});
