// `baton budget ID [--tokens N] [--cost-usd X] [--wall-seconds S] [--task TASK]`: new budget limits for a feature (or
// one of its tasks), sent as the control verb `budget`; waits until a coordinator applied them (budget.changed).
import { controlFeature } from "../../../shared/client/index.ts";
import type { BudgetChange } from "../../../shared/protocol/budget.ts";
import { isToken } from "../../../shared/subjects.ts";
import { featureIdArg, timeoutSeconds, UsageError, type CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { dim, green, red } from "../render.ts";
import { safeUser } from "./control.ts";

/** Longest wall-time limit a budget takes (shared/protocol/budget.ts). */
const MAX_WALL_SECONDS = 30 * 24 * 3600;

/** A whole number ≥ 1 (and ≤ max) given to `flag`; throws UsageError otherwise. */
function wholeNumber(flag: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > max) throw new UsageError(`--${flag} needs a whole number from 1 to ${max}, not ${JSON.stringify(text)}`);
  return value;
}

/** The limits on the command line as a BudgetChange; throws UsageError when one is malformed or none is given. */
export function budgetChange(args: CliArgs): BudgetChange {
  const { tokens, "cost-usd": cost, "wall-seconds": wall, task } = args.values;
  const change: BudgetChange = {};
  if (task !== undefined) {
    if (!isToken(task)) throw new UsageError(`${JSON.stringify(task)} is not a task id ([A-Za-z0-9_-]{1,64})`);
    change.taskId = task;
  }
  if (tokens !== undefined) change.tokens = wholeNumber("tokens", tokens);
  if (cost !== undefined) {
    const dollars = Number(cost);
    if (!/^\d*\.?\d+$/.test(cost) || !(dollars > 0)) throw new UsageError(`--cost-usd needs a positive number of dollars, not ${JSON.stringify(cost)}`);
    change.costUsd = dollars;
  }
  if (wall !== undefined) change.wallSeconds = wholeNumber("wall-seconds", wall, MAX_WALL_SECONDS);
  if (change.tokens === undefined && change.costUsd === undefined && change.wallSeconds === undefined) {
    throw new UsageError("name at least one limit: --tokens N, --cost-usd X or --wall-seconds S");
  }
  return change;
}

/** "tokens 20000, $2.5, 600s" (of task t1). */
const summarise = (change: BudgetChange): string =>
  [change.tokens !== undefined ? `tokens ${change.tokens}` : "", change.costUsd !== undefined ? `$${change.costUsd}` : "", change.wallSeconds !== undefined ? `${change.wallSeconds}s wall time` : ""]
    .filter(Boolean).join(", ") + (change.taskId !== undefined ? ` for task ${change.taskId}` : "");

/** Exit 0 when a coordinator applied the limits, 1 when they were refused or nobody answered. */
export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const featureId = featureIdArg(args);
  const budget = budgetChange(args);
  const waitMs = timeoutSeconds(args) * 1000;
  return withNats(ctx, "baton-budget", false, async (nc) => {
    const outcome = await controlFeature(nc, ctx.names, featureId, "budget", { budget, by: safeUser(), waitMs });
    switch (outcome.kind) {
      case "applied":
        console.log(green(`${featureId}: budget set: ${summarise(budget)}`));
        console.log(dim(`(a feature paused for its budget goes on with \`baton resume ${featureId}\`)`));
        return 0;
      case "rejected":
        console.error(red(`${featureId}: budget rejected: ${outcome.error.message}`));
        return 1;
      case "unchanged":
      case "no_answer":
        console.error(red(`${featureId}: no answer to budget within ${Math.round(waitMs / 1000)}s (is a coordinator running? does the feature exist?)`));
        return 1;
    }
  });
}
