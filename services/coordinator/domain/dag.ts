// The task graph: which tasks are done, failed, hold a place, and which may become ready after a completion.
import type { FeatureContext, TaskState } from "./context.ts";
import { HOLDS_SLOT } from "./task-lifecycle.ts";

export function activeCount(ctx: FeatureContext): number {
  let active = 0;
  for (const id of ctx.order) if (HOLDS_SLOT.has(ctx.tasks[id]!.status)) active++;
  return active;
}

export function allCompleted(ctx: FeatureContext): boolean {
  // a task a rollback withdrew (cancelled) does not hold the feature back
  return ctx.order.length > 0 && ctx.order.every((id) => ctx.tasks[id]!.status === "completed" || ctx.tasks[id]!.withdrawn === true);
}

export function anyFailed(ctx: FeatureContext): boolean {
  return ctx.order.some((id) => ctx.tasks[id]!.status === "failed");
}

export function failedTask(ctx: FeatureContext): TaskState | undefined {
  for (const id of ctx.order) if (ctx.tasks[id]!.status === "failed") return ctx.tasks[id];
  return undefined;
}

/** Whether every task `task` depends on has completed (a loop, not `every`: this runs for every task on every event). */
export function depsDone(tasks: FeatureContext["tasks"], task: TaskState): boolean {
  for (const dep of task.dependsOn) if (tasks[dep]!.status !== "completed") return false;
  return true;
}

/** Per task order (the same array for the life of a feature in memory), who depends on each task. */
const dependentsByOrder = new WeakMap<readonly string[], Map<string, string[]>>();

/** The tasks that depend on `taskId` directly (cached per `ctx.order` array). */
export function dependentsOf(ctx: FeatureContext, taskId: string): readonly string[] {
  let index = dependentsByOrder.get(ctx.order);
  if (!index) {
    index = new Map();
    for (const id of ctx.order) {
      for (const dep of ctx.tasks[id]!.dependsOn) {
        const list = index.get(dep);
        if (list) list.push(id);
        else index.set(dep, [id]);
      }
    }
    dependentsByOrder.set(ctx.order, index);
  }
  return index.get(taskId) ?? [];
}
