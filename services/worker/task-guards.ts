// The checks a valid task passes before anything runs it — its feature was not cancelled, it was not delivered
// too often (a task that kills its worker must not kill them all) — and the outcomes when it does not.
import type { Logger } from "../../shared/logging.ts";
import { wireError } from "../../shared/protocol/errors.ts";
import type { TaskAssigned } from "../../shared/protocol/index.ts";
import type { ExecOutcome } from "./runners/types.ts";

/** Why the worker aborted a running task: its drain grace is over (hand it back), or its feature was cancelled. */
export type AbortReason = { kind: "drain" } | { kind: "cancelled"; featureId: string };

/** True when a task's signal was aborted because its feature was cancelled (not by the drain). */
export const isCancel = (reason: unknown): boolean => (reason as AbortReason | undefined)?.kind === "cancelled";

/** The CANCELLED outcome of a task of a cancelled feature; keeps the exit code and a gate run's report. */
export function cancelledOutcome(featureId: string, ran?: Pick<ExecOutcome, "exitCode" | "gateReport">): ExecOutcome {
  const out: ExecOutcome = { outcome: "failed", exitCode: ran?.exitCode ?? null, error: wireError("Cancelled", `feature ${featureId} was cancelled`) };
  if (ran?.gateReport) out.gateReport = ran.gateReport;
  return out;
}

/**
 * The outcome of a task that must not run: CANCELLED when its feature is (`cancelledEarlier`, or known to be
 * by now), WORKER_LOST when it was delivered more than maxDeliver times. Undefined: run it. Synchronous, so
 * that nothing can happen between this check and the task being registered as running.
 */
export function screenTask(
  task: TaskAssigned,
  delivery: number,
  cancelledEarlier: boolean,
  deps: { maxDeliver: number; known(featureId: string): boolean },
  log: Logger,
): ExecOutcome | undefined {
  if (cancelledEarlier || deps.known(task.featureId)) {
    log.info("the task's feature was cancelled: answered CANCELLED without running it");
    return cancelledOutcome(task.featureId);
  }
  if (delivery > deps.maxDeliver) {
    const message = `worker lost: task was delivered ${delivery - 1} times without finishing (maxDeliver ${deps.maxDeliver})`;
    log.error(message);
    return { outcome: "failed", exitCode: null, error: wireError("WorkerLost", message) };
  }
  return undefined;
}
