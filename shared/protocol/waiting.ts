// What each task of a FeatureView waits for, derived from the rest of the view. The coordinators' read model
// and a client's fold of the status history both finish their view with `settleView`, so they cannot disagree.
import type { StatusKind } from "./events.ts";
import type { FeatureView, ViewStream, ViewTask, WaitingFor } from "./views.ts";
import { scopesMayOverlap } from "../scope.ts";

/** Task states that hold a file scope (the coordinator's scope.ts HOLDS_SCOPE). */
const HOLDS_SCOPE: ReadonlySet<ViewTask["state"]> = new Set(["dispatched", "running", "verifying", "fixing", "integrating", "retrying"]);

/** The tasks under way whose file scopes may overlap `task`'s (both kept apart by file-scope locks). */
function scopeBlockers(view: FeatureView, task: ViewTask): string[] {
  return view.tasks
    .filter((other) => other.id !== task.id && other.locked && !other.fixes && HOLDS_SCOPE.has(other.state) && scopesMayOverlap(task.files ?? null, other.files ?? null))
    .map((other) => other.id);
}

/** Task states that hold one of the feature's `maxParallel` places (the coordinator's HOLDS_SLOT). */
const HOLDS_PLACE: ReadonlySet<ViewTask["state"]> = new Set(["dispatched", "running", "verifying", "retrying"]);
const FEATURE_ENDED: ReadonlySet<FeatureView["state"]> = new Set(["completed", "failed", "rejected", "cancelled"]);
/** How the reason of a pause for a budget begins (the coordinator's budgets.ts pauses with "budget: tokens 10234 of 10000"). */
export const BUDGET_PAUSE = "budget:";

/**
 * Whether a status event about a task ends the wait a task.unserved event reported: any later event about
 * the task's progress (task.* and gate.*, except task.log and task.unserved itself).
 */
export function endsUnservedWait(kind: StatusKind): boolean {
  return (kind.startsWith("task.") || kind.startsWith("gate.")) && kind !== "task.log" && kind !== "task.unserved";
}

/** Whether a status event ends the wait of a feature-level gate run (the feature's `unserved`): its gate event. */
export function endsFeatureUnservedWait(event: { kind: StatusKind; taskId?: string | undefined }): boolean {
  // a feature-level workspace operation's wait ends with what it reports
  if (event.kind === "workspace.prepared" || event.kind === "feature.integrated" || event.kind === "feature.rolled_back" || event.kind === "feature.rejected") return true;
  return event.kind.startsWith("gate.") && !event.taskId;
}

/**
 * Finishes a view (mutating it): sets each task's `waitingFor`, keeps a task's `unserved` only while it waits
 * for a worker and the feature's `paused` only while it is paused. Idempotent; O(tasks + dependencies).
 */
export function settleView(view: FeatureView): FeatureView {
  if (view.state !== "paused") delete view.paused;
  const ended = FEATURE_ENDED.has(view.state);
  if (ended) delete view.unserved;
  const completed = new Set<string>();
  let holding = 0;
  for (const task of view.tasks) {
    if (task.state === "completed") completed.add(task.id);
    else if (HOLDS_PLACE.has(task.state)) holding++;
  }
  for (const task of view.tasks) {
    const waiting = ended ? undefined : waitingOf(view, task, completed, holding);
    if (waiting) task.waitingFor = waiting;
    else delete task.waitingFor;
    if (waiting?.kind !== "worker" || !waiting.unserved) delete task.unserved;
  }
  const streams = streamsOf(view);
  if (streams.length) view.streams = streams;
  else delete view.streams;
  return view;
}

/** Progress per stream, from its tasks (and the task that runs its gates). */
export function streamsOf(view: FeatureView): ViewStream[] {
  const byName = new Map<string, ViewTask[]>();
  for (const task of view.tasks) if (task.stream) byName.set(task.stream, [...(byName.get(task.stream) ?? []), task]);
  return [...byName].map(([name, tasks]) => {
    const gate = tasks.find((task) => task.streamGate);
    const work = tasks.filter((task) => !task.streamGate);
    const completed = work.filter((task) => task.state === "completed").length;
    const state: ViewStream["state"] = tasks.some((task) => task.state === "failed") ? "failed"
      : tasks.every((task) => task.state === "completed") ? "passed"
      : gate?.state === "verifying" ? "verifying"
      : tasks.some((task) => task.state !== "waiting" && task.state !== "completed" && task.state !== "cancelled") ? "running" : "waiting";
    return { name, ...(gate?.gates?.length ? { gates: gate.gates } : {}), tasks: work.length, completed, state };
  });
}

function waitingOf(view: FeatureView, task: ViewTask, completed: ReadonlySet<string>, holding: number): WaitingFor | undefined {
  switch (task.state) {
    case "waiting": {
      if (view.state === "awaitingApproval") return { kind: "approval" };
      const pending = task.dependsOn.filter((id) => !completed.has(id));
      const stream = pending.length ? streamWait(view, pending) : undefined;
      if (stream) return stream;
      if (pending.length) return { kind: "dependencies", taskIds: pending };
      if (view.state === "paused") {
        const reason = view.paused?.reason;
        return reason?.startsWith(BUDGET_PAUSE) ? { kind: "budget", reason } : { kind: "paused" };
      }
      // a git feature's tasks wait for its workspace (integration branch and worktree) first
      if (view.workspace && !view.git && view.state === "executing") return { kind: "workspace" };
      const maxParallel = view.maxParallel ?? 1;
      if (holding >= maxParallel) return { kind: "parallel", maxParallel, running: holding };
      const blockers = task.locked ? scopeBlockers(view, task) : [];
      if (blockers.length) return { kind: "scope", taskIds: blockers };
      // Ready with a place free: the coordinator dispatches such a task at once unless baselines are measured first.
      return { kind: "baseline" };
    }
    case "dispatched":
      return { kind: "worker", role: task.unserved?.role ?? task.role, unserved: !!task.unserved };
    case "verifying":
      if (task.unserved?.gate) return { kind: "worker", role: task.unserved.role, gate: task.unserved.gate, unserved: true };
      return { kind: "gates", gates: task.gates ?? [] };
    case "retrying":
      return task.retryAt ? { kind: "retry", until: task.retryAt } : undefined;
    case "asking":
      return task.questionId ? { kind: "question", questionId: task.questionId } : undefined;
    case "fixing": {
      const fix = view.tasks.findLast((t) => t.fixes === task.id);
      return fix ? { kind: "fix", fixTaskId: fix.id, ...(task.conflict ? { conflict: true } : {}) } : undefined;
    }
    case "integrating":
      // the integrate operation waits for an integrator worker, or for its turn (one merge at a time)
      if (task.unserved) return { kind: "worker", role: task.unserved.role, unserved: true };
      return { kind: "integration", ahead: view.tasks.filter((t) => t.state === "integrating" && t.id !== task.id).map((t) => t.id) };
    default:
      return undefined;
  }
}

/** Waiting only for streams' gates (every pending dependency runs a stream's gates): the first such stream. */
function streamWait(view: FeatureView, pending: readonly string[]): WaitingFor | undefined {
  const gates = pending.map((id) => view.tasks.find((task) => task.id === id));
  if (!gates.every((task) => task?.streamGate && task.stream)) return undefined;
  return { kind: "stream", stream: gates[0]!.stream!, taskId: gates[0]!.id };
}
