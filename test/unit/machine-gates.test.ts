// Quality gates in the pure feature machine: a task with gates is `verifying` after its work, each gate
// runs as a qa task message naming the gate (never its command), in order; only when all pass is the task
// completed and its dependents dispatched. Feature gates run once every task completed.
import { describe, expect, it } from "vitest";
import { FEATURE_GATES_TASK_ID } from "../../services/coordinator/domain/index.ts";
import { checkFeatureValue } from "../../shared/protocol/index.ts";
import { FeatureHarness as Coordinator } from "../helpers/feature-harness.ts";

const kinds = (c: Coordinator) => c.kinds;

describe("task gates", () => {
  it("a task with gates is verifying after its work; its gates run in order on qa; it completes and its dependent starts only when all pass", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit", "lint"] }, { id: "ui", role: "frontend", title: "ui", dependsOn: ["api"] }] });
    let r = c.work("api");
    expect(r.context.tasks.api!.status).toBe("verifying");
    const g1 = c.latest((x) => !!x.gate);
    // a gate run is a qa task message that names the gate — never a command
    expect(g1).toMatchObject({ role: "qa", taskId: "api", attempt: 1, gate: { name: "unit", scope: "task", run: 1 }, workspace: undefined });
    expect(JSON.stringify(g1)).not.toContain("npm");
    expect(c.assigned.some((x) => x.taskId === "ui")).toBe(false);

    r = c.gate("unit", true);
    expect(c.latest((x) => !!x.gate).gate).toEqual({ name: "lint", scope: "task", run: 2 });
    expect(r.context.tasks.api!.status).toBe("verifying");
    expect(c.assigned.some((x) => x.taskId === "ui")).toBe(false);

    r = c.gate("lint", true);
    expect(r.context.tasks.api!.status).toBe("completed");
    expect(c.assigned.some((x) => x.taskId === "ui")).toBe(true);
    expect(kinds(c)).toEqual([
      "feature.accepted", "task.dispatched", "task.started", "task.verifying", "gate.passed", "gate.passed", "task.completed", "task.dispatched",
    ]);
    const completed = c.events.find((e) => e.kind === "task.completed");
    expect(completed).toMatchObject({ taskId: "api", workerId: "w-backend", summary: "did it" });
    const passed = c.events.find((e) => e.kind === "gate.passed");
    expect(passed).toMatchObject({ gate: "unit", scope: "task", taskId: "api", attempt: 1, workerId: "w-qa", command: ["npm", "test"], exitCode: 0 });
  });

  it("a failing gate fails the task with the gate's reason and output, and the feature with it", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }, { id: "ui", role: "frontend", title: "ui", dependsOn: ["api"] }] });
    c.work("api");
    const r = c.gate("unit", false, { reason: "1 of 3 tests failed", tests: { runner: "node-test", passed: 2, failed: 1, skipped: 0, total: 3 }, outputTail: "not ok 3 - adds" });
    expect(r.state).toBe("failed");
    expect(r.context.tasks.api).toMatchObject({ status: "failed", error: { code: "GATE_FAILED", message: 'gate "unit" failed: 1 of 3 tests failed' } });
    const failed = c.events.find((e) => e.kind === "gate.failed");
    expect(failed).toMatchObject({ gate: "unit", reason: "1 of 3 tests failed", outputTail: "not ok 3 - adds", tests: { failed: 1, total: 3 } });
    expect(c.events.at(-1)).toMatchObject({ kind: "feature.failed", reason: 'task "api" (backend) failed: gate "unit" failed: 1 of 3 tests failed' });
    expect(c.assigned.some((x) => x.taskId === "ui")).toBe(false);
  });

  it("a gate run without a report (its qa worker failed) counts as failed, with the worker's error", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }] });
    c.work("api");
    const a = c.latest((x) => !!x.gate);
    const r = c.send({ type: "task.result", at: c.now(), msg: { ...{ type: "baton.v1.task_result" as const, featureId: a.featureId, taskId: a.taskId, attempt: a.attempt, role: a.role, workerId: "w-qa", outcome: "failed" as const, startedAt: a.dispatchedAt, finishedAt: c.now() }, gate: a.gate, error: { name: "NoExecutor", code: "UNKNOWN_GATE", message: 'gate "unit" is not configured on this worker' } } });
    expect(r.state).toBe("failed");
    expect(c.events.find((e) => e.kind === "gate.failed")).toMatchObject({ reason: 'gate "unit" is not configured on this worker' });
  });

  it("duplicate and stale gate results, and a repeated work result, change nothing", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit", "lint"] }] });
    c.work("api");
    c.gate("unit", true);
    const before = c.events.length;
    c.gate("unit", true); // the same run again (a redelivery): its run number is not the current one
    c.work("api"); // the work result again
    expect(c.events.length).toBe(before);
    expect(c.last.context.tasks.api!.status).toBe("verifying");
  });

  it("worker start and log messages of a gate run do not touch the task", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"] }] });
    c.work("api");
    const a = c.latest((x) => !!x.gate);
    const before = c.events.length;
    c.send({ type: "task.started", at: c.now(), msg: { type: "baton.v1.task_started", featureId: "feat", taskId: "api", attempt: 1, role: "qa", workerId: "w-qa", delivery: 1, at: c.now(), gate: a.gate } });
    expect(c.events.length).toBe(before);
    expect(c.last.context.tasks.api!.status).toBe("verifying");
  });

  it("a verifying task holds its place under maxParallel", () => {
    const c = new Coordinator();
    c.submit({ title: "t", maxParallel: 1, tasks: [{ id: "a", role: "backend", title: "a", gates: ["unit"] }, { id: "b", role: "backend", title: "b" }] });
    c.work("a");
    expect(c.assigned.some((x) => x.taskId === "b")).toBe(false);
    c.gate("unit", true);
    expect(c.assigned.some((x) => x.taskId === "b")).toBe(true);
  });

  it("cancel while verifying cancels the task", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "a", role: "backend", title: "a", gates: ["unit"] }] });
    c.work("a");
    const r = c.send({ type: "feature.cancel", at: c.now() });
    expect(r.state).toBe("cancelled");
    expect(r.context.tasks.a!.status).toBe("cancelled");
  });
});

