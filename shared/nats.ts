// The NATS connection and Baton's JetStream topology (streams, consumers, KV buckets), created idempotently.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { nanos } from "@nats-io/nats-core";
import {
  AckPolicy, DeliverPolicy, DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType,
  type JetStreamManager, type StreamConfig,
} from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { installRequestPatch } from "./internals/nats.ts";
import type { Names } from "./subjects.ts";
import type { Logger } from "./logging.ts";

export type { NatsConnection };

// Every request (JetStream publishes, KV writes) goes through nats.js's RequestOne: patch its resolver once,
// on import, before any connection exists (shared/internals/nats.ts says why).
installRequestPatch();

export interface ConnectOptions {
  url: string;
  name: string;
  /** Keep reconnecting forever (services) or fail fast (CLI commands). */
  persistent: boolean;
  log?: Logger | undefined;
  timeoutMs?: number;
}

/**
 * Connects to NATS. Persistent connections reconnect forever and log each status change;
 * short-lived ones fail within `timeoutMs` with a clear message instead of hanging.
 */
export async function connectNats(o: ConnectOptions): Promise<NatsConnection> {
  let nc: NatsConnection;
  o.log?.info({ url: o.url }, o.persistent ? "connecting to NATS (waiting until it answers)" : "connecting to NATS");
  try {
    nc = await connect({
      servers: o.url.split(",").map((s) => s.trim()),
      name: o.name,
      timeout: o.timeoutMs ?? 3000,
      maxReconnectAttempts: o.persistent ? -1 : 0,
      reconnect: o.persistent,
      reconnectTimeWait: 500,
      // Services started before NATS wait for it instead of exiting; CLI commands fail fast.
      waitOnFirstConnect: o.persistent,
      pingInterval: o.persistent ? 10_000 : 120_000,
      // Stack capture on every request costs ~0.5 ms of CPU per JetStream publish (seen in profiles).
      noAsyncTraces: true,
    });
  } catch (e) {
    throw new Error(`cannot connect to NATS at ${o.url}: ${(e as Error).message}. Is nats-server running (with -js)? Set NATS_URL to point elsewhere.`, { cause: e });
  }
  if (o.log) {
    const log = o.log;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error") log.warn({ status: s.type, data: String((s as { server?: string }).server ?? "") }, `nats ${s.type}`);
      }
    })().catch(() => {});
  }
  return nc;
}

const MIN = 60_000;

type NamedStream = Partial<StreamConfig> & { name: string };
function streamConfigs(n: Names, eventsMaxAgeHours: number): NamedStream[] {
  const wq = (name: string, subject: string): NamedStream => ({
    name,
    subjects: [subject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(10 * MIN),
    num_replicas: 1,
  });
  return [
    wq(n.streams.features, n.featureSubmit()),
    wq(n.streams.tasks, n.taskAll()),
    wq(n.streams.results, n.resultAll()),
    wq(n.streams.control, n.controlAll()),
    {
      name: n.streams.events,
      subjects: [n.statusAll()],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(eventsMaxAgeHours * 60 * MIN),
      duplicate_window: nanos(10 * MIN),
      num_replicas: 1,
    },
    {
      // Kept until a checkpoint in KV covers it (then trimmed to its last entry), never by age.
      name: n.streams.journal,
      subjects: [n.journalAll()],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: 1,
    },
  ];
}

/** Adds or updates one stream so that it has `cfg`; safe to call concurrently from many processes. */
async function ensureStream(jsm: JetStreamManager, cfg: NamedStream): Promise<void> {
  try {
    await jsm.streams.add(cfg);
  } catch (e) {
    if (!/already in use|exists/i.test((e as Error).message)) throw e;
    await jsm.streams.update(cfg.name, cfg);
  }
}

export interface Topology {
  jsm: JetStreamManager;
  features: KV;
  workers: KV;
}

/**
 * Creates (or brings up to date) every stream, the coordinator consumers and the KV buckets.
 * Idempotent; works on nats-server 2.9 and newer.
 */
export async function ensureTopology(nc: NatsConnection, n: Names, opts: { eventsMaxAgeHours?: number; ackWaitSeconds?: number } = {}): Promise<Topology> {
  const jsm = await jetstreamManager(nc);
  for (const cfg of streamConfigs(n, opts.eventsMaxAgeHours ?? 24 * 7)) await ensureStream(jsm, cfg);
  const coordinatorConsumer = (durable: string) => ({
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos((opts.ackWaitSeconds ?? 10) * 1000),
    max_deliver: -1,
    max_ack_pending: 10_000,
  });
  await ensureConsumer(jsm, n.streams.features, coordinatorConsumer(n.consumers.coordinatorFeatures));
  await ensureConsumer(jsm, n.streams.results, coordinatorConsumer(n.consumers.coordinatorResults));
  await ensureConsumer(jsm, n.streams.control, coordinatorConsumer(n.consumers.coordinatorControl));
  const kvm = new Kvm(nc);
  const features = await kvm.create(n.buckets.features, { history: 1, storage: StorageType.File });
  const workers = await kvm.create(n.buckets.workers, { history: 1, ttl: 30_000, storage: StorageType.File });
  await kvm.create(n.buckets.locks, { history: 1, storage: StorageType.File });
  return { jsm, features, workers };
}

/**
 * Ensures the durable consumer that all workers of `role` share. Unlimited deliveries at the
 * server: the worker itself fails a task delivered more than `maxDeliver` times ("worker lost").
 */
export async function ensureRoleConsumer(nc: NatsConnection, n: Names, role: string, ackWaitSeconds: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, streamConfigs(n, 24 * 7)[1]!);
  await ensureConsumer(jsm, n.streams.tasks, {
    durable_name: n.consumers.role(role),
    filter_subject: n.task(role),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitSeconds * 1000),
    max_deliver: -1,
    max_ack_pending: 100_000,
  });
}

async function ensureConsumer(jsm: JetStreamManager, stream: string, cfg: Record<string, unknown> & { durable_name: string }): Promise<void> {
  try {
    await jsm.consumers.add(stream, cfg);
  } catch (e) {
    if (!/already exists|in use|exists/i.test((e as Error).message)) throw e;
    const { durable_name, deliver_policy: _d, filter_subject: _f, ...rest } = cfg;
    await jsm.consumers.update(stream, durable_name, rest);
  }
}

/** True when a KV create/update failed because someone else wrote first (compare-and-swap lost). */
export function isCasConflict(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (code === 10071 || code === 10164) return true;
  return /wrong last sequence|key exists/i.test(String((e as Error)?.message ?? ""));
}

export async function openKv(nc: NatsConnection, bucket: string): Promise<KV> {
  return new Kvm(nc).open(bucket);
}

/**
 * Keys of a KV bucket, read from its stream's subjects (one paged request, no consumer).
 * nats.js's kv.keys() was seen to hang when a key was updated during the listing.
 */
export async function kvKeys(jsm: JetStreamManager, bucket: string): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const si = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  return Object.keys(si.state.subjects ?? {}).map((s) => s.slice(prefix.length));
}
