// What the state files show, derived from a feature's status events: the client's view fold (shared/client
// feature-view.ts) plus what only the workspace events tell — the integration branch, checkpoints in merge order,
// rollbacks, and each task's latest conflict, scope violation and artifact problems. Pure.
import { emptyView, foldEvent } from "../../../shared/client/feature-view.ts";
import type { StatusEvent } from "../../../shared/protocol/events.ts";
import type { FeatureView, ViewTask } from "../../../shared/protocol/views.ts";
import type { ArtifactProblem } from "../../../shared/protocol/workspace.ts";
import { settleView } from "../../../shared/protocol/waiting.ts";

/** One task's work on the integration branch, as its checkpoint.created event told it. */
export interface Checkpoint {
  taskId: string;
  role: string;
  attempt: number;
  commit: string;
  files: string[];
  insertions: number;
  deletions: number;
  tag?: string | undefined;
  at: string;
}

/** What the workspace events said about one task, latest first-hand facts only. */
export interface TaskNotes {
  conflict?: { files: string[]; round: number; fixTaskId?: string | undefined; at: string };
  scopeViolation?: { files: string[]; scope: string[]; strict: boolean; at: string };
  artifacts?: { problems: ArtifactProblem[]; at: string };
  /** Set by a rollback that undid or reset the task, until it is dispatched again. */
  rolledBack?: { at: string; cancelled: boolean; toTask?: string | undefined };
}

type RolledBack = Extract<StatusEvent, { kind: "feature.rolled_back" }>;
type Integrated = Extract<StatusEvent, { kind: "feature.integrated" }>;

export interface Ledger {
  view: FeatureView;
  /** The integration branch: where it started and its head now (absent before workspace.prepared). */
  git?: { branch: string; base: string; head: string };
  /** Checkpoints on the branch now, oldest first (a rollback drops those after its target). */
  checkpoints: Checkpoint[];
  notes: Map<string, TaskNotes>;
  lastRollback?: RolledBack;
  integrated?: Integrated;
  /** The latest event the files reflect (task.log and task.progress never change them and do not count). */
  lastEvent?: { seq: number; kind: string; at: string };
}

/** Event kinds that never change the state files: a writer need not keep them. */
export const IGNORED_KINDS: ReadonlySet<StatusEvent["kind"]> = new Set(["task.log", "task.progress"]);

/**
 * Folds a feature's events (in seq order; duplicates and replays are ignored as foldEvent ignores them) into a
 * Ledger. Deterministic: the same events give the same ledger; no clock is read.
 */
export function buildLedger(featureId: string, events: readonly StatusEvent[]): Ledger {
  const ledger: Ledger = { view: emptyView(featureId), checkpoints: [], notes: new Map() };
  for (const event of events) {
    if (event.featureId !== featureId || IGNORED_KINDS.has(event.kind)) continue;
    if (!foldEvent(ledger.view, event) || event.seq === 0) continue;
    applyWorkspaceEvent(ledger, event);
    ledger.lastEvent = { seq: event.seq, kind: event.kind, at: event.at };
  }
  settleView(ledger.view);
  return ledger;
}

const notesOf = (ledger: Ledger, taskId: string): TaskNotes => {
  let notes = ledger.notes.get(taskId);
  if (!notes) ledger.notes.set(taskId, (notes = {}));
  return notes;
};

