// The stored form of a feature (a checkpoint in KV) and its versions. v2 (this code) keeps a task's gate
// progress in `verify`, the feature's gates in `featureGates`, and "paused" only as the machine's state;
// v1 checkpoints (written before the reshape) are migrated when read. Anything else is refused, never guessed.
import type { Snapshot } from "xstate";
import type { FeatureContext, GateProgress } from "./context.ts";

/**
 * The JSON stored in KV for one feature: a checkpoint. `journal` is the stream sequence of the last journal
 * entry it includes (0 or absent: none); entries after it are applied on top.
 */
export interface StoredFeature {
  v: 2;
  snapshot: Snapshot<unknown>;
  journal?: number;
}

export const STORED_VERSION = 2;

export class UnreadableFeatureError extends Error {
  override name = "UnreadableFeatureError";
}

/** v1 context fields that v2 keeps elsewhere. */
interface V1Task {
  gate?: { index: number; run: number };
  fixRounds?: number;
  fixing?: GateProgress["fixing"];
  [k: string]: unknown;
}
interface V1Context {
  paused?: boolean;
  tasks: Record<string, V1Task>;
  gates?: string[];
  featureGate?: { index: number; run: number };
  gatesPassed?: boolean;
  gateFailure?: string;
  featureFixRounds?: number;
  featureFixing?: GateProgress["fixing"];
  [k: string]: unknown;
}

function migrateTask(task: V1Task): Record<string, unknown> {
  const { gate, fixRounds, fixing, ...rest } = task;
  const verify = gate || fixRounds || fixing ? { current: gate, fixRounds, fixing } : undefined;
  return verify ? { ...rest, verify } : rest;
}

/** A v1 context in v2's shape (same meaning: the machine then runs on it as if v2 had written it). Pure. */
export function migrateV1Context(context: V1Context): FeatureContext {
  const { paused: _paused, gates, featureGate, gatesPassed, gateFailure, featureFixRounds, featureFixing, tasks, ...rest } = context;
  const out: Record<string, unknown> = { ...rest, tasks: Object.fromEntries(Object.entries(tasks).map(([id, t]) => [id, migrateTask(t)])) };
  if (gates?.length) {
    const ended = gatesPassed || gateFailure !== undefined;
    out.featureGates = {
      gates, current: ended ? undefined : featureGate, passed: gatesPassed, failure: gateFailure,
      fixRounds: featureFixRounds, fixing: featureFixing,
    };
  }
  return out as unknown as FeatureContext;
}

/**
 * A stored checkpoint as this version reads it: v2 as it is, v1 migrated. Throws UnreadableFeatureError,
 * naming the feature and the version, for anything else (a newer Baton wrote it, or it is damaged).
 */
export function upgradeStored(featureId: string, raw: { v: unknown; snapshot: unknown; journal?: unknown }): StoredFeature {
  if (raw.v === STORED_VERSION) return raw as StoredFeature;
  if (raw.v === 1) {
    const snap = raw.snapshot as { context: V1Context };
    return { v: 2, journal: raw.journal as number | undefined, snapshot: { ...snap, context: migrateV1Context(snap.context) } as unknown as Snapshot<unknown> };
  }
  throw new UnreadableFeatureError(`feature ${featureId}: stored with format version ${JSON.stringify(raw.v)}, which this coordinator (format ${STORED_VERSION}) cannot read; it was written by a newer Baton — run that version`);
}
