// Reads a feature's status history from the events stream: replay everything, then optionally follow.
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode } from "./codec.ts";
import { StatusEvent } from "./protocol/index.ts";
import type { Names } from "./subjects.ts";

export interface HistoryOptions {
  /** Keep following new events after the replay (until `signal` aborts or `until` returns true). */
  follow: boolean;
  until?: (e: StatusEvent) => boolean;
  signal?: AbortSignal;
  /** Called for messages on the subject that fail validation (they are skipped). */
  onInvalid?: (subject: string, err: Error) => void;
}

/**
 * Yields the feature's events in stream order, oldest first, using an ordered (ephemeral)
 * consumer. Without `follow` it stops once the replay caught up with what is stored.
 */
export async function* featureHistory(nc: NatsConnection, n: Names, featureId: string, o: HistoryOptions): AsyncGenerator<StatusEvent> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(n.streams.events, { filter_subjects: n.statusOf(featureId), deliver_policy: DeliverPolicy.All });
  if (!o.follow) {
    const info = await consumer.info();
    if (info.num_pending === 0) return;
  }
  const messages = await consumer.consume({ max_messages: 256 });
  const abort = () => messages.stop();
  o.signal?.addEventListener("abort", abort, { once: true });
  try {
    for await (const m of messages) {
      let e: StatusEvent | undefined;
      try {
        e = decode(StatusEvent, m.data, "status event");
      } catch (err) {
        o.onInvalid?.(m.subject, err as Error);
      }
      if (e) {
        yield e;
        if (o.until?.(e)) break;
      }
      if (!o.follow && m.info.pending === 0) break;
    }
  } finally {
    o.signal?.removeEventListener("abort", abort);
    await messages.close().catch(() => {});
  }
}
