// Planning in the pure coordinator (issue 13): a planner's plan is checked and goes back with every error, a plan may
// wait for approval, a task may ask a person (only its dependents wait), a failure may be escalated to a question, a
// question may time out to its default, a budget stop becomes a question, and a stream's failed gate stops only that
// stream's dependents. The read model agrees with the folded history at every step.
import { describe, expect, it } from "vitest";
import { projectView, type FeatureDefaults, type Stepped } from "../../services/coordinator/domain/index.ts";
import type { PlannerKit } from "../../services/coordinator/domain/planning-state.ts";
import { emptyView, foldEvent } from "../../shared/client/index.ts";
import { catalogueTemplates, loadPlanningCatalogue } from "../../shared/planning/index.ts";
import { FeatureView, type FeatureRequest, type Question, type TaskResult } from "../../shared/protocol/index.ts";
import { FeatureHarness, T0 } from "../helpers/feature-harness.ts";

const TIMES = ["acceptedAt", "finishedAt", "durationMs", "dispatchedAt", "startedAt", "at", "retryAt", "askedAt", "answeredAt", "approvedAt", "rejectedAt", "timeoutAt"];
const READ_MODEL_ONLY = ["usage", "budget"];
const catalogue = loadPlanningCatalogue();
const KIT: PlannerKit = { templates: catalogueTemplates(catalogue), rules: catalogue.rules, gates: ["test"], maxAttempts: 2 };
const DEFAULTS: FeatureDefaults = { taskTimeoutSeconds: 3600, planner: KIT };

class PlanHarness extends FeatureHarness {
  submitWith(req: Record<string, unknown>, defaults: FeatureDefaults = DEFAULTS): Stepped {
    return this.send({ type: "feature.submit", request: { ...req, id: this.featureId } as FeatureRequest, at: this.now(), defaults });
  }
  result(taskId: string, extra: Partial<TaskResult>): Stepped {
    const a = this.latest((x) => x.taskId === taskId && !x.gate && !x.op);
    const msg: TaskResult = { type: "baton.v1.task_result", featureId: a.featureId, taskId, attempt: a.attempt, role: a.role, workerId: `w-${a.role}`, outcome: "completed", startedAt: a.dispatchedAt, finishedAt: this.now(), ...extra };
    return this.send({ type: "task.result", at: this.now(), msg });
  }
  answer(questionId: string, answer: string, by = "ana"): Stepped {
    return this.send({ type: "question.answer", questionId, answer, by, at: this.now(), subject: `control.${this.featureId}.answer` });
  }
  view(): FeatureView {
    const folded = emptyView(this.featureId);
    for (const e of this.events) foldEvent(folded, e);
    const projected = projectView(this.last.state, this.last.context);
    // usage and budgets are the read model's only (the history's fold leaves them out)
    const norm = (v: FeatureView) => JSON.parse(JSON.stringify(v, (k, val: unknown) => (READ_MODEL_ONLY.includes(k) ? undefined : TIMES.includes(k) && val !== undefined ? true : val)));
    expect(FeatureView.safeParse(JSON.parse(JSON.stringify(projected))).error).toBeUndefined();
    expect(norm(projected)).toEqual(norm(folded));
    return projected;
  }
  dispatchedIds(): string[] {
    return this.assigned.filter((a) => !a.gate && !a.op).map((a) => a.taskId);
  }
}

const GOOD_PLAN = {
  summary: "schema, then api, then backend",
  tasks: [
    { id: "schema", role: "database", title: "schema", kind: "schema" },
    { id: "spec", role: "api", title: "spec", kind: "endpoint", dependsOn: ["schema"] },
    { id: "impl", role: "backend", title: "impl", kind: "backend", dependsOn: ["spec"] },
    { id: "tests", role: "qa", title: "tests", kind: "tests", dependsOn: ["impl"] },
    { id: "review", role: "reviewer", title: "review", kind: "review", dependsOn: ["tests"] },
  ],
};

