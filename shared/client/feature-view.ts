// A feature's state as any client sees it, folded from its status events (the public history). The shape is
// the read model's `FeatureView` (shared/protocol/views.ts): folding the history and asking a coordinator agree.
import { WIRE_ERRORS } from "../protocol/errors.ts";
import type { StatusEvent } from "../protocol/events.ts";
import type { FeatureView, ViewFeatureState, ViewGate, ViewTask } from "../protocol/views.ts";
import { endsFeatureUnservedWait, endsUnservedWait, settleView } from "../protocol/waiting.ts";
import { foldWorkspaceEvent } from "./feature-view-git.ts";
import { acceptedPlan, foldPlanningEvent } from "./feature-view-plan.ts";

/** The view of a feature nothing is known about yet: state `unknown`, no tasks, seq 0. */
export function emptyView(featureId: string): FeatureView {
  return { featureId, state: "unknown", tasks: [], seq: 0, notices: [] };
}

/** True for the states a feature never leaves: completed, failed, rejected, cancelled. */
export const isTerminal = (state: ViewFeatureState): boolean =>
  state === "completed" || state === "failed" || state === "rejected" || state === "cancelled";

/**
 * Folds one event into `view` (mutating it). Events at or below `view.seq` are duplicates or replays and
 * change nothing; notices (seq 0) are appended each time. Returns whether the event was new.
 * Pure apart from the mutation: the same events in the same order always give the same view.
 */
export function foldEvent(view: FeatureView, event: StatusEvent): boolean {
  if (event.seq === 0) {
    if (event.kind === "message.rejected") view.notices.push(`${event.subject}: ${event.error.message}`);
    return true;
  }
  if (event.seq <= view.seq) return false;
  view.seq = event.seq;
  const task = "taskId" in event && event.taskId ? view.tasks.find((t) => t.id === event.taskId) : undefined;
  switch (event.kind) {
    case "feature.accepted": {
      const { state, plan } = acceptedPlan(event);
      Object.assign(view, { state, title: event.title, maxParallel: event.maxParallel, workspace: event.workspace, acceptedAt: event.at, ...(event.gates ? { gates: event.gates } : {}), ...(plan ? { plan } : {}) });
      view.tasks = event.tasks.map((t) => ({ ...t, state: "waiting", attempt: 0 }));
      break;
    }
    case "feature.rejected":
      Object.assign(view, { state: "rejected", errors: event.errors, finishedAt: event.at });
      break;
    case "task.dispatched":
      // a new attempt starts clean, as the coordinator's dispatch does
      if (task) Object.assign(task, { state: "dispatched", attempt: event.attempt, dispatchedAt: event.at, error: undefined, retryAt: undefined, startedAt: undefined, finishedAt: undefined, durationMs: undefined, workerId: undefined });
      break;
    case "task.started":
      if (task && task.state !== "completed" && task.state !== "failed") Object.assign(task, { state: "running", startedAt: task.startedAt ?? event.at, workerId: event.workerId });
      break;
    case "task.completed":
      if (task) Object.assign(task, { state: "completed", finishedAt: event.at, durationMs: event.durationMs, workerId: event.workerId, summary: event.summary });
      break;
    case "task.failed":
      // stopped for a budget: the task waits to be dispatched again (the coordinator requeues it), it has not failed
      if (task && event.error.code === WIRE_ERRORS.BudgetExceeded.code) Object.assign(task, { state: "waiting", finishedAt: undefined, durationMs: undefined, error: undefined });
      else if (task) Object.assign(task, { state: "failed", finishedAt: event.at, durationMs: event.durationMs, error: event.error.message });
      break;
    case "feature.completed":
      Object.assign(view, { state: "completed", finishedAt: event.at, durationMs: event.durationMs });
      break;
    case "feature.failed":
      Object.assign(view, { state: "failed", finishedAt: event.at, durationMs: event.durationMs, reason: event.reason });
      break;
    case "feature.cancelled":
      Object.assign(view, { state: "cancelled", finishedAt: event.at, durationMs: event.durationMs, reason: event.reason ?? "cancelled" });
      cancelUnfinished(view, event.at);
      break;
    case "feature.paused":
      Object.assign(view, { state: "paused", paused: { at: event.at, reason: event.reason, by: event.by } });
      break;
    case "feature.resumed":
      view.state = "executing";
      break;
    case "message.rejected":
      view.notices.push(`${event.subject}: ${event.error.message}`);
      break;
    case "task.verifying":
      if (task) Object.assign(task, { state: "verifying", gates: event.gates, workerId: event.workerId });
      break;
    case "feature.verifying":
      Object.assign(view, { state: "verifying", gates: event.gates });
      break;
    case "task.retrying":
      if (task) Object.assign(task, { state: "retrying", retryAt: event.retryAt, error: event.reason });
      break;
    case "task.fixing":
      fixing(view, task, event);
      break;
    case "gate.passed":
    case "gate.failed": {
      const holder: { gateResults?: ViewGate[] | undefined } | undefined = event.scope === "feature" ? view : task;
      if (holder) holder.gateResults = [...(holder.gateResults ?? []).filter((g) => g.name !== event.gate), gateOf(event)];
      break;
    }
    case "task.log":
    case "task.unserved":
      break;
    default:
      if (!foldPlanningEvent(view, task, event)) foldWorkspaceEvent(view, task, event);
  }
  trackUnserved(view, task, event);
  settleView(view);
  return true;
}

