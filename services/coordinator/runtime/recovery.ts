// The recovery scan: visits every feature, carries out any outbox a crashed coordinator left behind, reports
// each feature (which re-arms its timer) and checkpoints journal entries whose writer died. Run at start-up
// and periodically, by any number of coordinators at once.
import { view } from "../domain/step.ts";
import { TERMINAL_STATES, type FeatureContext, type FeatureStateValue } from "../domain/context.ts";
import type { Checkpointer } from "./checkpointer.ts";
import type { FeatureStore } from "./journal-store.ts";
import { loadFeature } from "./load-feature.ts";
import type { SnapshotCache } from "./snapshot-cache.ts";

export interface RecoveryDeps {
  store: FeatureStore;
  cache: SnapshotCache;
  checkpointer: Checkpointer;
  /** Re-applies a feature with no new events: carries out its outbox. */
  flush(featureId: string): Promise<unknown>;
  onApplied(featureId: string, context: FeatureContext, state: FeatureStateValue): void;
}

export class Recovery {
  /** Features seen finished with an empty outbox: rescans skip them. */
  private readonly finished = new Set<string>();

  constructor(private readonly deps: RecoveryDeps) {}

  /** One scan over every feature. Safe to run at any time, by any number of coordinators at once. */
  async scan(): Promise<{ scanned: number; flushed: number }> {
    const { store, cache, checkpointer } = this.deps;
    let flushed = 0;
    const keys = await store.keys();
    const counts = await store.journalCounts();
    for (const id of keys) {
      if (this.finished.has(id)) continue;
      const cur = await loadFeature(store, id, counts.get(id) ?? 0);
      if (!cur) continue;
      const { context, state } = view(cur.snapshot);
      const mine = cache.get(id);
      if (context.outbox.length && (mine?.revision !== cur.revision || mine.journal !== cur.journal)) {
        // Left by a coordinator that died (entries this process carried out itself are cleared by its own
        // checkpoint). Our cached copy, if any, is older than KV: drop it so the apply works on what KV holds.
        cache.forget(id);
        await this.deps.flush(id);
        flushed++;
        continue;
      }
      this.deps.onApplied(id, context, state);
      if (cur.pending && !mine) {
        // Journal entries no checkpoint covers (their writer died or moved on): checkpoint them soon.
        cache.remember(id, cur);
        checkpointer.whenQuiet(id);
      }
      // A finished feature with nothing left to carry out never needs another visit.
      if (!context.outbox.length && !cur.pending && TERMINAL_STATES.has(state)) this.finished.add(id);
    }
    return { scanned: keys.length, flushed };
  }
}
