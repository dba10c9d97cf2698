// Which runs of tasks the coordinators stopped for a budget, as far as this worker knows: `budget.exceeded` status
// events list them (`stopped`: task and attempt) and arrive on a core-NATS subscription, so a running one is aborted
// at once; before a task's work starts, a feature the subscription may have missed is looked up in the event history
// (the last budget.exceeded event of a feature lists every run still to stop, docs/budgets.md).
import * as z from "zod";
import type { Logger } from "../../shared/logging.ts";
import type { NatsConnection } from "../../shared/nats.ts";
import { BudgetCrossing, Id } from "../../shared/protocol/index.ts";
import type { Names } from "../../shared/subjects.ts";
import { RecentSet, StatusWatch } from "./status-watch.ts";

export const BUDGET_EXCEEDED = "budget.exceeded" as const;

/** What a worker needs of a `budget.exceeded` status event (unknown fields pass). */
export const BudgetExceededView = z.looseObject({
  featureId: Id,
  kind: z.literal(BUDGET_EXCEEDED),
  ...BudgetCrossing,
  stopped: z.array(z.object({ taskId: Id, attempt: z.int().min(1) })),
});
export type BudgetExceededView = z.infer<typeof BudgetExceededView>;

/** One attempt of a task's work. */
export interface RunRef {
  featureId: string;
  taskId: string;
  attempt: number;
}

export interface BudgetStops {
  /** Why this run is to be stopped, when it is known to be (no I/O; safe to use right before starting a task). */
  known(run: RunRef): string | undefined;
  /**
   * `known`, else looks up the feature's last budget.exceeded event — unless the task was dispatched while this
   * worker's subscription was live (it would have seen the event). Never rejects (undefined on errors).
   */
  check(run: RunRef, dispatchedAt?: string): Promise<string | undefined>;
  /** Unsubscribes. Same promise on every call. */
  stop(): Promise<void>;
}

export interface BudgetStopOptions {
  nc: NatsConnection;
  names: Names;
  log: Logger;
  /** Called for each run an event names, repeats included: abort it if it runs here (`reason` says which budget). */
  onStop(run: RunRef, reason: string): void;
  /** Feature ids of the tasks running now, re-checked after a reconnect (events may have been missed). */
  running(): string[];
}

const keyOf = (run: RunRef): string => `${run.featureId}/${run.taskId}/${run.attempt}`;

/** "the budget of feature f1 was used up (tokens 1150 of 1000)", "task api's own budget …". */
export function stopReason(event: BudgetExceededView): string {
  const whose = event.scope === "task" && event.taskId ? `task ${event.taskId}'s own budget` : `the budget of feature ${event.featureId}`;
  return `${whose} was used up (${event.metric} ${event.used} of ${event.limit})`;
}

/** Subscribes to every feature's `budget.exceeded` events. Resolves once the subscription is registered with the server. */
export async function watchBudgetStops(options: BudgetStopOptions): Promise<BudgetStops> {
  const { log } = options;
  const stopped = new RecentSet({ max: 10_000, ttlMs: 3_600_000 });
  const watch = new StatusWatch({
    ...options,
    kind: BUDGET_EXCEEDED,
    schema: BudgetExceededView,
    onEvent: (event, how) => {
      const reason = stopReason(event);
      for (const { taskId, attempt } of event.stopped) {
        const run = { featureId: event.featureId, taskId, attempt };
        if (stopped.add(keyOf(run), reason)) log.info({ ...run, how }, "budget exceeded: the task is stopped and answered BUDGET_EXCEEDED");
        options.onStop(run, reason);
      }
    },
  });
  await watch.subscribe();
  return {
    known: (run) => stopped.note(keyOf(run)),
    check: async (run, dispatchedAt) => {
      const known = stopped.note(keyOf(run));
      if (known !== undefined || watch.covered(run.featureId, dispatchedAt)) return known;
      await watch.lookup(run.featureId);
      return stopped.note(keyOf(run));
    },
    stop: () => watch.stop(),
  };
}
