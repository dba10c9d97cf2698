// Live workers: the heartbeats in the workers KV bucket (`<role>.<workerId>`), each validated as a
// WorkerHeartbeat. An entry expires with the bucket's TTL once its worker stops beating.
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { decode } from "../codec.ts";
import { kvKeys, openKv } from "../nats.ts";
import { WorkerHeartbeat } from "../protocol/workers.ts";
import type { Names } from "../subjects.ts";

/**
 * The workers that beat within the bucket's TTL, sorted by role then worker id. An empty list when the
 * bucket does not exist yet (no worker ever started). A heartbeat that fails validation is skipped and
 * reported to `onInvalid`; it never hides the others. Read-only.
 */
export async function liveWorkers(nc: NatsConnection, names: Names, opts: { onInvalid?: (key: string, err: Error) => void } = {}): Promise<WorkerHeartbeat[]> {
  let kv: KV;
  let keys: string[];
  try {
    keys = await kvKeys(await jetstreamManager(nc), names.buckets.workers);
    kv = await openKv(nc, names.buckets.workers);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return [];
    throw err;
  }
  const beats = await Promise.all(keys.map(async (key) => {
    const entry = await kv.get(key);
    if (!entry || entry.operation !== "PUT" || !entry.length) return undefined;
    try {
      return decode(WorkerHeartbeat, entry.value, `heartbeat ${key}`);
    } catch (err) {
      opts.onInvalid?.(key, err as Error);
      return undefined;
    }
  }));
  return beats
    .filter((beat): beat is WorkerHeartbeat => beat !== undefined)
    .sort((a, b) => a.role.localeCompare(b.role) || a.workerId.localeCompare(b.workerId));
}
