// Live workers and coordinators: the heartbeats in the workers KV bucket (`<role>.<workerId>`) and the coordinators
// bucket (`<coordinatorId>`), each validated, without entries that were deleted or missed 3 heartbeats.
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import type * as z from "zod";
import { decode } from "../codec.ts";
import { kvKeys, openKv } from "../nats.ts";
import { CoordinatorHeartbeat, WorkerHeartbeat } from "../protocol/workers.ts";
import type { Names } from "../subjects.ts";

/** A heartbeat is stale, and no longer listed, once this many of its intervals passed without a new one. */
export const MISSED_BEATS = 3;

export interface LiveOptions {
  /** Called for each entry that fails validation (it is skipped, never hiding the others). */
  onInvalid?: (key: string, err: Error) => void;
  /** The clock that decides staleness (ms since the epoch); default Date.now. */
  now?: () => number;
}

/**
 * True while a heartbeat is fresh: written (`at`) within MISSED_BEATS intervals before `now`. A heartbeat without
 * `heartbeatSeconds` (an older worker) is kept: only the bucket's TTL expires it. Pure.
 */
export function isFresh(beat: { at: string; heartbeatSeconds?: number | undefined }, now: number): boolean {
  if (beat.heartbeatSeconds === undefined) return true;
  return now - Date.parse(beat.at) <= MISSED_BEATS * beat.heartbeatSeconds * 1000;
}

/**
 * The workers with a fresh heartbeat, sorted by role then worker id. An empty list when the bucket does not exist
 * yet (no worker ever started). A worker that stopped gracefully deleted its entry and is not listed. Read-only.
 */
export async function liveWorkers(nc: NatsConnection, names: Names, opts: LiveOptions = {}): Promise<WorkerHeartbeat[]> {
  const beats = await readBeats(nc, names.buckets.workers, WorkerHeartbeat, opts);
  return beats.sort((a, b) => a.role.localeCompare(b.role) || a.workerId.localeCompare(b.workerId));
}

/**
 * The coordinators with a fresh heartbeat, oldest first (then by id); each carries its config fingerprint. An empty
 * list when none ever ran on this prefix. A coordinator that stopped gracefully deleted its entry. Read-only.
 */
export async function liveCoordinators(nc: NatsConnection, names: Names, opts: LiveOptions = {}): Promise<CoordinatorHeartbeat[]> {
  const beats = await readBeats(nc, names.buckets.coordinators, CoordinatorHeartbeat, opts);
  return beats.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.coordinatorId.localeCompare(b.coordinatorId));
}

/** Every valid, fresh heartbeat in `bucket`; deleted and purged keys are skipped. */
async function readBeats<T extends { at: string; heartbeatSeconds?: number | undefined }>(
  nc: NatsConnection, bucket: string, schema: z.ZodType<T>, opts: LiveOptions,
): Promise<T[]> {
  let kv: KV;
  let keys: string[];
  try {
    keys = await kvKeys(await jetstreamManager(nc), bucket);
    kv = await openKv(nc, bucket);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return [];
    throw err;
  }
  const beats: (T | undefined)[] = [];
  await Promise.all(keys.map(async (key, index) => {
    const entry = await kv.get(key);
    if (!entry || entry.operation !== "PUT" || !entry.length) return;
    try {
      beats[index] = decode(schema, entry.value, `heartbeat ${key}`);
    } catch (err) {
      opts.onInvalid?.(key, err as Error);
    }
  }));
  const now = (opts.now ?? Date.now)();
  return beats.filter((beat): beat is T => beat !== undefined && isFresh(beat, now));
}
