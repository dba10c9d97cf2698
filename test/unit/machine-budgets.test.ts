// Budgets in the pure feature machine (docs/budgets.md): usage summed per task and per feature from progress and
// results, budget.warning once, budget.exceeded stopping the right tasks and pausing the feature, a stopped task
// requeued (not failed, not counted by its retry policy), `baton budget` + `baton resume`, wall time as a timer in
// the data, and all of it carried by the persisted snapshot across a restart.
import { describe, expect, it } from "vitest";
import { nextDeadline, projectView } from "../../services/coordinator/domain/index.ts";
import { emptyView, foldEvent } from "../../shared/client/index.ts";
import { wireError, type BudgetChange, type StatusEvent, type TaskResult, type Usage } from "../../shared/protocol/index.ts";
import { FeatureHarness, T0 } from "../helpers/feature-harness.ts";

const usage = (tokens: number, costUsd?: number): Usage => ({ inputTokens: Math.floor(tokens / 2), outputTokens: tokens - Math.floor(tokens / 2), ...(costUsd !== undefined ? { costUsd } : {}) });

/** The worker side of one task, built from the latest task message the machine published for it. */
function worker(c: FeatureHarness, taskId: string, delivery = 1) {
  const a = c.latest((x) => x.taskId === taskId && !x.gate);
  const ref = { featureId: a.featureId, taskId, attempt: a.attempt, role: a.role, workerId: `w-${taskId}` };
  let seq = 0;
  return {
    attempt: a.attempt,
    start: () => c.send({ type: "task.started", at: c.now(), msg: { type: "baton.v1.task_started", ...ref, delivery, at: c.now() } }),
    progress: (tokens: number, costUsd?: number) =>
      c.send({ type: "task.progress", at: c.now(), msg: { type: "baton.v1.task_progress", ...ref, delivery, seq: ++seq, tool: "Bash", usage: usage(tokens, costUsd), at: c.now() } }),
    result: (outcome: "completed" | "failed", extra: Partial<TaskResult> = {}) =>
      c.send({ type: "task.result", at: c.now(), msg: { type: "baton.v1.task_result", ...ref, delivery, outcome, startedAt: a.dispatchedAt, finishedAt: c.now(), ...extra } }),
    /** What a worker answers when budget.exceeded named this run: failed BUDGET_EXCEEDED, partial usage kept. */
    stopped: (tokens: number) =>
      c.send({ type: "task.result", at: c.now(), msg: { type: "baton.v1.task_result", ...ref, delivery, outcome: "failed", startedAt: a.dispatchedAt, finishedAt: c.now(), exitCode: null, error: wireError("BudgetExceeded", "stopped: budget exceeded"), usage: usage(tokens) } }),
  };
}

const budget = (c: FeatureHarness, change: BudgetChange) => c.send({ type: "feature.budget", change, by: "test", at: c.now(), subject: "baton.control.feat.budget" });
const resume = (c: FeatureHarness, at = c.now()) => c.send({ type: "feature.resume", by: "test", at, subject: "baton.control.feat.resume" });
const ofKind = <K extends StatusEvent["kind"]>(c: FeatureHarness, kind: K) => c.events.filter((e): e is Extract<StatusEvent, { kind: K }> => e.kind === kind);

