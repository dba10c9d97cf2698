// Status events: appended to the outbox with the feature's next sequence number and a deterministic msg id.
import { coordinatorMsgId, type EventBody, type StatusEvent, type WireError } from "../../../shared/protocol/index.ts";
import type { FeatureContext } from "./context.ts";
import { recordForView, recordForViewInto, withNotice } from "./read-model.ts";

/** `ctx` with the status event appended to its outbox (next seq, deterministic msg id). Pure. */
export function emit(ctx: FeatureContext, body: EventBody, at: string): FeatureContext {
  const seq = ctx.seq + 1;
  const payload = { ...body, type: "baton.v1.status_event", featureId: ctx.featureId, seq, at } as StatusEvent;
  // what the read model keeps of the event (a pause, a task's unserved wait), by the same rules as the client's fold
  return recordForView({ ...ctx, seq, outbox: [...ctx.outbox, { msgId: coordinatorMsgId.statusEvent(ctx.featureId, seq), to: "status", kind: body.kind, payload }] }, payload);
}

/** A message about the feature that was refused: message.rejected (`subject`, `error`, `taskId?`), kept among the view's notices. Pure. */
export function emitRejection(ctx: FeatureContext, subject: string, error: WireError, at: string, taskId?: string): FeatureContext {
  return withNotice(emit(ctx, { kind: "message.rejected", subject, ...(taskId !== undefined ? { taskId } : {}), error }, at), subject, error);
}

/** `emit` for a draft (context.ts `editable`): appends to the draft's own outbox in place. */
export function emitInto(draft: FeatureContext, body: EventBody, at: string): void {
  draft.seq += 1;
  const payload = { ...body, type: "baton.v1.status_event", featureId: draft.featureId, seq: draft.seq, at } as StatusEvent;
  draft.outbox.push({ msgId: coordinatorMsgId.statusEvent(draft.featureId, draft.seq), to: "status", kind: body.kind, payload });
  recordForViewInto(draft, payload);
}

/** Removes carried-out effects from the outbox (by msg id); unknown ids are ignored. */
export function onFlushed(ctx: FeatureContext, msgIds: readonly string[]): FeatureContext {
  if (!msgIds.length || !ctx.outbox.length) return ctx;
  const done = new Set(msgIds);
  const outbox = ctx.outbox.filter((e) => !done.has(e.msgId));
  return outbox.length === ctx.outbox.length ? ctx : { ...ctx, outbox };
}
