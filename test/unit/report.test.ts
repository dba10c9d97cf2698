// The execution report (shared/client/report.ts) from hand-made views: the critical path of a diamond DAG and how
// each step's time left is estimated, one blocker per cause with the command that lifts it, gates per level,
// progress, streams and agents.
import { describe, expect, it } from "vitest";
import { executionReport, roleMedians } from "../../shared/client/index.ts";
import type { FeatureView, ViewTask } from "../../shared/protocol/index.ts";

const NOW = Date.parse("2026-01-01T12:10:00.000Z");
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

function task(id: string, fields: Partial<ViewTask> = {}): ViewTask {
  return { id, role: "backend", title: `task ${id}`, dependsOn: [], state: "waiting", attempt: 0, ...fields };
}
const done = (id: string, seconds: number, fields: Partial<ViewTask> = {}) =>
  task(id, { state: "completed", attempt: 1, startedAt: ago(600), finishedAt: ago(600 - seconds), durationMs: seconds * 1000, ...fields });

function view(tasks: ViewTask[], fields: Partial<FeatureView> = {}): FeatureView {
  return { featureId: "f", state: "executing", title: "Todos", maxParallel: 4, acceptedAt: ago(600), tasks, seq: 9, notices: [], ...fields };
}

const report = (given: FeatureView, opts = {}) => executionReport(given, { now: NOW, ...opts });
const pathOf = (given: FeatureView, opts = {}) => report(given, opts).criticalPath;

describe("executionReport: critical path", () => {
  it("in a diamond, takes the longest remaining chain and sums its estimates", () => {
    // a → (b, c) → d; b runs (backend median 10 s, 4 s in), c (frontend) by the given medians, d (qa) by the overall median
    const diamond = view([
      done("a", 10),
      task("b", { dependsOn: ["a"], state: "running", attempt: 1, startedAt: ago(4), workerId: "w1" }),
      task("c", { dependsOn: ["a"], role: "frontend" }),
      task("d", { dependsOn: ["b", "c"], role: "qa" }),
    ]);
    const path = pathOf(diamond, { roleMedians: { frontend: 30_000, backend: 99_000 } });
    expect(path.steps.map((step) => [step.taskId, step.basis, step.remainingMs])).toEqual([["c", "median", 30_000], ["d", "overall-median", 10_000]]);
    expect(path.remainingMs).toBe(40_000);
    expect(path.eta).toBe(new Date(NOW + 40_000).toISOString());
    // without the given medians c has no estimate of its own: the overall median stands in, and b's branch is as long
    const alone = pathOf(diamond);
    expect(alone.remainingMs).toBe(20_000);
    expect(alone.steps.map((step) => step.taskId)).toEqual(["c", "d"]);
  });

  it("estimates by basis: running (never below 0), the feature's own median first, unknown with nothing finished", () => {
    const running = pathOf(view([done("a", 10), task("b", { state: "verifying", startedAt: ago(25), attempt: 1 })]));
    expect(running.steps).toMatchObject([{ taskId: "b", basis: "running", remainingMs: 0 }]);
    const own = pathOf(view([done("a", 10), done("a2", 20), done("a3", 60), task("b")]), { roleMedians: { backend: 1_000 } });
    expect(own.steps).toMatchObject([{ taskId: "b", basis: "median", remainingMs: 20_000 }]);
    const unknown = pathOf(view([task("a"), task("b", { dependsOn: ["a"] })]));
    expect(unknown.steps.map((step) => [step.taskId, step.basis, step.remainingMs])).toEqual([["a", "unknown", null], ["b", "unknown", null]]);
    expect(unknown.remainingMs).toBeNull();
    expect(unknown.eta).toBeUndefined();
  });

  it("a task being fixed waits for its fix task; an ended feature has nothing left", () => {
    const fixing = view([done("a", 10), task("b", { state: "fixing", startedAt: ago(100), attempt: 1 }), task("b-fix-1", { fixes: "b", state: "running", startedAt: ago(2), attempt: 1 })]);
    expect(pathOf(fixing).steps.map((step) => step.taskId)).toEqual(["b-fix-1", "b"]);
    expect(pathOf({ ...fixing, state: "failed" })).toEqual({ steps: [], remainingMs: 0 });
  });

  it("time left is never below all remaining work spread over maxParallel places", () => {
    // five independent 10 s tasks (the feature's own median) and two places: the path says 10 s, the places 25 s
    const wide = view([done("a", 10), ...["b", "c", "d", "e", "f"].map((id) => task(id))], { maxParallel: 2 });
    const path = pathOf(wide);
    expect(path.pathMs).toBe(10_000);
    expect(path.remainingMs).toBe(25_000);
    expect(path.boundBy).toBe("parallel");
    expect(path.eta).toBe(new Date(NOW + 25_000).toISOString());
    // with places for all of them the chain decides
    const roomy = pathOf({ ...wide, maxParallel: 8 });
    expect([roomy.remainingMs, roomy.boundBy]).toEqual([10_000, undefined]);
  });

  it("roleMedians: the median of completed tasks per role over many features", () => {
    const one = view([done("a", 10), done("b", 30, { role: "qa" }), task("c", { role: "docs" })]);
    const two = view([done("a", 20), done("b", 40), done("c", 1, { role: "qa" })]);
    expect(roleMedians([one, two])).toEqual({ backend: 20_000, qa: 15_500 });
  });
});