describe("plan: auto", () => {
  it("sends an invalid plan back with every error, then runs the valid one", () => {
    const c = new PlanHarness("p1");
    c.submitWith({ title: "Notifications", plan: "auto", goal: "notifications with real-time updates" });
    expect(c.last.state).toBe("planning");
    const first = c.latest((a) => a.taskId === "plan");
    expect(first.role).toBe("planner");
    expect(first.planning).toMatchObject({ goal: "notifications with real-time updates", attempt: 1, maxAttempts: 2 });
    expect(first.planning!.templates.map((t) => t.name)).toContain("api-first");
    expect(c.view().state).toBe("planning");
    c.result("plan", { plan: { tasks: [{ id: "a", role: "backend", title: "a", dependsOn: ["b"] }, { id: "b", role: "backend", title: "b", dependsOn: ["a"] }] } });
    const invalid = c.events.find((e) => e.kind === "plan.invalid");
    expect(invalid).toMatchObject({ attempt: 1, willRetry: true });
    const second = c.latest((a) => a.taskId === "plan");
    expect(second.attempt).toBe(2);
    expect(second.planning!.previous!.errors.length).toBeGreaterThan(0);
    expect(c.view().plan).toMatchObject({ source: "planner", invalid: 1 });
    c.result("plan", { plan: GOOD_PLAN });
    expect(c.kinds).toContain("plan.ready");
    expect(c.last.state).toBe("executing");
    expect(c.dispatchedIds()).toEqual(["plan", "plan", "schema"]);
    const view = c.view();
    expect(view.tasks.map((t) => t.id)).toEqual(["plan", "schema", "spec", "impl", "tests", "review"]);
    expect(view.plan).toMatchObject({ summary: "schema, then api, then backend" });
  });

  it("fails with every error once the attempts are used up", () => {
    const c = new PlanHarness("p2");
    c.submitWith({ title: "X", plan: "auto" });
    c.result("plan", { plan: { tasks: [] } });
    c.result("plan", { summary: "no plan at all" });
    expect(c.last.state).toBe("failed");
    const failed = c.events.find((e) => e.kind === "task.failed");
    expect(failed).toMatchObject({ taskId: "plan", error: { code: "PLAN_INVALID" } });
    expect(c.last.context.reason).toContain("no plan");
    c.view();
  });

  it("waits for approval, records who approved, then runs", () => {
    const c = new PlanHarness("p3");
    c.submitWith({ title: "X", plan: "auto", approval: "required" });
    c.result("plan", { plan: GOOD_PLAN });
    expect(c.last.state).toBe("awaitingApproval");
    expect(c.dispatchedIds()).toEqual(["plan"]);
    const waiting = c.view();
    expect(waiting.state).toBe("awaitingApproval");
    expect(waiting.tasks[1]!.waitingFor).toEqual({ kind: "approval" });
    c.send({ type: "plan.approve", by: "ana", at: c.now() });
    expect(c.last.state).toBe("executing");
    expect(c.dispatchedIds()).toEqual(["plan", "schema"]);
    expect(c.view().plan).toMatchObject({ approvedBy: "ana" });
  });

  it("a rejected plan cancels the feature", () => {
    const c = new PlanHarness("p4");
    c.submitWith({ title: "X", tasks: [{ id: "a", role: "backend", title: "a" }], approval: "required" });
    expect(c.last.state).toBe("awaitingApproval");
    expect(c.kinds).toContain("plan.ready");
    c.send({ type: "plan.reject", by: "bo", reason: "too big", at: c.now() });
    expect(c.last.state).toBe("cancelled");
    expect(c.kinds.slice(-2)).toEqual(["plan.rejected", "feature.cancelled"]);
    expect(c.view().plan).toMatchObject({ rejectedBy: "bo", rejectReason: "too big" });
    expect(c.dispatchedIds()).toEqual([]);
  });
});

const Q: Question = { question: "Paginate the list?", options: ["yes", "no"], default: "yes" };

