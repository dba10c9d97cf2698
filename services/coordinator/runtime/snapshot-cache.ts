// The hot cache: what this process last wrote or read for each feature, bounded by entries and bytes (LRU by
// insertion order). The stored revision is the truth: a compare-and-set conflict drops the entry.
import type { FeatureSnapshot } from "../domain/step.ts";

/** What this process last wrote or read for a feature, and which outbox entries it already carried out. */
export interface Cached {
  /** The machine's snapshot after journal entry `journal` (kept as it is: steps copy, never modify). */
  snapshot: FeatureSnapshot;
  /** KV revision of the checkpoint this state started from (the next checkpoint's CAS expectation). */
  revision: number;
  /** Stream sequence of the last journal entry applied (0: none); the next append's expectation. */
  journal: number;
  /** Journal entries applied since the checkpoint. */
  pending: number;
  /** Carried out but still in the stored outbox; removed by the next journal entry or checkpoint. */
  published: string[];
  /** Encoded size of the checkpoint plus the entries since, for the cache's byte bound. */
  bytes: number;
}

export class SnapshotCache {
  private readonly entries = new Map<string, Cached>();
  private bytes = 0;

  constructor(private readonly limits: { maxEntries: number; maxBytes: number }) {}

  get(featureId: string): Cached | undefined {
    return this.entries.get(featureId);
  }

  /** Keeps `entry` as the newest entry; evicts the oldest while over the entry or byte bound. */
  remember(featureId: string, entry: Cached): void {
    this.forget(featureId);
    this.entries.set(featureId, entry);
    this.bytes += entry.bytes;
    while (this.entries.size > this.limits.maxEntries || (this.bytes > this.limits.maxBytes && this.entries.size > 1)) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.forget(oldest);
    }
  }

  forget(featureId: string): void {
    const old = this.entries.get(featureId);
    if (!old) return;
    this.bytes -= old.bytes;
    this.entries.delete(featureId);
  }
}
