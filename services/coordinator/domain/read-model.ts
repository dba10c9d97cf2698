// The read model: a feature's current state as the protocol's FeatureView (shared/protocol/views.ts) and its
// row in the feature list, projected from the context — plus the little the context keeps only for them
// (the latest gate results, rejected-message notices). The same view a client gets by folding the history.
import type { EventBody, FeatureSummary, FeatureView, ViewFeatureState, ViewGate, ViewTask, WireError } from "../../../shared/protocol/index.ts";
import { durationMs, type FeatureContext, type FeatureStateValue, type TaskState } from "./context.ts";


/** Notices kept per feature (the newest); the full list is in the status history. */
export const MAX_NOTICES = 50;

/** `ctx` with a rejected message recorded as a notice. Pure. */
export function withNotice(ctx: FeatureContext, subject: string, error: WireError): FeatureContext {
  return { ...ctx, notices: [...(ctx.notices ?? []), `${subject}: ${error.message}`].slice(-MAX_NOTICES) };
}

/** A gate event's result as the view shows it. */
function viewGate(e: Extract<EventBody, { kind: "gate.passed" | "gate.failed" }>, at: string): ViewGate {
  return {
    name: e.gate, passed: e.kind === "gate.passed", at, reason: e.reason,
    tests: e.tests && { passed: e.tests.passed, failed: e.tests.failed, total: e.tests.total },
    coverage: e.coverage && { metric: e.coverage.metric, pct: e.coverage.pct, min: e.coverage.min },
  };
}

const replaceGate = (list: readonly ViewGate[] | undefined, g: ViewGate): ViewGate[] => [...(list ?? []).filter((x) => x.name !== g.name), g];

/** Records a gate run's outcome on its task or on the feature, in a draft (context.ts `draft`). */
export function recordGateResult(d: FeatureContext, e: EventBody, at: string): void {
  if (e.kind !== "gate.passed" && e.kind !== "gate.failed") return;
  const g = viewGate(e, at);
  if (e.scope === "feature") {
    if (d.featureGates) d.featureGates = { ...d.featureGates, results: replaceGate(d.featureGates.results, g) };
    return;
  }
  const t = e.taskId ? d.tasks[e.taskId] : undefined;
  if (t) d.tasks[t.id] = { ...t, gateResults: replaceGate(t.gateResults, g) };
}

const FEATURE_STATE: Record<FeatureStateValue, ViewFeatureState> = {
  received: "unknown", executing: "executing", paused: "paused", verifying: "verifying",
  completed: "completed", failed: "failed", cancelled: "cancelled", rejected: "rejected",
};

function viewTask(t: TaskState): ViewTask {
  const ended = t.status === "completed" || t.status === "failed";
  return {
    id: t.id, role: t.role, title: t.title, dependsOn: t.dependsOn,
    state: t.status === "blocked" || t.status === "ready" ? "waiting" : t.status,
    attempt: t.attempt, workerId: t.workerId, dispatchedAt: t.dispatchedAt, startedAt: t.startedAt,
    finishedAt: ended ? t.finishedAt : undefined,
    durationMs: ended && t.finishedAt ? durationMs(t.startedAt, t.finishedAt) : undefined,
    summary: t.status === "completed" ? t.summary : undefined,
    error: t.status === "failed" || t.status === "retrying" ? t.error?.message : undefined,
    gates: t.gates, gateResults: t.gateResults,
    retryAt: t.status === "retrying" ? t.retryAt : undefined,
    fixes: t.fixFor ? (t.fixFor.taskId ?? "feature") : undefined,
  };
}

/** The feature's current state as the protocol's FeatureView. Pure. */
export function projectView(state: FeatureStateValue, ctx: FeatureContext): FeatureView {
  const view = FEATURE_STATE[state];
  const ended = view === "completed" || view === "failed" || view === "cancelled" || view === "rejected";
  return {
    featureId: ctx.featureId, state: view,
    ...(state === "rejected" ? { errors: ctx.rejection } : {
      title: ctx.title, maxParallel: ctx.maxParallel, workspace: ctx.workspace, acceptedAt: ctx.submittedAt || undefined,
    }),
    finishedAt: ended ? ctx.finishedAt : undefined,
    durationMs: ended && ctx.finishedAt && state !== "rejected" ? durationMs(ctx.submittedAt, ctx.finishedAt) : undefined,
    reason: view === "failed" ? ctx.reason : view === "cancelled" ? (ctx.reason ?? "cancelled") : undefined,
    tasks: ctx.order.map((id) => viewTask(ctx.tasks[id]!)),
    gates: ctx.featureGates?.gates, gateResults: ctx.featureGates?.results,
    seq: ctx.seq, notices: ctx.notices ?? [],
  };
}

/** The feature's row in the feature list. Pure. */
export function projectSummary(state: FeatureStateValue, ctx: FeatureContext): FeatureSummary {
  let completed = 0;
  for (const id of ctx.order) if (ctx.tasks[id]!.status === "completed") completed++;
  return {
    featureId: ctx.featureId, state: FEATURE_STATE[state], title: ctx.title, submittedAt: ctx.submittedAt,
    finishedAt: ctx.finishedAt, tasks: ctx.order.length, completed,
  };
}


