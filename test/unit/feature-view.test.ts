// The client's fold of status events into a FeatureView (shared/client/feature-view.ts): what `status` and
// `watch` show when they read the history, and the same shape the read model answers with.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyView, foldEvent, isTerminal } from "../../shared/client/index.ts";
import { FeatureView, StatusEvent } from "../../shared/protocol/index.ts";

const AT = "2026-01-01T12:00:00.000Z";
let clock = 0;
const at = () => new Date(Date.parse(AT) + 1000 * clock++).toISOString();

/** A valid status event of feature `f` (parsed, so a test never folds something the wire would refuse). */
const ev = (seq: number, body: Record<string, unknown>): StatusEvent =>
  StatusEvent.parse({ type: "baton.v1.status_event", featureId: "f", seq, at: at(), ...body });
const task = (taskId: string, role = "backend", attempt = 1) => ({ taskId, role, attempt });

function history(): StatusEvent[] {
  clock = 0;
  return [
    ev(1, { kind: "feature.accepted", title: "Todos", maxParallel: 2, tasks: [
      { id: "api", role: "api", title: "Spec", dependsOn: [] },
      { id: "impl", role: "backend", title: "Build", dependsOn: ["api"], gates: ["unit"] },
    ] }),
    ev(2, { kind: "task.dispatched", ...task("api", "api") }),
    ev(3, { kind: "task.started", ...task("api", "api"), workerId: "w1", delivery: 1 }),
    ev(4, { kind: "task.log", ...task("api", "api"), workerId: "w1", stream: "stdout", lines: ["hi"], dropped: 0 }),
    ev(5, { kind: "task.completed", ...task("api", "api"), workerId: "w1", durationMs: 800, summary: "3 endpoints" }),
    ev(6, { kind: "task.dispatched", ...task("impl") }),
    ev(7, { kind: "task.started", ...task("impl"), workerId: "w2", delivery: 1 }),
    ev(8, { kind: "task.verifying", ...task("impl"), workerId: "w2", gates: ["unit"] }),
    ev(9, { kind: "gate.failed", gate: "unit", scope: "task", run: 1, taskId: "impl", attempt: 1, workerId: "qa1", expect: "pass", command: ["npm", "test"], exitCode: 1, durationMs: 50, tests: { runner: "vitest", passed: 1, failed: 1, skipped: 0, total: 2 }, reason: "1 of 2 tests failed", outputTail: "x" }),
    ev(10, { kind: "task.fixing", taskId: "impl", attempt: 1, gate: "unit", round: 1, fixTaskId: "impl-fix-1", fixRole: "bugfix", title: "Fix unit", reason: "1 of 2 tests failed" }),
    ev(11, { kind: "task.dispatched", ...task("impl-fix-1", "bugfix") }),
    ev(12, { kind: "task.completed", ...task("impl-fix-1", "bugfix"), workerId: "w3", durationMs: 90 }),
    ev(13, { kind: "gate.passed", gate: "unit", scope: "task", run: 2, taskId: "impl", attempt: 1, workerId: "qa1", expect: "pass", command: ["npm", "test"], exitCode: 0, durationMs: 40, tests: { runner: "vitest", passed: 2, failed: 0, skipped: 0, total: 2 }, outputTail: "" }),
    ev(14, { kind: "task.completed", ...task("impl"), workerId: "w2", durationMs: 2000 }),
    ev(15, { kind: "feature.completed", durationMs: 3000 }),
  ];
}

const fold = (events: readonly StatusEvent[]) => {
  const view = emptyView("f");
  for (const event of events) foldEvent(view, event);
  return view;
};

