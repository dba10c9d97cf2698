// Budgets (docs/budgets.md): the limits of a feature and of its tasks (from the request, or `baton budget`) checked
// against their usage (usage.ts) and their wall time: warnings, stops, the pause, and when wall time next matters. Pure.
import { BUDGET_METRICS, type Budget, type BudgetMetric } from "../../../shared/protocol/index.ts";
import { BUDGET_PAUSE } from "../../../shared/protocol/waiting.ts";
import { DEFAULT_WARN_PERCENT, editable, type FeatureContext, type TaskState } from "./context.ts";
import { askAboutBudget } from "./questions.ts";
import { emitInto } from "./status-events.ts";
import { ENDED_STATES, WORKING } from "./task-lifecycle.ts";
import { featureUsage, taskUsage } from "./usage.ts";

/**
 * What budget checks may do in the feature's state. `enforce` (executing, paused): publish alerts, stop tasks, pause
 * the feature; `report` (verifying, where nothing can be held): publish alerts only; `off` (ended): count usage only.
 */
export type BudgetMode = "enforce" | "report" | "off";

/** A limit reached (`exceeded`) or its warnAtPercent passed (`warning`), in the units the events use. */
export interface Crossing {
  scope: "feature" | "task";
  taskId?: string | undefined;
  metric: BudgetMetric;
  level: "warning" | "exceeded";
  used: number;
  limit: number;
  percent: number;
  /** A task's budget, and the task has ended: nothing is left to stop. */
  ended: boolean;
}

/** The feature's budget and every task budget, in request order. */
function budgeted(ctx: FeatureContext): { task?: TaskState; budget: Budget }[] {
  const out: { task?: TaskState; budget: Budget }[] = ctx.budget ? [{ budget: ctx.budget }] : [];
  for (const id of ctx.order) {
    const task = ctx.tasks[id]!;
    if (task.budget) out.push({ task, budget: task.budget });
  }
  return out;
}

/** Whether the feature or any of its tasks has a budget (without one, nothing here does anything). */
export const hasBudgets = (ctx: FeatureContext): boolean => !!ctx.budget || ctx.order.some((id) => !!ctx.tasks[id]!.budget);

/** The key of a published alert; a changed limit removes its metric's keys (budget-control.ts). */
export const alertKey = (level: Crossing["level"], taskId: string | undefined, metric: BudgetMetric): string =>
  `${level}:${taskId === undefined ? "feature" : `task:${taskId}`}:${metric}`;

/** Where a budget's wall time counts from: the feature's acceptance, a task's first start (undefined: not started). */
function wallFrom(ctx: FeatureContext, task: TaskState | undefined): string | undefined {
  return task ? (task.firstStartedAt ?? task.startedAt) : ctx.submittedAt || undefined;
}

/** Used and limit in whole units (wall time in ms, so that a timer set for a crossing always finds it) and the unit's scale. */
function measure(ctx: FeatureContext, task: TaskState | undefined, metric: BudgetMetric, limit: number, atMs: number) {
  if (metric !== "wallSeconds") {
    const total = task ? taskUsage(task) : featureUsage(ctx);
    return { used: (metric === "tokens" ? total?.tokens : total?.costUsd) ?? 0, limit, scale: 1 };
  }
  const from = wallFrom(ctx, task);
  const end = task ? (ENDED_STATES.has(task.status) ? task.finishedAt : undefined) : ctx.finishedAt;
  const until = end ? Math.min(Date.parse(end), atMs) : atMs;
  return { used: from ? Math.max(0, until - Date.parse(from)) : 0, limit: limit * 1000, scale: 1000 };
}

/** Every limit reached and every warnAtPercent passed at `at`, alerted or not: the feature's first, then the tasks'. Pure. */
export function crossings(ctx: FeatureContext, at: string): Crossing[] {
  const out: Crossing[] = [];
  const atMs = Date.parse(at);
  for (const { task, budget } of budgeted(ctx)) {
    for (const metric of BUDGET_METRICS) {
      const limit = budget[metric];
      if (limit === undefined) continue;
      const measured = measure(ctx, task, metric, limit, atMs);
      const warnAt = budget.warnAtPercent ?? DEFAULT_WARN_PERCENT;
      const level = measured.used >= measured.limit ? "exceeded" : measured.used * 100 >= measured.limit * warnAt ? "warning" : undefined;
      if (!level) continue;
      out.push({
        scope: task ? "task" : "feature", taskId: task?.id, metric, level, limit,
        used: Math.round((measured.used / measured.scale) * 1e6) / 1e6, percent: Math.round((measured.used / measured.limit) * 1000) / 10,
        ended: !!task && ENDED_STATES.has(task.status),
      });
    }
  }
  return out;
}

