// Reading a feature's current state from the store: its checkpoint, with the journal entries after it applied.
import { restore, step } from "../domain/step.ts";
import type { FeatureStore } from "./journal-store.ts";
import type { Cached } from "./snapshot-cache.ts";

/**
 * A feature's current state: its checkpoint, with the journal entries after it applied in order (null
 * when it does not exist). `count` (the feature's journal entries, from a scan) lets a caller that looks
 * at many features skip the tail read when the checkpoint covers everything. Retries when a checkpoint
 * moved (and trimmed the journal) while reading.
 */
export async function loadFeature(store: FeatureStore, featureId: string, count?: number): Promise<Cached | null> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const loaded = await store.load(featureId);
    if (!loaded) return null;
    const start = loaded.stored.journal ?? 0;
    let snapshot = restore(loaded.stored);
    let journal = start;
    let pending = 0;
    let bytes = store.sizeOf(loaded.stored);
    const needTail = count === undefined || count > 1 || (count === 1 && start === 0);
    let broken = false;
    if (needTail) {
      for (const { seq, entry, size } of await store.tail(featureId, start)) {
        // Each entry names the one before it: a gap means a newer checkpoint trimmed what we were reading.
        if (entry.prev !== journal) {
          broken = true;
          break;
        }
        snapshot = step(featureId, snapshot, entry.events).snapshot;
        journal = seq;
        pending++;
        bytes += size;
      }
    }
    if (!broken) return { snapshot, revision: loaded.revision, journal, pending, published: [], bytes };
  }
  throw new Error(`feature ${featureId}: its checkpoint kept moving while its journal was read`);
}
