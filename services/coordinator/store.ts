// Feature snapshots in KV, written only with compare-and-swap on the entry's revision.
import type { KV } from "@nats-io/kv";
import { isCasConflict } from "../../shared/nats.ts";
import type { StoredFeature } from "./actor.ts";

export interface Loaded {
  stored: StoredFeature;
  revision: number;
}

export class FeatureStore {
  constructor(readonly kv: KV) {}

  /** The feature's snapshot and revision, or null if there is none. */
  async load(featureId: string): Promise<Loaded | null> {
    const e = await this.kv.get(featureId);
    if (!e || e.operation !== "PUT" || e.length === 0) return null;
    return { stored: e.json<StoredFeature>(), revision: e.revision };
  }

  /** Creates the entry; null if it already exists (someone else created it). */
  async create(featureId: string, stored: StoredFeature): Promise<number | null> {
    try {
      return await this.kv.create(featureId, JSON.stringify(stored));
    } catch (e) {
      if (isCasConflict(e)) return null;
      throw e;
    }
  }

  /** Replaces the entry if it is still at `revision`; null if another writer got there first. */
  async update(featureId: string, stored: StoredFeature, revision: number): Promise<number | null> {
    try {
      return await this.kv.update(featureId, JSON.stringify(stored), revision);
    } catch (e) {
      if (isCasConflict(e)) return null;
      throw e;
    }
  }

  /** Every feature id in the bucket. */
  async keys(): Promise<string[]> {
    const out: string[] = [];
    for await (const k of await this.kv.keys()) out.push(k);
    return out;
  }
}
