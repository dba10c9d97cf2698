// The read model: a feature's current state as the protocol's FeatureView (shared/protocol/views.ts) and its
// row in the feature list, projected from the context — plus the little the context keeps only for them
// (the latest gate results, rejected-message notices). The same view a client gets by folding the history.
import { locksApply } from "./workspace.ts";
import type { Budget, EventBody, FeatureSummary, FeatureView, StatusEvent, ViewBudget, ViewFeatureState, ViewGate, ViewTask, WireError } from "../../../shared/protocol/index.ts";
import { endsFeatureUnservedWait, endsUnservedWait, settleView } from "../../../shared/protocol/waiting.ts";
import { DEFAULT_WARN_PERCENT, durationMs, type FeatureContext, type FeatureStateValue, type TaskState } from "./context.ts";
import { featureUsage, taskUsage } from "./usage.ts";
import { planningOfTask, planOf, questionsOf } from "./read-model-plan.ts";


/** Notices kept per feature (the newest); the full list is in the status history. */
export const MAX_NOTICES = 50;

/** `ctx` with a rejected message recorded as a notice. Pure. */
export function withNotice(ctx: FeatureContext, subject: string, error: WireError): FeatureContext {
  return { ...ctx, notices: [...(ctx.notices ?? []), `${subject}: ${error.message}`].slice(-MAX_NOTICES) };
}

/** A gate event's result as the view shows it. */
function viewGate(event: Extract<EventBody, { kind: "gate.passed" | "gate.failed" }>, at: string): ViewGate {
  return {
    name: event.gate, passed: event.kind === "gate.passed", at, reason: event.reason,
    tests: event.tests && { passed: event.tests.passed, failed: event.tests.failed, total: event.tests.total },
    coverage: event.coverage && { metric: event.coverage.metric, pct: event.coverage.pct, min: event.coverage.min },
  };
}

const replaceGate = (list: readonly ViewGate[] | undefined, g: ViewGate): ViewGate[] => [...(list ?? []).filter((x) => x.name !== g.name), g];

/** Records a gate run's outcome on its task or on the feature, in a draft (context.ts `editable`). */
export function recordGateResult(draft: FeatureContext, event: EventBody, at: string): void {
  if (event.kind !== "gate.passed" && event.kind !== "gate.failed") return;
  const gate = viewGate(event, at);
  if (event.scope === "feature") {
    if (draft.featureGates) draft.featureGates = { ...draft.featureGates, results: replaceGate(draft.featureGates.results, gate) };
    return;
  }
  const task = event.taskId ? draft.tasks[event.taskId] : undefined;
  if (task) draft.tasks[task.id] = { ...task, gateResults: replaceGate(task.gateResults, gate) };
}

/** Whether `recordForView` would change anything for `event`. */
function touchesView(ctx: FeatureContext, event: StatusEvent): boolean {
  if (event.kind === "feature.paused" || event.kind === "task.unserved") return true;
  if (event.kind === "feature.resumed") return !!ctx.pause;
  if (ctx.unserved && endsFeatureUnservedWait(event)) return true;
  return "taskId" in event && !!event.taskId && !!ctx.tasks[event.taskId]?.unserved && endsUnservedWait(event.kind);
}

/**
 * Keeps, in a draft (context.ts `editable`), what the view needs from an emitted status event and the context
 * holds nowhere else: the pause (feature.paused; feature.resumed clears it), a task's wait for a worker
 * (task.unserved; the task's next progress event clears it) and a feature gate's or baseline's (its gate event
 * clears it) — the same rules the client's fold applies.
 */
export function recordForViewInto(draft: FeatureContext, event: StatusEvent): void {
  if (event.kind === "feature.paused") draft.pause = { at: event.at, reason: event.reason, by: event.by };
  else if (event.kind === "feature.resumed") draft.pause = undefined;
  else if (draft.unserved && endsFeatureUnservedWait(event)) draft.unserved = undefined;
  if (!("taskId" in event) || !event.taskId) return;
  const task = draft.tasks[event.taskId];
  if (event.kind === "task.unserved") {
    const { at, role, gate, liveWorkers, remedy, failsAt } = event;
    // a run named after no task is a feature gate's or a baseline's
    if (task) draft.tasks[task.id] = { ...task, unserved: { at, role, gate, liveWorkers, remedy, failsAt } };
    else draft.unserved = { at, role, gate, liveWorkers, remedy, failsAt };
  } else if (task?.unserved && endsUnservedWait(event.kind)) {
    draft.tasks[task.id] = { ...task, unserved: undefined };
  }
}

/** `recordForViewInto` on a copy: `ctx` itself when the event changes nothing the view keeps. Pure. */
export function recordForView(ctx: FeatureContext, event: StatusEvent): FeatureContext {
  if (!touchesView(ctx, event)) return ctx;
  const draft = { ...ctx, tasks: { ...ctx.tasks } };
  recordForViewInto(draft, event);
  return draft;
}

const FEATURE_STATE: Record<FeatureStateValue, ViewFeatureState> = {
  received: "unknown", planning: "planning", awaitingApproval: "awaitingApproval", executing: "executing", paused: "paused", verifying: "verifying",
  completed: "completed", failed: "failed", cancelled: "cancelled", rejected: "rejected",
};

