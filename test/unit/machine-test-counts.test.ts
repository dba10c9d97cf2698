// Test counts never shrink (domain/test-counts.ts): a feature's test gates are measured once before any task
// runs (the base), each pass is remembered (the last pass), and a run with fewer tests than those fails —
// unless its task may remove tests. A baseline never fails the feature; the history shows both counts.
import { describe, expect, it } from "vitest";
import { stripVTControlCharacters } from "node:util";
import { renderEvent } from "../../services/cli/render.ts";
import { BASELINE_TASK_ID, projectView } from "../../services/coordinator/domain/index.ts";
import { emptyView, foldEvent } from "../../shared/client/index.ts";
import type { FeatureRequest, GateReport, StatusEvent, TaskResult } from "../../shared/protocol/index.ts";
import { FeatureHarness } from "../helpers/feature-harness.ts";

const tests = (passed: number, failed = 0, skipped = 0) => ({ runner: "vitest", passed, failed, skipped, total: passed + failed + skipped });
const FEWER = "tests were removed or skipped — a task may remove tests only with `allowTestRemoval: true`";

/** Submits as a coordinator whose config says `testGates` count tests. */
function submit(c: FeatureHarness, req: Record<string, unknown>, testGates: string[] = ["unit"]) {
  return c.send({ type: "feature.submit", request: { ...req, id: c.featureId } as FeatureRequest, at: c.now(), defaults: { taskTimeoutSeconds: 3600, testGates } });
}
/** The qa worker's answer to the baseline run of `gate`. */
const baseline = (c: FeatureHarness, gate: string, passed: boolean, extra: Partial<GateReport> = {}) => c.gate(gate, passed, extra, BASELINE_TASK_ID);
/** A baseline run the qa worker could not run at all (no report). */
function baselineUnrun(c: FeatureHarness, gate: string) {
  const a = c.latest((x) => x.taskId === BASELINE_TASK_ID && x.gate?.name === gate);
  const msg: TaskResult = {
    type: "baton.v1.task_result", featureId: a.featureId, taskId: a.taskId, attempt: a.attempt, role: a.role, workerId: "w-qa", outcome: "failed",
    startedAt: a.dispatchedAt, finishedAt: c.now(), gate: a.gate, error: { name: "UnknownGate", code: "UNKNOWN_GATE", message: `gate "${gate}" is not configured on this worker` },
  };
  return c.send({ type: "task.result", at: c.now(), msg });
}
const gateEvents = (c: FeatureHarness) => c.events.filter((e): e is Extract<StatusEvent, { kind: "gate.passed" | "gate.failed" }> => e.kind === "gate.passed" || e.kind === "gate.failed");
const dispatchedTasks = (c: FeatureHarness) => c.assigned.filter((a) => !a.gate).map((a) => a.taskId);

describe("the baseline", () => {
  it("runs each test gate the feature names once on qa, one after another, before any task; non-test gates are not run", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", gates: ["e2e"], tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit", "lint"] }, { id: "ui", role: "frontend", title: "ui" }] }, ["unit", "e2e"]);
    expect(c.assigned).toHaveLength(1);
    expect(c.assigned[0]).toMatchObject({ role: "qa", taskId: BASELINE_TASK_ID, gate: { name: "unit", scope: "baseline", run: 1 } });
    expect(c.published.find((e) => e.to === "task")!.msgId).toBe("feat.bgate.unit.1");

    baseline(c, "unit", true, { tests: tests(99) });
    expect(c.assigned.map((a) => a.gate?.name)).toEqual(["unit", "e2e"]);
    expect(dispatchedTasks(c)).toEqual([]);

    const r = baseline(c, "e2e", true, { tests: tests(12, 0, 3) });
    expect(dispatchedTasks(c)).toEqual(["api"]); // maxParallel 1: the first task, now that the baselines are in
    expect(r.context.testCounts).toEqual({ unit: { base: 99 }, e2e: { base: 12 } });
    expect(gateEvents(c).map((e) => [e.kind, e.scope, e.gate, e.baseTests])).toEqual([["gate.passed", "baseline", "unit", 99], ["gate.passed", "baseline", "e2e", 12]]);
    expect(c.kinds.indexOf("task.dispatched")).toBeGreaterThan(c.kinds.lastIndexOf("gate.passed"));
  });

  it("never fails the feature: a failing command, zero tests and an unrunnable gate are recorded as they are (the last as no base)", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit", "smoke", "e2e"] }] }, ["unit", "smoke", "e2e"]);
    baseline(c, "unit", false, { reason: "exit 1: 1 of 30 tests failed", tests: tests(29, 1) });
    baseline(c, "smoke", false, { reason: "exit 0 but no tests ran (0 of 0)", exitCode: 0, tests: tests(0) });
    const r = baselineUnrun(c, "e2e");
    expect(r.state).toBe("executing");
    expect(r.context.testCounts).toEqual({ unit: { base: 30 }, smoke: { base: 0 }, e2e: { base: undefined } });
    expect(gateEvents(c).map((e) => [e.kind, e.gate, e.baseTests, e.reason])).toEqual([
      ["gate.failed", "unit", 30, "exit 1: 1 of 30 tests failed"],
      ["gate.failed", "smoke", 0, "exit 0 but no tests ran (0 of 0)"],
      ["gate.failed", "e2e", undefined, 'gate "e2e" is not configured on this worker'],
    ]);
    expect(dispatchedTasks(c)).toEqual(["api"]);
    expect(c.kinds).not.toContain("feature.failed");
  });

  it("a duplicate or stale baseline result changes nothing; a feature without test gates (or a coordinator that names none) has no baseline", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }] });
    baseline(c, "unit", true, { tests: tests(5) });
    const before = c.events.length;
    baseline(c, "unit", true, { tests: tests(1) }); // redelivered
    expect(c.events.length).toBe(before);
    expect(c.last.context.testCounts).toEqual({ unit: { base: 5 } });

    const plain = new FeatureHarness();
    plain.submit({ title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }] });
    expect(dispatchedTasks(plain)).toEqual(["api"]);
    expect(plain.last.context.baseline).toBeUndefined();
  });

  it("a pause while the baselines run holds the tasks until resumed", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }] });
    c.send({ type: "feature.pause", at: c.now() });
    baseline(c, "unit", true, { tests: tests(5) });
    expect(dispatchedTasks(c)).toEqual([]);
    c.send({ type: "feature.resume", at: c.now() });
    expect(dispatchedTasks(c)).toEqual(["api"]);
  });
});

