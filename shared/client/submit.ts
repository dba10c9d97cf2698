// Submitting a feature, both ways the protocol offers: publish to the submissions stream with
// Nats-Msg-Id = feature id, or ask a coordinator on `<prefix>.api.submit` (it validates, stores, replies).
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type * as z from "zod";
import { encode } from "../codec.ts";
import { newFeatureId } from "../ids.ts";
import { SubmitReply, type FeatureRequest } from "../protocol/feature.ts";
import { submissionMsgId } from "../protocol/msg-ids.ts";
import type { Names } from "../subjects.ts";
import { ask, DEFAULT_REQUEST_TIMEOUT_MS } from "./request.ts";

/** A feature request as a sender may write it (fields with defaults may be left out). */
export type FeatureRequestInput = z.input<typeof FeatureRequest>;

export interface Published {
  featureId: string;
  /** The stream already held this id (within its duplicate window): the feature runs once. */
  duplicate: boolean;
}

/**
 * Stores the request in the submissions stream (`<prefix>.feature.submit`) with Nats-Msg-Id = its id, and
 * resolves once JetStream acknowledged it. A request without an id gets one (`f-…`), returned. Idempotent:
 * publishing the same id again within the duplicate window stores nothing (`duplicate: true`), and a
 * coordinator ignores a later copy of an id it has. The coordinator validates it on arrival; the outcome
 * is the feature's first status event (feature.accepted or feature.rejected). The caller should validate
 * it first (checkFeatureValue) to report problems at once.
 */
export async function publishFeature(nc: NatsConnection, names: Names, request: FeatureRequestInput, opts: { timeoutMs?: number } = {}): Promise<Published> {
  const featureId = request.id ?? newFeatureId();
  const ack = await jetstream(nc).publish(names.featureSubmit(), encode({ ...request, id: featureId }), {
    msgID: submissionMsgId(featureId),
    timeout: opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  });
  return { featureId, duplicate: ack.duplicate };
}

/**
 * Sends the request to `<prefix>.api.submit`; a coordinator validates it, stores it durably (as
 * publishFeature does) and only then replies `{ ok: true, featureId, duplicate? }`, or `{ ok: false,
 * errors }` with every problem (stored nowhere). Throws NoCoordinatorError when none answers, ProtocolError
 * on an invalid reply. Safe to repeat with the same id.
 */
export async function requestSubmit(nc: NatsConnection, names: Names, request: FeatureRequestInput, opts: { timeoutMs?: number } = {}): Promise<SubmitReply> {
  return ask(nc, names.apiSubmit(), request, SubmitReply, { what: "submit", timeoutMs: opts.timeoutMs });
}
