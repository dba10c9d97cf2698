// Carrying out the outbox: one handler per effect kind (the outbox entry's `to`). A new kind of effect is a
// new outbox entry type in domain/context.ts and one handler here; the apply loop does not change.
import type { JetStreamClient } from "@nats-io/jetstream";
import { encode } from "../../../shared/codec.ts";
import type { Names } from "../../../shared/subjects.ts";
import type { EffectKind, OutboxEntry } from "../domain/context.ts";

/** Carries out one effect. Must be idempotent: after a crash the same entry (same msgId) is carried out again. */
export type EffectHandler<K extends EffectKind> = (entry: Extract<OutboxEntry, { to: K }>) => Promise<void>;
/** Every kind needs a handler: the type checker says which one a new kind lacks. */
export type EffectHandlers = { readonly [K in EffectKind]: EffectHandler<K> };

/** The handlers of today's kinds: a task message to its role's stream, a status event to the feature's topic. */
export function natsEffects(js: JetStreamClient, names: Names): EffectHandlers {
  return {
    task: async (entry) => {
      await js.publish(names.task(entry.role), encode(entry.payload), { msgID: entry.msgId });
    },
    status: async (entry) => {
      await js.publish(names.status(entry.payload.featureId, entry.kind), encode(entry.payload), { msgID: entry.msgId });
    },
  };
}

/** Carries out `entry` with the handler of its kind. */
export function carryOut(handlers: EffectHandlers, entry: OutboxEntry): Promise<void> {
  return (handlers[entry.to] as (entry: OutboxEntry) => Promise<void>)(entry);
}
