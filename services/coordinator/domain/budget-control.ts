// What people and workers do about budgets: `baton budget` changes a limit, `baton resume` is refused while a limit
// is still reached, and a task a worker stopped for a budget goes back to `ready` instead of failing. Pure.
import { BUDGET_METRICS, WIRE_ERRORS, wireError, type Budget, type BudgetChange, type BudgetMetric, type TaskResult } from "../../../shared/protocol/index.ts";
import { alertKey, crossings, describeCrossing, enforceBudgets, type BudgetMode, type Crossing } from "./budgets.ts";
import { DEFAULT_WARN_PERCENT, durationMs, editable, type FeatureContext, type TaskState } from "./context.ts";
import { anyFailed } from "./dag.ts";
import { scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { emitInto, emitRejection } from "./status-events.ts";
import { moveTask } from "./task-lifecycle.ts";

/** The `baton budget` flag of each metric (for the remedy in messages). */
const FLAG: Record<BudgetMetric, string> = { tokens: "--tokens", costUsd: "--cost-usd", wallSeconds: "--wall-seconds" };

export interface BudgetChangeEvent {
  change: BudgetChange;
  by?: string | undefined;
  at: string;
  subject?: string | undefined;
}

/**
 * Applies new limits (the control verb `budget`): the metrics named replace the old limits of the feature's budget,
 * or of task `change.taskId`'s; their alerts re-arm; budget.changed is published, and the budgets are checked at once
 * (a lowered limit may be reached already). A task the feature does not have is answered with message.rejected.
 */
export function applyBudgetChange(ctx: FeatureContext, event: BudgetChangeEvent, mode: BudgetMode): FeatureContext {
  const { taskId, ...limits } = event.change;
  const task = taskId !== undefined ? ctx.tasks[taskId] : undefined;
  if (taskId !== undefined && !task) {
    const subject = event.subject ?? `control.${ctx.featureId}.budget`;
    const error = wireError("UnknownTask", `feature "${ctx.featureId}" has no task "${taskId}"`);
    return emitRejection(ctx, subject, error, event.at, taskId);
  }
  const changed = BUDGET_METRICS.filter((metric) => limits[metric] !== undefined);
  const old = task ? task.budget : ctx.budget;
  const next: Budget = { ...old, warnAtPercent: old?.warnAtPercent ?? DEFAULT_WARN_PERCENT };
  for (const metric of changed) next[metric] = limits[metric];
  const rearmed = new Set(changed.flatMap((metric) => [alertKey("warning", taskId, metric), alertKey("exceeded", taskId, metric)]));
  const draft = editable(ctx);
  if (task) draft.tasks[task.id] = { ...task, budget: next };
  else draft.budget = next;
  draft.budgetAlerts = (ctx.budgetAlerts ?? []).filter((key) => !rearmed.has(key));
  emitInto(draft, { kind: "budget.changed", taskId, tokens: limits.tokens, costUsd: limits.costUsd, wallSeconds: limits.wallSeconds, by: event.by }, event.at);
  return enforceBudgets(draft, event.at, mode);
}

/** The limits reached at `at` that hold the feature: the feature's, and those of tasks that have not ended. Pure. */
export function overLimits(ctx: FeatureContext, at: string): Crossing[] {
  return crossings(ctx, at).filter((crossing) => crossing.level === "exceeded" && !crossing.ended);
}

/** Why a resume is refused: each limit reached, and the `baton budget` command that raises it. */
export function overBudgetMessage(featureId: string, over: readonly Crossing[]): string {
  const each = over.map((crossing) => {
    const task = crossing.taskId !== undefined ? ` --task ${crossing.taskId}` : "";
    return `${describeCrossing(crossing)} (raise it: \`baton budget ${featureId}${task} ${FLAG[crossing.metric]} N\`)`;
  });
  return `feature "${featureId}" is over its budget: ${each.join("; ")}; then \`baton resume ${featureId}\``;
}

/** A resume refused while a limit is still reached: message.rejected (BUDGET_EXCEEDED) naming the metrics and the remedy. */
export function refuseResume(ctx: FeatureContext, at: string, subject: string | undefined): FeatureContext {
  const where = subject ?? `control.${ctx.featureId}.resume`;
  const error = wireError("BudgetExceeded", overBudgetMessage(ctx.featureId, overLimits(ctx, at)));
  return emitRejection(ctx, where, error, at);
}

/** Whether a result says a worker stopped the task's work for a budget (budget.exceeded named it). */
export const isBudgetStop = (msg: TaskResult): boolean => msg.outcome === "failed" && msg.error?.code === WIRE_ERRORS.BudgetExceeded.code;

/**
 * A worker stopped the task's work for a budget: not a failure of the feature. task.failed records the stopped run
 * (its error and usage), then the task goes back to `ready` (move `requeue`) and is dispatched again — a new
 * attempt, which its retry policy does not count — once the feature runs (at once unless it is held). In a draft.
 */
export function requeueStopped(draft: FeatureContext, task: TaskState, msg: TaskResult, at: string, opts: ScheduleOptions): void {
  draft.tasks[task.id] = moveTask(task, "requeue", { budgetStops: (task.budgetStops ?? 0) + 1, budgetStop: undefined, deadlineAt: undefined, error: undefined });
  emitInto(draft, {
    kind: "task.failed", taskId: task.id, role: task.role, attempt: task.attempt, workerId: msg.workerId,
    durationMs: durationMs(task.startedAt, msg.finishedAt), exitCode: msg.exitCode, error: msg.error!, usage: msg.usage,
  }, at);
  if (!anyFailed(draft)) scheduleInto(draft, at, opts);
}

/**
 * The budget question answered "continue": every limit reached (the feature's, and those of tasks that have not ended)
 * is raised to half as much again as it was or as was used, whichever is more; alerts re-arm (budget.changed each).
 */
export function raiseReached(ctx: FeatureContext, at: string, by: string | undefined): FeatureContext {
  let next = ctx;
  for (const crossing of overLimits(ctx, at)) {
    const raised = Math.max(crossing.limit, crossing.used) * 1.5;
    const value = crossing.metric === "costUsd" ? Math.ceil(raised * 100) / 100 : Math.ceil(raised);
    const change = { [crossing.metric]: value, ...(crossing.taskId !== undefined ? { taskId: crossing.taskId } : {}) };
    next = applyBudgetChange(next, { change, by: by ?? "answer", at }, "report");
  }
  return next;
}
