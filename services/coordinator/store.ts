// Feature snapshots in KV, written only with compare-and-swap on the entry's revision.
import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { z } from "zod";
import { isCasConflict, kvKeys } from "../../shared/nats.ts";
import type { StoredFeature } from "./actor.ts";

export interface Loaded {
  stored: StoredFeature;
  revision: number;
}

/** A shallow check of what KV holds (the snapshot itself is the machine's own output). */
const StoredShape = z.looseObject({
  v: z.literal(1),
  snapshot: z.looseObject({ value: z.string(), context: z.looseObject({ featureId: z.string(), tasks: z.record(z.string(), z.unknown()) }) }),
});

export class FeatureStore {
  /** Encoded size of every snapshot this store read or wrote, for byte-bounded caches. */
  private readonly sizes = new WeakMap<object, number>();

  /** `jsm` lists keys from the bucket's stream (kv.keys() can hang while keys are being written). */
  constructor(
    readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
  ) {}

  /** The feature's snapshot and revision, or null if there is none. */
  async load(featureId: string): Promise<Loaded | null> {
    const e = await this.kv.get(featureId);
    if (!e || e.operation !== "PUT" || e.length === 0) return null;
    const r = StoredShape.safeParse(e.json());
    if (!r.success) {
      // Not written by this version of Baton (or damaged): refuse to act on it rather than guess.
      throw new Error(`feature ${featureId}: stored snapshot (revision ${e.revision}) is not one this coordinator can read: ${r.error.issues[0]?.message ?? "invalid"}`);
    }
    const stored = r.data as unknown as StoredFeature;
    this.sizes.set(stored, e.length);
    return { stored, revision: e.revision };
  }

  /** Bytes of `stored` as last read or written here (0 when unknown). */
  sizeOf(stored: StoredFeature): number {
    return this.sizes.get(stored) ?? 0;
  }

  /** Creates the entry; null if it already exists (someone else created it). */
  async create(featureId: string, stored: StoredFeature): Promise<number | null> {
    try {
      const data = JSON.stringify(stored);
      this.sizes.set(stored, data.length);
      return await this.kv.create(featureId, data);
    } catch (e) {
      if (isCasConflict(e)) return null;
      throw e;
    }
  }

  /** Replaces the entry if it is still at `revision`; null if another writer got there first. */
  async update(featureId: string, stored: StoredFeature, revision: number): Promise<number | null> {
    try {
      const data = JSON.stringify(stored);
      this.sizes.set(stored, data.length);
      return await this.kv.update(featureId, data, revision);
    } catch (e) {
      if (isCasConflict(e)) return null;
      throw e;
    }
  }

  /** Every feature id in the bucket. */
  keys(): Promise<string[]> {
    return kvKeys(this.jsm, this.bucket);
  }
}
