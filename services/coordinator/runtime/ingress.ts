// Turns inbound NATS messages (submissions, worker messages, API requests) into feature-machine events.
// Every message is validated here and nowhere else; bad input gets a specific error and is acked.
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { Msg } from "@nats-io/nats-core";
import { decode, encode } from "../../../shared/codec.ts";
import { newFeatureId } from "../../../shared/ids.ts";
import { ProtocolError, toWireError } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/logging.ts";
import type { Names } from "../../../shared/subjects.ts";
import { checkFeatureRequest, ControlMessage, type RequestLimits, requestHash, submissionMsgId, WorkerMessage, wireError, type FeatureRequest, type SubmitReply, type ValidationIssue } from "../../../shared/protocol/index.ts";
import type { FeatureContext, FeatureStateValue } from "../domain/context.ts";
import type { FeatureEvent } from "../domain/machine.ts";
import type { FeatureLoop } from "./apply-loop.ts";
import type { PlanningKit } from "./planning-kit.ts";

export interface IngressOptions {
  names: Names;
  loop: FeatureLoop;
  js: JetStreamClient;
  log: Logger;
  maxRequestBytes: number;
  /** Roles a request may name (its tasks' and the implicit ones); undefined: the config names none, any is accepted. */
  knownRoles: readonly string[] | undefined;
  /** Gate names the operator configured: a request naming another is rejected. */
  knownGates: readonly string[];
  /** Deadline for tasks that set none. */
  taskTimeoutSeconds: number;
  /** Configured gates that count tests (`tests:`): a feature measures those it names before its tasks start. */
  testGates?: readonly string[];
  /** Default `dispatchTimeoutSeconds` for requests that set none; undefined: no limit. */
  dispatchTimeoutSeconds?: number | undefined;
  /** A file-scope lock's lease (coordinator.lockLeaseSeconds). */
  lockLeaseSeconds?: number | undefined;
  /** Templates, rules and the planner's kit (planning-kit.ts); absent: template requests are refused, planners get an empty kit. */
  planning?: PlanningKit | undefined;
  /** `planning.approval` and `planning.questionTimeoutSeconds` of the config. */
  approval?: "required" | "none" | undefined;
  questionTimeoutSeconds?: number | undefined;
  now?: () => Date;
}

/**
 * Why a submission under the id of an existing feature is refused, or undefined when it is the same request
 * (equal `requestHash`): then it is a repeat, and the feature runs once. A feature accepted before requests were
 * fingerprinted has no hash: it cannot be told apart from a different request, so it is refused too.
 */
export function reuseRefusal(featureId: string, hash: string, state: FeatureStateValue, existing: Pick<FeatureContext, "requestHash">): ValidationIssue | undefined {
  if (existing.requestHash === hash) return undefined;
  const shown = state === "received" ? "unknown" : state;
  const why = existing.requestHash
    ? "from a different request"
    : state === "rejected" ? "from a request that was rejected" : "from a request submitted before Baton fingerprinted requests, so this one cannot be told apart from a different request";
  return { path: "id", message: `feature "${featureId}" already exists (${shown}) ${why}; the same id with the same request runs once, a different request needs a new id` };
}

/** Deterministic id for a submission that named none: stable across redeliveries of the same message. */
export function generatedFeatureId(streamSeq: number, timestampNanos: number): string {
  return `f-${Math.floor(timestampNanos / 1e6).toString(36)}-${streamSeq.toString(36)}`;
}

