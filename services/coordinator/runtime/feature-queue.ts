// Per-feature FIFO: this process never applies two things to one feature at once (other processes are kept
// apart by compare-and-set), and events that arrive while a feature is busy join one batch.

export class FeatureQueue {
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Per feature, the batch of events waiting for the running job to finish. */
  private readonly batches = new Map<string, { items: unknown[]; result: Promise<unknown> }>();

  /** Runs `fn` after everything queued for the feature; a failure of an earlier job does not stop later ones. */
  run<T>(featureId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(featureId) ?? Promise.resolve();
    const job = prev.then(fn, fn);
    const tail = job.catch(() => {});
    this.chains.set(featureId, tail);
    void tail.then(() => {
      if (this.chains.get(featureId) === tail) this.chains.delete(featureId);
    });
    return job;
  }

  /**
   * Queues `items` for the feature: they join the batch that waits for the running job, or start a new one;
   * `fn` runs once per batch with every item in it. Every caller of one batch gets the same result.
   */
  batch<I, T>(featureId: string, items: readonly I[], fn: (all: I[]) => Promise<T>): Promise<T> {
    const waiting = this.batches.get(featureId) as { items: I[]; result: Promise<T> } | undefined;
    if (waiting) {
      waiting.items.push(...items);
      return waiting.result;
    }
    const batch = { items: [...items] } as { items: I[]; result: Promise<T> };
    this.batches.set(featureId, batch as { items: unknown[]; result: Promise<unknown> });
    batch.result = this.run(featureId, () => {
      if (this.batches.get(featureId) === (batch as unknown)) this.batches.delete(featureId);
      return fn(batch.items);
    });
    return batch.result;
  }
}
