// The read model, asked over request/reply: one feature's current state (`<prefix>.api.features.get`) and
// the feature list (`<prefix>.api.features.list`), answered by any coordinator (docs/protocol.md).
import type { NatsConnection } from "@nats-io/nats-core";
import { validate } from "../codec.ts";
import { ProtocolError } from "../errors.ts";
import { WIRE_ERRORS } from "../protocol/errors.ts";
import {
  FeatureGetReply, FeatureGetRequest, FeatureListReply, FeatureListRequest, type FeatureSummary, type FeatureView,
} from "../protocol/views.ts";
import type { Names } from "../subjects.ts";
import { NoCoordinatorError, RemoteError } from "./errors.ts";
import { ask } from "./request.ts";

/** Where a feature's state came from: a coordinator's read model, or folding the status history. */
export type ViewSource = "coordinator" | "history";

export interface FeatureRead {
  /** The feature's current state; null when there is no such feature. */
  view: FeatureView | null;
  source: ViewSource;
}

export interface GetFeatureOptions {
  timeoutMs?: number | undefined;
  /** Fold the status history when no coordinator answers (default true); false: throw NoCoordinatorError. */
  fallback?: boolean | undefined;
  /** Status events of the feature that fail validation during the fallback (they are skipped). */
  onInvalid?: ((subject: string, err: Error) => void) | undefined;
}

/**
 * One feature's current state. Asks the read model; when no coordinator answers (no responders or
 * timeout) it folds the feature's status history instead, which gives the same FeatureView shape, and
 * `source` says which was used. `view` is null when the coordinator answers UNKNOWN_FEATURE, or when the
 * history holds nothing about the feature. Throws ProtocolError on an invalid reply (or one about another
 * feature), RemoteError when a coordinator answers any other error. Read-only; safe to call any time.
 */
export async function getFeature(nc: NatsConnection, names: Names, featureId: string, opts: GetFeatureOptions = {}): Promise<FeatureRead> {
  const subject = names.apiFeatureGet();
  const request = validate(FeatureGetRequest, { type: "baton.v1.feature_get", featureId }, "feature_get request");
  let reply: FeatureGetReply;
  try {
    reply = await ask(nc, subject, request, FeatureGetReply, { what: "feature_get", timeoutMs: opts.timeoutMs });
  } catch (err) {
    if (!(err instanceof NoCoordinatorError) || opts.fallback === false) throw err;
    // Loaded here only: reading the history needs JetStream, which a start that the read model answers never loads.
    const { foldHistory } = await import("./history.ts");
    const view = await foldHistory(nc, names, featureId, { onInvalid: opts.onInvalid });
    const known = view.seq > 0 || view.notices.length > 0;
    return { view: known ? view : null, source: "history" };
  }
  if (reply.ok) {
    if (reply.feature.featureId !== featureId) {
      throw new ProtocolError(`feature_get reply on ${subject} is about feature ${reply.feature.featureId}, not ${featureId}`, [
        { path: "feature.featureId", message: `expected ${featureId}` },
      ]);
    }
    return { view: reply.feature, source: "coordinator" };
  }
  if (reply.error.code === WIRE_ERRORS.UnknownFeature.code) return { view: null, source: "coordinator" };
  throw new RemoteError(subject, reply.error);
}

export interface FeatureList {
  /** Newest first, at most `limit` rows. */
  features: FeatureSummary[];
  /** How many features exist in all. */
  total: number;
}

/**
 * The features the coordinators hold, newest first (`limit` rows, the coordinators' default is 50). There
 * is no fallback: with no coordinator it throws NoCoordinatorError, whose message names the subject and
 * says to start one. Throws ProtocolError on an invalid reply, RemoteError on an error reply. Read-only.
 */
export async function listFeatures(nc: NatsConnection, names: Names, opts: { limit?: number; timeoutMs?: number } = {}): Promise<FeatureList> {
  const subject = names.apiFeatureList();
  const request = validate(FeatureListRequest, { type: "baton.v1.feature_list", ...(opts.limit === undefined ? {} : { limit: opts.limit }) }, "feature_list request");
  const reply = await ask(nc, subject, request, FeatureListReply, { what: "feature_list", timeoutMs: opts.timeoutMs });
  if (!reply.ok) throw new RemoteError(subject, reply.error);
  return { features: reply.features, total: reply.total };
}
