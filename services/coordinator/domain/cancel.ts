// Cancelling a feature: every task that has not ended is cancelled (its late results are then ignored).
import type { FeatureContext } from "./context.ts";
import { ENDED_STATES, moveTask } from "./task-lifecycle.ts";

/** `ctx` with every task that has not ended moved to `cancelled` and its deadline dropped. Pure. */
export function cancelTasks(ctx: FeatureContext): FeatureContext {
  const tasks = { ...ctx.tasks };
  for (const id of ctx.order) {
    const task = tasks[id]!;
    if (!ENDED_STATES.has(task.status)) tasks[id] = moveTask(task, "cancel", { deadlineAt: undefined });
  }
  return { ...ctx, tasks };
}
