// The planning side of the chaos analysis (docs/planning.md): every planned feature planned once (an invalid first
// plan sent back with its errors), approvals before any work, every question answered exactly once and the answer in
// the asking task's next run, escalations answered, streams' gates run, and no task dispatched before its
// dependencies completed. Pure.
import { PLANNER_TASK_ID } from "../../shared/protocol/planning.ts";
import { taskKey } from "./analyze-history.ts";
import type { Execution } from "./ledger.ts";
import type { SeenEvent } from "./observer.ts";
import type { PersonAction } from "./people.ts";
import type { PlanningDecor } from "./planning-plan.ts";

export interface PlanningFigures {
  planned: number;
  plannedCompleted: number;
  /** plan.invalid events, and features whose count is not the one planned (1 for an invalid first plan, else 0). */
  invalidPlans: number;
  wrongInvalidCount: string[];
  /** Planner runs for a second or later plan, and those not given the previous plan's errors. */
  replans: number;
  replansWithoutErrors: string[];
  approvals: { required: number; approved: number; repeated: number; notApprovedOnce: string[]; dispatchedBeforeApproval: string[] };
  questions: {
    asked: number; answered: number; escalations: number; repeated: number; changedLate: number; refused: number;
    notAnsweredOnce: string[]; askedNotOnce: string[]; answerNotReceived: string[]; answerNotSent: string[]; escalated: string[];
  };
  streams: { features: number; gateTasks: number; gateTasksCompleted: number };
  /** Tasks dispatched before one of their dependencies completed (the DAG of feature.accepted and plan.ready). */
  dispatchedEarly: string[];
  /** Approvals or answers the people could not send before the deadline. */
  unsent: string[];
}

export interface PlanningInput {
  grouped: Map<string, SeenEvent[]>;
  ledger: readonly Execution[];
  actions: readonly PersonAction[];
  /** The planning decorations of the submitted features (git features have none). */
  decor: Map<string, PlanningDecor>;
  outcome: Map<string, string>;
}

/** Distinct events (by seq) of `kind`, optionally also matching `match`. */
function distinct(events: readonly SeenEvent[], kind: string, match: (event: SeenEvent) => boolean = () => true): SeenEvent[] {
  const bySeq = new Map<number, SeenEvent>();
  for (const event of events) if (event.kind === kind && match(event) && !bySeq.has(event.seq)) bySeq.set(event.seq, event);
  return [...bySeq.values()];
}

/** Plans: invalid ones as planned, each replan given the errors, approvals once and before any work. */
function plansOf(input: PlanningInput): Omit<PlanningFigures, "questions" | "streams" | "dispatchedEarly" | "unsent"> {
  const figures = {
    planned: 0, plannedCompleted: 0, invalidPlans: 0, wrongInvalidCount: [] as string[], replans: 0, replansWithoutErrors: [] as string[],
    approvals: { required: 0, approved: 0, repeated: 0, notApprovedOnce: [] as string[], dispatchedBeforeApproval: [] as string[] },
  };
  for (const [featureId, decor] of input.decor) {
    const events = input.grouped.get(featureId) ?? [];
    if (decor.auto) {
      figures.planned++;
      if (input.outcome.get(featureId) === "completed") figures.plannedCompleted++;
      const invalid = distinct(events, "plan.invalid").length;
      figures.invalidPlans += invalid;
      if (invalid !== (decor.auto.invalidFirst ? 1 : 0)) figures.wrongInvalidCount.push(`${featureId} (${invalid} plan.invalid, ${decor.auto.invalidFirst ? "1" : "none"} planned)`);
    }
    if (!decor.approval) continue;
    figures.approvals.required++;
    const approved = distinct(events, "plan.approved");
    if (approved.length) figures.approvals.approved++;
    if (approved.length !== 1) figures.approvals.notApprovedOnce.push(`${featureId} (${approved.length} plan.approved)`);
    const at = approved[0]?.seq ?? Infinity;
    const early = distinct(events, "task.dispatched", (event) => event.taskId !== PLANNER_TASK_ID && event.seq < at);
    if (early.length) figures.approvals.dispatchedBeforeApproval.push(`${featureId}: ${early.map((event) => `${event.taskId} (seq ${event.seq})`).join(", ")} before plan.approved (seq ${approved[0]?.seq ?? "none"})`);
  }
  for (const run of input.ledger) {
    if (run.planAttempt === undefined || run.planAttempt < 2) continue;
    figures.replans++;
    if (!run.previousErrors) figures.replansWithoutErrors.push(`${run.featureId} plan attempt ${run.planAttempt}`);
  }
  figures.approvals.repeated = input.actions.filter((action) => action.verb === "approve" && action.sent.length > 1).length;
  return figures;
}

