// Budgets: limits on what a feature (or one of its tasks) may use — tokens, dollars, wall time — that the
// coordinator enforces from the usage workers report (docs/budgets.md), and the events that say so.
import * as z from "zod";
import { Id } from "./common.ts";

/** The metrics a budget limits. `tokens` counts input + output tokens (Usage), `costUsd` the reported cost. */
export const BUDGET_METRICS = ["tokens", "costUsd", "wallSeconds"] as const;
export const BudgetMetric = z.enum(BUDGET_METRICS);
export type BudgetMetric = z.infer<typeof BudgetMetric>;

/**
 * A budget, on a feature request or one of its tasks. `wallSeconds` counts from the feature's acceptance (a
 * task's: from its first start). Crossing `warnAtPercent` of a limit publishes budget.warning; crossing the
 * limit publishes budget.exceeded, pauses the feature (reason `budget`) and stops the tasks over their limit.
 */
export const Budget = z.strictObject({
  tokens: z.int().min(1).optional(),
  costUsd: z.number().positive().optional(),
  wallSeconds: z.int().min(1).max(30 * 24 * 3600).optional(),
  warnAtPercent: z.int().min(1).max(100).default(80),
});
export type Budget = z.infer<typeof Budget>;

/** New limits sent with the control verb `budget` (`baton budget`); `taskId` names a task's budget, else the feature's. */
export const BudgetChange = z.strictObject({
  taskId: Id.optional(),
  tokens: z.int().min(1).optional(),
  costUsd: z.number().positive().optional(),
  wallSeconds: z.int().min(1).max(30 * 24 * 3600).optional(),
}).refine((b) => b.tokens !== undefined || b.costUsd !== undefined || b.wallSeconds !== undefined, { message: "name at least one limit: tokens, costUsd or wallSeconds" });
export type BudgetChange = z.infer<typeof BudgetChange>;

/** The fields budget.warning and budget.exceeded share: which budget, which metric, how much of it is used. */
export const BudgetCrossing = {
  scope: z.enum(["feature", "task"]),
  /** The task whose own budget this is (scope `task`). */
  taskId: Id.optional(),
  metric: BudgetMetric,
  used: z.number().min(0),
  limit: z.number().min(0),
  percent: z.number().min(0),
};
