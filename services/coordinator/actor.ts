// Runs one event through the feature machine: restore from a persisted snapshot, send, persist again.
import { createActor, type Snapshot } from "xstate";
import { featureMachine, type FeatureEvent, type FeatureStateValue } from "./machine.ts";
import type { FeatureContext } from "./model.ts";

/** The JSON stored in KV for one feature. `v` lets later versions migrate old snapshots. */
export interface StoredFeature {
  v: 1;
  snapshot: Snapshot<unknown>;
}

export interface Stepped {
  stored: StoredFeature;
  context: FeatureContext;
  state: FeatureStateValue;
  changed: boolean;
}

/**
 * Applies `events` in order to the feature stored as `prev` (or a new feature when null).
 * Pure and deterministic: same inputs, same output. `changed` is false when nothing moved.
 */
export function step(featureId: string, prev: StoredFeature | null, events: readonly FeatureEvent[]): Stepped {
  const actor = prev
    ? createActor(featureMachine, { snapshot: prev.snapshot, input: { featureId } })
    : createActor(featureMachine, { input: { featureId } });
  actor.start();
  const before = actor.getSnapshot();
  for (const e of events) actor.send(e);
  const snap = actor.getSnapshot();
  // Every reducer that changes anything either emits an event (seq moves), edits the outbox, or
  // moves the state; assign() always copies the context, so compare those, not references.
  const changed =
    !prev || snap.context.seq !== before.context.seq || snap.context.outbox.length !== before.context.outbox.length || snap.value !== before.value;
  const stored: StoredFeature = { v: 1, snapshot: actor.getPersistedSnapshot() };
  actor.stop();
  return { stored, context: snap.context, state: snap.value as FeatureStateValue, changed };
}

/** Reads the context and state out of a stored feature without running anything. */
export function view(stored: StoredFeature): { context: FeatureContext; state: FeatureStateValue } {
  const s = stored.snapshot as unknown as { context: FeatureContext; value: FeatureStateValue };
  return { context: s.context, state: s.value };
}
