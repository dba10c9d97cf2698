// Which features are cancelled, as far as this worker knows: `feature.cancelled` status events arrive on a
// core-NATS subscription (to kill running tasks at once) and are remembered in a bounded, expiring set; a
// task of a feature not in the set is checked against the event history before it runs (a worker that was
// down or disconnected when the event went out still answers the feature's queued tasks CANCELLED).
import type { Logger } from "../../shared/logging.ts";
import type { NatsConnection } from "../../shared/nats.ts";
import { FEATURE_CANCELLED, FeatureCancelledView } from "../../shared/protocol/workers.ts";
import type { Names } from "../../shared/subjects.ts";
import { RecentSet, StatusWatch } from "./status-watch.ts";

export { RecentSet };

export interface Cancellations {
  /** True when the feature is known to be cancelled (no I/O; safe to use right before starting a task). */
  known(featureId: string): boolean;
  /**
   * `known`, else looks for a `feature.cancelled` event of the feature in the stream — unless the
   * task was dispatched while this worker's subscription was live (then the subscription would have
   * seen the event, and the look-up is skipped). Never rejects (false on errors).
   */
  check(featureId: string, dispatchedAt?: string): Promise<boolean>;
  /** Unsubscribes. Same promise on every call. */
  stop(): Promise<void>;
}

export interface CancellationOptions {
  nc: NatsConnection;
  names: Names;
  log: Logger;
  /** Called for each valid event, repeats included: kill the feature's running tasks. */
  onCancel(featureId: string): void;
  /** Feature ids of the tasks running now, re-checked after a reconnect (events may have been missed). */
  running(): string[];
  max?: number;
  ttlMs?: number;
}

/** Subscribes to every feature's `feature.cancelled` events. Resolves once the subscription is registered with the server. */
export async function watchCancellations(options: CancellationOptions): Promise<Cancellations> {
  const { log, max, ttlMs } = options;
  const cancelled = new RecentSet({ max: max ?? 10_000, ttlMs: ttlMs ?? 3_600_000 });
  const watch = new StatusWatch({
    ...options,
    kind: FEATURE_CANCELLED,
    schema: FeatureCancelledView,
    onEvent: ({ featureId }, how) => {
      if (cancelled.add(featureId)) log.info({ featureId, how }, "feature cancelled: its tasks are killed and answered CANCELLED");
      options.onCancel(featureId);
    },
  });
  await watch.subscribe();
  return {
    known: (featureId) => cancelled.has(featureId),
    check: async (featureId, dispatchedAt) =>
      cancelled.has(featureId) || (!watch.covered(featureId, dispatchedAt) && (await watch.lookup(featureId)) !== undefined),
    stop: () => watch.stop(),
  };
}