describe("folding a feature's status history", () => {
  it("gives the read model's FeatureView: tasks with their states, gate results and the fix task", () => {
    const view = fold(history());
    expect(FeatureView.safeParse(view).success).toBe(true);
    expect(view).toMatchObject({ featureId: "f", state: "completed", title: "Todos", maxParallel: 2, seq: 15, durationMs: 3000, notices: [] });
    expect(view.tasks.map((t) => [t.id, t.state])).toEqual([["api", "completed"], ["impl", "completed"], ["impl-fix-1", "completed"]]);
    expect(view.tasks[0]).toMatchObject({ workerId: "w1", durationMs: 800, summary: "3 endpoints", attempt: 1 });
    const impl = view.tasks[1]!;
    expect(impl.gates).toEqual(["unit"]);
    // the latest run of a gate replaces the earlier one
    expect(impl.gateResults).toEqual([expect.objectContaining({ name: "unit", passed: true, tests: { passed: 2, failed: 0, total: 2 } })]);
    expect(view.tasks[2]).toMatchObject({ role: "bugfix", fixes: "impl" });
    expect(isTerminal(view.state)).toBe(true);
  });

  it("ignores duplicates and replays (seq already seen) and says so", () => {
    const events = history();
    const view = fold(events);
    const before = JSON.stringify(view);
    for (const event of events) expect(foldEvent(view, event)).toBe(false);
    expect(JSON.stringify(view)).toBe(before);
  });

  it("folds any redelivery of an in-order history to the same view as one clean pass", () => {
    const events = history();
    const clean = JSON.stringify(fold(events));
    // after each event, zero or more earlier events arrive again
    const redeliveries = fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: events.length, maxLength: events.length });
    fc.assert(fc.property(redeliveries, (again) => {
      const stream = events.flatMap((e, i) => [e, ...again[i]!.map((j) => events[j % (i + 1)]!)]);
      expect(JSON.stringify(fold(stream))).toBe(clean);
    }));
  });

  it("keeps notices (seq 0) without moving the feature's seq", () => {
    const view = emptyView("f");
    const notice = ev(0, { kind: "message.rejected", subject: "baton.control.f.cancel", error: { name: "UnknownFeature", code: "UNKNOWN_FEATURE", message: 'no feature "f"' } });
    expect(foldEvent(view, notice)).toBe(true);
    expect(view).toMatchObject({ state: "unknown", seq: 0, notices: ['baton.control.f.cancel: no feature "f"'] });
  });

  it("a cancelled feature cancels its unfinished tasks and keeps the finished ones", () => {
    const events = history().slice(0, 7);
    const view = fold([...events, ev(8, { kind: "feature.cancelled", durationMs: 10, by: "alice" })]);
    expect(view.state).toBe("cancelled");
    expect(view.reason).toBe("cancelled");
    expect(view.tasks.map((t) => t.state)).toEqual(["completed", "cancelled"]);
  });

  it("pause and resume; a retry clears the last error when the task is dispatched again", () => {
    const events = history().slice(0, 2);
    const view = fold([
      ...events,
      ev(3, { kind: "feature.paused", reason: "lunch" }),
      ev(4, { kind: "task.failed", ...task("api", "api"), error: { name: "ExitCode", code: "EXIT_CODE", message: "exit 1" } }),
    ]);
    expect(view.state).toBe("paused");
    foldEvent(view, ev(5, { kind: "task.retrying", ...task("api", "api"), nextAttempt: 2, retryAt: AT, reason: "exit 1" }));
    expect(view.tasks[0]).toMatchObject({ state: "retrying", error: "exit 1", retryAt: AT });
    foldEvent(view, ev(6, { kind: "feature.resumed" }));
    foldEvent(view, ev(7, { kind: "task.dispatched", ...task("api", "api", 2) }));
    expect(view.state).toBe("executing");
    expect(view.tasks[0]).toMatchObject({ state: "dispatched", attempt: 2 });
    expect(view.tasks[0]!.error).toBeUndefined();
    expect(view.tasks[0]!.retryAt).toBeUndefined();
  });

  it("a rejected feature keeps every validation error and ends", () => {
    const view = fold([ev(1, { kind: "feature.rejected", errors: [{ path: "title", message: "required" }] })]);
    expect(view).toMatchObject({ state: "rejected", errors: [{ path: "title", message: "required" }] });
    expect(isTerminal(view.state)).toBe(true);
    expect(FeatureView.safeParse(view).success).toBe(true);
  });

  it("a task running when its feature is cancelled stops counting: its time is the time until the cancellation", () => {
    clock = 0;
    const view = fold([
      ...history().slice(0, 2),
      ev(3, { kind: "task.started", ...task("api", "api"), workerId: "w1", delivery: 1, at: "2026-01-01T12:01:00.000Z" }),
      ev(4, { kind: "feature.cancelled", durationMs: 90_000, reason: "wrong branch", at: "2026-01-01T12:01:42.500Z" }),
    ]);
    expect(view.tasks[0]).toMatchObject({ state: "cancelled", finishedAt: "2026-01-01T12:01:42.500Z", durationMs: 42_500 });
    expect(view.tasks[1]).toMatchObject({ state: "cancelled", finishedAt: "2026-01-01T12:01:42.500Z" }); // never started: no time
    expect(view.tasks[1]!.durationMs).toBeUndefined();
    expect(view.tasks.every((t) => t.waitingFor === undefined)).toBe(true);
  });

  it("a paused feature keeps since when, why and by whom; resuming clears it", () => {
    const view = fold([...history().slice(0, 1), ev(2, { kind: "feature.paused", reason: "deploy freeze", by: "alice", at: "2026-01-01T13:00:00.000Z" })]);
    expect(view).toMatchObject({ state: "paused", paused: { at: "2026-01-01T13:00:00.000Z", reason: "deploy freeze", by: "alice" } });
    expect(view.tasks[0]!.waitingFor).toEqual({ kind: "paused" });
    expect(view.tasks[1]!.waitingFor).toEqual({ kind: "dependencies", taskIds: ["api"] });
    foldEvent(view, ev(3, { kind: "feature.resumed", by: "alice" }));
    expect(view.paused).toBeUndefined();
  });

  it("a dispatched task waits for a worker; a task.unserved event says none is live, until the task moves on", () => {
    const view = fold(history().slice(0, 2));
    expect(view.tasks[0]!.waitingFor).toEqual({ kind: "worker", role: "api", unserved: false });
    foldEvent(view, ev(3, { kind: "task.unserved", ...task("api", "api"), waitingSeconds: 60, liveWorkers: 0, remedy: "baton worker --role api" }));
    expect(view.tasks[0]).toMatchObject({ waitingFor: { kind: "worker", role: "api", unserved: true }, unserved: { role: "api", liveWorkers: 0, remedy: "baton worker --role api" } });
    foldEvent(view, ev(4, { kind: "task.log", ...task("api", "api"), workerId: "w1", stream: "stdout", lines: ["hi"], dropped: 0 }));
    expect(view.tasks[0]!.unserved).toBeDefined(); // output is not progress
    foldEvent(view, ev(5, { kind: "task.started", ...task("api", "api"), workerId: "w1", delivery: 1 }));
    expect(view.tasks[0]!.unserved).toBeUndefined();
    expect(view.tasks[0]!.waitingFor).toBeUndefined();
  });

  it("a verifying task waits for its gates, or for a worker for a gate run nobody serves; a fixing one for its fix task", () => {
    const events = history();
    const view = fold(events.slice(0, 8));
    expect(view.tasks[1]!.waitingFor).toEqual({ kind: "gates", gates: ["unit"] });
    foldEvent(view, ev(9, { kind: "task.unserved", ...task("impl"), role: "qa", gate: "unit", waitingSeconds: 60, liveWorkers: 0, remedy: "baton worker --role qa" }));
    expect(view.tasks[1]!.waitingFor).toEqual({ kind: "worker", role: "qa", gate: "unit", unserved: true });
    const fixing = fold(events.slice(0, 10));
    expect(fixing.tasks[1]!.waitingFor).toEqual({ kind: "fix", fixTaskId: "impl-fix-1" });
    expect(fixing.tasks[2]!.waitingFor).toEqual({ kind: "baseline" }); // ready, a place free, not dispatched: only a baseline run holds it
  });

  it("waiting tasks name the parallel bound and a retry's time; a new attempt starts with no time of the last", () => {
    const view = fold([
      ev(1, { kind: "feature.accepted", title: "Two", maxParallel: 1, tasks: [{ id: "a", role: "backend", title: "a", dependsOn: [] }, { id: "b", role: "backend", title: "b", dependsOn: [] }] }),
      ev(2, { kind: "task.dispatched", ...task("a") }),
      ev(3, { kind: "task.started", ...task("a"), workerId: "w1", delivery: 1 }),
    ]);
    expect(view.tasks[1]!.waitingFor).toEqual({ kind: "parallel", maxParallel: 1, running: 1 });
    foldEvent(view, ev(4, { kind: "task.retrying", ...task("a"), nextAttempt: 2, retryAt: "2026-01-01T14:00:00.000Z", reason: "exit 1" }));
    expect(view.tasks[0]!.waitingFor).toEqual({ kind: "retry", until: "2026-01-01T14:00:00.000Z" });
    expect(view.tasks[1]!.waitingFor).toEqual({ kind: "parallel", maxParallel: 1, running: 1 });
    foldEvent(view, ev(5, { kind: "task.dispatched", ...task("a", "backend", 2) }));
    expect(view.tasks[0]!.startedAt).toBeUndefined();
    expect(view.tasks[0]!.workerId).toBeUndefined();
  });
});