export class Ingress {
  private readonly now: () => Date;
  constructor(private readonly opts: IngressOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  private at(): string {
    return this.now().toISOString();
  }

  /** What a request is checked against; a template's expansion adds its notes to `notes`. */
  private limits(notes: string[]): RequestLimits {
    const planning = this.opts.planning;
    return {
      maxBytes: this.opts.maxRequestBytes, roles: this.opts.knownRoles, gates: this.opts.knownGates,
      ...(planning ? { expand: (request: FeatureRequest) => planning.expand(request, notes) } : {}),
    };
  }

  /** A message on `baton.feature.submit`. Accepts, ignores a duplicate, or rejects with every reason. */
  async onSubmission(jsMsg: JsMsg): Promise<void> {
    const { loop, log } = this.opts;
    const notes: string[] = [];
    const check = checkFeatureRequest(jsMsg.data, this.limits(notes));
    const at = this.at();
    if (check.ok) {
      const id = check.value.id ?? generatedFeatureId(jsMsg.info.streamSequence, jsMsg.info.timestampNanos);
      const request = { ...check.value, id };
      const defaults = {
        taskTimeoutSeconds: this.opts.taskTimeoutSeconds, testGates: this.opts.testGates, dispatchTimeoutSeconds: this.opts.dispatchTimeoutSeconds, lockLeaseSeconds: this.opts.lockLeaseSeconds,
        approval: this.opts.approval, questionTimeoutSeconds: this.opts.questionTimeoutSeconds,
        ...(request.plan === "auto" && this.opts.planning ? { planner: this.opts.planning.planner } : {}),
        ...(notes.length ? { expansionNotes: notes } : {}),
      };
      const result = await loop.apply(id, [{ type: "feature.submit", request, at, defaults }], { create: true, onlyIfNew: true });
      if (result.kind !== "exists") {
        log.info({ featureId: id, tasks: check.value.tasks?.length ?? 0 }, "feature accepted");
        return;
      }
      const hash = requestHash(request);
      const refusal = reuseRefusal(id, hash, result.state, result.context);
      if (!refusal) {
        log.info({ featureId: id }, "duplicate submission ignored: the same request already exists");
        return;
      }
      // Never disturb the existing feature: the refusal is a notice outside its history (seq 0).
      log.warn({ featureId: id, state: result.state }, "submission refused: the id belongs to a different request");
      await loop.notice(id, at, { kind: "feature.rejected", errors: [refusal], reason: "duplicate-id", existing: { state: result.state }, requestHash: hash });
      return;
    }
    const id = check.id ?? `rejected-${generatedFeatureId(jsMsg.info.streamSequence, jsMsg.info.timestampNanos).slice(2)}`;
    log.warn({ featureId: id, errors: check.errors }, "feature rejected");
    const result = await loop.apply(id, [{ type: "feature.reject", errors: check.errors, at }], { create: true, onlyIfNew: true });
    if (result.kind === "exists") {
      // Never disturb a feature that already runs under this id; tell the sender on the side.
      await loop.notice(id, at, {
        kind: "message.rejected", subject: jsMsg.subject,
        error: wireError("Rejected", `invalid resubmission of existing feature "${id}"`, check.errors),
      });
    }
  }

  /** A message on `baton.result.<featureId>.<taskId>` from a worker. */
  async onWorkerMessage(jsMsg: JsMsg): Promise<void> {
    const { names, loop, log } = this.opts;
    const at = this.at();
    const ref = names.parseResult(jsMsg.subject);
    if (!ref) {
      log.warn({ subject: jsMsg.subject }, "worker message on a malformed subject dropped");
      return;
    }
    let event: FeatureEvent;
    try {
      const msg = decode(WorkerMessage, jsMsg.data, "worker message");
      if (msg.featureId !== ref.featureId || msg.taskId !== ref.taskId) {
        throw new ProtocolError(`worker message names ${msg.featureId}/${msg.taskId} but was published on ${jsMsg.subject}`);
      }
      event =
        msg.type === "baton.v1.task_started" ? { type: "task.started", msg, at, subject: jsMsg.subject }
        : msg.type === "baton.v1.task_log" ? { type: "task.log", msg, at, subject: jsMsg.subject }
        : msg.type === "baton.v1.task_progress" ? { type: "task.progress", msg, at, subject: jsMsg.subject }
        : { type: "task.result", msg, at, subject: jsMsg.subject };
    } catch (err) {
      log.warn({ subject: jsMsg.subject, err: (err as Error).message }, "invalid worker message rejected");
      event = { type: "message.rejected", subject: jsMsg.subject, taskId: ref.taskId, error: toWireError(err), at };
    }
    const result = await loop.apply(ref.featureId, [event]);
    if (result.kind === "missing") {
      log.warn({ featureId: ref.featureId, taskId: ref.taskId }, "worker message for an unknown feature");
      await loop.notice(ref.featureId, at, {
        kind: "message.rejected", subject: jsMsg.subject, taskId: ref.taskId,
        error: wireError("UnknownFeature", `no feature "${ref.featureId}"`),
      });
    }
  }

  /** A message on `baton.control.<featureId>.<verb>`: cancel, pause, resume, budget, rollback, approve, reject or answer. Duplicates are no-ops (a repeated budget sets the same limits). */
  async onControl(jsMsg: JsMsg): Promise<void> {
    const { names, loop, log } = this.opts;
    const at = this.at();
    const ref = names.parseControl(jsMsg.subject);
    if (!ref) {
      log.warn({ subject: jsMsg.subject }, "control message on a malformed subject dropped");
      return;
    }
    let event: FeatureEvent;
    try {
      const control = decode(ControlMessage, jsMsg.data, "control message");
      if (control.featureId !== ref.featureId || control.verb !== ref.verb) {
        throw new ProtocolError(`control message names ${control.featureId}/${control.verb} but was published on ${jsMsg.subject}`);
      }
      event =
        control.verb === "cancel" ? { type: "feature.cancel", reason: control.reason, by: control.by, at, subject: jsMsg.subject }
        : control.verb === "pause" ? { type: "feature.pause", reason: control.reason, by: control.by, at, subject: jsMsg.subject }
        : control.verb === "budget" ? { type: "feature.budget", change: control.budget!, by: control.by, at, subject: jsMsg.subject }
        : control.verb === "rollback" ? { type: "feature.rollback", ...control.rollback, reason: control.reason, by: control.by, at, subject: jsMsg.subject }
        : control.verb === "approve" ? { type: "plan.approve", by: control.by, at, subject: jsMsg.subject }
        : control.verb === "reject" ? { type: "plan.reject", by: control.by, reason: control.reason, at, subject: jsMsg.subject }
        : control.verb === "answer" ? { type: "question.answer", ...control.answer!, by: control.by, at, subject: jsMsg.subject }
        : { type: "feature.resume", by: control.by, at, subject: jsMsg.subject };
      log.info({ featureId: control.featureId, verb: control.verb, by: control.by }, "control message");
    } catch (err) {
      log.warn({ subject: jsMsg.subject, err: (err as Error).message }, "invalid control message rejected");
      event = { type: "message.rejected", subject: jsMsg.subject, error: toWireError(err), at };
    }
    const result = await loop.apply(ref.featureId, [event]);
    if (result.kind === "missing") {
      await loop.notice(ref.featureId, at, {
        kind: "message.rejected", subject: jsMsg.subject,
        error: wireError("UnknownFeature", `no feature "${ref.featureId}"`),
      });
    }
  }

  /**
   * `baton.api.submit` (core request/reply): validates, stores the request durably in the
   * submissions stream, then replies. Invalid requests are answered with every error and stored nowhere.
   */
  async onApiSubmit(msg: Msg): Promise<void> {
    const { log } = this.opts;
    let reply: SubmitReply;
    const check = checkFeatureRequest(msg.data, this.limits([]));
    if (!check.ok) {
      reply = { ok: false, errors: check.errors };
      log.warn({ errors: check.errors }, "api submit rejected");
    } else {
      // the request as sent is stored (a template is expanded again when it is consumed); the expanded one is its fingerprint
      const id = check.value.id ?? newFeatureId();
      const sent = { ...(JSON.parse(Buffer.from(msg.data).toString("utf8")) as object), id };
      reply = await this.storeSubmission({ ...check.value, id }, sent, check.value.id !== undefined);
      if (!reply.ok) log.warn({ errors: reply.errors }, "api submit refused");
    }
    if (msg.reply) msg.respond(encode(reply));
  }

  /**
   * Stores a valid api submission, unless its id belongs to an existing feature of a different request (refused,
   * naming the feature and its state) or of the same one (a repeat: `duplicate`). Two different requests sent at
   * once under a new id may both pass this check; the stream's consumer then refuses the second (a notice).
   */
  private async storeSubmission(request: FeatureRequest & { id: string }, sent: object, named: boolean): Promise<SubmitReply> {
    const { names, js, loop } = this.opts;
    const hash = requestHash(request);
    try {
      const existing = named ? await loop.apply(request.id, [], { onlyIfNew: true }) : { kind: "missing" as const };
      if (existing.kind === "exists") {
        const refusal = reuseRefusal(request.id, hash, existing.state, existing.context);
        return refusal ? { ok: false, errors: [refusal] } : { ok: true, featureId: request.id, duplicate: true };
      }
      const ack = await js.publish(names.featureSubmit(), encode(sent), { msgID: submissionMsgId(request.id, hash) });
      return { ok: true, featureId: request.id, ...(ack.duplicate ? { duplicate: true } : {}) };
    } catch (err) {
      return { ok: false, errors: [{ path: "(root)", message: `could not store the request: ${(err as Error).message}` }] };
    }
  }
}
