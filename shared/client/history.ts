// A feature's status history, read from the events stream: replay everything, then optionally follow; and
// the view folded from it (what a client shows when no coordinator answers the read model).
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { decode } from "../codec.ts";
import type { StatusEvent } from "../protocol/events.ts";
import type { FeatureView } from "../protocol/views.ts";
import type { Names } from "../subjects.ts";
import { emptyView, foldEvent } from "./feature-view.ts";

export interface HistoryOptions {
  /** Keep following new events after the replay (until `signal` aborts or `until` returns true). */
  follow: boolean;
  until?: (event: StatusEvent) => boolean;
  signal?: AbortSignal;
  /** Called for messages on the subject that fail validation (they are skipped). */
  onInvalid?: (subject: string, err: Error) => void;
}

/**
 * Yields the feature's events in stream order, oldest first, each validated as a StatusEvent, using an
 * ordered (ephemeral) consumer, deleted when the generator ends: nothing is left behind. Without `follow` it stops
 * once the replay caught up with what is stored. Duplicates are possible across reconnects: fold with `foldEvent`, which
 * ignores an event whose seq it has seen.
 */
export async function* featureHistory(nc: NatsConnection, names: Names, featureId: string, opts: HistoryOptions): AsyncGenerator<StatusEvent> {
  // The events schema is the protocol's largest: loaded on first use, so that a client that never reads the
  // history (`baton status` answered by a coordinator) does not pay for it at start-up.
  const { StatusEvent: schema } = await import("../protocol/events.ts");
  const js = jetstream(nc);
  const consumer = await js.consumers.get(names.streams.events, { filter_subjects: names.statusOf(featureId), deliver_policy: DeliverPolicy.All });
  if (!opts.follow) {
    const info = await consumer.info();
    if (info.num_pending === 0) return void (await consumer.delete().catch(() => {}));
  }
  const messages = await consumer.consume({ max_messages: 256 });
  const abort = () => messages.stop();
  // aborted while the consumer was being made: the listener below would never hear it
  if (opts.signal?.aborted) abort();
  opts.signal?.addEventListener("abort", abort, { once: true });
  try {
    for await (const msg of messages) {
      let event: StatusEvent | undefined;
      try {
        event = decode(schema, msg.data, "status event");
      } catch (err) {
        opts.onInvalid?.(msg.subject, err as Error);
      }
      if (event) {
        yield event;
        if (opts.until?.(event)) break;
      }
      if (!opts.follow && msg.info.pending === 0) break;
    }
  } finally {
    opts.signal?.removeEventListener("abort", abort);
    await messages.close().catch(() => {});
    // nats.js leaves a closed ordered consumer to the server's inactivity timeout (5 minutes): delete it now.
    await consumer.delete().catch(() => {});
  }
}

/**
 * The feature's current state folded from its whole stored history (no following). A feature with no
 * history, or a deployment whose events stream does not exist yet, gives `emptyView` (state `unknown`).
 */
export async function foldHistory(nc: NatsConnection, names: Names, featureId: string, opts: Pick<HistoryOptions, "onInvalid"> = {}): Promise<FeatureView> {
  const view = emptyView(featureId);
  try {
    for await (const event of featureHistory(nc, names, featureId, { follow: false, ...opts })) foldEvent(view, event);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
  }
  return view;
}
