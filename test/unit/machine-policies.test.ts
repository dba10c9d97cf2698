// Failure policies in the pure feature machine: retry (a new attempt after a growing backoff, a timer
// being data), fix rounds (a task for the fix role with the gate's output, then the gate again), and what
// happens when both are used up (fail, or escalate: a question to a person).
import { describe, expect, it } from "vitest";
import { nextDeadline } from "../../services/coordinator/domain/index.ts";
import { checkFeatureValue } from "../../shared/protocol/index.ts";
import { FeatureHarness as Coordinator, T0 } from "../helpers/feature-harness.ts";

const kinds = (c: Coordinator) => c.kinds;
/** The qa worker's answer to the latest gate run: passed, or 1 of 1 tests failed. */
const gateRun = (c: Coordinator, passed: boolean) =>
  c.gate(c.latest((x) => !!x.gate).gate!.name, passed, passed ? { outputTail: "# pass 1" } : { reason: "1 of 1 tests failed", outputTail: "not ok 1 - adds\n# fail 1" });

describe("retry", () => {
  it("a failed attempt is retried after the backoff (a timer in the data), then succeeds", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "a", role: "backend", title: "a", onFailure: { retry: { maxAttempts: 3, backoffSeconds: 10 } } }] });
    let r = c.work("a", "failed");
    expect(r.context.tasks.a).toMatchObject({ status: "retrying", attempt: 1 });
    const retrying = c.events.find((e) => e.kind === "task.retrying");
    expect(retrying).toMatchObject({ taskId: "a", attempt: 1, nextAttempt: 2, reason: "exited with code 2" });
    const retryAt = Date.parse((retrying as { retryAt: string }).retryAt);
    expect(retryAt - Date.parse(retrying!.at)).toBe(10_000);
    expect(nextDeadline(r.context)).toBe(new Date(retryAt).toISOString());
    r = c.timer(retryAt - 1);
    expect(r.context.tasks.a!.status).toBe("retrying");
    r = c.timer(retryAt);
    expect(c.latest((x) => x.taskId === "a").attempt).toBe(2);
    r = c.work("a", "failed");
    const second = c.events.filter((e) => e.kind === "task.retrying")[1]!;
    expect(Date.parse((second as { retryAt: string }).retryAt) - Date.parse(second.at)).toBe(20_000); // doubled
    c.timer(Date.parse((second as { retryAt: string }).retryAt));
    r = c.work("a");
    expect(r.state).toBe("completed");
    expect(kinds(c)).toEqual(["feature.accepted", "task.dispatched", "task.started", "task.retrying", "task.dispatched", "task.started", "task.retrying", "task.dispatched", "task.started", "task.completed", "feature.completed"]);
  });

  it("fails when the attempts are used up, with the last reason", () => {
    const c = new Coordinator();
    c.submit({ title: "t", onFailure: { retry: { maxAttempts: 2, backoffSeconds: 0 } }, tasks: [{ id: "a", role: "backend", title: "a" }] });
    c.work("a", "failed");
    c.timer(T0 + 3600_000);
    const r = c.work("a", "failed");
    expect(r.state).toBe("failed");
    expect(r.context.tasks.a).toMatchObject({ status: "failed", attempt: 2, error: { message: "exited with code 2" } });
  });

  it("a missed deadline goes through the policy too", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "a", role: "backend", title: "a", timeoutSeconds: 5, onFailure: { retry: { maxAttempts: 2, backoffSeconds: 1 } } }] });
    const a = c.latest((x) => x.taskId === "a");
    c.send({ type: "task.started", at: c.now(), msg: { type: "baton.v1.task_started", featureId: "feat", taskId: "a", attempt: 1, role: "backend", workerId: "w", delivery: 1, at: a.dispatchedAt } });
    const r = c.timer(T0 + 60_000);
    expect(r.context.tasks.a!.status).toBe("retrying");
    expect(c.events.find((e) => e.kind === "task.retrying")).toMatchObject({ reason: expect.stringContaining("no result within 5s") });
  });

  it("a retrying task holds its place under maxParallel", () => {
    const c = new Coordinator();
    c.submit({ title: "t", maxParallel: 1, tasks: [{ id: "a", role: "backend", title: "a", onFailure: { retry: { maxAttempts: 2, backoffSeconds: 5 } } }, { id: "b", role: "backend", title: "b" }] });
    c.work("a", "failed");
    expect(c.assigned.some((x) => x.taskId === "b")).toBe(false);
  });
});

