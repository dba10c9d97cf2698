// Runs events through the feature machine with xstate's pure transition function: no actor is started per
// event, and a snapshot this process already holds is used as it is (no restore, no persist copy).
import type { Snapshot, SnapshotFrom } from "xstate";
import { inertActorScope } from "../../../shared/internals/xstate.ts";
import type { FeatureContext, FeatureStateValue } from "./context.ts";
import { featureMachine, type FeatureEvent } from "./machine.ts";
import type { StoredFeature } from "./stored.ts";

/** A feature's snapshot as the machine holds it in memory (what the coordinator's hot cache keeps). */
export type FeatureSnapshot = SnapshotFrom<typeof featureMachine>;

export interface Stepped {
  /** The new in-memory snapshot, to be passed to the next step. */
  snapshot: FeatureSnapshot;
  /** What to write to KV (built lazily: it shares the context with `snapshot`). */
  readonly stored: StoredFeature;
  context: FeatureContext;
  state: FeatureStateValue;
  changed: boolean;
}

/** One inert scope for every transition: the machine's actions are all `assign`; nothing is spawned or deferred. */
const scope = inertActorScope(featureMachine, { featureId: "" });

/** The in-memory snapshot of a stored feature (what a cache miss costs: reviving the context). */
export function restore(stored: StoredFeature): FeatureSnapshot {
  return featureMachine.restoreSnapshot(stored.snapshot, scope) as FeatureSnapshot;
}

/** The persisted form of a snapshot, as `actor.getPersistedSnapshot()` gives it for this machine (no child actors). */
export function persist(snapshot: FeatureSnapshot, journal = 0): StoredFeature {
  return { v: 2, journal, snapshot: { status: snapshot.status, output: snapshot.output, error: snapshot.error, value: snapshot.value, historyValue: {}, context: snapshot.context, children: {} } as Snapshot<unknown> };
}

function isLive(prev: StoredFeature | FeatureSnapshot): prev is FeatureSnapshot {
  return "machine" in prev;
}

/**
 * Applies `events` in order to the feature in `prev` (in memory or as stored; a new feature when null).
 * Pure and deterministic: same inputs, same output; `prev` is never modified. `changed` is false when
 * nothing moved. An action that throws throws here (the caller leaves the inbound message unacked).
 */
export function step(featureId: string, prev: StoredFeature | FeatureSnapshot | null, events: readonly FeatureEvent[]): Stepped {
  const before: FeatureSnapshot = prev === null
    ? featureMachine.getInitialSnapshot(scope, { featureId })
    : isLive(prev) ? prev : restore(prev);
  let snap = before;
  for (const event of events) {
    snap = featureMachine.transition(snap, event, scope);
    if (snap.status === "error") throw snap.error instanceof Error ? snap.error : new Error(`feature ${featureId}: machine error: ${String(snap.error)}`);
  }
  // Every reducer that changes anything either emits an event (seq moves), edits the outbox, or
  // moves the state; assign() always copies the context, so compare those, not references.
  const changed =
    !prev || snap.context.seq !== before.context.seq || snap.context.outbox.length !== before.context.outbox.length || snap.value !== before.value;
  let stored: StoredFeature | undefined;
  return {
    snapshot: snap,
    get stored() {
      return (stored ??= persist(snap));
    },
    context: snap.context, state: snap.value as FeatureStateValue, changed,
  };
}

/** Reads the context and state out of a stored or in-memory feature without running anything. */
export function view(feature: StoredFeature | FeatureSnapshot): { context: FeatureContext; state: FeatureStateValue } {
  const snap = (isLive(feature) ? feature : feature.snapshot) as unknown as { context: FeatureContext; value: FeatureStateValue };
  return { context: snap.context, state: snap.value };
}
