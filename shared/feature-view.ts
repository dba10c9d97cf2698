// A feature's state as any client sees it, folded from its status events (the public history).
import type { StatusEvent, ValidationIssue } from "./protocol/index.ts";

export type ViewTaskState = "waiting" | "dispatched" | "running" | "verifying" | "fixing" | "retrying" | "completed" | "failed" | "cancelled";
export type ViewFeatureState = "unknown" | "executing" | "paused" | "verifying" | "completed" | "failed" | "rejected" | "cancelled";

/** The latest run of one gate, as its gate.passed / gate.failed event told it. */
export interface ViewGate {
  name: string;
  passed: boolean;
  at: string;
  reason?: string | undefined;
  tests?: { passed: number; failed: number; total: number } | undefined;
  coverage?: { metric: string; pct: number; min: number } | undefined;
}

export interface ViewTask {
  id: string;
  role: string;
  title: string;
  dependsOn: string[];
  state: ViewTaskState;
  attempt: number;
  workerId?: string | undefined;
  dispatchedAt?: string | undefined;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  durationMs?: number | undefined;
  summary?: string | undefined;
  error?: string | undefined;
  /** Gates the task must pass (from task.verifying) and the latest result of each. */
  gates?: string[] | undefined;
  gateResults?: ViewGate[] | undefined;
  /** While retrying: when the next attempt starts, and why the last one failed. */
  retryAt?: string | undefined;
  /** A fix task: whose gate it fixes ("feature" for a feature gate). */
  fixes?: string | undefined;
}

export interface FeatureView {
  featureId: string;
  state: ViewFeatureState;
  title?: string | undefined;
  maxParallel?: number | undefined;
  workspace?: string | undefined;
  acceptedAt?: string | undefined;
  finishedAt?: string | undefined;
  durationMs?: number | undefined;
  reason?: string | undefined;
  errors?: ValidationIssue[] | undefined;
  tasks: ViewTask[];
  /** The feature's own gates (from feature.verifying) and the latest result of each. */
  gates?: string[] | undefined;
  gateResults?: ViewGate[] | undefined;
  /** Highest feature-history seq folded in; events at or below it are duplicates. */
  seq: number;
  notices: string[];
}

export function emptyView(featureId: string): FeatureView {
  return { featureId, state: "unknown", tasks: [], seq: 0, notices: [] };
}

export const isTerminal = (s: ViewFeatureState): boolean => s === "completed" || s === "failed" || s === "rejected" || s === "cancelled";

/** Folds one event in. Duplicates and replays (seq already seen) are ignored; returns whether it was new. */
export function foldEvent(view: FeatureView, e: StatusEvent): boolean {
  if (e.seq === 0) {
    if (e.kind === "message.rejected") view.notices.push(`${e.subject}: ${e.error.message}`);
    return true;
  }
  if (e.seq <= view.seq) return false;
  view.seq = e.seq;
  const task = "taskId" in e && e.taskId ? view.tasks.find((t) => t.id === e.taskId) : undefined;
  switch (e.kind) {
    case "feature.accepted":
      view.state = "executing";
      view.title = e.title;
      view.maxParallel = e.maxParallel;
      view.workspace = e.workspace;
      view.acceptedAt = e.at;
      view.tasks = e.tasks.map((t) => ({ ...t, state: "waiting", attempt: 0 }));
      break;
    case "feature.rejected":
      view.state = "rejected";
      view.errors = e.errors;
      view.finishedAt = e.at;
      break;
    case "task.dispatched":
      if (task) Object.assign(task, { state: "dispatched", attempt: e.attempt, dispatchedAt: e.at, error: undefined, retryAt: undefined });
      break;
    case "task.started":
      if (task && task.state !== "completed" && task.state !== "failed") Object.assign(task, { state: "running", startedAt: task.startedAt ?? e.at, workerId: e.workerId });
      break;
    case "task.completed":
      if (task) Object.assign(task, { state: "completed", finishedAt: e.at, durationMs: e.durationMs, workerId: e.workerId, summary: e.summary });
      break;
    case "task.failed":
      if (task) Object.assign(task, { state: "failed", finishedAt: e.at, durationMs: e.durationMs, error: e.error.message });
      break;
    case "feature.completed":
      Object.assign(view, { state: "completed", finishedAt: e.at, durationMs: e.durationMs });
      break;
    case "feature.failed":
      Object.assign(view, { state: "failed", finishedAt: e.at, durationMs: e.durationMs, reason: e.reason });
      break;
    case "feature.cancelled":
      Object.assign(view, { state: "cancelled", finishedAt: e.at, durationMs: e.durationMs, reason: e.reason ?? "cancelled" });
      for (const t of view.tasks) if (t.state !== "completed" && t.state !== "failed") t.state = "cancelled";
      break;
    case "feature.paused":
      view.state = "paused";
      break;
    case "feature.resumed":
      view.state = "executing";
      break;
    case "message.rejected":
      view.notices.push(`${e.subject}: ${e.error.message}`);
      break;
    case "task.verifying":
      if (task) Object.assign(task, { state: "verifying", gates: e.gates, workerId: e.workerId });
      break;
    case "feature.verifying":
      Object.assign(view, { state: "verifying", gates: e.gates });
      break;
    case "task.retrying":
      if (task) Object.assign(task, { state: "retrying", retryAt: e.retryAt, error: e.reason });
      break;
    case "task.fixing":
      if (task) task.state = "fixing";
      if (!view.tasks.some((t) => t.id === e.fixTaskId)) {
        view.tasks.push({ id: e.fixTaskId, role: e.fixRole, title: e.title, dependsOn: [], state: "waiting", attempt: 0, fixes: e.taskId ?? "feature" });
      }
      break;
    case "gate.passed":
    case "gate.failed": {
      const g: ViewGate = {
        name: e.gate, passed: e.kind === "gate.passed", at: e.at, reason: e.reason,
        tests: e.tests && { passed: e.tests.passed, failed: e.tests.failed, total: e.tests.total },
        coverage: e.coverage && { metric: e.coverage.metric, pct: e.coverage.pct, min: e.coverage.min },
      };
      const holder: { gateResults?: ViewGate[] | undefined } | undefined = e.scope === "feature" ? view : task;
      if (holder) holder.gateResults = [...(holder.gateResults ?? []).filter((x) => x.name !== g.name), g];
      break;
    }
    case "task.log":
      break;
  }
  return true;
}