describe("feature gates", () => {
  it("run in order once every task completed; the feature completes when all pass", () => {
    const c = new Coordinator();
    c.submit({ title: "t", gates: ["unit", "coverage"], tasks: [{ id: "a", role: "backend", title: "a" }] });
    let r = c.work("a");
    expect(r.state).toBe("verifying");
    const g = c.latest((x) => !!x.gate);
    expect(g).toMatchObject({ role: "qa", taskId: FEATURE_GATES_TASK_ID, gate: { name: "unit", scope: "feature", run: 1 } });
    r = c.gate("unit", true);
    expect(r.state).toBe("verifying");
    r = c.gate("coverage", true, { coverage: { file: "coverage/coverage-summary.json", metric: "lines", pct: 91.5, min: 80 } });
    expect(r.state).toBe("completed");
    expect(kinds(c).slice(-5)).toEqual(["task.completed", "feature.verifying", "gate.passed", "gate.passed", "feature.completed"]);
    expect(c.events.find((e) => e.kind === "gate.passed" && e.gate === "coverage")).toMatchObject({ scope: "feature", coverage: { pct: 91.5 } });
    expect(c.events.find((e) => e.kind === "gate.passed" && e.scope === "feature")).toMatchObject({ taskId: undefined });
  });

  it("a failing feature gate fails the feature with the gate's reason", () => {
    const c = new Coordinator();
    c.submit({ title: "t", gates: ["coverage"], tasks: [{ id: "a", role: "backend", title: "a" }] });
    c.work("a");
    const r = c.gate("coverage", false, { reason: "coverage 71.0% (lines) is under the minimum 80%" });
    expect(r.state).toBe("failed");
    expect(c.events.at(-1)).toMatchObject({ kind: "feature.failed", reason: 'feature gate "coverage" failed: coverage 71.0% (lines) is under the minimum 80%' });
  });

  it("a feature without gates completes as before", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "a", role: "backend", title: "a" }] });
    expect(c.work("a").state).toBe("completed");
  });
});