/** "tokens 10234 of 10000", "task api costUsd 1.2 of 1". */
export const describeCrossing = (crossing: Crossing): string =>
  `${crossing.scope === "task" ? `task ${crossing.taskId} ` : ""}${crossing.metric} ${crossing.used} of ${crossing.limit}`;

/** Marks the running tasks a crossing stops: the task itself for its own budget, every working task for the feature's. */
function markStops(draft: FeatureContext, taskId: string | undefined): void {
  for (const id of taskId === undefined ? draft.order : [taskId]) {
    const task = draft.tasks[id]!;
    if (WORKING.has(task.status) && task.budgetStop !== task.attempt) draft.tasks[id] = { ...task, budgetStop: task.attempt };
  }
}

/** Tasks asked to stop whose worker has not answered yet: every budget.exceeded lists them all, so a worker needs the last one only. */
function pendingStops(ctx: FeatureContext): { taskId: string; attempt: number }[] {
  return ctx.order.flatMap((id) => {
    const task = ctx.tasks[id]!;
    return WORKING.has(task.status) && task.budgetStop === task.attempt ? [{ taskId: id, attempt: task.attempt }] : [];
  });
}

/** Whether the feature's current pause is for a budget (its reason starts with "budget:"). */
export const pausedForBudget = (ctx: FeatureContext): boolean => !!ctx.pause?.reason?.startsWith(BUDGET_PAUSE);

/**
 * Checks every budget at `at` and publishes what is new: budget.warning once per (scope, task, metric), and
 * budget.exceeded once — which, under `enforce`, stops the working tasks it concerns (listed in `stopped`, for the
 * workers) and pauses the feature (feature.paused, reason "budget: …"; the machine then moves to `paused`) unless it
 * is paused for a budget already or every task ended. Idempotent: a second call at the same time returns `ctx`.
 */
export function enforceBudgets(ctx: FeatureContext, at: string, mode: BudgetMode): FeatureContext {
  if (mode === "off" || !hasBudgets(ctx)) return ctx;
  const alerted = new Set(ctx.budgetAlerts ?? []);
  const fresh = crossings(ctx, at).filter((crossing) => !alerted.has(alertKey(crossing.level, crossing.taskId, crossing.metric)));
  if (!fresh.length) return ctx;
  const draft = editable(ctx);
  let pauseFor: Crossing | undefined;
  for (const crossing of fresh) {
    const { scope, taskId, metric, used, limit, percent } = crossing;
    alerted.add(alertKey("warning", taskId, metric));
    if (crossing.level === "warning") {
      emitInto(draft, { kind: "budget.warning", scope, taskId, metric, used, limit, percent }, at);
      continue;
    }
    alerted.add(alertKey("exceeded", taskId, metric));
    const stopping = mode === "enforce" && !crossing.ended;
    if (stopping) markStops(draft, taskId);
    emitInto(draft, { kind: "budget.exceeded", scope, taskId, metric, used, limit, percent, stopped: stopping ? pendingStops(draft) : [] }, at);
    if (stopping) pauseFor ??= crossing;
  }
  draft.budgetAlerts = [...alerted];
  const unfinished = draft.order.some((id) => !ENDED_STATES.has(draft.tasks[id]!.status));
  if (pauseFor && unfinished && !pausedForBudget(draft)) {
    emitInto(draft, { kind: "feature.paused", reason: `${BUDGET_PAUSE} ${describeCrossing(pauseFor)}` }, at);
    askAboutBudget(draft, describeCrossing(pauseFor), at); // a person may raise the limits (or cancel) by answering it
  }
  return draft;
}

/**
 * The next moment a wall-time alert of a feature or of a task under way falls due (ISO time), or undefined. The
 * deadlines (deadlines.ts) wake the feature then; enforceBudgets publishes it. Pure.
 */
export function budgetDeadline(ctx: FeatureContext): string | undefined {
  if (!hasBudgets(ctx)) return undefined;
  const alerted = new Set(ctx.budgetAlerts ?? []);
  let min: number | undefined;
  for (const { task, budget } of budgeted(ctx)) {
    const from = wallFrom(ctx, task);
    if (budget.wallSeconds === undefined || !from || (task && ENDED_STATES.has(task.status))) continue;
    const limitMs = budget.wallSeconds * 1000;
    const warnMs = Math.ceil((limitMs * (budget.warnAtPercent ?? DEFAULT_WARN_PERCENT)) / 100);
    const after = !alerted.has(alertKey("warning", task?.id, "wallSeconds")) ? warnMs
      : !alerted.has(alertKey("exceeded", task?.id, "wallSeconds")) ? limitMs : undefined;
    if (after === undefined) continue;
    const due = Date.parse(from) + after;
    if (min === undefined || due < min) min = due;
  }
  return min === undefined ? undefined : new Date(min).toISOString();
}