describe("budgets: counting and warnings", () => {
  it("warns once at warnAtPercent; running totals per delivery replace each other, deliveries and attempts add up", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", budget: { tokens: 10_000 }, tasks: [{ id: "a", role: "backend", title: "a" }] });
    const one = worker(c, "a");
    one.start();
    one.progress(3000);
    one.progress(5000); // a running total: 5000 in all, not 8000
    expect(projectView(c.last.state, c.last.context).usage).toMatchObject({ tokens: 5000 });
    expect(ofKind(c, "budget.warning")).toEqual([]);
    // the worker died; the redelivery starts again from 0 and its spend adds to the first delivery's
    const two = worker(c, "a", 2);
    two.start();
    two.progress(3100); // 8100 of 10000: past 80%
    two.progress(3500);
    expect(ofKind(c, "budget.warning")).toEqual([expect.objectContaining({ scope: "feature", metric: "tokens", used: 8100, limit: 10_000, percent: 81 })]);
    const r = two.result("completed", { usage: usage(3600, 0.12) });
    expect(r.state).toBe("completed");
    expect(ofKind(c, "budget.warning")).toHaveLength(1); // once
    expect(ofKind(c, "task.completed")[0]!.usage).toEqual(usage(3600, 0.12));
    const view = projectView(r.state, r.context);
    expect(view.usage).toEqual({ tokens: 8600, inputTokens: 4300, outputTokens: 4300, costUsd: 0.12 });
    expect(view.tasks[0]!.usage).toEqual(view.usage);
    expect(view.budget).toMatchObject({ tokens: 10_000, warnAtPercent: 80, wallFrom: expect.any(String) });
  });

  it("a late, older progress message and a duplicate result change nothing; a result's figure is final", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", tasks: [{ id: "a", role: "backend", title: "a", gates: ["unit"] }] });
    const w = worker(c, "a");
    w.start();
    w.progress(700);
    c.send({ type: "task.progress", at: c.now(), msg: { type: "baton.v1.task_progress", featureId: "feat", taskId: "a", attempt: 1, role: "backend", workerId: "w-a", delivery: 1, seq: 1, usage: usage(100), at: c.now() } });
    expect(projectView(c.last.state, c.last.context).usage?.tokens).toBe(700);
    w.result("completed", { usage: usage(650) }); // the result's own figure wins
    w.result("completed", { usage: usage(9999) }); // a duplicate: ignored
    expect(projectView(c.last.state, c.last.context).usage?.tokens).toBe(650);
    // a gate run that reports usage (an llm reviewer) counts for the feature, not for the task
    const run = c.latest((x) => !!x.gate);
    const report = { ...run.gate!, passed: true, expect: "pass" as const, command: ["npm", "test"], exitCode: 0, durationMs: 5, outputTail: "ok" };
    const gateResult = { type: "baton.v1.task_result" as const, featureId: "feat", taskId: "a", attempt: 1, role: run.role, workerId: "w-qa", outcome: "completed" as const, startedAt: run.dispatchedAt, finishedAt: c.now(), gate: run.gate, gateReport: report, usage: usage(50) };
    const r = c.send({ type: "task.result", at: c.now(), msg: gateResult });
    c.send({ type: "task.result", at: c.now(), msg: { ...gateResult, usage: usage(500) } }); // a redelivered gate result: stale
    expect(r.state).toBe("completed");
    const view = projectView(c.last.state, c.last.context);
    expect([view.usage?.tokens, view.tasks[0]!.usage?.tokens]).toEqual([700, 650]);
  });
});

