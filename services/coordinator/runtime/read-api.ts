// The read model over request/reply: coordinators answer `<prefix>.api.features.get` (one feature's current
// state) and `<prefix>.api.features.list` (the feature list) from the stored state (checkpoint + journal),
// projected by domain/read-model.ts. Bad requests get a specific error reply; nothing else stops.
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { decode, encode } from "../../../shared/codec.ts";
import { toWireError } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/logging.ts";
import { FeatureGetRequest, FeatureListRequest, wireError, type FeatureGetReply, type FeatureListReply, type FeatureSummary } from "../../../shared/protocol/index.ts";
import type { Names } from "../../../shared/subjects.ts";
import { projectSummary, projectView } from "../domain/read-model.ts";
import { view } from "../domain/step.ts";
import type { FeatureStore } from "./journal-store.ts";
import { loadFeature } from "./load-feature.ts";

/** Rows a list request gets when it names no limit. */
export const DEFAULT_LIST_LIMIT = 50;

/** One feature's current state as the protocol's reply. Never throws. */
export async function getFeature(store: FeatureStore, featureId: string): Promise<FeatureGetReply> {
  try {
    const cur = await loadFeature(store, featureId);
    if (!cur) return { ok: false, error: wireError("UnknownFeature", `no feature "${featureId}"`) };
    const { state, context } = view(cur.snapshot);
    return { ok: true, feature: projectView(state, context) };
  } catch (err) {
    return { ok: false, error: toWireError(err) };
  }
}

/** Every feature's row, newest first (a feature that cannot be read is listed as `unreadable` with the reason). */
export async function listSummaries(store: FeatureStore): Promise<FeatureSummary[]> {
  const keys = await store.keys();
  const counts = await store.journalCounts().catch(() => new Map<string, number>());
  const rows: FeatureSummary[] = [];
  for (const featureId of keys) {
    try {
      const cur = await loadFeature(store, featureId, counts.get(featureId) ?? 0);
      if (!cur) continue;
      const { state, context } = view(cur.snapshot);
      rows.push(projectSummary(state, context));
    } catch (err) {
      rows.push({ featureId, state: "unreadable", error: (err as Error).message, title: "", submittedAt: "", tasks: 0, completed: 0 });
    }
  }
  return rows.sort((a, b) => b.submittedAt.localeCompare(a.submittedAt));
}

async function answerGet(store: FeatureStore, msg: Msg): Promise<FeatureGetReply> {
  let req: FeatureGetRequest;
  try {
    req = decode(FeatureGetRequest, msg.data, "feature get request");
  } catch (err) {
    return { ok: false, error: toWireError(err) };
  }
  return getFeature(store, req.featureId);
}

async function answerList(store: FeatureStore, msg: Msg): Promise<FeatureListReply> {
  try {
    const req = decode(FeatureListRequest, msg.data, "feature list request");
    const rows = await listSummaries(store);
    return { ok: true, features: rows.slice(0, req.limit ?? DEFAULT_LIST_LIMIT), total: rows.length };
  } catch (err) {
    return { ok: false, error: toWireError(err) };
  }
}

/** Subscribes both read-model subjects in the coordinators' queue group. Returns the subscriptions to close. */
export function serveReadModel(opts: { nc: NatsConnection; names: Names; store: FeatureStore; log: Logger }): Subscription[] {
  const serve = (subject: string, answer: (msg: Msg) => Promise<FeatureGetReply | FeatureListReply>) =>
    opts.nc.subscribe(subject, {
      queue: opts.names.coordinatorQueue,
      callback: (err, msg) => {
        if (err) return opts.log.error({ err, subject }, "read-model subscription error");
        answer(msg)
          .then((reply) => {
            if (!reply.ok) opts.log.debug({ subject, error: reply.error }, "read-model request answered with an error");
            if (msg.reply) msg.respond(encode(reply));
          })
          .catch((e) => opts.log.error({ err: e, subject }, "read-model request failed"));
      },
    });
  return [serve(opts.names.apiFeatureGet(), (m) => answerGet(opts.store, m)), serve(opts.names.apiFeatureList(), (m) => answerList(opts.store, m))];
}
