// Controlling a feature (cancel, pause, resume, budget, rollback): publish the control message, and optionally follow the
// feature's status history until the coordinators' answer shows up in it.
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { encode, validate } from "../codec.ts";
import type { BudgetChange } from "../protocol/budget.ts";
import type { AnswerRequest } from "../protocol/planning.ts";
import { ControlMessage, type ControlVerb, type RollbackRequest } from "../protocol/control.ts";
import type { WireError } from "../protocol/common.ts";
import type { StatusEvent } from "../protocol/events.ts";
import type { Names } from "../subjects.ts";
import { featureHistory } from "./history.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "./request.ts";

export interface ControlOptions {
  reason?: string | undefined;
  /** Who asks (free text ≤ 200 characters, shown in the status events). */
  by?: string | undefined;
  /** How long to wait for JetStream's ack of the publish. */
  timeoutMs?: number | undefined;
  /** Verb `budget` only (and required there): the new limits. */
  budget?: BudgetChange | undefined;
  /** Verb `rollback` only: where to (default the feature's start) and whether the tasks after it are cancelled. */
  rollback?: RollbackRequest | undefined;
  /** Verb `answer` only (and required there): the question and the answer. */
  answer?: AnswerRequest | undefined;
}

/** The status event each verb produces when it is applied. */
export const CONTROL_EFFECT = { cancel: "feature.cancelled", pause: "feature.paused", resume: "feature.resumed", budget: "budget.changed", rollback: "feature.rolled_back", approve: "plan.approved", reject: "plan.rejected", answer: "question.answered" } as const satisfies Record<ControlVerb, StatusEvent["kind"]>;

/**
 * Publishes `{ type: "baton.v1.control", featureId, verb, reason?, by?, budget?, rollback? }` on
 * `<prefix>.control.<featureId>.<verb>` and resolves once JetStream stored it; returns when it was sent.
 * Throws ProtocolError (nothing sent) when the message would be invalid. Repeating it is harmless:
 * coordinators treat a verb that already holds as a no-op.
 */
export async function sendControl(nc: NatsConnection, names: Names, featureId: string, verb: ControlVerb, opts: ControlOptions = {}): Promise<{ sentAt: string }> {
  const msg = validate(ControlMessage, {
    type: "baton.v1.control", featureId, verb,
    ...(opts.reason ? { reason: opts.reason } : {}),
    ...(opts.by ? { by: opts.by } : {}),
    ...(opts.budget ? { budget: opts.budget } : {}),
    ...(opts.rollback ? { rollback: opts.rollback } : {}),
    ...(opts.answer ? { answer: opts.answer } : {}),
  }, "control message");
  const sentAt = new Date().toISOString();
  await jetstream(nc).publish(names.control(featureId, verb), encode(msg), { timeout: opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS });
  return { sentAt };
}

export type ControlOutcome =
  /** The coordinator applied it: `event` is the effect it published (CONTROL_EFFECT: feature.cancelled, feature.rolled_back, …). */
  | { kind: "applied"; event: StatusEvent }
  /** Nothing new happened within the wait, and the feature already was in the verb's state. */
  | { kind: "unchanged"; state: "cancelled" | "paused" }
  /** The coordinator refused it (a message.rejected event, e.g. INVALID_STATE, UNKNOWN_FEATURE or ROLLBACK_REFUSED with `details.files`). */
  | { kind: "rejected"; error: WireError }
  /** No answer within the wait: no coordinator running, or a no-op the history cannot show (resuming a running feature). */
  | { kind: "no_answer" };

/**
 * Sends the verb (as sendControl) and follows the feature's history for up to `waitMs` until the
 * coordinators' answer: only events stamped at or after the send count (clocks are assumed close).
 * Never throws for a refusal or silence: those are outcomes.
 */
export async function controlFeature(
  nc: NatsConnection,
  names: Names,
  featureId: string,
  verb: ControlVerb,
  opts: ControlOptions & { waitMs: number },
): Promise<ControlOutcome> {
  const { sentAt } = await sendControl(nc, names, featureId, verb, opts);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.waitMs);
  let lastState: "executing" | "paused" | "cancelled" | "" = "";
  try {
    for await (const event of featureHistory(nc, names, featureId, { follow: true, signal: ac.signal })) {
      if (event.kind === CONTROL_EFFECT[verb] && event.at >= sentAt) return { kind: "applied", event };
      if (event.kind === "message.rejected" && event.at >= sentAt && event.subject.endsWith(`.${verb}`)) return { kind: "rejected", error: event.error };
      if (event.kind === "feature.paused") lastState = "paused";
      if (event.kind === "feature.resumed") lastState = "executing";
      if (event.kind === "feature.cancelled") lastState = "cancelled";
    }
  } finally {
    clearTimeout(timer);
  }
  if (verb === "cancel" && lastState === "cancelled") return { kind: "unchanged", state: "cancelled" };
  if (verb === "pause" && lastState === "paused") return { kind: "unchanged", state: "paused" };
  return { kind: "no_answer" };
}