/** The attempt a task was at when `asked` was stored: its latest event with an attempt before it. */
function askedAttempt(events: readonly SeenEvent[], asked: SeenEvent): number {
  let attempt = 0;
  for (const event of events) if (event.seq < asked.seq && event.taskId === asked.taskId && event.attempt !== undefined) attempt = event.attempt;
  return attempt;
}

/** One question: answered exactly once with an answer a person sent, its task's later runs given it. */
function checkQuestion(input: PlanningInput, events: readonly SeenEvent[], asked: SeenEvent, figures: PlanningFigures["questions"]): void {
  const questionId = asked.planning!.questionId!;
  const name = `${asked.featureId}/${questionId} (${asked.planning?.about ?? "?"} of ${asked.taskId ?? "the feature"})`;
  const answers = distinct(events, "question.answered", (event) => event.planning?.questionId === questionId);
  if (answers.length) figures.answered++;
  if (answers.length !== 1 || answers[0]!.planning?.via !== "person") {
    figures.notAnsweredOnce.push(`${name}: ${answers.length} question.answered${answers.length ? ` (via ${answers.map((event) => event.planning?.via).join(", ")})` : ""}`);
  }
  if (distinct(events, "question.escalated", (event) => event.planning?.questionId === questionId).length) figures.escalated.push(name);
  const answer = answers[0]?.planning?.answer;
  if (answer === undefined) return;
  const action = input.actions.find((one) => one.featureId === asked.featureId && one.questionId === questionId);
  if (!action?.sent.some((sent) => sent.answer === answer)) figures.answerNotSent.push(`${name}: "${answer}"`);
  if (!asked.taskId) return;
  const attempt = askedAttempt(events, asked);
  const later = input.ledger.filter((run) => run.featureId === asked.featureId && run.taskId === asked.taskId && run.attempt > attempt);
  if (!later.length) figures.answerNotReceived.push(`${name}: no run after attempt ${attempt}`);
  // an escalation answered "retry" starts the task over without it; a task's own question's answer goes with every later run
  if (asked.planning?.about !== "task") return;
  const without = later.filter((run) => !run.answers?.some((given) => given.questionId === questionId && given.answer === answer));
  if (without.length) figures.answerNotReceived.push(`${name}: attempt(s) ${without.map((run) => run.attempt).join(", ")} ran without "${answer}"`);
}

/** Questions: each answered once, its answer where it belongs; each planned question asked once. */
function questionsOf(input: PlanningInput): PlanningFigures["questions"] {
  const figures: PlanningFigures["questions"] = {
    asked: 0, answered: 0, escalations: 0, repeated: 0, changedLate: 0, refused: 0,
    notAnsweredOnce: [], askedNotOnce: [], answerNotReceived: [], answerNotSent: [], escalated: [],
  };
  for (const [featureId, events] of input.grouped) {
    const asked = distinct(events, "question.asked", (event) => !!event.planning?.questionId);
    figures.asked += asked.length;
    figures.escalations += asked.filter((event) => event.planning?.about === "escalation").length;
    for (const question of asked) checkQuestion(input, events, question, figures);
    figures.refused += distinct(events, "message.rejected", (event) => !!event.git?.subject?.endsWith(".answer")).length;
    const decor = input.decor.get(featureId);
    const expected = [...(decor?.asks ?? []).map((taskId) => [taskId, "task"]), ...(decor?.escalates ?? []).map((taskId) => [taskId, "escalation"])];
    for (const [taskId, about] of expected) {
      const count = asked.filter((event) => event.taskId === taskId && event.planning?.about === about).length;
      if (count !== 1) figures.askedNotOnce.push(`${featureId}/${taskId}: ${count} ${about} question(s)`);
    }
  }
  const answers = input.actions.filter((action) => action.verb === "answer");
  figures.repeated = answers.filter((action) => action.sent.length > 1 && action.sent[1]!.answer === action.sent[0]!.answer).length;
  figures.changedLate = answers.filter((action) => action.sent.length > 1 && action.sent[1]!.answer !== action.sent[0]!.answer).length;
  return figures;
}