describe("fewer tests than before", () => {
  it("a task whose gate passes with fewer tests than the base fails, and the event names both counts", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }] });
    baseline(c, "unit", true, { tests: tests(99) });
    c.work("api");
    const r = c.gate("unit", true, { tests: tests(2) }, "api");
    expect(r.state).toBe("failed");
    const reason = `exit 0: 2 tests ran, fewer than before (99 at the feature's start, no pass yet): ${FEWER}`;
    expect(gateEvents(c).at(-1)).toMatchObject({ kind: "gate.failed", scope: "task", taskId: "api", reason, baseTests: 99, tests: { passed: 2 } });
    expect(gateEvents(c).at(-1)!.lastPassTests).toBeUndefined();
    expect(r.context.tasks.api!.error).toMatchObject({ code: "GATE_FAILED", message: `gate "unit" failed: ${reason}` });
  });

  it("the last pass binds too: after a pass with 105 tests, a later task's run with 100 (more than the base of 99) fails", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", tasks: [{ id: "a", role: "backend", title: "a", gates: ["unit"] }, { id: "b", role: "backend", title: "b", dependsOn: ["a"], gates: ["unit"] }] });
    baseline(c, "unit", true, { tests: tests(99) });
    c.work("a");
    expect(c.gate("unit", true, { tests: tests(104, 0, 1) }, "a").context.testCounts).toEqual({ unit: { base: 99, lastPass: 104 } });
    expect(gateEvents(c).at(-1)).toMatchObject({ kind: "gate.passed", baseTests: 99 });
    c.work("b");
    const r = c.gate("unit", true, { tests: tests(100) }, "b");
    expect(r.state).toBe("failed");
    expect(gateEvents(c).at(-1)).toMatchObject({
      kind: "gate.failed", taskId: "b", baseTests: 99, lastPassTests: 104,
      reason: `exit 0: 100 tests ran, fewer than before (99 at the feature's start, 104 at its last pass): ${FEWER}`,
    });
  });

  it("skipping tests counts as running fewer (only passed and failed ones ran)", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }] });
    baseline(c, "unit", true, { tests: tests(10) });
    c.work("api");
    expect(c.gate("unit", true, { tests: tests(8, 0, 2) }, "api").state).toBe("failed");
  });

  it("a fix round that restores the tests passes the gate", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"], onFailure: { fix: { maxRounds: 1, role: "bugfix" }, then: "fail" } }] });
    baseline(c, "unit", true, { tests: tests(20) });
    c.work("api");
    c.gate("unit", true, { tests: tests(3) }, "api");
    expect(c.kinds).toContain("task.fixing");
    c.work("api-fix-1");
    const r = c.gate("unit", true, { tests: tests(21) }, "api");
    expect(r.context.tasks.api!.status).toBe("completed");
    expect(r.context.testCounts).toEqual({ unit: { base: 20, lastPass: 21 } });
  });

  it("allowTestRemoval: the task passes with fewer tests, and its count is the last pass later gates are held to (a feature gate too)", () => {
    const c = new FeatureHarness();
    submit(c, {
      title: "t", gates: ["unit"],
      tasks: [{ id: "prune", role: "backend", title: "drop dead code", gates: ["unit"], allowTestRemoval: true }, { id: "b", role: "backend", title: "b", dependsOn: ["prune"], gates: ["unit"] }],
    });
    baseline(c, "unit", true, { tests: tests(99) });
    c.work("prune");
    let r = c.gate("unit", true, { tests: tests(2) }, "prune");
    expect(r.context.tasks.prune!.status).toBe("completed");
    expect(gateEvents(c).at(-1)).toMatchObject({ kind: "gate.passed", taskId: "prune", baseTests: 99, tests: { passed: 2 } });
    expect(r.context.testCounts).toEqual({ unit: { base: 99, lastPass: 2 } });
    c.work("b");
    r = c.gate("unit", true, { tests: tests(2) }, "b");
    expect(r.context.tasks.b!.status).toBe("completed");
    r = c.gate("unit", true, { tests: tests(2) }, "feature-gates");
    expect(r.state).toBe("completed");
    expect(gateEvents(c).at(-1)).toMatchObject({ scope: "feature", baseTests: 99, lastPassTests: 2 });
  });

  it("a feature gate with fewer tests than the last pass fails the feature", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", gates: ["unit"], tasks: [{ id: "a", role: "backend", title: "a", gates: ["unit"] }] });
    baseline(c, "unit", true, { tests: tests(10) });
    c.work("a");
    c.gate("unit", true, { tests: tests(12) }, "a");
    const r = c.gate("unit", true, { tests: tests(11) }, "feature-gates");
    expect(r.state).toBe("failed");
    expect(r.context.reason).toBe(`feature gate "unit" failed: exit 0: 11 tests ran, fewer than before (10 at the feature's start, 12 at its last pass): ${FEWER}`);
  });

  it("TDD: a red phase with fewer tests than the base fails (red adds tests); one with more is green's floor", () => {
    const shrunk = new FeatureHarness();
    submit(shrunk, { title: "t", tasks: [{ id: "add", role: "backend", title: "add()", tdd: { gate: "unit" } }] });
    baseline(shrunk, "unit", true, { tests: tests(10) });
    shrunk.work("add-red");
    const r = shrunk.gate("unit", true, { expect: "fail", exitCode: 1, tests: tests(2, 1) }, "add-red");
    expect(r.state).toBe("failed");
    expect(r.context.tasks["add-red"]!.error!.message).toBe(`gate "unit" failed: exit 1: 3 tests ran, fewer than before (10 at the feature's start, no pass yet): ${FEWER}`);

    const c = new FeatureHarness();
    submit(c, { title: "t", tasks: [{ id: "add", role: "backend", title: "add()", tdd: { gate: "unit" } }] });
    baseline(c, "unit", true, { tests: tests(10) });
    c.work("add-red");
    c.gate("unit", true, { expect: "fail", exitCode: 1, tests: tests(10, 2) }, "add-red");
    c.work("add");
    expect(c.gate("unit", true, { tests: tests(11) }, "add").context.tasks.add!.status).toBe("failed");
    expect(gateEvents(c).at(-1)).toMatchObject({ baseTests: 10, lastPassTests: 12 });
  });

  it("without a base (unreadable) and before any pass, no count is enforced", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }] });
    baseline(c, "unit", false, { reason: "exit 0 but no vitest summary found" });
    c.work("api");
    expect(c.gate("unit", true, { tests: tests(1) }, "api").state).toBe("completed");
  });
});

