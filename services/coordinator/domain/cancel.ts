// Cancelling a feature: every task that has not ended is cancelled (its late results are then ignored).
import { durationMs, type FeatureContext } from "./context.ts";
import { emit } from "./status-events.ts";
import { ENDED_STATES, moveTask } from "./task-lifecycle.ts";
import { endWorkspace } from "./workspace-ops.ts";

/** `ctx` with every task that has not ended moved to `cancelled` and its deadline dropped. Pure. */
export function cancelTasks(ctx: FeatureContext): FeatureContext {
  const tasks = { ...ctx.tasks };
  for (const id of ctx.order) {
    const task = tasks[id]!;
    if (!ENDED_STATES.has(task.status)) tasks[id] = moveTask(task, "cancel", { deadlineAt: undefined });
  }
  return { ...ctx, tasks };
}

/** The feature cancelled at `at` (`baton cancel`, a rejected plan, a budget question answered "cancel"): its tasks, feature.cancelled, its workspace finished. */
export function cancelFeature(ctx: FeatureContext, at: string, why: { reason?: string | undefined; by?: string | undefined }): FeatureContext {
  const cancelled = cancelTasks({ ...ctx, finishedAt: at, reason: why.reason ?? "cancelled" });
  return endWorkspace(emit(cancelled, { kind: "feature.cancelled", durationMs: durationMs(ctx.submittedAt, at), reason: why.reason, by: why.by }, at), "cancelled", at);
}
