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

/**
 * Told of every status event this coordinator published (metrics, traces: docs/observability.md). Called after the
 * publish succeeded, at least once per event: an outbox carried out again after a crash tells it again (same `seq`),
 * so an observer that must not count twice remembers what it saw. Must not throw (a throw is logged and ignored).
 */
export interface StatusObserver {
  onStatus(event: Extract<OutboxEntry, { to: "status" }>["payload"]): void;
  /** Finishes what it does in the background while NATS is still up (the coordinator's close calls it before draining). */
  close?(): Promise<void>;
}

/** `handlers` with each published status event also given to `observers` (a throwing observer is reported to `onError`). */
export function observedEffects(handlers: EffectHandlers, observers: readonly StatusObserver[], onError: (err: unknown) => void): EffectHandlers {
  if (!observers.length) return handlers;
  return {
    ...handlers,
    status: async (entry) => {
      await handlers.status(entry);
      for (const observer of observers) {
        try {
          observer.onStatus(entry.payload);
        } catch (err) {
          onError(err);
        }
      }
    },
  };
}

/** Carries out `entry` with the handler of its kind. */
export function carryOut(handlers: EffectHandlers, entry: OutboxEntry): Promise<void> {
  return (handlers[entry.to] as (entry: OutboxEntry) => Promise<void>)(entry);
}
