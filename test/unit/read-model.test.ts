// The read model the coordinators answer (domain/read-model.ts `projectView`, from the feature's state) and the
// view a client folds from the status history (shared/client `foldEvent`) tell the same story: the same
// states, attempts, workers, summaries, errors, gates and gate results, notices. Timestamps may come from
// different clocks (a worker's finishedAt vs the coordinator's event time), so they are compared by presence;
// a fix task's dependencies are not in its task.fixing event (the read model knows them), so they are left out.
import { describe, expect, it } from "vitest";
import { projectSummary, projectView, type Stepped } from "../../services/coordinator/domain/index.ts";
import { emit } from "../../services/coordinator/domain/status-events.ts";
import { emptyView, foldEvent } from "../../shared/client/index.ts";
import { FeatureView, type EventBody, type StatusEvent, type FeatureView as View } from "../../shared/protocol/index.ts";
import { FeatureHarness } from "../helpers/feature-harness.ts";

const TIMES = ["acceptedAt", "finishedAt", "durationMs", "dispatchedAt", "startedAt", "at", "retryAt"];

/** The view with every timestamp replaced by whether it is set. */
function normalised(v: View): unknown {
  const tasks = v.tasks.map((t) => (t.fixes ? { ...t, dependsOn: "(fix task)" } : t));
  return JSON.parse(JSON.stringify({ ...v, tasks }, (k, val: unknown) => (TIMES.includes(k) && val !== undefined ? true : val)));
}

/** Checks the two views agree and returns them; `extra`: events emitted after the harness's (status-events.ts `emit`). */
function compare(c: FeatureHarness, last: Stepped, ...extra: EventBody[]): { projected: View; folded: View } {
  let ctx = last.context;
  const events: StatusEvent[] = [...c.events];
  for (const body of extra) {
    ctx = emit(ctx, body, c.now());
    events.push(ctx.outbox.at(-1)!.payload as StatusEvent);
  }
  const folded = emptyView(c.featureId);
  for (const e of events) foldEvent(folded, e);
  const projected = projectView(last.state, ctx);
  expect(FeatureView.safeParse(JSON.parse(JSON.stringify(projected))).error).toBeUndefined();
  expect(normalised(projected)).toEqual(normalised(folded));
  return { projected, folded };
}

const taskOf = (v: View, id: string) => v.tasks.find((t) => t.id === id)!;

