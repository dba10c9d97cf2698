// Worker heartbeats: a KV entry `<role>.<workerId>` rewritten every few seconds (the bucket's TTL expires
// entries of workers that died) and deleted on a clean shutdown. `baton workers` reads them.
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { openKv, type NatsConnection } from "../../shared/nats.ts";
import type { Logger } from "../../shared/logging.ts";

/** What one heartbeat entry holds (JSON). */
export interface HeartbeatBody {
  workerId: string;
  role: string;
  pid: number;
  host: string;
  slots: number;
  busy: number;
  /** The worker's lifecycle state: idle, working, draining. */
  state: string;
  startedAt: string;
  at: string;
  tasks: { featureId: string; taskId: string }[];
}

export interface Heartbeat {
  /** Writes one heartbeat now (also done on every tick). Never throws. */
  beat(): Promise<void>;
  /** Stops the ticks and deletes the entry. Same promise on every call; never throws. */
  stop(): Promise<void>;
}

/** KV keys allow `[-/=.\w]`; a worker id from a host name may hold anything else. */
export function heartbeatKey(role: string, workerId: string): string {
  return `${role}.${workerId.replace(/[^-/=\w]/g, "_")}`;
}

/** Opens the workers bucket, creating it when `ensureTopology` has not run yet. Safe to race with it. */
export async function openWorkersBucket(nc: NatsConnection, bucket: string, log: Logger): Promise<KV> {
  const jsm = await jetstreamManager(nc);
  const exists = await jsm.streams.info(`KV_${bucket}`).then(
    () => true,
    (e: Error) => {
      if (/not found/i.test(e.message)) return false;
      throw e;
    },
  );
  if (exists) return openKv(nc, bucket);
  log.info({ bucket }, "workers bucket not found; creating it");
  return new Kvm(nc).create(bucket, { history: 1, ttl: 30_000 });
}

/** Starts writing `snapshot()` under `key` every `everyMs`; the first write happens at once. */
export function startHeartbeat(o: { kv: KV; key: string; everyMs: number; snapshot: () => HeartbeatBody; log: Logger }): Heartbeat {
  let stopped = false;
  let failing = false;
  let inflight: Promise<void> = Promise.resolve();
  const beat = (): Promise<void> => {
    if (stopped) return inflight;
    inflight = inflight.then(async () => {
      if (stopped) return;
      try {
        await o.kv.put(o.key, JSON.stringify(o.snapshot()));
        if (failing) o.log.info({ key: o.key }, "heartbeat written again");
        failing = false;
      } catch (e) {
        if (!failing) o.log.warn({ err: e, key: o.key }, "heartbeat write failed; will keep trying");
        failing = true;
      }
    });
    return inflight;
  };
  const timer = setInterval(() => void beat(), o.everyMs);
  timer.unref();
  void beat();
  let stopping: Promise<void> | undefined;
  return {
    beat,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        stopped = true;
        await inflight;
        try {
          await o.kv.delete(o.key);
          o.log.info({ key: o.key }, "heartbeat deleted");
        } catch (e) {
          o.log.warn({ err: e, key: o.key }, "could not delete heartbeat; it expires with the bucket TTL");
        }
      })()),
  };
}
