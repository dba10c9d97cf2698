// What the read model shows of plans, approvals and questions (docs/planning.md), projected from the context; the
// client's fold of the history (shared/client/feature-view-plan.ts) gives the same fields.
import type { ViewPlan, ViewQuestion, ViewTask } from "../../../shared/protocol/index.ts";
import type { FeatureContext, TaskState } from "./context.ts";

/** The feature's plan as the view shows it; undefined when its tasks are the request's own and need no approval. */
export function planOf(ctx: FeatureContext): ViewPlan | undefined {
  const plan = ctx.planning;
  if (!plan) return undefined;
  return {
    source: plan.source, approval: plan.approval,
    ...(plan.goal !== undefined ? { goal: plan.goal } : {}),
    ...(plan.template ? { template: plan.template } : {}),
    ...(plan.summary ? { summary: plan.summary } : {}),
    ...(plan.notes?.length ? { notes: plan.notes } : {}),
    ...(plan.readyAt ? { readyAt: plan.readyAt } : {}),
    ...(plan.invalid ? { invalid: plan.invalid, errors: plan.errors ?? [] } : {}),
    ...(plan.approved ? { approvedAt: plan.approved.at, ...(plan.approved.by ? { approvedBy: plan.approved.by } : {}) } : {}),
    ...(plan.rejected ? { rejectedAt: plan.rejected.at, ...(plan.rejected.by ? { rejectedBy: plan.rejected.by } : {}), ...(plan.rejected.reason ? { rejectReason: plan.rejected.reason } : {}) } : {}),
  };
}

/** Every question asked so far, oldest first, with what became of it. */
export function questionsOf(ctx: FeatureContext): ViewQuestion[] | undefined {
  if (!ctx.questions?.length) return undefined;
  return ctx.questions.map((q) => ({
    questionId: q.id, about: q.about, question: q.question, freeText: q.freeText, askedAt: q.askedAt, state: q.state,
    ...(q.taskId ? { taskId: q.taskId } : {}), ...(q.options ? { options: q.options } : {}), ...(q.default !== undefined ? { default: q.default } : {}),
    ...(q.topic ? { topic: q.topic } : {}), ...(q.context ? { context: q.context } : {}), ...(q.timeoutAt ? { timeoutAt: q.timeoutAt } : {}),
    ...(q.answer ? { answer: q.answer.answer, answeredAt: q.answer.at, ...(q.answer.by ? { by: q.answer.by } : {}) } : {}),
    ...(q.via ? { via: q.via } : {}),
  }));
}

/** What a task adds to its view for planning: its stream, kind, whether it runs a stream's gates, its open question. */
export function planningOfTask(task: TaskState): Partial<ViewTask> {
  return {
    ...(task.stream ? { stream: task.stream } : {}), ...(task.kind ? { kind: task.kind } : {}), ...(task.streamGate ? { streamGate: true } : {}),
    ...(task.status === "asking" && task.question ? { questionId: task.question } : {}),
  };
}
