// Questions to a person (docs/planning.md): a task's own question, a failure escalated by its policy, a budget stop.
// The task it is about waits (its dependents too); everything else goes on. An answer sends the task back to work with
// the answer; a question may time out to its default, or be escalated and stay open. Pure reducers on the context.
import { wireError, type GivenAnswer, type Question, type QuestionAbout, type WireError } from "../../../shared/protocol/index.ts";
import { durationMs, editable, type FeatureContext, type TaskState } from "./context.ts";
import { scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import type { QuestionState } from "./planning-state.ts";
import { emitInto, emitRejection } from "./status-events.ts";
import { moveTask } from "./task-lifecycle.ts";

/** What an escalated failure offers: the task again, without it, or the failure; any other text is an instruction for another round. */
export const ESCALATION_OPTIONS = ["retry", "skip", "fail"] as const;
/** What a budget stop offers: raise the limits that were reached by half and go on, or cancel the feature. */
export const BUDGET_OPTIONS = ["continue", "cancel"] as const;

export interface AnswerEvent {
  type: "question.answer";
  questionId: string;
  answer: string;
  by?: string | undefined;
  at: string;
  subject?: string | undefined;
}

/** Puts question `question` to a person: recorded, question.asked published; returns its id. The caller moves the task. */
export function askInto(draft: FeatureContext, asked: { question: Question; about: QuestionAbout; taskId?: string | undefined; freeText: boolean }, at: string): string {
  const questions = draft.questions ?? [];
  const id = `q${questions.length + 1}`;
  const timeout = asked.question.timeoutSeconds ?? draft.questionTimeoutSeconds;
  const timeoutAt = timeout ? new Date(Date.parse(at) + timeout * 1000).toISOString() : undefined;
  const state: QuestionState = { ...asked.question, id, about: asked.about, taskId: asked.taskId, freeText: asked.freeText, askedAt: at, timeoutAt, state: "open" };
  draft.questions = [...questions, state];
  const { question, options, default: fallback, topic, context } = asked.question;
  emitInto(draft, {
    kind: "question.asked", questionId: id, about: asked.about, question, freeText: asked.freeText,
    ...(asked.taskId ? { taskId: asked.taskId } : {}), ...(options ? { options } : {}), ...(fallback ? { default: fallback } : {}),
    ...(topic ? { topic } : {}), ...(context ? { context } : {}), ...(timeoutAt ? { timeoutAt } : {}),
  }, at);
  return id;
}

/** A task's work ended with a question: it waits for the answer (it keeps its session, so the agent resumes it). */
export function taskAsks(draft: FeatureContext, task: TaskState, question: Question, at: string, patch: Partial<TaskState>): void {
  const id = askInto(draft, { question, about: "task", taskId: task.id, freeText: true }, at);
  draft.tasks[task.id] = moveTask(task, "ask", { ...patch, question: id, deadlineAt: undefined });
}

/** A failure whose policy says `escalate`: a person chooses retry, skip, fail, or gives an instruction for another round. */
export function escalate(draft: FeatureContext, task: TaskState, error: WireError, at: string, patch: Partial<TaskState>): void {
  const question: Question = {
    question: `Task "${task.id}" (${task.role}: ${task.title}) failed: ${error.message}. What now? retry, skip (its dependents go on without it), fail, or an instruction for another attempt.`,
    options: [...ESCALATION_OPTIONS],
    topic: "test",
  };
  const id = askInto(draft, { question, about: "escalation", taskId: task.id, freeText: true }, at);
  draft.tasks[task.id] = moveTask(task, "ask", { ...patch, error, question: id, deadlineAt: undefined });
}

/** A budget paused the feature: a person may raise the limits reached (by half) and go on, or cancel. */
export function askAboutBudget(draft: FeatureContext, what: string, at: string): void {
  if (draft.questions?.some((q) => q.about === "budget" && q.state !== "answered")) return;
  const question: Question = { question: `The feature stopped at its budget: ${what}. Continue (the limits reached are raised by half) or cancel?`, options: [...BUDGET_OPTIONS] };
  askInto(draft, { question, about: "budget", freeText: false }, at);
}

/** The open question `questionId`, or why an answer to it is refused (undefined refusal: a repeat of the same answer, a no-op). */
export function checkAnswer(ctx: FeatureContext, event: AnswerEvent): { question?: QuestionState; refusal?: WireError } {
  const question = ctx.questions?.find((q) => q.id === event.questionId);
  if (!question) {
    const open = (ctx.questions ?? []).filter((q) => q.state !== "answered").map((q) => q.id);
    return { refusal: wireError("UnknownQuestion", `feature "${ctx.featureId}" has no question "${event.questionId}"${open.length ? ` (open: ${open.join(", ")})` : " (none is open)"}`) };
  }
  if (question.state === "answered") {
    if (question.answer?.answer === event.answer) return {};
    const was = question.answer;
    return { refusal: wireError("AlreadyAnswered", `question ${question.id} was already answered${was?.by ? ` by ${was.by}` : ""}${question.via === "timeout" ? " (its default, at its timeout)" : ""}: "${was?.answer ?? ""}"`) };
  }
  if (!question.freeText && question.options && !question.options.includes(event.answer)) {
    return { refusal: wireError("InvalidAnswer", `question ${question.id} takes one of: ${question.options.join(", ")} (got "${event.answer}")`) };
  }
  return { question };
}

/** What the answer to a budget question asks the machine to do (machine.ts routes on it). */
export function budgetChoice(ctx: FeatureContext, event: AnswerEvent): "continue" | "cancel" | undefined {
  const { question } = checkAnswer(ctx, event);
  return question?.about === "budget" ? (event.answer === "cancel" ? "cancel" : "continue") : undefined;
}

/**
 * An answer: refused (message.rejected), a no-op (a repeat), or recorded (question.answered) and applied — the task
 * goes back to work with it, is skipped, or fails. A budget answer is recorded here; machine.ts does the rest.
 */
export function onAnswer(ctx: FeatureContext, event: AnswerEvent, opts: ScheduleOptions, via: "person" | "timeout" = "person"): FeatureContext {
  const { question, refusal } = checkAnswer(ctx, event);
  if (refusal) return emitRejection(ctx, event.subject ?? `control.${ctx.featureId}.answer`, refusal, event.at);
  if (!question) return ctx;
  const draft = editable(ctx);
  recordAnswer(draft, question, event, via);
  const task = question.taskId ? draft.tasks[question.taskId] : undefined;
  if (task?.status === "asking" && task.question === question.id) applyToTask(draft, task, question, event);
  scheduleInto(draft, event.at, opts);
  return draft;
}

/** Marks `question` answered and publishes question.answered. */
export function recordAnswer(draft: FeatureContext, question: QuestionState, event: Pick<AnswerEvent, "answer" | "by" | "at">, via: "person" | "timeout" | "resolved"): GivenAnswer {
  const given: GivenAnswer = { questionId: question.id, question: question.question, answer: event.answer, at: event.at, ...(event.by ? { by: event.by } : {}) };
  draft.questions = (draft.questions ?? []).map((q) => (q.id === question.id ? { ...q, state: "answered", answer: given, via } : q));
  emitInto(draft, {
    kind: "question.answered", questionId: question.id, answer: event.answer, via,
    ...(question.taskId ? { taskId: question.taskId } : {}), ...(event.by ? { by: event.by } : {}),
  }, event.at);
  return given;
}

/** The answer moves the asking task: back to ready with the answer (and its session), or skipped, or failed. */
function applyToTask(draft: FeatureContext, task: TaskState, question: QuestionState, event: AnswerEvent): void {
  const given = draft.questions!.find((q) => q.id === question.id)!.answer!;
  const choice = question.about === "escalation" ? event.answer.trim().toLowerCase() : "";
  if (choice === "skip") {
    draft.tasks[task.id] = moveTask(task, "complete", { question: undefined, skipped: true, finishedAt: event.at, summary: `skipped: ${question.id} answered "skip"` });
    emitInto(draft, { kind: "task.completed", taskId: task.id, role: task.role, attempt: task.attempt, workerId: task.workerId ?? "coordinator", durationMs: durationMs(task.startedAt, event.at), summary: `skipped: ${question.id} answered "skip"` }, event.at);
    return;
  }
  if (choice === "fail") {
    const error = task.error ?? wireError("TaskFailed", "failed after escalation");
    draft.tasks[task.id] = moveTask(task, "fail", { question: undefined, finishedAt: event.at });
    const failed = { ...error, message: `${error.message} (${question.id}: a person chose to fail it)` };
    draft.tasks[task.id] = { ...draft.tasks[task.id]!, error: failed };
    emitInto(draft, { kind: "task.failed", taskId: task.id, role: task.role, attempt: task.attempt, workerId: task.workerId, error: failed, durationMs: durationMs(task.startedAt, event.at) }, event.at);
    return;
  }
  // "retry" starts over; any other text is an instruction the next attempt receives (as the task's own answers do)
  const answers = choice === "retry" ? task.answers : [...(task.answers ?? []), given];
  draft.tasks[task.id] = moveTask(task, "answer", {
    question: undefined, answers, asks: (task.asks ?? 0) + 1,
    // an escalated failure's retry is a person's decision: the retry policy counts afresh from here
    ...(question.about === "escalation" ? { undoneAttempts: task.attempt - (task.budgetStops ?? 0) - (task.asks ?? 0) - 1 } : {}),
  });
}

/** Open questions whose timeout passed at `at`: the default is taken (as an answer), else the question is escalated once. */
export function expireQuestions(ctx: FeatureContext, at: string, opts: ScheduleOptions): FeatureContext {
  const now = Date.parse(at);
  const due = (ctx.questions ?? []).filter((q) => q.state === "open" && q.timeoutAt && Date.parse(q.timeoutAt) <= now);
  let next = ctx;
  for (const question of due) {
    if (question.default !== undefined && question.about !== "budget") {
      next = onAnswer(next, { type: "question.answer", questionId: question.id, answer: question.default, by: "timeout", at }, opts, "timeout");
      continue;
    }
    const draft = editable(next);
    draft.questions = draft.questions!.map((q) => (q.id === question.id ? { ...q, state: "escalated" } : q));
    emitInto(draft, { kind: "question.escalated", questionId: question.id, ...(question.taskId ? { taskId: question.taskId } : {}), reason: `no answer within its timeout (${question.timeoutAt})${question.default === undefined ? " and no default" : ""}` }, at);
    next = draft;
  }
  return next;
}

/** The earliest timeout among open questions, for the runtime's timer. */
export function questionDeadline(ctx: FeatureContext): string | undefined {
  let min: string | undefined;
  for (const asked of ctx.questions ?? []) if (asked.state === "open" && asked.timeoutAt && (!min || asked.timeoutAt < min)) min = asked.timeoutAt;
  return min;
}

/** The feature resumed after its budget was raised (`baton budget`, `baton resume`): the open budget question is moot. */
export function resolveBudgetQuestion(ctx: FeatureContext, at: string, by: string | undefined): FeatureContext {
  const open = ctx.questions?.find((q) => q.about === "budget" && q.state !== "answered");
  if (!open) return ctx;
  const draft = editable(ctx);
  recordAnswer(draft, open, { answer: "continue (the budget was raised)", by, at }, "resolved");
  return draft;
}