describe("fix rounds", () => {
  const req = (maxRounds: number, extra: Record<string, unknown> = {}) => ({
    title: "t",
    tasks: [
      { id: "api", role: "backend", title: "api", instructions: "make add() work", gates: ["unit"], onFailure: { fix: { maxRounds }, ...extra } },
      { id: "ui", role: "frontend", title: "ui", dependsOn: ["api"] },
    ],
  });

  it("a failed gate starts a fix task for bugfix with the gate's output; when it completes the gate runs again; passing completes the task", () => {
    const c = new Coordinator();
    c.submit(req(2));
    c.work("api");
    let r = gateRun(c, false);
    expect(r.context.tasks.api!.status).toBe("fixing");
    const fixing = c.events.find((e) => e.kind === "task.fixing");
    expect(fixing).toMatchObject({ taskId: "api", gate: "unit", round: 1, fixTaskId: "api-fix-1", fixRole: "bugfix", reason: "1 of 1 tests failed" });
    const fix = c.latest((x) => x.taskId === "api-fix-1");
    expect(fix.role).toBe("bugfix");
    expect(fix.instructions).toContain('The gate "unit" failed for task "api"');
    expect(fix.instructions).toContain("not ok 1 - adds");
    expect(fix.instructions).toContain("make add() work");
    r = c.work("api-fix-1");
    expect(r.context.tasks.api!.status).toBe("verifying");
    expect(c.latest((x) => !!x.gate).gate).toEqual({ name: "unit", scope: "task", run: 2 });
    r = gateRun(c, true);
    expect(r.context.tasks.api!.status).toBe("completed");
    expect(c.assigned.some((x) => x.taskId === "ui")).toBe(true);
    expect(kinds(c).slice(3)).toEqual(["task.verifying", "gate.failed", "task.fixing", "task.dispatched", "task.started", "task.completed", "task.verifying", "gate.passed", "task.completed", "task.dispatched"]);
  });

  it("when the rounds are used up the task fails, saying how many rounds it had", () => {
    const c = new Coordinator();
    c.submit(req(1));
    c.work("api");
    gateRun(c, false);
    c.work("api-fix-1");
    const r = gateRun(c, false);
    expect(r.state).toBe("failed");
    expect(r.context.tasks.api).toMatchObject({ status: "failed", error: { code: "GATE_FAILED", message: 'gate "unit" failed (after 1 fix round): 1 of 1 tests failed' } });
  });

  it("fix rounds used up, then retry: the task's work runs again as a new attempt, gates from the start", () => {
    const c = new Coordinator();
    c.submit(req(1, { retry: { maxAttempts: 2, backoffSeconds: 0 } }));
    c.work("api");
    gateRun(c, false);
    c.work("api-fix-1");
    let r = gateRun(c, false);
    expect(r.context.tasks.api!.status).toBe("retrying");
    r = c.timer(T0 + 3600_000);
    expect(c.latest((x) => x.taskId === "api" && !x.gate).attempt).toBe(2);
    c.work("api");
    expect(c.latest((x) => !!x.gate)).toMatchObject({ attempt: 2, gate: { name: "unit", run: 1 } });
    r = gateRun(c, true);
    expect(r.context.tasks.api!.status).toBe("completed");
  });

  it("a fix task that fails fails the task it was fixing, and the feature", () => {
    const c = new Coordinator();
    c.submit(req(2));
    c.work("api");
    gateRun(c, false);
    const r = c.work("api-fix-1", "failed");
    expect(r.state).toBe("failed");
    expect(r.context.tasks.api).toMatchObject({ status: "failed", error: { code: "FIX_FAILED" } });
  });

  it("`escalate` asks a person instead of failing (machine-planning.test.ts follows the answers)", () => {
    const c = new Coordinator();
    c.submit({ title: "t", tasks: [{ id: "a", role: "backend", title: "a", onFailure: { then: "escalate" } }] });
    const r = c.work("a", "failed");
    expect(r.state).toBe("executing");
    expect(r.context.tasks.a).toMatchObject({ status: "asking", question: "q1", error: { code: "EXIT_CODE" } });
    expect(c.events.at(-1)).toMatchObject({ kind: "question.asked", about: "escalation", taskId: "a" });
  });

  it("the feature's fix policy covers its own gates", () => {
    const c = new Coordinator();
    c.submit({ title: "t", gates: ["coverage"], onFailure: { fix: { maxRounds: 1 } }, tasks: [{ id: "a", role: "backend", title: "a" }] });
    c.work("a");
    let r = gateRun(c, false);
    expect(r.state).toBe("verifying");
    expect(c.events.find((e) => e.kind === "task.fixing")).toMatchObject({ fixTaskId: "feature-fix-1", gate: "coverage" });
    expect(c.events.find((e) => e.kind === "task.fixing")).toMatchObject({ taskId: undefined });
    r = c.work("feature-fix-1");
    expect(c.latest((x) => !!x.gate).gate).toEqual({ name: "coverage", scope: "feature", run: 2 });
    r = gateRun(c, true);
    expect(r.state).toBe("completed");
  });
});

describe("policies at submission", () => {
  it("a fix role the coordinator does not know is rejected", () => {
    const r = checkFeatureValue({ title: "t", tasks: [{ id: "a", role: "backend", title: "a", onFailure: { fix: { maxRounds: 1, role: "fixer" } } }] }, { roles: ["backend", "bugfix"] });
    expect(!r.ok && r.errors).toEqual([{ path: "tasks[0].onFailure.fix.role", message: 'fix tasks (tasks[0].onFailure.fix) run on role "fixer", which the configuration does not define (known roles: backend, bugfix); add it under `roles:` or `knownRoles:`' }]);
  });
  it("policies are validated: attempts and rounds bounded, `then` is fail or escalate", () => {
    const r = checkFeatureValue({ title: "t", onFailure: { retry: { maxAttempts: 0 }, fix: { maxRounds: 11 }, then: "ignore" }, tasks: [{ id: "a", role: "backend", title: "a" }] }, {});
    expect(!r.ok && r.errors.map((e) => e.path).sort()).toEqual(["onFailure.fix.maxRounds", "onFailure.retry.maxAttempts", "onFailure.then"]);
  });
});