describe("questions", () => {
  it("a question blocks only its task and dependents; the answer resumes it in its session", () => {
    const c = new PlanHarness("q1");
    c.submitWith({ title: "X", maxParallel: 2, tasks: [{ id: "a", role: "api", title: "a" }, { id: "b", role: "backend", title: "b", dependsOn: ["a"] }, { id: "c", role: "docs", title: "c" }] });
    c.result("a", { question: Q, session: { agent: "claude-code", id: "s-1", host: "h" } });
    expect(c.last.context.tasks.a!.status).toBe("asking");
    const asked = c.view();
    expect(asked.tasks[0]).toMatchObject({ state: "asking", waitingFor: { kind: "question", questionId: "q1" } });
    expect(asked.questions![0]).toMatchObject({ questionId: "q1", taskId: "a", state: "open", options: ["yes", "no"] });
    c.work("c");
    expect(c.last.context.tasks.c!.status).toBe("completed");
    c.answer("q1", "no");
    const again = c.latest((a) => a.taskId === "a");
    expect(again.attempt).toBe(2);
    expect(again.answers).toEqual([expect.objectContaining({ questionId: "q1", answer: "no", by: "ana" })]);
    expect(again.session).toEqual({ agent: "claude-code", id: "s-1", host: "h" });
    c.view();
    c.answer("q1", "no"); // a repeat: nothing
    c.answer("q1", "yes");
    expect(c.events.at(-1)).toMatchObject({ kind: "message.rejected", error: { code: "ALREADY_ANSWERED" } });
    c.answer("q9", "x");
    expect(c.events.at(-1)).toMatchObject({ kind: "message.rejected", error: { code: "UNKNOWN_QUESTION" } });
    c.work("a");
    c.work("b");
    expect(c.last.state).toBe("completed");
    c.answer("q1", "late");
    expect(c.events.at(-1)).toMatchObject({ kind: "message.rejected", error: { code: "INVALID_STATE" } });
    c.view();
  });

  it("takes the default at the timeout", () => {
    const c = new PlanHarness("q2");
    c.submitWith({ title: "X", tasks: [{ id: "a", role: "api", title: "a" }] });
    c.result("a", { question: { ...Q, timeoutSeconds: 60 } });
    c.timer(T0 + 3600_000);
    expect(c.events.find((e) => e.kind === "question.answered")).toMatchObject({ answer: "yes", via: "timeout" });
    expect(c.latest((a) => a.taskId === "a").attempt).toBe(2);
    c.view();
  });

  it("escalates a failure: retry runs the task again", () => {
    const c = new PlanHarness("q3");
    c.submitWith({ title: "X", tasks: [{ id: "a", role: "api", title: "a" }, { id: "b", role: "qa", title: "b", dependsOn: ["a"] }], onFailure: { then: "escalate" } });
    c.work("a", "failed");
    expect(c.events.find((e) => e.kind === "question.asked")).toMatchObject({ about: "escalation", taskId: "a", options: ["retry", "skip", "fail"] });
    expect(c.last.state).toBe("executing");
    c.view();
    c.answer("q1", "retry");
    c.work("a");
    c.work("b");
    expect(c.last.state).toBe("completed");
    c.view();
  });

  it("escalates a failure: an instruction goes to the next attempt; skip lets dependents go on", () => {
    const c = new PlanHarness("q4");
    c.submitWith({ title: "X", tasks: [{ id: "a", role: "api", title: "a" }, { id: "b", role: "qa", title: "b", dependsOn: ["a"] }], onFailure: { then: "escalate" } });
    c.work("a", "failed");
    c.answer("q1", "use port 8080");
    expect(c.latest((a) => a.taskId === "a").answers?.[0]?.answer).toBe("use port 8080");
    c.work("a", "failed");
    c.answer("q2", "skip");
    expect(c.last.context.tasks.a).toMatchObject({ status: "completed", skipped: true });
    c.work("b");
    expect(c.last.state).toBe("completed");
    c.view();
  });
});

describe("streams", () => {
  it("a failed stream gate stops only that stream's dependents", () => {
    const c = new PlanHarness("s1");
    c.submitWith({
      title: "X", maxParallel: 3, gates: [],
      streams: { db: { gates: ["test"] } },
      tasks: [
        { id: "schema", role: "database", title: "schema", stream: "db" },
        { id: "api", role: "api", title: "api", dependsOn: ["schema"] },
        { id: "docs", role: "docs", title: "docs" },
      ],
    });
    const gateTask = c.last.context.order.find((id) => c.last.context.tasks[id]!.streamGate)!;
    expect(c.last.context.tasks.api!.dependsOn).toContain(gateTask);
    c.work("schema");
    expect(c.assigned.at(-1)).toMatchObject({ role: "qa", gate: { name: "test" }, taskId: gateTask });
    expect(c.view().streams).toEqual([{ name: "db", gates: ["test"], tasks: 1, completed: 1, state: "verifying" }]);
    c.gate("test", false, {}, gateTask);
    expect(c.last.state).toBe("executing"); // docs still runs
    c.work("docs");
    expect(c.last.state).toBe("failed");
    expect(c.dispatchedIds()).not.toContain("api");
    const view = c.view();
    expect(view.streams![0]).toMatchObject({ name: "db", state: "failed" });
  });
});

