// The NATS connection and Baton's JetStream topology (streams, consumers, KV buckets), created idempotently.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { nanos } from "@nats-io/nats-core";
import type { JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { ObjectStore } from "@nats-io/obj";
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
  /**
   * Persistent connections only: wait for a server that does not answer yet (default: services started
   * before NATS). `false` fails the first connect as fast as a short-lived connection, with the same message,
   * and still rides out later disconnects (`baton watch`).
   */
  waitForServer?: boolean;
  log?: Logger | undefined;
  timeoutMs?: number;
}

/**
 * Connects to NATS. Persistent connections reconnect forever and log each status change;
 * short-lived ones fail within `timeoutMs` with a clear message instead of hanging.
 */
export async function connectNats(opts: ConnectOptions): Promise<NatsConnection> {
  let nc: NatsConnection;
  opts.log?.info({ url: opts.url }, opts.persistent ? "connecting to NATS (waiting until it answers)" : "connecting to NATS");
  try {
    nc = await connect({
      servers: opts.url.split(",").map((s) => s.trim()),
      name: opts.name,
      timeout: opts.timeoutMs ?? 3000,
      maxReconnectAttempts: opts.persistent ? -1 : 0,
      reconnect: opts.persistent,
      reconnectTimeWait: 500,
      // Services started before NATS wait for it instead of exiting; CLI commands fail fast.
      waitOnFirstConnect: opts.persistent && opts.waitForServer !== false,
      pingInterval: opts.persistent ? 10_000 : 120_000,
      // Stack capture on every request costs ~0.5 ms of CPU per JetStream publish (seen in profiles).
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${opts.url}: ${(err as Error).message}. Is nats-server running (with -js)? Set NATS_URL to point elsewhere.`, { cause: err });
  }
  if (opts.log) {
    const log = opts.log;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === "disconnect" || status.type === "reconnect" || status.type === "error") log.warn({ status: status.type, data: String((status as { server?: string }).server ?? "") }, `nats ${status.type}`);
      }
    })().catch(() => {});
  }
  return nc;
}

const MIN = 60_000;

/**
 * nats.js's JetStream and KV modules, loaded on first use: the connection needs neither, and a CLI start that
 * only asks the read model (`baton status`) then never loads them (docs/performance.md, "Start-up").
 */
const jetstreamModule = () => import("@nats-io/jetstream");
const kvModule = () => import("@nats-io/kv");
const objModule = () => import("@nats-io/obj");
type JetStreamModule = Awaited<ReturnType<typeof jetstreamModule>>;

type NamedStream = Partial<StreamConfig> & { name: string };
function streamConfigs(names: Names, eventsMaxAgeHours: number, { DiscardPolicy, RetentionPolicy, StorageType }: JetStreamModule): NamedStream[] {
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
    wq(names.streams.features, names.featureSubmit()),
    wq(names.streams.tasks, names.taskAll()),
    wq(names.streams.results, names.resultAll()),
    wq(names.streams.control, names.controlAll()),
    {
      name: names.streams.events,
      subjects: [names.statusAll()],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(eventsMaxAgeHours * 60 * MIN),
      duplicate_window: nanos(10 * MIN),
      num_replicas: 1,
    },
    {
      // Kept until a checkpoint in KV covers it (then trimmed to its last entry), never by age.
      name: names.streams.journal,
      subjects: [names.journalAll()],
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
  } catch (err) {
    if (!/already in use|exists/i.test((err as Error).message)) throw err;
    await jsm.streams.update(cfg.name, cfg);
  }
}

export interface Topology {
  jsm: JetStreamManager;
  features: KV;
  workers: KV;
  coordinators: KV;
}

/**
 * Creates (or brings up to date) every stream, the coordinator consumers and the KV buckets.
 * Idempotent; works on nats-server 2.9 and newer.
 */
export async function ensureTopology(nc: NatsConnection, names: Names, opts: { eventsMaxAgeHours?: number; ackWaitSeconds?: number } = {}): Promise<Topology> {
  const js = await jetstreamModule();
  const { AckPolicy, DeliverPolicy, StorageType } = js;
  const jsm = await js.jetstreamManager(nc);
  for (const cfg of streamConfigs(names, opts.eventsMaxAgeHours ?? 24 * 7, js)) await ensureStream(jsm, cfg);
  const coordinatorConsumer = (durable: string) => ({
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos((opts.ackWaitSeconds ?? 10) * 1000),
    max_deliver: -1,
    max_ack_pending: 10_000,
  });
  await ensureConsumer(jsm, names.streams.features, coordinatorConsumer(names.consumers.coordinatorFeatures));
  await ensureConsumer(jsm, names.streams.results, coordinatorConsumer(names.consumers.coordinatorResults));
  await ensureConsumer(jsm, names.streams.control, coordinatorConsumer(names.consumers.coordinatorControl));
  const kvm = new (await kvModule()).Kvm(nc);
  const features = await kvm.create(names.buckets.features, { history: 1, storage: StorageType.File });
  const workers = await kvm.create(names.buckets.workers, { history: 1, ttl: 30_000, storage: StorageType.File });
  await kvm.create(names.buckets.locks, { history: 1, storage: StorageType.File });
  const coordinators = await kvm.create(names.buckets.coordinators, { history: 1, ttl: 30_000, storage: StorageType.File });
  // Stored task results live as long as the status history that mentions them (an existing bucket keeps its TTL).
  const resultsTtl = nanos((opts.eventsMaxAgeHours ?? 24 * 7) * 60 * MIN);
  await new (await objModule()).Objm(nc).create(names.buckets.results, { ttl: resultsTtl, storage: StorageType.File });
  return { jsm, features, workers, coordinators };
}

/**
 * Ensures the durable consumer that all workers of `role` share. Unlimited deliveries at the
 * server: the worker itself fails a task delivered more than `maxDeliver` times ("worker lost").
 */
export async function ensureRoleConsumer(nc: NatsConnection, names: Names, role: string, ackWaitSeconds: number): Promise<void> {
  const js = await jetstreamModule();
  const { AckPolicy, DeliverPolicy } = js;
  const jsm = await js.jetstreamManager(nc);
  await ensureStream(jsm, streamConfigs(names, 24 * 7, js)[1]!);
  await ensureConsumer(jsm, names.streams.tasks, {
    durable_name: names.consumers.role(role),
    filter_subject: names.task(role),
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
  } catch (err) {
    if (!/already exists|in use|exists/i.test((err as Error).message)) throw err;
    const { durable_name, deliver_policy: _d, filter_subject: _f, ...rest } = cfg;
    await jsm.consumers.update(stream, durable_name, rest);
  }
}

/** True when a KV create/update failed because someone else wrote first (compare-and-swap lost). */
export function isCasConflict(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (code === 10071 || code === 10164) return true;
  return /wrong last sequence|key exists/i.test(String((err as Error)?.message ?? ""));
}

/** Opens an existing object store (the results bucket); rejects when it does not exist. */
export async function openObjectStore(nc: NatsConnection, bucket: string): Promise<ObjectStore> {
  return new (await objModule()).Objm(nc).open(bucket);
}

export async function openKv(nc: NatsConnection, bucket: string): Promise<KV> {
  return new (await kvModule()).Kvm(nc).open(bucket);
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