describe("budgets: exceeded", () => {
  it("the feature's limit stops every working task, pauses the feature, requeues what the workers stop; budget + resume go on", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", maxParallel: 3, budget: { tokens: 1000 }, tasks: [
      { id: "a", role: "backend", title: "a" }, { id: "b", role: "backend", title: "b" }, { id: "c", role: "backend", title: "c", gates: ["unit"] },
    ] });
    const [a, b, cc] = [worker(c, "a"), worker(c, "b"), worker(c, "c")];
    a.start();
    b.start();
    cc.start();
    cc.result("completed", { usage: usage(100) }); // c's work is done: its gate runs, nothing to stop there
    a.progress(850);
    expect(ofKind(c, "budget.warning")).toHaveLength(1);
    let r = b.progress(200); // 1150 of 1000
    expect(r.state).toBe("paused");
    const [exceeded] = ofKind(c, "budget.exceeded");
    expect(exceeded).toMatchObject({ scope: "feature", metric: "tokens", used: 1150, limit: 1000, percent: 115, stopped: [{ taskId: "a", attempt: 1 }, { taskId: "b", attempt: 1 }] });
    expect(ofKind(c, "feature.paused").at(-1)).toMatchObject({ reason: "budget: tokens 1150 of 1000" });
    expect(c.kinds.slice(-3)).toEqual(["budget.exceeded", "feature.paused", "question.asked"]);
    // a person may answer it instead of using `baton budget` (questions.ts): continue raises the limits, or cancel
    expect(ofKind(c, "question.asked").at(-1)).toMatchObject({ about: "budget", options: ["continue", "cancel"], freeText: false });
    a.progress(900); // more usage while paused: no second alert
    expect(ofKind(c, "budget.exceeded")).toHaveLength(1);

    // the workers stop them: not failures; each waits to run again
    a.stopped(950);
    r = b.stopped(250);
    expect(r.context.tasks.a).toMatchObject({ status: "ready", attempt: 1, budgetStops: 1 });
    expect(r.context.tasks.b!.status).toBe("ready");
    expect(ofKind(c, "task.failed").map((e) => [e.taskId, e.error.code, e.usage?.outputTokens])).toEqual([["a", "BUDGET_EXCEEDED", 475], ["b", "BUDGET_EXCEEDED", 125]]);
    expect(c.assigned.filter((x) => !x.gate)).toHaveLength(3); // nothing dispatched while paused
    const view = projectView(r.state, r.context);
    expect(view.tasks.find((t) => t.id === "a")).toMatchObject({ state: "waiting", waitingFor: { kind: "budget", reason: "budget: tokens 1150 of 1000" } });
    // the history's fold tells the same story
    const folded = emptyView("feat");
    for (const event of c.events) foldEvent(folded, event);
    expect(folded.tasks.map((t) => [t.id, t.state, t.waitingFor?.kind])).toEqual(view.tasks.map((t) => [t.id, t.state, t.waitingFor?.kind]));

    // resume refused while over the limit, naming it and the remedy
    r = resume(c);
    expect(r.state).toBe("paused");
    expect(ofKind(c, "message.rejected").at(-1)!.error).toMatchObject({ code: "BUDGET_EXCEEDED", message: expect.stringContaining("tokens 1300 of 1000 (raise it: `baton budget feat --tokens N`)") });

    // raise, resume: the stopped tasks run again as new attempts
    r = budget(c, { tokens: 10_000 });
    expect(ofKind(c, "budget.changed")).toEqual([expect.objectContaining({ tokens: 10_000, by: "test" })]);
    expect(r.state).toBe("paused");
    r = resume(c);
    expect(r.state).toBe("executing");
    expect(c.assigned.filter((x) => !x.gate).slice(-2).map((x) => [x.taskId, x.attempt])).toEqual([["a", 2], ["b", 2]]);
    worker(c, "a").result("completed");
    worker(c, "b").result("completed");
    r = c.gate("unit", true, {}, "c");
    expect(r.state).toBe("completed");
  });

  it("a task's own limit stops that task only; the others finish, nothing new starts until resumed", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", maxParallel: 2, tasks: [
      { id: "a", role: "backend", title: "a", budget: { costUsd: 1, warnAtPercent: 50 } },
      { id: "b", role: "backend", title: "b" },
      { id: "d", role: "backend", title: "d", dependsOn: ["b"] },
    ] });
    const [a, b] = [worker(c, "a"), worker(c, "b")];
    a.start();
    b.start();
    a.progress(10, 0.6);
    expect(ofKind(c, "budget.warning")).toEqual([expect.objectContaining({ scope: "task", taskId: "a", metric: "costUsd", used: 0.6, limit: 1 })]);
    let r = a.progress(20, 1.05);
    expect(r.state).toBe("paused");
    expect(ofKind(c, "budget.exceeded")[0]).toMatchObject({ scope: "task", taskId: "a", stopped: [{ taskId: "a", attempt: 1 }] });
    expect(ofKind(c, "feature.paused").at(-1)!.reason).toBe("budget: task a costUsd 1.05 of 1");
    r = b.result("completed");
    expect(r.context.tasks.d!.status).toBe("ready"); // unblocked, held
    expect(c.assigned.map((x) => x.taskId)).toEqual(["a", "b"]);
    r = resume(c);
    expect(ofKind(c, "message.rejected").at(-1)!.error.message).toContain("`baton budget feat --task a --cost-usd N`");
    // a limit of another metric does not help
    budget(c, { taskId: "a", tokens: 1_000_000 });
    expect(resume(c).state).toBe("paused");
    budget(c, { taskId: "a", costUsd: 5 });
    r = resume(c);
    expect(r.state).toBe("executing");
    expect(c.assigned.map((x) => x.taskId)).toEqual(["a", "b", "d"]); // a still runs (its worker has not answered)
    r = a.stopped(30);
    expect(c.assigned.map((x) => `${x.taskId}#${x.attempt}`)).toEqual(["a#1", "b#1", "d#1", "a#2"]); // requeued and dispatched at once
    worker(c, "a").result("completed");
    expect(worker(c, "d").result("completed").state).toBe("completed");
  });

  it("attempts stopped for a budget do not count against the retry policy", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", budget: { tokens: 100 }, tasks: [{ id: "a", role: "backend", title: "a", onFailure: { retry: { maxAttempts: 2, backoffSeconds: 0 } } }] });
    worker(c, "a").progress(150);
    worker(c, "a").stopped(160);
    budget(c, { tokens: 100_000 });
    resume(c);
    expect(worker(c, "a").result("failed", { error: wireError("ExitCode", "exit 1") }).context.tasks.a!.status).toBe("retrying"); // attempt 2, the first that counts
    c.timer(T0 + 3600_000);
    const r = worker(c, "a").result("failed", { error: wireError("ExitCode", "exit 1") });
    expect(r.state).toBe("failed");
    expect(r.context.tasks.a!.attempt).toBe(3);
  });

  it("a lowered limit already reached pauses at once; unknown tasks and ended features are refused", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", tasks: [{ id: "a", role: "backend", title: "a" }] });
    worker(c, "a").progress(500);
    let r = budget(c, { tokens: 400 });
    expect(r.state).toBe("paused");
    expect(ofKind(c, "budget.exceeded")[0]).toMatchObject({ used: 500, limit: 400, stopped: [{ taskId: "a", attempt: 1 }] });
    r = budget(c, { taskId: "nope", tokens: 5 });
    expect(ofKind(c, "message.rejected").at(-1)!.error).toMatchObject({ code: "UNKNOWN_TASK" });
    budget(c, { tokens: 1000 });
    resume(c);
    r = worker(c, "a").result("completed");
    expect(r.state).toBe("completed");
    budget(c, { tokens: 5 });
    expect(ofKind(c, "message.rejected").at(-1)!.error).toMatchObject({ code: "INVALID_STATE", message: 'feature "feat" is completed; cannot budget it' });
  });
});