/** A task as the view shows it; `cancelledAt`: when its feature was cancelled (a cancelled task's time stops then). */
function viewTask(ctx: FeatureContext, task: TaskState, cancelledAt: string | undefined): ViewTask {
  const ended = task.status === "completed" || task.status === "failed";
  const stopped = task.status === "cancelled" ? cancelledAt : undefined;
  // a retry that came due while the feature is paused is `ready` with its retryAt: still "retrying", as the history says
  const retrying = task.status === "retrying" || (task.status === "ready" && task.retryAt !== undefined);
  return {
    id: task.id, role: task.role, title: task.title, dependsOn: task.dependsOn,
    state: retrying ? "retrying" : task.status === "blocked" || task.status === "ready" ? "waiting" : task.status,
    attempt: task.attempt, workerId: task.workerId, dispatchedAt: task.dispatchedAt, startedAt: task.startedAt,
    finishedAt: ended ? task.finishedAt : stopped,
    durationMs: ended && task.finishedAt ? durationMs(task.startedAt, task.finishedAt) : stopped && task.startedAt ? durationMs(task.startedAt, stopped) : undefined,
    summary: task.status === "completed" ? task.summary : undefined,
    error: task.status === "failed" || retrying ? task.error?.message : undefined,
    gates: task.gates, gateResults: task.gateResults,
    retryAt: retrying ? task.retryAt : undefined,
    fixes: task.fixFor ? (task.fixFor.taskId ?? "feature") : task.conflictFor,
    unserved: task.unserved,
    ...gitOfTask(ctx, task),
    ...planningOfTask(task),
    usage: taskUsage(task),
    budget: task.budget && viewBudget(task.budget, task.firstStartedAt ?? task.startedAt),
  };
}

/** What a git feature's task adds to its view: scope, checkpoint, conflict and scope violation (as the history's fold has them). */
function gitOfTask(ctx: FeatureContext, task: TaskState): Partial<ViewTask> {
  const point = task.checkpoint;
  return {
    // as feature.accepted listed them (fix tasks, added later, have neither)
    ...(task.files?.length ? { files: task.files } : {}),
    ...(!task.fixFor && !task.conflictFor && locksApply(ctx, task) ? { locked: true } : {}),
    ...(point ? { checkpoint: { commit: point.commit, files: point.files, insertions: point.insertions, deletions: point.deletions, ...(point.tag ? { tag: point.tag } : {}) } } : {}),
    ...(task.conflict ? { conflict: task.conflict } : {}),
    ...(task.scopeViolation ? { scopeViolation: task.scopeViolation } : {}),
  };
}

/** The feature's integration branch as the view shows it: where it started, its head (its last checkpoint), and how it ended. */
function gitOfFeature(ctx: FeatureContext): FeatureView["git"] {
  const git = ctx.git;
  if (!git?.prepared || !git.base) return undefined;
  const finished = git.finished;
  return {
    branch: git.branch, base: git.base, head: git.checkpoints.at(-1)?.commit ?? git.base,
    ...(finished ? { ...(finished.into ? { into: finished.into } : {}), fastForwarded: finished.fastForwarded, ...(finished.refused ? { refused: finished.refused } : {}) } : {}),
  };
}

/** A budget as the view shows it: its limits and where its wall time counts from. */
function viewBudget(budget: Budget, wallFrom: string | undefined): ViewBudget {
  return { tokens: budget.tokens, costUsd: budget.costUsd, wallSeconds: budget.wallSeconds, warnAtPercent: budget.warnAtPercent ?? DEFAULT_WARN_PERCENT, wallFrom };
}

/** The feature's current state as the protocol's FeatureView. Pure. */
export function projectView(state: FeatureStateValue, ctx: FeatureContext): FeatureView {
  const view = FEATURE_STATE[state];
  const ended = view === "completed" || view === "failed" || view === "cancelled" || view === "rejected";
  return settleView({
    featureId: ctx.featureId, state: view,
    // a feature rejected after its acceptance (its workspace is not a git repository) keeps what feature.accepted said
    ...(state === "rejected" ? { errors: ctx.rejection } : {}),
    ...(state !== "rejected" || ctx.order.length ? {
      title: ctx.title, maxParallel: ctx.maxParallel, workspace: ctx.workspace, acceptedAt: ctx.submittedAt || undefined,
    } : {}),
    finishedAt: ended ? ctx.finishedAt : undefined,
    durationMs: ended && ctx.finishedAt && state !== "rejected" ? durationMs(ctx.submittedAt, ctx.finishedAt) : undefined,
    reason: view === "failed" ? ctx.reason : view === "cancelled" ? (ctx.reason ?? "cancelled") : undefined,
    paused: view === "paused" ? ctx.pause : undefined,
    unserved: ctx.unserved,
    tasks: ctx.order.map((id) => viewTask(ctx, ctx.tasks[id]!, view === "cancelled" ? ctx.finishedAt : undefined)),
    gates: ctx.featureGates?.gates, gateResults: ctx.featureGates?.results,
    seq: ctx.seq, notices: ctx.notices ?? [],
    usage: featureUsage(ctx),
    budget: ctx.budget && viewBudget(ctx.budget, ctx.submittedAt || undefined),
    git: gitOfFeature(ctx),
    plan: planOf(ctx),
    questions: questionsOf(ctx),
  });
}

/** The feature's row in the feature list. Pure. */
export function projectSummary(state: FeatureStateValue, ctx: FeatureContext): FeatureSummary {
  let completed = 0;
  for (const id of ctx.order) if (ctx.tasks[id]!.status === "completed") completed++;
  return {
    featureId: ctx.featureId, state: FEATURE_STATE[state], title: ctx.title, submittedAt: ctx.submittedAt,
    finishedAt: ctx.finishedAt, tasks: ctx.order.length, completed, usage: featureUsage(ctx),
  };
}