/** Every task.dispatched of a task the plan knows comes after a task.completed of each of its dependencies. */
function dispatchOrder(grouped: Map<string, SeenEvent[]>): { early: string[]; streamGates: { total: number; completed: number } } {
  const early: string[] = [];
  const streamGates = { total: 0, completed: 0 };
  for (const [featureId, events] of grouped) {
    const deps = new Map<string, string[]>();
    const gates = new Set<string>();
    for (const event of events) {
      if (event.kind !== "feature.accepted" && event.kind !== "plan.ready") continue;
      for (const task of event.planning?.tasks ?? []) {
        deps.set(task.id, task.dependsOn);
        if (task.streamGate) gates.add(task.id);
      }
    }
    const firstCompleted = new Map<string, number>();
    for (const event of events) if (event.kind === "task.completed" && event.taskId && !firstCompleted.has(event.taskId)) firstCompleted.set(event.taskId, event.seq);
    streamGates.total += gates.size;
    streamGates.completed += [...gates].filter((id) => firstCompleted.has(id)).length;
    for (const dispatched of distinct(events, "task.dispatched")) {
      const missing = (deps.get(dispatched.taskId ?? "") ?? []).filter((dep) => (firstCompleted.get(dep) ?? Infinity) > dispatched.seq);
      if (missing.length) early.push(`${taskKey(featureId, dispatched.taskId!)}#${dispatched.attempt} (seq ${dispatched.seq}) before ${missing.join(", ")} completed`);
    }
  }
  return { early, streamGates };
}

export function planningOf(input: PlanningInput): PlanningFigures {
  const order = dispatchOrder(input.grouped);
  const streamed = [...input.decor.values()].filter((decor) => decor.streams).length;
  return {
    ...plansOf(input), questions: questionsOf(input),
    streams: { features: streamed, gateTasks: order.streamGates.total, gateTasksCompleted: order.streamGates.completed },
    dispatchedEarly: order.early,
    unsent: input.actions.filter((action) => action.lost > 0).map((action) => `${action.featureId} ${action.verb}${action.questionId ? ` ${action.questionId}` : ""}`),
  };
}

const list = (ids: string[]) => (ids.length > 5 ? `${ids.slice(0, 5).join("; ")} …` : ids.join("; "));

/** Why the planning checks failed (empty: they passed). */
export function planningReasons(figures: PlanningFigures): string[] {
  const { approvals, questions } = figures;
  const reasons: string[] = [];
  const add = (items: string[], what: string) => {
    if (items.length) reasons.push(`${items.length} ${what}: ${list(items)}`);
  };
  if (figures.plannedCompleted < figures.planned) reasons.push(`${figures.planned - figures.plannedCompleted} of ${figures.planned} planned feature(s) did not complete`);
  add(figures.wrongInvalidCount, "planned feature(s) with another number of invalid plans than planned");
  add(figures.replansWithoutErrors, "planner run(s) for a new plan not given the previous plan's errors");
  add(approvals.notApprovedOnce, "feature(s) needing approval without exactly one plan.approved");
  add(approvals.dispatchedBeforeApproval, "feature(s) that dispatched a task before their plan was approved");
  add(questions.notAnsweredOnce, "question(s) not answered exactly once by a person");
  add(questions.askedNotOnce, "planned question(s) not asked exactly once");
  add(questions.answerNotReceived, "asking task(s) whose next run did not get the answer");
  add(questions.answerNotSent, "question(s) answered with an answer no person sent");
  add(questions.escalated, "question(s) escalated (no timeout is set: none should be)");
  add(figures.dispatchedEarly, "task dispatch(es) before a dependency completed");
  add(figures.unsent, "approval(s)/answer(s) the chaos people could not send");
  return reasons;
}
