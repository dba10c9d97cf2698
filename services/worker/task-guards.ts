// The checks a valid task passes before anything runs it — its feature was not cancelled, no budget stopped it, it
// was not delivered too often (a task that kills its worker must not kill them all) — and the outcomes when it does not.
import type { Logger } from "../../shared/logging.ts";
import { wireError } from "../../shared/protocol/errors.ts";
import type { TaskAssigned } from "../../shared/protocol/index.ts";
import type { ExecOutcome } from "./runners/types.ts";

/**
 * Why the worker aborted a running task: its drain grace is over (hand it back), its feature was cancelled, or a
 * budget.exceeded event named its run (`reason`: which budget).
 */
export type AbortReason = { kind: "drain" } | { kind: "cancelled"; featureId: string } | { kind: "budget"; reason: string };

/** True when a task's signal was aborted because its feature was cancelled (not by the drain). */
export const isCancel = (reason: unknown): boolean => (reason as AbortReason | undefined)?.kind === "cancelled";

/** The budget that stopped a task, when its signal was aborted for one. */
export const budgetStopOf = (reason: unknown): string | undefined => {
  const abort = reason as AbortReason | undefined;
  return abort?.kind === "budget" ? abort.reason : undefined;
};

/**
 * The BUDGET_EXCEEDED outcome of a run stopped for a budget (or never started, being named already). Keeps what the
 * run got to report — exit code, summary so far, usage, agent session — so that the coordinator counts its usage.
 */
export function budgetStoppedOutcome(reason: string, ran?: ExecOutcome): ExecOutcome {
  const out: ExecOutcome = { outcome: "failed", exitCode: ran?.exitCode ?? null, error: wireError("BudgetExceeded", `stopped: ${reason}`) };
  if (ran?.summary) out.summary = ran.summary;
  if (ran?.usage) out.usage = ran.usage;
  if (ran?.session) out.session = ran.session;
  return out;
}

/** The CANCELLED outcome of a task of a cancelled feature; keeps the exit code and a gate run's report. */
export function cancelledOutcome(featureId: string, ran?: Pick<ExecOutcome, "exitCode" | "gateReport">): ExecOutcome {
  const out: ExecOutcome = { outcome: "failed", exitCode: ran?.exitCode ?? null, error: wireError("Cancelled", `feature ${featureId} was cancelled`) };
  if (ran?.gateReport) out.gateReport = ran.gateReport;
  return out;
}

/** What the asynchronous checks before a task found: its feature cancelled, its run stopped for a budget (why). */
export interface EarlierChecks {
  cancelled: boolean;
  budget?: string | undefined;
}

/**
 * The outcome of a task that must not run: CANCELLED when its feature is (found `earlier`, or known to be by now),
 * BUDGET_EXCEEDED when a budget stopped this run of its work (likewise), WORKER_LOST when it was delivered more than
 * maxDeliver times. Undefined: run it. Synchronous, so that nothing can happen between this check and the task
 * being registered as running.
 */
export function screenTask(
  task: TaskAssigned,
  delivery: number,
  earlier: EarlierChecks,
  deps: { maxDeliver: number; known(featureId: string): boolean; budgetStop(task: TaskAssigned): string | undefined },
  log: Logger,
): ExecOutcome | undefined {
  if (earlier.cancelled || deps.known(task.featureId)) {
    log.info("the task's feature was cancelled: answered CANCELLED without running it");
    return cancelledOutcome(task.featureId);
  }
  const budget = earlier.budget ?? deps.budgetStop(task);
  if (budget !== undefined) {
    log.info({ reason: budget }, "a budget stopped this run of the task: answered BUDGET_EXCEEDED without running it");
    return budgetStoppedOutcome(budget);
  }
  if (delivery > deps.maxDeliver) {
    const message = `worker lost: task was delivered ${delivery - 1} times without finishing (maxDeliver ${deps.maxDeliver})`;
    log.error(message);
    return { outcome: "failed", exitCode: null, error: wireError("WorkerLost", message) };
  }
  return undefined;
}