describe("test-driven tasks", () => {
  it("run as red (qa writes tests; the gate must fail), green (the task's role; must pass), refactor (must pass with the refactor gates); dependents wait for refactor", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [
      { id: "add", role: "backend", title: "add()", instructions: "add two numbers", gates: ["lint"], tdd: { gate: "unit" } },
      { id: "docs", role: "docs", title: "docs", dependsOn: ["add"] },
    ] });
    const accepted = c.events[0]!;
    expect(accepted.kind === "feature.accepted" && accepted.tasks.map((t) => [t.id, t.role, t.dependsOn])).toEqual([
      ["add-red", "qa", []], ["add", "backend", ["add-red"]], ["add-refactor", "backend", ["add"]], ["docs", "docs", ["add-refactor"]],
    ]);
    const red = c.latest((x) => x.taskId === "add-red");
    expect(red.role).toBe("qa");
    expect(red.instructions).toMatch(/red phase: write the tests .* The gate "unit" must fail/s);
    expect(red.instructions).toContain("add two numbers");
    c.work("add-red");
    expect(c.latest((x) => !!x.gate).gate).toEqual({ name: "unit", scope: "task", run: 1, expect: "fail" });
    c.gate("unit", true, { expect: "fail", exitCode: 1 }, "add-red"); // the tests failed, as they must
    const green = c.latest((x) => x.taskId === "add" && !x.gate);
    expect(green).toMatchObject({ role: "backend", expectChanges: true });
    c.work("add");
    expect(c.latest((x) => !!x.gate).gate).toEqual({ name: "unit", scope: "task", run: 1 }); // expecting a pass now
    c.gate("unit", true, {}, "add");
    c.gate("lint", true, {}, "add");
    c.work("add-refactor");
    c.gate("unit", true, {}, "add-refactor");
    expect(c.assigned.some((x) => x.taskId === "docs")).toBe(false);
    c.gate("lint", true, {}, "add-refactor");
    expect(c.assigned.some((x) => x.taskId === "docs")).toBe(true);
  });

  it("a red phase whose tests pass fails the task: 'red phase did not fail'", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "add", role: "backend", title: "add()", tdd: { gate: "unit" }, onFailure: { fix: { maxRounds: 2, role: "bugfix" }, then: "fail" } }] });
    c.work("add-red");
    const r = c.gate("unit", false, { expect: "fail", exitCode: 0, reason: "the command passed but this gate expects it to fail (red phase did not fail)" }, "add-red");
    expect(r.state).toBe("failed"); // no fix round for a red phase
    expect(r.context.tasks["add-red"]!.error!.message).toContain("red phase did not fail");
    expect(c.assigned.some((x) => x.taskId === "add")).toBe(false);
  });

  it("phase ids never collide with the request's own ids", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "a-red", role: "qa", title: "x" }, { id: "a", role: "backend", title: "a", tdd: { gate: "unit" } }] });
    const accepted = c.events[0]!;
    expect(accepted.kind === "feature.accepted" && accepted.tasks.map((t) => t.id)).toEqual(["a-red", "a-red-2", "a", "a-refactor"]);
  });
});

describe("the review gate", () => {
  it("goes to the reviewer role with the task's handoff and the feature's start; changes requested go back to the author's role, twice by default", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "api", role: "backend", title: "api", instructions: "build it", gates: ["review"] }] });
    c.work("api");
    const r1 = c.latest((x) => !!x.gate);
    expect(r1).toMatchObject({ role: "reviewer", taskId: "api", gate: { name: "review", run: 1 }, instructions: "build it", handoffs: [{ taskId: "api", role: "backend", summary: "did it" }] });
    expect(r1.review!.since).toBe(c.events[0]!.at);
    const changes = { expect: "pass" as const, review: { verdict: "changes_requested" as const, comments: [{ file: "src/a.js", line: 3, message: "handle null" }] }, reason: "changes requested: handle null" };
    c.gate("review", false, changes);
    const fix = c.latest((x) => x.taskId === "api-fix-1");
    expect(fix.role).toBe("backend"); // the author's role, not bugfix
    expect(fix.instructions).toContain("- src/a.js:3: handle null");
    c.work("api-fix-1");
    c.gate("review", false, changes);
    c.work("api-fix-2");
    const r = c.gate("review", false, changes);
    expect(r.state).toBe("failed");
    expect(r.context.tasks.api!.error!.message).toBe('gate "review" failed (after 2 fix rounds): changes requested: handle null');
    expect(c.events.find((e) => e.kind === "gate.failed")).toMatchObject({ review: { verdict: "changes_requested" } });
  });

  it("needs no config: a request may name it whatever gates are configured", () => {
    expect(checkFeatureValue({ title: "t", gates: ["review"], tasks: [{ id: "a", role: "backend", title: "a", gates: ["review"] }] }, { gates: [] }).ok).toBe(true);
  });
});
