// Checkpoints: the feature's state written to KV (compare-and-swap on the revision), which also clears the
// outbox entries this process carried out, after which the journal entries it covers are trimmed. Written every
// CHECKPOINT_EVERY journal entries and when a feature goes quiet.
import type { Logger } from "../../../shared/logging.ts";
import { persist, step } from "../domain/step.ts";
import type { FeatureQueue } from "./feature-queue.ts";
import type { FeatureStore } from "./journal-store.ts";
import type { SnapshotCache } from "./snapshot-cache.ts";

/** A checkpoint is written once a feature's journal has this many entries after the last one. */
export const CHECKPOINT_EVERY = 64;

export class Checkpointer {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: FeatureStore,
    private readonly cache: SnapshotCache,
    private readonly queue: FeatureQueue,
    private readonly log: Logger,
    /** Quiet time before a checkpoint (see LoopHooks.clearDelayMs). */
    private readonly quietMs: number,
  ) {}

  /**
   * Writes the feature's cached state as a checkpoint and trims the journal entries it covers. Call inside
   * the feature's queue. A lost compare-and-swap means another coordinator checkpointed: the cache entry is
   * dropped and the next event reloads. A no-op when nothing is pending.
   */
  async now(featureId: string): Promise<void> {
    const cur = this.cache.get(featureId);
    if (!cur || (!cur.pending && !cur.published.length)) return;
    const snapshot = cur.published.length ? step(featureId, cur.snapshot, [{ type: "outbox.flushed", msgIds: cur.published }]).snapshot : cur.snapshot;
    const stored = persist(snapshot, cur.journal);
    const rev = await this.store.update(featureId, stored, cur.revision);
    if (rev === null) {
      this.cache.forget(featureId);
      return;
    }
    this.cache.remember(featureId, { snapshot, revision: rev, journal: cur.journal, pending: 0, published: [], bytes: this.store.sizeOf(stored) });
    if (cur.journal) {
      await this.store.trim(featureId, cur.journal).catch((e) => this.log.warn({ err: e, featureId }, "trimming the journal failed; the next checkpoint trims it"));
    }
  }

  /** If no other event reaches the feature for the quiet time, checkpoint it. Re-armed by every call. */
  whenQuiet(featureId: string): void {
    const old = this.timers.get(featureId);
    if (old) clearTimeout(old);
    const timer = setTimeout(() => {
      this.timers.delete(featureId);
      this.queue.run(featureId, () => this.now(featureId)).catch((err) =>
        this.log.warn({ err, featureId }, "checkpoint failed; the next event or a rescan retries"));
    }, this.quietMs);
    this.timers.set(featureId, timer);
  }

  /** Writes every pending checkpoint now (graceful shutdown). */
  async settle(): Promise<void> {
    const ids = [...this.timers.keys()];
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled(ids.map((id) => this.queue.run(id, () => this.now(id))));
  }
}