describe("budgets: wall time", () => {
  it("the feature's wall time is a timer in the data: warning, then exceeded and the pause", () => {
    const c = new FeatureHarness();
    let r = c.submit({ title: "t", budget: { wallSeconds: 100 }, tasks: [{ id: "a", role: "backend", title: "a", timeoutSeconds: 3600 }] });
    const accepted = Date.parse(c.events[0]!.at);
    worker(c, "a").start();
    expect(nextDeadline(c.last.context)).toBe(new Date(accepted + 80_000).toISOString());
    r = c.timer(accepted + 79_999);
    expect(ofKind(c, "budget.warning")).toEqual([]);
    r = c.timer(accepted + 80_000);
    expect(ofKind(c, "budget.warning")).toEqual([expect.objectContaining({ metric: "wallSeconds", used: 80, limit: 100 })]);
    expect(nextDeadline(r.context)).toBe(new Date(accepted + 100_000).toISOString());
    r = c.timer(accepted + 100_000);
    expect(r.state).toBe("paused");
    expect(ofKind(c, "budget.exceeded")[0]).toMatchObject({ metric: "wallSeconds", used: 100, stopped: [{ taskId: "a", attempt: 1 }] });
    expect(nextDeadline(r.context)).toBe(r.context.tasks.a!.deadlineAt); // no budget timer left
    budget(c, { wallSeconds: 1000 });
    expect(nextDeadline(c.last.context)).toBe(new Date(accepted + 800_000).toISOString());
  });

  it("a task's wall time counts from its first start, across attempts", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", tasks: [{ id: "a", role: "backend", title: "a", budget: { wallSeconds: 50, warnAtPercent: 100 }, onFailure: { retry: { maxAttempts: 3, backoffSeconds: 1 } } }] });
    expect(nextDeadline(c.last.context)).toBeUndefined();
    const first = worker(c, "a");
    first.start();
    const startedAt = Date.parse(c.last.context.tasks.a!.startedAt!);
    expect(nextDeadline(c.last.context)).toBe(new Date(startedAt + 50_000).toISOString());
    first.result("failed", { error: wireError("ExitCode", "exit 1") });
    c.timer(Date.parse(c.last.context.tasks.a!.retryAt!));
    worker(c, "a").start();
    expect(nextDeadline(c.last.context)).toBe(new Date(startedAt + 50_000).toISOString());
    const r = c.timer(startedAt + 50_000);
    expect(r.state).toBe("paused");
    expect(ofKind(c, "budget.exceeded")[0]).toMatchObject({ scope: "task", taskId: "a", metric: "wallSeconds", stopped: [{ taskId: "a", attempt: 2 }] });
  });
});

describe("budgets: restart", () => {
  it("a coordinator restored from the persisted snapshot keeps usage, alerts and stops, and goes on", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", budget: { tokens: 1000 }, tasks: [{ id: "a", role: "backend", title: "a" }, { id: "b", role: "backend", title: "b", dependsOn: ["a"] }] });
    const a = worker(c, "a");
    a.start();
    a.progress(900);
    a.progress(1200);
    expect(c.last.state).toBe("paused");
    // a new coordinator: only the checkpointed JSON survives
    const d = new FeatureHarness();
    d.stored = JSON.parse(JSON.stringify(c.stored));
    d.published.push(...c.published.filter((e) => e.to === "task"));
    let r = d.send({ type: "task.progress", at: d.now(), msg: { type: "baton.v1.task_progress", featureId: "feat", taskId: "a", attempt: 1, role: "backend", workerId: "w-a", delivery: 1, seq: 9, usage: usage(1300), at: d.now() } });
    expect(d.kinds).toEqual(["task.progress"]); // no second warning or exceeded
    expect(projectView(r.state, r.context).usage?.tokens).toBe(1300);
    r = worker(d, "a").stopped(1310);
    expect(r.context.tasks.a!.status).toBe("ready");
    expect(resume(d).state).toBe("paused");
    budget(d, { tokens: 5000 });
    expect(resume(d).state).toBe("executing");
    worker(d, "a").result("completed", { usage: usage(400) });
    r = worker(d, "b").result("completed", { usage: usage(100) });
    expect(r.state).toBe("completed");
    expect(projectView(r.state, r.context).usage?.tokens).toBe(1310 + 400 + 100);
  });
});