describe("the read model", () => {
  it("matches the folded history of a feature with gates, a review fix round, a retry and a rejected message", () => {
    const c = new FeatureHarness("rm");
    c.submit({
      title: "Read model", maxParallel: 2, gates: ["coverage"],
      tasks: [
        { id: "db", role: "database", title: "schema" },
        { id: "api", role: "backend", title: "api", dependsOn: ["db"], gates: ["unit", "review"], onFailure: { retry: { maxAttempts: 2, backoffSeconds: 1 } } },
      ],
    });
    compare(c, c.last);
    c.work("db");
    c.work("api", "failed");
    compare(c, c.last); // api retrying
    c.timer(Date.parse(c.now()) + 60_000);
    c.work("api");
    c.gate("unit", true, { tests: { runner: "vitest", passed: 9, failed: 0, skipped: 0, total: 9 } }, "api");
    compare(c, c.last); // api verifying, one gate result
    c.gate("review", false, { review: { verdict: "changes_requested", comments: [{ message: "add tags" }] } }, "api");
    c.send({ type: "message.rejected", subject: "baton.result.rm.api", taskId: "api", error: { name: "ProtocolError", code: "PROTOCOL", message: "bad" }, at: c.now() });
    compare(c, c.last); // api fixing, fix task running, a notice
    c.work("api-fix-1");
    c.gate("unit", true, {}, "api");
    c.gate("review", true, {}, "api");
    c.gate("coverage", true, { coverage: { file: "lcov.info", metric: "lines", pct: 91, min: 80 } });
    expect(c.last.state).toBe("completed");
    compare(c, c.last);
    expect(projectSummary(c.last.state, c.last.context)).toMatchObject({ featureId: "rm", state: "completed", title: "Read model", tasks: 3, completed: 3 });
  });

  it("matches for a failed, a cancelled and a rejected feature", () => {
    const failed = new FeatureHarness("bad");
    failed.submit({ title: "Fails", tasks: [{ id: "a", role: "backend", title: "a" }, { id: "b", role: "backend", title: "b", dependsOn: ["a"] }] });
    failed.work("a", "failed");
    expect(failed.last.state).toBe("failed");
    compare(failed, failed.last);

    const cancelled = new FeatureHarness("stop");
    cancelled.submit({ title: "Stops", tasks: [{ id: "a", role: "backend", title: "a" }] });
    cancelled.send({ type: "feature.pause", at: cancelled.now() });
    compare(cancelled, cancelled.last);
    cancelled.send({ type: "feature.cancel", at: cancelled.now(), reason: "not needed" });
    compare(cancelled, cancelled.last);

    const rejected = new FeatureHarness("nope");
    rejected.send({ type: "feature.reject", errors: [{ path: "tasks", message: "a feature needs at least one task" }], at: rejected.now() });
    compare(rejected, rejected.last);
  });

  it("matches on what each waiting task waits for: a worker (and an unserved one), the parallel bound, a dependency, a retry, the pause", () => {
    const c = new FeatureHarness("waits");
    c.submit({
      title: "Waits", maxParallel: 1,
      tasks: [
        { id: "a", role: "backend", title: "a", onFailure: { retry: { maxAttempts: 2, backoffSeconds: 30 } } },
        { id: "b", role: "docs", title: "b" },
        { id: "c", role: "backend", title: "c", dependsOn: ["a"] },
      ],
    });
    let { projected } = compare(c, c.last);
    expect(taskOf(projected, "a").waitingFor).toEqual({ kind: "worker", role: "backend", unserved: false });
    expect(taskOf(projected, "b").waitingFor).toEqual({ kind: "parallel", maxParallel: 1, running: 1 });
    expect(taskOf(projected, "c").waitingFor).toEqual({ kind: "dependencies", taskIds: ["a"] });

    const unserved: EventBody = { kind: "task.unserved", taskId: "a", role: "backend", attempt: 1, waitingSeconds: 60, liveWorkers: 0, remedy: "baton worker --role backend" };
    ({ projected } = compare(c, c.last, unserved));
    expect(taskOf(projected, "a").waitingFor).toEqual({ kind: "worker", role: "backend", unserved: true });
    expect(taskOf(projected, "a").unserved).toMatchObject({ role: "backend", liveWorkers: 0, remedy: "baton worker --role backend" });
    // a run named after no task (a baseline's, a feature gate's) waits at the feature's level, until its gate event
    const baseline: EventBody = { kind: "task.unserved", taskId: "feature-baseline", role: "qa", attempt: 1, gate: "unit", waitingSeconds: 60, liveWorkers: 0, remedy: "baton worker --role qa" };
    ({ projected } = compare(c, c.last, baseline));
    expect(projected.unserved).toMatchObject({ role: "qa", gate: "unit", liveWorkers: 0 });
    const measured: EventBody = { kind: "gate.passed", gate: "unit", scope: "baseline", run: 1, workerId: "qa1", expect: "pass", command: ["npm", "test"], exitCode: 0, durationMs: 5, outputTail: "" };
    ({ projected } = compare(c, c.last, baseline, measured));
    expect(projected.unserved).toBeUndefined();
    // the task's next progress event ends the unserved wait (the fold's side: feature-view.test.ts)
    const started = emit(emit(c.last.context, unserved, c.now()), { kind: "task.started", taskId: "a", role: "backend", attempt: 1, workerId: "w1", delivery: 1 }, c.now());
    expect(started.tasks.a!.unserved).toBeUndefined();

    c.work("a", "failed");
    ({ projected } = compare(c, c.last));
    const a = taskOf(projected, "a");
    expect(a.waitingFor).toEqual({ kind: "retry", until: a.retryAt });
    expect(taskOf(projected, "b").waitingFor).toEqual({ kind: "parallel", maxParallel: 1, running: 1 }); // a retry keeps its place

    c.send({ type: "feature.pause", at: c.now(), reason: "deploy freeze", by: "alice" });
    c.timer(Date.parse(c.now()) + 60_000); // a's retry is due, but nothing starts while paused
    ({ projected } = compare(c, c.last));
    expect(projected).toMatchObject({ state: "paused", paused: { reason: "deploy freeze", by: "alice" } });
    expect(taskOf(projected, "a")).toMatchObject({ state: "retrying", waitingFor: { kind: "retry", until: a.retryAt } }); // due, held
    expect(taskOf(projected, "b").waitingFor).toEqual({ kind: "paused" });
    expect(taskOf(projected, "c").waitingFor).toEqual({ kind: "dependencies", taskIds: ["a"] });

    c.send({ type: "feature.resume", at: c.now(), by: "alice" });
    ({ projected } = compare(c, c.last));
    expect(projected.paused).toBeUndefined();
    expect(taskOf(projected, "a")).toMatchObject({ state: "dispatched", attempt: 2, waitingFor: { kind: "worker" } });
  });

  it("matches on a feature cancelled while a task ran: the task's time stops at the cancellation", () => {
    const c = new FeatureHarness("halt");
    c.submit({ title: "Halts", maxParallel: 2, tasks: [{ id: "a", role: "backend", title: "a" }, { id: "b", role: "backend", title: "b" }, { id: "c", role: "backend", title: "c", dependsOn: ["a"] }] });
    const startedAt = c.now();
    c.send({ type: "task.started", at: startedAt, msg: { type: "baton.v1.task_started", featureId: "halt", taskId: "a", attempt: 1, role: "backend", workerId: "w1", delivery: 1, at: startedAt } });
    const cancelledAt = new Date(Date.parse(startedAt) + 42_000).toISOString();
    c.send({ type: "feature.cancel", at: cancelledAt, reason: "wrong branch" });
    const { projected, folded } = compare(c, c.last);
    for (const view of [projected, folded]) {
      expect(taskOf(view, "a")).toMatchObject({ state: "cancelled", finishedAt: cancelledAt, durationMs: 42_000 });
      expect(taskOf(view, "b")).toMatchObject({ state: "cancelled", finishedAt: cancelledAt, durationMs: undefined }); // never started
      expect(view.tasks.every((t) => t.waitingFor === undefined)).toBe(true);
    }
  });
});
