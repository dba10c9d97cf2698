// Worker heartbeats: a KV entry `<role>.<workerId>` rewritten every few seconds (the bucket's TTL expires
// entries of workers that died) and deleted on a clean shutdown. `baton workers` reads them.
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { Logger } from "../../shared/logging.ts";
import { openKv, type NatsConnection } from "../../shared/nats.ts";
import type { WorkerHeartbeat } from "../../shared/protocol/workers.ts";

/** What a worker knows about itself at one moment: the heartbeat entry without its process facts and clock. */
export interface HeartbeatState {
  workerId: string;
  role: string;
  host: string;
  slots: number;
  /** The worker's lifecycle state (machine.ts `stateName`). */
  state: string;
  startedAt: string;
  /** The tasks running now. */
  tasks: { featureId: string; taskId: string }[];
  /** Where the worker serves Prometheus metrics, when it does. */
  metricsUrl?: string | undefined;
}

/** The heartbeat entry of `state` (a WorkerHeartbeat, shared/protocol/workers.ts), stamped `at`. Pure. */
export function heartbeatBody(state: HeartbeatState, at: Date = new Date(), pid: number = process.pid): WorkerHeartbeat {
  const { workerId, role, host, slots, startedAt, tasks, metricsUrl } = state;
  return { workerId, role, pid, host, slots, busy: tasks.length, state: state.state, startedAt, at: at.toISOString(), tasks, ...(metricsUrl ? { metricsUrl } : {}) };
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
    (err: Error) => {
      if (/not found/i.test(err.message)) return false;
      throw err;
    },
  );
  if (exists) return openKv(nc, bucket);
  log.info({ bucket }, "workers bucket not found; creating it");
  return new Kvm(nc).create(bucket, { history: 1, ttl: 30_000 });
}

/**
 * Starts writing `snapshot()` under `key` every `everyMs`, stamped with that interval (`heartbeatSeconds`: readers drop
 * an entry 3 intervals old); the first write happens at once.
 */
export function startHeartbeat(options: { kv: KV; key: string; everyMs: number; snapshot: () => WorkerHeartbeat; log: Logger }): Heartbeat {
  const { kv, key, log } = options;
  let stopped = false;
  let failing = false;
  let inflight: Promise<void> = Promise.resolve();
  const beat = (): Promise<void> => {
    if (stopped) return inflight;
    inflight = inflight.then(async () => {
      if (stopped) return;
      try {
        await kv.put(key, JSON.stringify({ ...options.snapshot(), heartbeatSeconds: options.everyMs / 1000 }));
        if (failing) log.info({ key }, "heartbeat written again");
        failing = false;
      } catch (err) {
        if (!failing) log.warn({ err, key }, "heartbeat write failed; will keep trying");
        failing = true;
      }
    });
    return inflight;
  };
  const timer = setInterval(() => void beat(), options.everyMs);
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
          await kv.delete(key);
          log.info({ key }, "heartbeat deleted");
        } catch (err) {
          log.warn({ err, key }, "could not delete heartbeat; it expires with the bucket TTL");
        }
      })()),
  };
}