/** The workspace events' effect, applied after foldEvent (idempotent with a fold that already knows them). */
function applyWorkspaceEvent(ledger: Ledger, event: StatusEvent): void {
  const { view } = ledger;
  const task = "taskId" in event && event.taskId ? view.tasks.find((t) => t.id === event.taskId) : undefined;
  switch (event.kind) {
    case "workspace.prepared":
      ledger.git = { branch: event.branch, base: event.base, head: event.head };
      break;
    case "task.dispatched":
      if (ledger.notes.get(event.taskId)?.rolledBack) delete notesOf(ledger, event.taskId).rolledBack;
      break;
    case "task.integrating":
      if (task && !isEnded(task)) task.state = "integrating";
      break;
    case "checkpoint.created":
      ledger.checkpoints = ledger.checkpoints.filter((c) => c.taskId !== event.taskId);
      ledger.checkpoints.push({
        taskId: event.taskId, role: event.role, attempt: event.attempt, commit: event.commit, files: event.files,
        insertions: event.insertions, deletions: event.deletions, tag: event.tag, at: event.at,
      });
      if (ledger.git) ledger.git.head = event.commit;
      break;
    case "task.conflict":
      notesOf(ledger, event.taskId).conflict = { files: event.files, round: event.round, fixTaskId: event.fixTaskId, at: event.at };
      if (task && event.fixTaskId && !isEnded(task)) task.state = "fixing";
      if (event.fixTaskId && !view.tasks.some((t) => t.id === event.fixTaskId)) {
        view.tasks.push({ id: event.fixTaskId, role: event.role, title: `Resolve the merge conflicts of ${event.taskId}`, dependsOn: [], state: "waiting", attempt: 0, fixes: event.taskId });
      }
      break;
    case "scope.violation":
      notesOf(ledger, event.taskId).scopeViolation = { files: event.files, scope: event.scope, strict: event.strict, at: event.at };
      break;
    case "artifact.invalid":
      notesOf(ledger, event.taskId).artifacts = { problems: event.problems, at: event.at };
      break;
    case "feature.rolled_back":
      rollBack(ledger, event);
      break;
    case "feature.integrated":
      ledger.integrated = event;
      if (ledger.git && event.head) ledger.git.head = event.head;
      break;
    default:
      break;
  }
}

/** The branch went back to `to`: later checkpoints are gone and the tasks named are pending again (or cancelled). */
function rollBack(ledger: Ledger, event: RolledBack): void {
  ledger.lastRollback = event;
  const undone = new Set(event.tasks);
  const kept = ledger.checkpoints.findIndex((c) => c.commit === event.to);
  ledger.checkpoints = (kept >= 0 ? ledger.checkpoints.slice(0, kept + 1) : ledger.git?.base === event.to ? [] : ledger.checkpoints)
    .filter((c) => !undone.has(c.taskId));
  if (ledger.git) ledger.git.head = event.to;
  for (const task of ledger.view.tasks) {
    if (!undone.has(task.id)) continue;
    notesOf(ledger, task.id).rolledBack = { at: event.at, cancelled: event.cancelled, toTask: event.toTask };
    Object.assign(task, event.cancelled ? { state: "cancelled", finishedAt: event.at } : { state: "waiting", finishedAt: undefined, durationMs: undefined, summary: undefined });
  }
}

/** True for a task that ended: completed, failed or cancelled. */
export const isEnded = (task: Pick<ViewTask, "state">): boolean => task.state === "completed" || task.state === "failed" || task.state === "cancelled";

/** States of a task whose work is under way (it holds a worker, or waits for its gates or fix). */
export const UNDER_WAY: ReadonlySet<ViewTask["state"]> = new Set(["dispatched", "running", "verifying", "fixing", "retrying"]);

/** The ids of the tasks that depend, directly or not, on any of `ids` (not `ids` themselves), in the view's order. */
export function dependentsOf(view: FeatureView, ids: Iterable<string>): string[] {
  const reached = new Set(ids);
  const start = new Set(reached);
  for (let grew = true; grew; ) {
    grew = false;
    for (const task of view.tasks) {
      if (reached.has(task.id)) continue;
      if (task.dependsOn.some((dep) => reached.has(dep)) || (task.fixes !== undefined && reached.has(task.fixes))) {
        reached.add(task.id);
        grew = true;
      }
    }
  }
  return view.tasks.filter((t) => reached.has(t.id) && !start.has(t.id)).map((t) => t.id);
}