describe("the history and the read model", () => {
  it("the read model equals the folded history, baseline events included", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", gates: ["unit"], tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }] });
    baseline(c, "unit", true, { tests: tests(4) });
    c.work("api");
    c.gate("unit", true, { tests: tests(4) }, "api");
    const r = c.gate("unit", true, { tests: tests(3) }, "feature-gates");
    expect(r.state).toBe("failed");
    const folded = emptyView(c.featureId);
    for (const e of c.events) foldEvent(folded, e);
    const projected = projectView(r.state, r.context);
    const strip = (v: unknown) => JSON.parse(JSON.stringify(v, (k, val: unknown) => (["acceptedAt", "finishedAt", "durationMs", "dispatchedAt", "startedAt", "at"].includes(k) && val !== undefined ? true : val)));
    expect(strip(projected)).toEqual(strip(folded));
    expect(projected.tasks.map((t) => t.id)).toEqual(["api"]); // a baseline is no task
  });

  it("watch shows a baseline as what it recorded, and a gate's counts before it beside its tests", () => {
    const c = new FeatureHarness();
    submit(c, { title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }] });
    baseline(c, "unit", true, { tests: tests(99) });
    c.work("api");
    c.gate("unit", true, { tests: tests(2) }, "api");
    const [base, shrunk] = gateEvents(c).map((e) => stripVTControlCharacters(renderEvent(e, "0/1")));
    expect(base).toMatch(/ baseline +unit [\d.]+s, exit 0 — base 99 tests$/);
    expect(shrunk!.split("\n")[0]).toMatch(/gate failed unit for api .* — 2\/2 tests passed \(base 99\): exit 0: 2 tests ran, fewer than before/);
  });
});
