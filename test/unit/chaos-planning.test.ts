// The chaos run's planning part: the features it plans, approves and asks about are valid requests and valid plans
// under the shipped rules (a stream never has a task outside it between two of its tasks); and its checks fail a run
// where a question was answered twice, a task ran before its plan was approved or before a dependency completed, an
// asking task's next run lacked the answer, a replan lacked the errors, or a planned feature had an unplanned invalid plan.
import { describe, expect, it } from "vitest";
import { analyze } from "../../scripts/chaos/analyze.ts";
import type { Execution } from "../../scripts/chaos/ledger.ts";
import type { SeenEvent } from "../../scripts/chaos/observer.ts";
import type { PersonAction } from "../../scripts/chaos/people.ts";
import { GATE, makePlan, type ChaosFeature } from "../../scripts/chaos/plan.ts";
import { planOf, requestOf, type PlanningDecor } from "../../scripts/chaos/planning-plan.ts";
import { catalogueFrom, catalogueTemplates, checkPlan, loadPlanningCatalogue, type RoleDefaults } from "../../shared/planning/index.ts";
import { checkFeatureValue } from "../../shared/protocol/index.ts";
import { loadRoleCatalogue } from "../../shared/roles/index.ts";

const KNOWN = ["database", "api", "backend", "frontend", "planner", "qa"];

/** Tasks that `taskId` waits for, directly or not. */
function above(feature: ChaosFeature, taskId: string, seen = new Set<string>()): Set<string> {
  for (const dep of feature.tasks.find((task) => task.id === taskId)?.dependsOn ?? []) {
    if (!seen.has(dep)) above(feature, dep, seen.add(dep));
  }
  return seen;
}

describe("chaos plan: planned, approved, asking and streamed features", () => {
  const catalogue = loadPlanningCatalogue();
  const roleDefaults: Record<string, RoleDefaults> = {};
  for (const [name, role] of Object.entries(loadRoleCatalogue({ dirs: [] }).roles)) roleDefaults[name] = { gates: role.gates, produces: role.produces, reads: role.reads };

  it.each(["1", "2", "chaos"])("seed %s: every request and every plan is valid, and every stream with gates is closed", (seed) => {
    const plan = makePlan(seed, 50, 90);
    for (const { feature, planning, git } of plan.submissions) {
      const checked = checkFeatureValue(requestOf(feature, planning), { roles: KNOWN, gates: [GATE] });
      expect(checked.ok ? [] : checked.errors, feature.id).toEqual([]);
      if (git) expect(planning, "git features are not decorated").toBeUndefined();
      if (planning?.auto) {
        const ctx = { catalogue: catalogueFrom(catalogueTemplates(catalogue), catalogue.rules), gates: [GATE], roles: KNOWN, roleDefaults, base: { title: feature.title } };
        const result = checkPlan(planOf(feature, planning), ctx);
        expect(result.ok ? [] : result.errors, feature.id).toEqual([]);
      }
      for (const stream of Object.keys(planning?.streams ?? {})) {
        const members = feature.tasks.filter((task) => task.stream === stream).map((task) => task.id);
        // no task outside the stream both waits for a member and is waited for by one (that would be a cycle through its gate task)
        const between = feature.tasks.filter((task) => !members.includes(task.id) && members.some((id) => above(feature, task.id).has(id)) && members.some((id) => above(feature, id).has(task.id)));
        expect(between.map((task) => task.id), `${feature.id} stream ${stream}`).toEqual([]);
      }
    }
  });

  it("gives a short run every kind: planned (one invalid first), approval, questions, an escalation, streams with gates", () => {
    const decor = makePlan("1", 10, 30).submissions.flatMap((planned) => (planned.planning ? [planned.planning] : []));
    expect(decor.some((one) => one.auto)).toBe(true);
    expect(decor.some((one) => one.approval)).toBe(true);
    expect(decor.some((one) => one.asks.length)).toBe(true);
    expect(decor.filter((one) => one.escalates.length)).toHaveLength(1);
    expect(decor.some((one) => Object.values(one.streams ?? {}).some((spec) => spec.gates?.length))).toBe(true);
    const all = ["1", "2", "3", "4"].flatMap((seed) => makePlan(seed, 50, 90).submissions.flatMap((planned) => (planned.planning?.auto ? [planned.planning.auto.invalidFirst] : [])));
    expect(new Set(all)).toEqual(new Set([true, false]));
  });
});

/** A history of feature f1 with consecutive seqs. */
function history() {
  const events: SeenEvent[] = [];
  const add = (kind: string, extra: Partial<SeenEvent> = {}) => {
    const seq = events.length + 1;
    events.push({ featureId: "f1", seq, kind, at: 1000 + seq, ts: 1000 + seq, streamSeq: seq, ...extra });
  };
  return { events, add };
}

const run = (taskId: string, attempt: number, extra: Partial<Execution> = {}): Execution =>
  ({ featureId: "f1", taskId, attempt, role: "api", pid: 100 + attempt, ppid: 1, start: attempt * 10, end: attempt * 10 + 5, ...extra });

function check(events: SeenEvent[], ledger: Execution[], decor: PlanningDecor, actions: PersonAction[]) {
  return analyze({
    plannedFeatures: 1, submissions: [{ featureId: "f1", tasks: 2, ackedAt: 1 }], events, ledger, kills: [], restarts: [], chaosStart: 0,
    decor: new Map([["f1", decor]]), actions,
  });
}

