// Submitting a feature, both ways the protocol offers: publish to the submissions stream with
// Nats-Msg-Id = feature id + request hash, or ask a coordinator on `<prefix>.api.submit` (it validates, stores,
// replies); and waiting for the coordinators' answer to one's own submission.
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type * as z from "zod";
import { encode } from "../codec.ts";
import { newFeatureId } from "../ids.ts";
import type { ValidationIssue } from "../protocol/common.ts";
import type { StatusEvent } from "../protocol/events.ts";
import { canonicalJson, FeatureRequest, requestHash, SubmitReply } from "../protocol/feature.ts";
import { submissionMsgId } from "../protocol/msg-ids.ts";
import type { Names } from "../subjects.ts";
import { featureHistory } from "./history.ts";
import { ask, DEFAULT_REQUEST_TIMEOUT_MS } from "./request.ts";

/** A feature request as a sender may write it (fields with defaults may be left out). */
export type FeatureRequestInput = z.input<typeof FeatureRequest>;

export interface Published {
  featureId: string;
  /** The request's fingerprint (feature.ts `requestHash`): its acceptance, or its refusal, carries it. */
  requestHash: string;
  /** The stream already held this very request (same id and hash, within its duplicate window): it runs once. */
  duplicate: boolean;
}

/**
 * Stores the request in the submissions stream (`<prefix>.feature.submit`) with Nats-Msg-Id = its id and its
 * hash, and resolves once JetStream acknowledged it. A request without an id gets one (`f-…`), returned.
 * Idempotent: the same request under the same id again is dropped by the stream within its window
 * (`duplicate: true`), and ignored by a coordinator after it. A different request under an id in use is
 * refused by the coordinator (`awaitSubmission` tells). The caller should validate it first (checkFeatureValue).
 */
export async function publishFeature(nc: NatsConnection, names: Names, request: FeatureRequestInput, opts: { timeoutMs?: number } = {}): Promise<Published> {
  const featureId = request.id ?? newFeatureId();
  const body = { ...request, id: featureId };
  const parsed = FeatureRequest.safeParse(body);
  // An invalid request is rejected on arrival anyway; it still gets a stable id of its own.
  const hash = parsed.success ? requestHash(parsed.data) : requestHash(JSON.parse(canonicalJson(body)) as FeatureRequest);
  const ack = await jetstream(nc).publish(names.featureSubmit(), encode(body), {
    msgID: submissionMsgId(featureId, hash),
    timeout: opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  });
  return { featureId, requestHash: hash, duplicate: ack.duplicate };
}

/** What became of one's own submission. */
export type SubmissionOutcome =
  /** The feature was accepted from this request (now, or earlier: a repeat). */
  | { kind: "accepted"; event: Extract<StatusEvent, { kind: "feature.accepted" }> }
  /** Refused: the id belongs to another request's feature (`existingState`), which is untouched; or rejected as invalid. */
  | { kind: "refused"; errors: ValidationIssue[]; existingState?: string | undefined }
  /** No answer in time; `otherRequest`: the id's history shows a feature accepted from a different request. */
  | { kind: "timeout"; otherRequest: boolean };

/**
 * Follows the feature's history until the coordinators answer this submission: its acceptance (feature.accepted
 * with this hash), its refusal (a seq-0 feature.rejected notice with this hash), or the feature's rejection. An
 * acceptance of another request under the id (or one without a hash) is not taken for this one's. `timeoutMs`
 * 0 or absent: wait until answered or `signal` aborts (then `timeout`). Read-only.
 */
export async function awaitSubmission(nc: NatsConnection, names: Names, published: Pick<Published, "featureId" | "requestHash">, opts: { timeoutMs?: number; signal?: AbortSignal }): Promise<SubmissionOutcome> {
  const ac = new AbortController();
  const timer = opts.timeoutMs ? setTimeout(() => ac.abort(), opts.timeoutMs) : undefined;
  const stop = () => ac.abort();
  opts.signal?.addEventListener("abort", stop, { once: true });
  let otherRequest = false;
  try {
    for await (const event of featureHistory(nc, names, published.featureId, { follow: true, signal: ac.signal })) {
      if (event.kind === "feature.accepted") {
        if (event.requestHash === published.requestHash) return { kind: "accepted", event };
        otherRequest = true;
      } else if (event.kind === "feature.rejected" && (event.seq > 0 || event.requestHash === published.requestHash)) {
        return { kind: "refused", errors: event.errors, existingState: event.existing?.state };
      }
    }
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", stop);
  }
  return { kind: "timeout", otherRequest };
}

/**
 * Sends the request to `<prefix>.api.submit`; a coordinator validates it, stores it durably (as
 * publishFeature does) and only then replies `{ ok: true, featureId, duplicate? }`, or `{ ok: false,
 * errors }` with every problem, or the refusal of an id that belongs to a different request (stored nowhere).
 * Throws NoCoordinatorError when none answers, ProtocolError on an invalid reply. Safe to repeat with the same id.
 */
export async function requestSubmit(nc: NatsConnection, names: Names, request: FeatureRequestInput, opts: { timeoutMs?: number } = {}): Promise<SubmitReply> {
  return ask(nc, names.apiSubmit(), request, SubmitReply, { what: "submit", timeoutMs: opts.timeoutMs });
}
