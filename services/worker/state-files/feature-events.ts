// The state-files writer's memory: per feature, its events in seq order (without those that never change the
// files), whether its workspace is on this machine, and bounds — features that ended are forgotten after a while,
// and beyond a cap the least recently active go first. Pure apart from the injected clock.
import { TERMINAL_KINDS, type StatusEvent } from "../../../shared/protocol/events.ts";
import { IGNORED_KINDS } from "./ledger.ts";

export interface TrackedFeature {
  featureId: string;
  /** Its events, seq increasing, without task.log and task.progress; of repeated task.unserved events only the latest. */
  events: StatusEvent[];
  /** The highest seq seen (kept or not). */
  lastSeq: number;
  /** The real path of its workspace when it has one on this machine under the roots; null: nothing is written for it. */
  dir: string | null;
  /** Clock time of its terminal event, once seen. */
  endedAt?: number;
  touchedAt: number;
}

/** What `add` did with a live event: kept it, dropped a repeat, or found events missing before it. */
export type AddOutcome = "added" | "duplicate" | "gap" | "unknown";

export interface FeatureEventsOptions {
  /** At most this many features are remembered (default 500). */
  maxFeatures?: number;
  /** A feature that ended is forgotten this long after (default 10 minutes). */
  forgetAfterMs?: number;
  now?: () => number;
}

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_KINDS);

export class FeatureEvents {
  private readonly features = new Map<string, TrackedFeature>();
  private readonly maxFeatures: number;
  private readonly forgetAfterMs: number;
  private readonly now: () => number;

  constructor(options: FeatureEventsOptions = {}) {
    this.maxFeatures = options.maxFeatures ?? 500;
    this.forgetAfterMs = options.forgetAfterMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
  }

  get(featureId: string): TrackedFeature | undefined {
    return this.features.get(featureId);
  }

  /** Every remembered feature. */
  all(): TrackedFeature[] {
    return [...this.features.values()];
  }

  get size(): number {
    return this.features.size;
  }

  /**
   * Remembers a feature from its whole history (any order, repeats allowed; seq 0 notices dropped), replacing what
   * was known of it. Forgets the oldest features beyond the cap. Returns the feature.
   */
  set(featureId: string, history: readonly StatusEvent[], dir: string | null): TrackedFeature {
    const bySeq = new Map<number, StatusEvent>();
    for (const event of history) if (event.seq > 0 && event.featureId === featureId) bySeq.set(event.seq, event);
    const feature: TrackedFeature = { featureId, events: [], lastSeq: 0, dir, touchedAt: this.now() };
    for (const event of [...bySeq.values()].sort((left, right) => left.seq - right.seq)) this.keep(feature, event);
    this.features.delete(featureId);
    this.features.set(featureId, feature);
    this.prune();
    return feature;
  }

  /**
   * Adds a live event to a remembered feature: in order it is kept; a repeat is dropped; after a gap nothing is
   * kept (the caller reloads the history). A feature whose files are not written here has no gaps: its events only count.
   */
  add(event: StatusEvent): AddOutcome {
    const feature = this.features.get(event.featureId);
    if (!feature) return "unknown";
    if (event.seq <= feature.lastSeq) return "duplicate";
    if (event.seq > feature.lastSeq + 1 && feature.dir !== null) return "gap";
    this.keep(feature, event);
    this.features.delete(event.featureId);
    this.features.set(event.featureId, feature);
    return "added";
  }

  private keep(feature: TrackedFeature, event: StatusEvent): void {
    feature.lastSeq = event.seq;
    feature.touchedAt = this.now();
    if (TERMINAL.has(event.kind)) feature.endedAt ??= this.now();
    // Nothing is kept for a feature whose files are not written here: only its seq and whether it ended.
    if (feature.dir === null || IGNORED_KINDS.has(event.kind)) return;
    if (event.kind === "task.unserved") {
      // Only the latest report of a wait matters: a later one replaces what the earlier one said.
      const same = feature.events.findIndex((kept) => kept.kind === "task.unserved" && kept.taskId === event.taskId && kept.gate === event.gate);
      if (same >= 0) feature.events.splice(same, 1);
    }
    feature.events.push(event);
  }

  /** Forgets features that ended more than forgetAfterMs ago, then the least recently active beyond the cap. Returns their ids. */
  prune(): string[] {
    const now = this.now();
    const forgotten: string[] = [];
    for (const feature of this.features.values()) {
      if (feature.endedAt !== undefined && now - feature.endedAt > this.forgetAfterMs) forgotten.push(feature.featureId);
    }
    for (const id of forgotten) this.features.delete(id);
    if (this.features.size > this.maxFeatures) {
      // ended features first, then by last activity (the map's order is least recently active first)
      const order = [...this.features.values()].sort((left, right) => Number(right.endedAt !== undefined) - Number(left.endedAt !== undefined));
      for (const feature of order.slice(0, this.features.size - this.maxFeatures)) {
        this.features.delete(feature.featureId);
        forgotten.push(feature.featureId);
      }
    }
    return forgotten;
  }
}
