// File scopes (issue 12 item 3): which ready task may not start because its declared `files` may overlap those of a
// task under way (the coordinator's side of file-scope locks; workers also hold leases in KV), and what a finished
// task changed outside its scope (scope.violation; `scope: strict` fails it). Pure.
import { outsideScope, scopesMayOverlap } from "../../../shared/scope.ts";
import type { FeatureContext, TaskState } from "./context.ts";
import type { TaskStatus } from "./task-lifecycle.ts";
import { branchOwner, isolationOf, locksApply } from "./workspace.ts";

/**
 * States in which a task holds its file scope: from dispatch until its work is integrated or it ended — a retry too
 * (in shared mode a failed attempt's changes are still in the worktree).
 */
export const HOLDS_SCOPE: ReadonlySet<TaskStatus> = new Set(["dispatched", "running", "verifying", "fixing", "integrating", "retrying"]);

const scopeOf = (task: TaskState): readonly string[] | null => (task.files?.length ? task.files : null);

/**
 * The tasks under way whose scopes may overlap `task`'s, when locks keep it apart from them; [] when it may start.
 * A fix task never waits: its owner holds the scope it works in.
 */
export function scopeBlockers(ctx: FeatureContext, task: TaskState): string[] {
  if (branchOwner(ctx, task) || !locksApply(ctx, task)) return [];
  const blockers: string[] = [];
  for (const id of ctx.order) {
    if (id === task.id) continue;
    const other = ctx.tasks[id]!;
    if (!HOLDS_SCOPE.has(other.status) || branchOwner(ctx, other) || !locksApply(ctx, other)) continue;
    if (scopesMayOverlap(scopeOf(task), scopeOf(other))) blockers.push(id);
  }
  return blockers;
}

/**
 * Shared mode: of the paths that changed in the shared worktree while `task` ran, those that are its own — every
 * path but those inside the scope of another task under way at the same time (theirs to commit). Worktree mode: all.
 */
export function attributedPaths(ctx: FeatureContext, task: TaskState, changed: readonly string[]): string[] {
  if (isolationOf(ctx, task) !== "shared") return [...changed];
  const others = ctx.order
    .map((id) => ctx.tasks[id]!)
    .filter((other) => other.id !== task.id && HOLDS_SCOPE.has(other.status) && !branchOwner(ctx, other) && other.files?.length);
  if (!others.length) return [...changed];
  return changed.filter((path) => others.every((other) => outsideScope([path], other.files!).length === 1));
}

/** Files `task` changed outside its declared `files` (none declared: none is outside). */
export function scopeViolations(task: TaskState, changed: readonly string[]): string[] {
  return task.files?.length ? outsideScope(changed, task.files) : [];
}