/** A planned feature needing approval whose t1 asks q1 once, answered "right" and given in attempt 2; t2 after t1. */
function goodRun() {
  const { events, add } = history();
  add("feature.accepted", { planning: { planner: true, tasks: [{ id: "plan", dependsOn: [] }] } });
  add("task.dispatched", { taskId: "plan", attempt: 1 });
  add("plan.invalid");
  add("task.dispatched", { taskId: "plan", attempt: 2 });
  add("task.completed", { taskId: "plan", attempt: 2 });
  add("plan.ready", { planning: { approval: "required", tasks: [{ id: "t1", dependsOn: [] }, { id: "t2", dependsOn: ["t1"] }] } });
  add("plan.approved");
  add("task.dispatched", { taskId: "t1", attempt: 1 });
  add("question.asked", { taskId: "t1", planning: { questionId: "q1", about: "task" } });
  add("question.answered", { taskId: "t1", planning: { questionId: "q1", answer: "right", via: "person" } });
  add("task.dispatched", { taskId: "t1", attempt: 2 });
  add("task.completed", { taskId: "t1", attempt: 2 });
  add("task.dispatched", { taskId: "t2", attempt: 1 });
  add("task.completed", { taskId: "t2", attempt: 1 });
  add("feature.completed");
  const ledger = [
    run("plan", 1, { role: "planner", planAttempt: 1, previousErrors: 0, invalidPlan: true }), run("plan", 2, { role: "planner", planAttempt: 2, previousErrors: 2 }),
    run("t1", 1, { asked: true }), run("t1", 2, { answers: [{ questionId: "q1", answer: "right" }] }), run("t2", 1),
  ];
  const decor: PlanningDecor = { auto: { invalidFirst: true }, approval: true, asks: ["t1"], escalates: [] };
  const actions: PersonAction[] = [
    { featureId: "f1", verb: "approve", seenAt: 1, sent: [{ at: 2 }], lost: 0 },
    { featureId: "f1", verb: "answer", questionId: "q1", taskId: "t1", about: "task", seenAt: 1, sent: [{ at: 2, answer: "right" }, { at: 3, answer: "right" }], lost: 0 },
  ];
  return { events, ledger, decor, actions, add };
}

describe("chaos analysis of planning", () => {
  it("passes a planned, approved feature whose question was answered once and given to the next run", () => {
    const { events, ledger, decor, actions } = goodRun();
    const result = check(events, ledger, decor, actions);
    expect(result.reasons).toEqual([]);
    expect(result.planning).toMatchObject({ planned: 1, plannedCompleted: 1, invalidPlans: 1, replans: 1, dispatchedEarly: [] });
    expect(result.planning.questions).toMatchObject({ asked: 1, answered: 1, repeated: 1, notAnsweredOnce: [], answerNotReceived: [] });
    expect(result.tasks.repeatedAfterQuestion).toBe(2);
  });

  it("fails a question answered twice, and an answer the next run did not get", () => {
    const { events, ledger, decor, actions } = goodRun();
    events.splice(10, 0, { ...events[9]!, seq: 99, planning: { questionId: "q1", answer: "left", via: "person" } });
    ledger[3] = run("t1", 2);
    const reasons = check(events, ledger, decor, actions).reasons.join("\n");
    expect(reasons).toContain("question(s) not answered exactly once by a person: f1/q1 (task of t1): 2 question.answered");
    expect(reasons).toContain('asking task(s) whose next run did not get the answer: f1/q1 (task of t1): attempt(s) 2 ran without "right"');
  });

  it("fails a task dispatched before the plan was approved or before its dependency completed", () => {
    const { events, ledger, decor, actions } = goodRun();
    // t2 dispatched right after plan.ready (seq 7), the approval after it
    const t2 = events.findIndex((event) => event.kind === "task.dispatched" && event.taskId === "t2");
    const moved = [...events.slice(0, 6), events[t2]!, ...events.slice(6, t2), ...events.slice(t2 + 1)].map((event, index) => ({ ...event, seq: index + 1 }));
    const reasons = check(moved, ledger, decor, actions).reasons.join("\n");
    expect(reasons).toContain("feature(s) that dispatched a task before their plan was approved: f1: t2 (seq 7) before plan.approved (seq 8)");
    expect(reasons).toContain("task dispatch(es) before a dependency completed: f1/t2#1 (seq 7) before t1 completed");
  });

  it("fails an unplanned invalid plan, a replan without the errors, and an escalation nobody answered", () => {
    const { events, ledger, decor, actions, add } = goodRun();
    ledger[1] = { ...ledger[1]!, previousErrors: 0 };
    add("question.asked", { taskId: "t2", planning: { questionId: "q2", about: "escalation" } });
    const reasons = check(events, ledger, { ...decor, auto: { invalidFirst: false } }, actions).reasons.join("\n");
    expect(reasons).toContain("planned feature(s) with another number of invalid plans than planned: f1 (1 plan.invalid, none planned)");
    expect(reasons).toContain("planner run(s) for a new plan not given the previous plan's errors: f1 plan attempt 2");
    expect(reasons).toContain("question(s) not answered exactly once by a person: f1/q2 (escalation of t2): 0 question.answered");
  });
});