describe("executionReport: blockers", () => {
  const kinds = (given: FeatureView, opts = {}) => report(given, opts).blockers.map((blocker) => [blocker.kind, blocker.taskIds, blocker.detail]);

  it("an open question, with the command that answers it", () => {
    const asking = view([task("api", { state: "asking", questionId: "q1", attempt: 1 })], {
      questions: [{ questionId: "q1", taskId: "api", question: "Max title length?\nin characters", askedAt: ago(60), state: "open" } as never],
    });
    const [blocker] = report(asking).blockers;
    expect(blocker).toMatchObject({ kind: "question", taskIds: ["api"], since: ago(60) });
    expect(blocker!.detail).toBe('question q1 (task api): "Max title length?" — baton answer f q1 "…"');
  });

  it("a plan awaiting approval, holding every task", () => {
    expect(kinds(view([task("a"), task("b")], { state: "awaitingApproval" })))
      .toEqual([["approval", ["a", "b"], "the plan (2 tasks) awaits approval — baton approve f (or baton reject f --reason …)"]]);
  });

  it("a file-scope lock names the tasks holding it", () => {
    const locked = view([
      task("a", { state: "running", locked: true, files: ["src/todo.ts"], startedAt: ago(5), attempt: 1 }),
      task("b", { locked: true, files: ["src/todo.ts"] }),
      task("c", { locked: true, files: ["docs/x.md"] }),
    ]);
    expect(kinds(locked)).toEqual([["lock", ["b"], expect.stringContaining("overlap those of a")]]);
  });

  it("a budget pause, with the commands that raise the limit and resume", () => {
    const paused = view([done("a", 10), task("b", { dependsOn: ["a"] })], { state: "paused", paused: { at: ago(30), reason: "budget: tokens 10234 of 10000" } });
    const [blocker] = report(paused).blockers;
    expect(blocker).toMatchObject({ kind: "budget", taskIds: ["b"], since: ago(30) });
    expect(blocker!.detail).toContain("baton budget f --tokens N");
    expect(blocker!.detail).toContain("then baton resume f");
    const byHand = report({ ...paused, paused: { at: ago(30), reason: "deploy freeze", by: "alice" } }).blockers;
    expect(byHand.map((entry) => [entry.kind, entry.detail])).toEqual([["paused", "paused by alice: deploy freeze — baton resume f"]]);
  });

  it("a role with no live worker, grouped per role; a task merely queued is no blocker", () => {
    const queued = view([task("a", { role: "docs", state: "dispatched", attempt: 1 }), task("b", { role: "docs", state: "dispatched", attempt: 1 })]);
    expect(kinds(queued, { liveWorkers: { docs: 0 } })).toEqual([["worker", ["a", "b"], "no live docs worker for a — start one: baton worker --role docs"]]);
    expect(kinds(queued, { liveWorkers: { backend: 3 } })).toHaveLength(1);
    expect(kinds(queued, { liveWorkers: { docs: 1 } })).toEqual([]);
    expect(kinds(queued)).toEqual([]);
    const unserved = view([task("a", { state: "dispatched", attempt: 1, unserved: { at: ago(60), role: "backend", liveWorkers: 2, remedy: "check the backend workers' logs" } })]);
    expect(kinds(unserved)).toEqual([["worker", ["a"], "2 live backend workers, none took a yet — check the backend workers' logs"]]);
  });

  it("nothing blocks an ended feature", () => {
    expect(report(view([task("a", { state: "cancelled" })], { state: "cancelled", paused: { at: ago(1) } })).blockers).toEqual([]);
  });
});

describe("executionReport: gates, progress, streams, agents", () => {
  const gate = (name: string, passed: boolean) => ({ name, passed, at: ago(1), ...(passed ? {} : { reason: "2 tests failed" }) });

  it("counts gates per level: tasks, streams, feature", () => {
    const gates = report(view([
      done("a", 10, { gateResults: [gate("unit", true), gate("lint", false)] }),
      done("api-gates", 5, { streamGate: true, stream: "api", gateResults: [gate("unit", true)] }),
    ], { gateResults: [gate("e2e", false)] })).gates;
    expect(gates.map((level) => [level.level, level.passed, level.failed])).toEqual([["task", 1, 1], ["stream", 1, 0], ["feature", 0, 1]]);
    expect(gates[0]!.runs[1]).toMatchObject({ name: "lint", taskId: "a", passed: false, reason: "2 tests failed" });
    expect(gates[2]!.runs[0]!.taskId).toBeUndefined();
  });

  it("percent is rounded down and 100 only when all completed; streams carry theirs", () => {
    const tasks = [
      done("a", 1, { stream: "api" }), task("b", { stream: "api", state: "running", startedAt: ago(3), attempt: 1, workerId: "w9" }),
      task("c", { stream: "ui", role: "frontend", state: "dispatched", dispatchedAt: ago(2), attempt: 1 }),
    ];
    const partial = report(view(tasks));
    expect(partial.progress).toEqual({ total: 3, completed: 1, failed: 0, cancelled: 0, running: 1, waiting: 1, percent: 33 });
    expect(partial.streams).toEqual([
      { name: "api", tasks: 2, completed: 1, state: "running", percent: 50 },
      { name: "ui", tasks: 1, completed: 0, state: "running", percent: 0 },
    ]);
    expect(partial.agents).toEqual({
      active: 2, byRole: { backend: 1, frontend: 1 },
      tasks: [{ taskId: "b", role: "backend", workerId: "w9", since: ago(3) }, { taskId: "c", role: "frontend", since: ago(2) }],
    });
    expect(partial.elapsedMs).toBe(600_000);
    const almost = Array.from({ length: 199 }, (_, index) => done(`t${index}`, 1)).concat(task("last"));
    expect(report(view(almost)).progress.percent).toBe(99);
    expect(report(view([done("a", 1)], { state: "completed", durationMs: 1234 }))).toMatchObject({ progress: { percent: 100 }, elapsedMs: 1234 });
  });
});