/** A gate failed and a fix task runs: the task is fixing, and the fix task joins the view. */
function fixing(view: FeatureView, task: ViewTask | undefined, event: Extract<StatusEvent, { kind: "task.fixing" }>): void {
  if (task) task.state = "fixing";
  if (!view.tasks.some((t) => t.id === event.fixTaskId)) {
    view.tasks.push({ id: event.fixTaskId, role: event.fixRole, title: event.title, dependsOn: [], state: "waiting", attempt: 0, fixes: event.taskId ?? "feature" });
  }
}

/**
 * Keeps the latest task.unserved event on its task, or (a run named after no task: a feature gate's or a
 * baseline's) on the view; the task's next progress event, or the gate's event, ends that wait.
 */
function trackUnserved(view: FeatureView, task: ViewTask | undefined, event: StatusEvent): void {
  if (event.kind === "task.unserved") {
    const unserved = { at: event.at, role: event.role, gate: event.gate, liveWorkers: event.liveWorkers, remedy: event.remedy, failsAt: event.failsAt };
    if (task) task.unserved = unserved;
    else view.unserved = unserved;
    return;
  }
  if (task?.unserved && endsUnservedWait(event.kind)) delete task.unserved;
  if (view.unserved && endsFeatureUnservedWait(event)) delete view.unserved;
}

/** Every task that has not ended is cancelled at `at`; a task's time stops then. */
function cancelUnfinished(view: FeatureView, at: string): void {
  for (const task of view.tasks) {
    if (task.state === "completed" || task.state === "failed") continue;
    const ran = task.startedAt ? Math.max(0, Date.parse(at) - Date.parse(task.startedAt)) : undefined;
    Object.assign(task, { state: "cancelled", finishedAt: at, durationMs: ran });
  }
}

type GateEvent = Extract<StatusEvent, { kind: "gate.passed" | "gate.failed" }>;

/** The latest run of a gate as a view keeps it. */
function gateOf(event: GateEvent): ViewGate {
  return {
    name: event.gate, passed: event.kind === "gate.passed", at: event.at, reason: event.reason,
    tests: event.tests && { passed: event.tests.passed, failed: event.tests.failed, total: event.tests.total },
    coverage: event.coverage && { metric: event.coverage.metric, pct: event.coverage.pct, min: event.coverage.min },
  };
}
