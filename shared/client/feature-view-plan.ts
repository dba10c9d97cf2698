// The part of the history fold that concerns plans, approvals and questions (docs/planning.md). The read model
// (services/coordinator/domain/read-model-plan.ts) projects the same fields from the coordinator's state.
import type { StatusEvent } from "../protocol/events.ts";
import { PLANNER_TASK_ID } from "../protocol/planning.ts";
import type { FeatureView, ViewPlan, ViewQuestion, ViewTask } from "../protocol/views.ts";

type Accepted = Extract<StatusEvent, { kind: "feature.accepted" }>;

/** What feature.accepted says of the plan: the feature's first state, and its plan when it has one. */
export function acceptedPlan(event: Accepted): { state: FeatureView["state"]; plan?: ViewPlan } {
  const approval = event.approval ?? "none";
  if (event.planning) return { state: "planning", plan: { source: "planner", goal: event.planning.goal, approval } };
  const state = event.approval ? "awaitingApproval" : "executing";
  if (event.template) return { state, plan: { source: "template", template: event.template, approval } };
  return event.approval ? { state, plan: { source: "request", approval } } : { state };
}

/** Folds a planning or question event into `view` (mutating it); false for any other kind of event. */
export function foldPlanningEvent(view: FeatureView, task: ViewTask | undefined, event: StatusEvent): boolean {
  switch (event.kind) {
    case "plan.ready": {
      const known = new Set(view.tasks.map((t) => t.id));
      for (const added of event.tasks) if (!known.has(added.id)) view.tasks.push({ ...added, state: "waiting", attempt: 0 });
      if (event.gates) view.gates = event.gates;
      view.plan = {
        ...view.plan, source: event.source, approval: event.approval, readyAt: event.at,
        ...(event.template ? { template: event.template } : {}), ...(event.summary ? { summary: event.summary } : {}), ...(event.notes ? { notes: event.notes } : {}),
      };
      if (view.state === "planning") view.state = event.approval === "required" ? "awaitingApproval" : "executing";
      return true;
    }
    case "plan.invalid": {
      view.plan = { ...view.plan, invalid: event.attempt, errors: event.errors };
      // the planner's task goes back to wait for its next attempt (or task.failed follows)
      const planner = view.tasks.find((t) => t.id === PLANNER_TASK_ID);
      if (planner && event.willRetry) planner.state = "waiting";
      return true;
    }
    case "plan.approved":
      view.plan = { ...view.plan, approvedAt: event.at, ...(event.by ? { approvedBy: event.by } : {}) };
      if (view.state === "awaitingApproval") view.state = "executing";
      return true;
    case "plan.rejected":
      view.plan = { ...view.plan, rejectedAt: event.at, ...(event.by ? { rejectedBy: event.by } : {}), ...(event.reason ? { rejectReason: event.reason } : {}) };
      return true;
    case "question.asked":
      foldAsked(view, task, event);
      return true;
    case "question.answered":
      foldAnswered(view, task, event);
      return true;
    case "question.escalated": {
      const question = view.questions?.find((q) => q.questionId === event.questionId);
      if (question && question.state === "open") question.state = "escalated";
      return true;
    }
    default:
      return false;
  }
}

function foldAsked(view: FeatureView, task: ViewTask | undefined, event: Extract<StatusEvent, { kind: "question.asked" }>): void {
  const { type: _type, featureId: _featureId, seq: _seq, at, kind: _kind, ...fields } = event;
  const question: ViewQuestion = { ...fields, askedAt: at, state: "open" };
  view.questions = [...(view.questions ?? []), question];
  if (task) Object.assign(task, { state: "asking", questionId: event.questionId });
}

function foldAnswered(view: FeatureView, task: ViewTask | undefined, event: Extract<StatusEvent, { kind: "question.answered" }>): void {
  const question = view.questions?.find((q) => q.questionId === event.questionId);
  if (question) Object.assign(question, { state: "answered", answer: event.answer, via: event.via, answeredAt: event.at, ...(event.by ? { by: event.by } : {}) });
  // the task runs again with the answer (a skip or a failure follows as task.completed / task.failed)
  if (task && task.state === "asking" && task.questionId === event.questionId) {
    task.state = "waiting";
    delete task.questionId;
  }
}
