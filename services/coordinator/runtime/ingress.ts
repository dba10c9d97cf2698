// Turns inbound NATS messages (submissions, worker messages, API requests) into feature-machine events.
// Every message is validated here and nowhere else; bad input gets a specific error and is acked.
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { Msg } from "@nats-io/nats-core";
import { decode, encode } from "../../../shared/codec.ts";
import { newFeatureId } from "../../../shared/ids.ts";
import { ProtocolError, toWireError } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/logging.ts";
import type { Names } from "../../../shared/subjects.ts";
import { checkFeatureRequest, ControlMessage, submissionMsgId, WorkerMessage, wireError, type SubmitReply } from "../../../shared/protocol/index.ts";
import type { FeatureEvent } from "../domain/machine.ts";
import type { FeatureLoop } from "./apply-loop.ts";

export interface IngressOptions {
  names: Names;
  loop: FeatureLoop;
  js: JetStreamClient;
  log: Logger;
  maxRequestBytes: number;
  knownRoles: readonly string[];
  /** Gate names the operator configured: a request naming another is rejected. */
  knownGates: readonly string[];
  /** Deadline for tasks that set none. */
  taskTimeoutSeconds: number;
  now?: () => Date;
}

/** Deterministic id for a submission that named none: stable across redeliveries of the same message. */
export function generatedFeatureId(streamSeq: number, timestampNanos: number): string {
  return `f-${Math.floor(timestampNanos / 1e6).toString(36)}-${streamSeq.toString(36)}`;
}

export class Ingress {
  private readonly now: () => Date;
  constructor(private readonly o: IngressOptions) {
    this.now = o.now ?? (() => new Date());
  }

  private at(): string {
    return this.now().toISOString();
  }

  /** A message on `baton.feature.submit`. Accepts, ignores a duplicate, or rejects with every reason. */
  async onSubmission(m: JsMsg): Promise<void> {
    const { loop, log } = this.o;
    const check = checkFeatureRequest(m.data, { maxBytes: this.o.maxRequestBytes, roles: this.o.knownRoles, gates: this.o.knownGates });
    const at = this.at();
    if (check.ok) {
      const id = check.value.id ?? generatedFeatureId(m.info.streamSequence, m.info.timestampNanos);
      const defaults = { taskTimeoutSeconds: this.o.taskTimeoutSeconds };
      const r = await loop.apply(id, [{ type: "feature.submit", request: { ...check.value, id }, at, defaults }], { create: true, onlyIfNew: true });
      if (r.kind === "exists") log.info({ featureId: id }, "duplicate submission ignored: feature already exists");
      else log.info({ featureId: id, tasks: check.value.tasks.length }, "feature accepted");
      return;
    }
    const id = check.id ?? `rejected-${generatedFeatureId(m.info.streamSequence, m.info.timestampNanos).slice(2)}`;
    log.warn({ featureId: id, errors: check.errors }, "feature rejected");
    const r = await loop.apply(id, [{ type: "feature.reject", errors: check.errors, at }], { create: true, onlyIfNew: true });
    if (r.kind === "exists") {
      // Never disturb a feature that already runs under this id; tell the sender on the side.
      await loop.notice(id, at, {
        kind: "message.rejected", subject: m.subject,
        error: wireError("Rejected", `invalid resubmission of existing feature "${id}"`, check.errors),
      });
    }
  }