describe("a budget stop asks a person", () => {
  const progress = (c: PlanHarness, tokens: number) => {
    const a = c.latest((x) => x.taskId === "a" && !x.gate);
    return c.send({ type: "task.progress", at: c.now(), msg: { type: "baton.v1.task_progress", featureId: a.featureId, taskId: "a", attempt: a.attempt, role: a.role, workerId: "w", delivery: 1, seq: tokens, usage: { inputTokens: tokens, outputTokens: 0 }, at: c.now() } });
  };

  it("continue raises the limit reached by half and resumes", () => {
    const c = new PlanHarness("b1");
    c.submitWith({ title: "X", budget: { tokens: 1000 }, tasks: [{ id: "a", role: "api", title: "a" }] });
    progress(c, 1200);
    expect(c.last.state).toBe("paused");
    expect(c.events.find((e) => e.kind === "question.asked")).toMatchObject({ about: "budget", options: ["continue", "cancel"], freeText: false });
    c.answer("q1", "maybe");
    expect(c.events.at(-1)).toMatchObject({ kind: "message.rejected", error: { code: "INVALID_ANSWER" } });
    c.answer("q1", "continue");
    expect(c.last.state).toBe("executing");
    expect(c.last.context.budget).toMatchObject({ tokens: 1800 });
    expect(c.kinds).toContain("feature.resumed");
    c.view();
  });

  it("cancel cancels the feature; `baton budget` + resume answers it as resolved", () => {
    const c = new PlanHarness("b2");
    c.submitWith({ title: "X", budget: { tokens: 1000 }, tasks: [{ id: "a", role: "api", title: "a" }] });
    progress(c, 1200);
    c.answer("q1", "cancel");
    expect(c.last.state).toBe("cancelled");
    c.view();
    const d = new PlanHarness("b3");
    d.submitWith({ title: "X", budget: { tokens: 1000 }, tasks: [{ id: "a", role: "api", title: "a" }] });
    progress(d, 1200);
    d.send({ type: "feature.budget", change: { tokens: 5000 }, by: "ops", at: d.now() });
    d.send({ type: "feature.resume", by: "ops", at: d.now() });
    expect(d.last.state).toBe("executing");
    expect(d.events.find((e) => e.kind === "question.answered")).toMatchObject({ via: "resolved", by: "ops" });
    d.view();
  });
});

describe("streams whose tasks surround another", () => {
  it("a task between two of a stream's tasks does not wait for the stream's gates (no cycle)", () => {
    const c = new PlanHarness("s2");
    c.submitWith({
      title: "X", streams: { db: { gates: ["test"] } },
      tasks: [
        { id: "a", role: "database", title: "a", stream: "db" },
        { id: "b", role: "api", title: "b", dependsOn: ["a"] },
        { id: "c", role: "database", title: "c", stream: "db", dependsOn: ["b"] },
        { id: "d", role: "docs", title: "d", dependsOn: ["c"] },
      ],
    });
    const tasks = c.last.context.tasks;
    expect(tasks.b!.dependsOn).toEqual(["a"]);
    expect(tasks.d!.dependsOn).toEqual(["c", "db-gates"]);
    c.work("a");
    c.work("b");
    c.work("c");
    c.gate("test", true, {}, "db-gates");
    c.work("d");
    expect(c.last.state).toBe("completed");
    c.view();
  });
});

describe("an older delivery's failure", () => {
  it("is ignored once a newer delivery of the same attempt has started; the newer one reports", () => {
    const c = new PlanHarness("d1");
    c.submitWith({ title: "X", tasks: [{ id: "a", role: "api", title: "a" }] });
    const a = c.latest((x) => x.taskId === "a");
    const ref = { featureId: "d1", taskId: "a", attempt: 1, role: "api" };
    c.send({ type: "task.started", at: c.now(), msg: { type: "baton.v1.task_started", ...ref, workerId: "w1", delivery: 1, at: c.now() } });
    c.send({ type: "task.started", at: c.now(), msg: { type: "baton.v1.task_started", ...ref, workerId: "w2", delivery: 2, at: c.now() } });
    c.send({ type: "task.result", at: c.now(), msg: { type: "baton.v1.task_result", ...ref, workerId: "w1", delivery: 1, outcome: "failed", startedAt: a.dispatchedAt, finishedAt: c.now(), exitCode: 1, error: { name: "ExitCode", message: "cwd gone" } } });
    expect(c.last.context.tasks.a!.status).toBe("running");
    c.send({ type: "task.result", at: c.now(), msg: { type: "baton.v1.task_result", ...ref, workerId: "w2", delivery: 2, outcome: "completed", startedAt: a.dispatchedAt, finishedAt: c.now() } });
    expect(c.last.state).toBe("completed");
    c.view();
  });
});
