// The floor: what one round trip to this nats-server costs, measured in the same run as everything else, so that
// Baton's step time can be read as a multiple of it. Sequential operations, one at a time, after a warm-up.
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { summarize, type Summary } from "./stats.ts";
import type { World } from "./world.ts";

export interface FloorResult {
  payloadBytes: number;
  requestReply: Summary;
  jsPublish: Summary;
  kvCas: Summary;
}

const now = () => process.hrtime.bigint();
const micros = (t0: bigint) => Number(now() - t0) / 1000;

async function sample(warmup: number, n: number, op: () => Promise<unknown>): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await op();
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await op();
    out[i] = micros(t0);
  }
  return summarize(out);
}

/**
 * Core request/reply to an in-process responder on a second connection; JetStream publish with ack to a file-storage
 * stream; KV update with the last revision (compare-and-swap) on a file-storage bucket with history 1 (like
 * Baton's features bucket). Each `samples` times after `warmup`, with a payload of `payloadBytes`. Cleans up after itself.
 */
export async function measureFloor(world: World, o: { samples: number; warmup: number; payloadBytes: number; valueBytes?: number }): Promise<FloorResult> {
  const prefix = world.prefix("floor");
  const payload = new Uint8Array(o.payloadBytes).fill(120);
  const nc = world.nc;
  const responder = await connect({ servers: world.natsUrl, name: "baton-bench-responder", noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const stream = prefix.toUpperCase();
  const bucket = `${prefix}-cas`;
  try {
    const subject = `${prefix}.echo`;
    responder.subscribe(subject, { callback: (_e, m) => void m.respond(m.data) });
    await responder.flush();
    const requestReply = await sample(o.warmup, o.samples, () => nc.request(subject, payload, { timeout: 5000 }));

    await jsm.streams.add({ name: stream, subjects: [`${prefix}.js`], storage: StorageType.File, num_replicas: 1 });
    const jsPublish = await sample(o.warmup, o.samples, () => world.js.publish(`${prefix}.js`, payload));

    const kv = await new Kvm(nc).create(bucket, { history: 1, storage: StorageType.File });
    const value = new Uint8Array(o.valueBytes ?? o.payloadBytes).fill(121);
    let rev = await kv.put("k", value);
    const kvCas = await sample(o.warmup, o.samples, async () => {
      rev = await kv.update("k", value, rev);
    });
    return { payloadBytes: o.payloadBytes, requestReply, jsPublish, kvCas };
  } finally {
    await responder.close().catch(() => {});
    await jsm.streams.delete(stream).catch(() => {});
    await jsm.streams.delete(`KV_${bucket}`).catch(() => {});
  }
}

/** KV compare-and-swap only, with a value of `bytes` (e.g. the size of a real feature snapshot). */
export async function measureKvCas(world: World, o: { samples: number; warmup: number; bytes: number }): Promise<Summary> {
  const bucket = `${world.prefix("cas")}-cas`;
  const jsm = await jetstreamManager(world.nc);
  try {
    const kv = await new Kvm(world.nc).create(bucket, { history: 1, storage: StorageType.File });
    const value = new Uint8Array(o.bytes).fill(121);
    let rev = await kv.put("k", value);
    return await sample(o.warmup, o.samples, async () => {
      rev = await kv.update("k", value, rev);
    });
  } finally {
    await jsm.streams.delete(`KV_${bucket}`).catch(() => {});
  }
}