  /** A message on `baton.result.<featureId>.<taskId>` from a worker. */
  async onWorkerMessage(m: JsMsg): Promise<void> {
    const { names, loop, log } = this.o;
    const at = this.at();
    const ref = names.parseResult(m.subject);
    if (!ref) {
      log.warn({ subject: m.subject }, "worker message on a malformed subject dropped");
      return;
    }
    let event: FeatureEvent;
    try {
      const msg = decode(WorkerMessage, m.data, "worker message");
      if (msg.featureId !== ref.featureId || msg.taskId !== ref.taskId) {
        throw new ProtocolError(`worker message names ${msg.featureId}/${msg.taskId} but was published on ${m.subject}`);
      }
      event =
        msg.type === "baton.v1.task_started" ? { type: "task.started", msg, at, subject: m.subject }
        : msg.type === "baton.v1.task_log" ? { type: "task.log", msg, at, subject: m.subject }
        : { type: "task.result", msg, at, subject: m.subject };
    } catch (e) {
      log.warn({ subject: m.subject, err: (e as Error).message }, "invalid worker message rejected");
      event = { type: "message.rejected", subject: m.subject, taskId: ref.taskId, error: toWireError(e), at };
    }
    const r = await loop.apply(ref.featureId, [event]);
    if (r.kind === "missing") {
      log.warn({ featureId: ref.featureId, taskId: ref.taskId }, "worker message for an unknown feature");
      await loop.notice(ref.featureId, at, {
        kind: "message.rejected", subject: m.subject, taskId: ref.taskId,
        error: wireError("UnknownFeature", `no feature "${ref.featureId}"`),
      });
    }
  }

  /** A message on `baton.control.<featureId>.<verb>`: cancel, pause or resume. Duplicates are no-ops. */
  async onControl(m: JsMsg): Promise<void> {
    const { names, loop, log } = this.o;
    const at = this.at();
    const ref = names.parseControl(m.subject);
    if (!ref) {
      log.warn({ subject: m.subject }, "control message on a malformed subject dropped");
      return;
    }
    let event: FeatureEvent;
    try {
      const c = decode(ControlMessage, m.data, "control message");
      if (c.featureId !== ref.featureId || c.verb !== ref.verb) {
        throw new ProtocolError(`control message names ${c.featureId}/${c.verb} but was published on ${m.subject}`);
      }
      event =
        c.verb === "cancel" ? { type: "feature.cancel", reason: c.reason, by: c.by, at, subject: m.subject }
        : c.verb === "pause" ? { type: "feature.pause", reason: c.reason, by: c.by, at, subject: m.subject }
        : { type: "feature.resume", by: c.by, at, subject: m.subject };
      log.info({ featureId: c.featureId, verb: c.verb, by: c.by }, "control message");
    } catch (e) {
      log.warn({ subject: m.subject, err: (e as Error).message }, "invalid control message rejected");
      event = { type: "message.rejected", subject: m.subject, error: toWireError(e), at };
    }
    const r = await loop.apply(ref.featureId, [event]);
    if (r.kind === "missing") {
      await loop.notice(ref.featureId, at, {
        kind: "message.rejected", subject: m.subject,
        error: wireError("UnknownFeature", `no feature "${ref.featureId}"`),
      });
    }
  }

  /**
   * `baton.api.submit` (core request/reply): validates, stores the request durably in the
   * submissions stream, then replies. Invalid requests are answered with every error and stored nowhere.
   */
  async onApiSubmit(m: Msg): Promise<void> {
    const { names, js, log } = this.o;
    let reply: SubmitReply;
    const check = checkFeatureRequest(m.data, { maxBytes: this.o.maxRequestBytes, roles: this.o.knownRoles, gates: this.o.knownGates });
    if (!check.ok) {
      reply = { ok: false, errors: check.errors };
      log.warn({ errors: check.errors }, "api submit rejected");
    } else {
      const id = check.value.id ?? newFeatureId();
      try {
        const ack = await js.publish(names.featureSubmit(), encode({ ...check.value, id }), { msgID: submissionMsgId(id) });
        reply = { ok: true, featureId: id, ...(ack.duplicate ? { duplicate: true } : {}) };
      } catch (e) {
        reply = { ok: false, errors: [{ path: "(root)", message: `could not store the request: ${(e as Error).message}` }] };
      }
    }
    if (m.reply) m.respond(encode(reply));
  }
}
