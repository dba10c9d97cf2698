// The part of the history fold that concerns git features (issue 12): the integration branch, integrating tasks,
// checkpoints, conflicts and their fix tasks, scope violations, rollbacks and the final integration. The read
// model (services/coordinator/domain/read-model.ts) projects the same fields from the coordinator's state.
import type { StatusEvent } from "../protocol/events.ts";
import type { FeatureView, ViewTask } from "../protocol/views.ts";

/** Folds a workspace event into `view` (mutating it); false for any other kind of event. */
export function foldWorkspaceEvent(view: FeatureView, task: ViewTask | undefined, event: StatusEvent): boolean {
  switch (event.kind) {
    case "workspace.prepared":
      view.git = { branch: event.branch, base: event.head, head: event.head };
      return true;
    case "task.integrating":
      if (task) task.state = "integrating";
      return true;
    case "checkpoint.created":
      if (task) {
        task.checkpoint = { commit: event.commit, files: event.files, insertions: event.insertions, deletions: event.deletions, ...(event.tag ? { tag: event.tag } : {}) };
        delete task.conflict;
      }
      if (view.git) view.git.head = event.commit;
      return true;
    case "task.conflict":
      if (!task) return true;
      task.conflict = { files: event.files, round: event.round };
      if (event.fixTaskId) {
        task.state = "fixing";
        if (!view.tasks.some((t) => t.id === event.fixTaskId)) {
          view.tasks.push({ id: event.fixTaskId, role: task.role, title: event.title ?? `Resolve the merge conflict of task ${task.id}`, dependsOn: [...task.dependsOn], state: "waiting", attempt: 0, fixes: task.id });
        }
      }
      return true;
    case "scope.violation":
      if (task) task.scopeViolation = event.files;
      return true;
    case "artifact.invalid":
      return true;
    case "feature.rolled_back":
      rolledBack(view, event);
      return true;
    case "feature.integrated":
      if (view.git) Object.assign(view.git, { ...(event.into ? { into: event.into } : {}), fastForwarded: event.fastForwarded, ...(event.refused ? { refused: event.refused } : {}) });
      return true;
    default:
      return false;
  }
}

/** The tasks a rollback undid are waiting again (or cancelled), with nothing of their runs kept but their attempt. */
function rolledBack(view: FeatureView, event: Extract<StatusEvent, { kind: "feature.rolled_back" }>): void {
  if (view.git) view.git.head = event.to;
  const undone = new Set(event.tasks);
  for (const task of view.tasks) {
    if (!undone.has(task.id)) continue;
    // a fix task is always withdrawn
    const state = event.cancelled || task.fixes ? "cancelled" : "waiting";
    for (const key of ["workerId", "dispatchedAt", "startedAt", "finishedAt", "durationMs", "summary", "error", "gateResults", "retryAt", "checkpoint", "conflict", "scopeViolation", "unserved"] as const) delete task[key];
    task.state = state;
  }
}
