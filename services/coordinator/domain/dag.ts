// The task graph: which tasks are done, failed, hold a place, and which may become ready after a completion.
import type { FeatureContext, TaskState } from "./context.ts";
import { ENDED_STATES, HOLDS_SLOT } from "./task-lifecycle.ts";

export function activeCount(ctx: FeatureContext): number {
  let active = 0;
  for (const id of ctx.order) if (HOLDS_SLOT.has(ctx.tasks[id]!.status)) active++;
  return active;
}

export function allCompleted(ctx: FeatureContext): boolean {
  // a task a rollback withdrew (cancelled) does not hold the feature back
  return ctx.order.length > 0 && ctx.order.every((id) => ctx.tasks[id]!.status === "completed" || ctx.tasks[id]!.withdrawn === true);
}

/**
 * Whether the feature has failed: a task failed — except a stream's gate task (streams.ts), whose failure stops only
 * its stream's dependents: the feature fails for it only once nothing else can make progress.
 */
export function anyFailed(ctx: FeatureContext): boolean {
  let contained = false;
  for (const id of ctx.order) {
    const task = ctx.tasks[id]!;
    if (task.status !== "failed") continue;
    if (!task.streamGate) return true;
    contained = true;
  }
  return contained && !canProgress(ctx);
}

/** Whether some task that has not ended can still run: it does not depend, directly or not, on a failed task. */
function canProgress(ctx: FeatureContext): boolean {
  const doomed = new Set<string>();
  // to a fixpoint: a stream's gate task comes after its members, which may come after a task that depends on them
  for (let grew = true; grew;) {
    grew = false;
    for (const id of ctx.order) {
      const task = ctx.tasks[id]!;
      if (doomed.has(id) || (task.status !== "failed" && !task.dependsOn.some((dep) => doomed.has(dep)))) continue;
      doomed.add(id);
      grew = true;
    }
  }
  return ctx.order.some((id) => !doomed.has(id) && !ENDED_STATES.has(ctx.tasks[id]!.status) && !ctx.tasks[id]!.withdrawn);
}

/** The failed task that fails the feature (a task's own failure first, then a stream's gates). */
export function failedTask(ctx: FeatureContext): TaskState | undefined {
  let stream: TaskState | undefined;
  for (const id of ctx.order) {
    const task = ctx.tasks[id]!;
    if (task.status !== "failed") continue;
    if (!task.streamGate) return task;
    stream ??= task;
  }
  return stream;
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
