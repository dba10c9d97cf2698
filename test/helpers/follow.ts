// Test harness: submit a feature request over JetStream and fold its status history until the feature ends.
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encode } from "../../shared/codec.ts";
import { emptyView, featureHistory, foldEvent, isTerminal, type FeatureView } from "../../shared/client/index.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import type { Names } from "../../shared/subjects.ts";

export interface Followed {
  view: FeatureView;
  /** Every event of the feature, in order, up to and including the one that ended it. */
  events: StatusEvent[];
}

/** Follows a feature's events until it ends; throws when it has not ended within `timeoutMs`. */
export async function followUntilEnd(nc: NatsConnection, n: Names, featureId: string, { timeoutMs = 30_000 } = {}): Promise<Followed> {
  const view = emptyView(featureId);
  const events: StatusEvent[] = [];
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), timeoutMs);
  try {
    for await (const e of featureHistory(nc, n, featureId, { follow: true, signal: ac.signal })) {
      events.push(e);
      foldEvent(view, e);
      if (isTerminal(view.state)) break;
    }
  } finally {
    clearTimeout(t);
  }
  if (!isTerminal(view.state)) throw new Error(`feature ${featureId} did not end within ${timeoutMs}ms; state ${view.state}; events: ${events.map((e) => e.kind).join(", ")}`);
  return { view, events };
}

/** Publishes `request` on the feature submit subject, then follows the feature (its `id`) until it ends. */
export async function submitAndFollow(nc: NatsConnection, n: Names, request: Record<string, unknown>, { timeoutMs = 90_000 } = {}): Promise<Followed> {
  await jetstream(nc).publish(n.featureSubmit(), encode(request));
  return followUntilEnd(nc, n, String(request.id), { timeoutMs });
}
