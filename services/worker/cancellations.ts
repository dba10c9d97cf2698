// Which features are cancelled, as far as this worker knows: `feature.cancelled` status events arrive on a
// core-NATS subscription (to kill running tasks at once) and are remembered in a bounded, expiring set; a
// task of a feature not in the set is checked against the event history before it runs (a worker that was
// down or disconnected when the event went out still answers the feature's queued tasks CANCELLED).
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { Subscription } from "@nats-io/nats-core";
import { validate } from "../../shared/codec.ts";
import type { Logger } from "../../shared/logging.ts";
import type { NatsConnection } from "../../shared/nats.ts";
import { FEATURE_CANCELLED, FeatureCancelledView } from "../../shared/protocol/workers.ts";
import type { Names } from "../../shared/subjects.ts";

/** Margin for clock skew between the coordinator that stamped a task's dispatchedAt and this worker. */
const SKEW_MS = 5000;

/** A set of feature ids that forgets the oldest beyond `max` entries and any entry older than `ttlMs`. */
export class RecentSet {
  private readonly at = new Map<string, number>();
  constructor(private readonly options: { max: number; ttlMs: number; now?: () => number }) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Adds (or refreshes) `id`; returns false when it was already there. */
  add(id: string): boolean {
    const had = this.has(id);
    this.at.delete(id);
    this.at.set(id, this.now());
    for (const oldest of this.at.keys()) {
      if (this.at.size <= this.options.max) break;
      this.at.delete(oldest);
    }
    return !had;
  }

  has(id: string): boolean {
    const addedAt = this.at.get(id);
    if (addedAt === undefined) return false;
    if (this.now() - addedAt <= this.options.ttlMs) return true;
    this.at.delete(id);
    return false;
  }

  get size(): number {
    return this.at.size;
  }
}

export interface Cancellations {
  /** True when the feature is known to be cancelled (no I/O; safe to use right before starting a task). */
  known(featureId: string): boolean;
  /**
   * `known`, else looks for a `feature.cancelled` event of the feature in the stream — unless the
   * task was dispatched while this worker's subscription was live (then the subscription would have
   * seen the event, and the look-up is skipped). Never rejects (false on errors).
   */
  check(featureId: string, dispatchedAt?: string): Promise<boolean>;
  /** Unsubscribes. Same promise on every call. */
  stop(): Promise<void>;
}

export interface CancellationOptions {
  nc: NatsConnection;
  names: Names;
  log: Logger;
  /** Called for each valid event, repeats included: kill the feature's running tasks. */
  onCancel(featureId: string): void;
  /** Feature ids of the tasks running now, re-checked after a reconnect (events may have been missed). */
  running(): string[];
  max?: number;
  ttlMs?: number;
}

/** Subscribes to every feature's `feature.cancelled` events. Resolves once the subscription is registered with the server. */
export async function watchCancellations(options: CancellationOptions): Promise<Cancellations> {
  const watch = new CancellationWatch(options);
  await watch.subscribe();
  return {
    known: (featureId) => watch.known(featureId),
    check: (featureId, dispatchedAt) => watch.check(featureId, dispatchedAt),
    stop: () => watch.stop(),
  };
}

class CancellationWatch {
  private readonly set: RecentSet;
  /** Since when the subscription has surely seen every event (Infinity while disconnected or not yet subscribed). */
  private liveSince = Infinity;
  /**
   * Features looked up and found not cancelled while the subscription was live: any later event reaches
   * the subscription, so they need no further look-up until the connection drops (then this is emptied).
   */
  private clear: RecentSet;
  /** Counts disconnects. */
  private epoch = 0;
  private jsm: JetStreamManager | undefined;
  private lookupFailing = false;
  private sub: Subscription | undefined;
  private statuses: AsyncIterable<{ type: string }> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: CancellationOptions) {
    this.set = this.newSet();
    this.clear = this.newSet();
  }

  private newSet(): RecentSet {
    return new RecentSet({ max: this.options.max ?? 10_000, ttlMs: this.options.ttlMs ?? 3_600_000 });
  }

  /** Subscribes, waits until the server has the subscription, and follows reconnects. */
  async subscribe(): Promise<void> {
    const { nc, names, log } = this.options;
    this.sub = nc.subscribe(names.statusKindAll(FEATURE_CANCELLED), {
      callback: (err, msg) => {
        if (err) return log.warn({ err }, "feature.cancelled subscription error");
        const featureId = this.parse(msg.subject, msg.data);
        if (featureId) this.cancel(featureId, "event");
      },
    });
    await nc.flush();
    this.liveSince = Date.now();
    this.followConnection();
  }

  /** Events published while this worker was disconnected are lost to the subscription: re-check what runs. */
  private followConnection(): void {
    const statuses = this.options.nc.status();
    this.statuses = statuses;
    void (async () => {
      for await (const status of statuses) {
        if (status.type === "disconnect") {
          this.liveSince = Infinity;
          this.epoch++;
          this.clear = this.newSet();
        }
        if (status.type !== "reconnect") continue;
        this.liveSince = Date.now();
        for (const featureId of new Set(this.options.running())) void this.lookup(featureId);
      }
    })().catch(() => {});
  }

  /** The event's feature id when it is valid and matches the subject's feature token; logs and ignores it otherwise. */
  private parse(subject: string, data: Uint8Array): string | undefined {
    const token = subject.split(".")[2]; // <prefix>.status.<featureId>.feature.cancelled
    try {
      const event = validate(FeatureCancelledView, JSON.parse(new TextDecoder().decode(data)), "feature.cancelled event");
      if (event.featureId !== token) throw new Error(`featureId "${event.featureId}" does not match the subject's "${token}"`);
      return event.featureId;
    } catch (err) {
      this.options.log.warn({ subject, err: (err as Error).message }, "ignoring an invalid feature.cancelled event");
      return undefined;
    }
  }

  private cancel(featureId: string, how: string): void {
    if (this.set.add(featureId)) this.options.log.info({ featureId, how }, "feature cancelled: its tasks are killed and answered CANCELLED");
    this.options.onCancel(featureId);
  }

  /** Looks for the feature's last `feature.cancelled` event in the stream. Never rejects (false on errors). */
  private async lookup(featureId: string): Promise<boolean> {
    const { nc, names, log } = this.options;
    const since = this.epoch;
    const live = this.liveSince !== Infinity;
    try {
      this.jsm ??= await jetstreamManager(nc);
      const msg = await this.jsm.streams.getMessage(names.streams.events, { last_by_subj: names.status(featureId, FEATURE_CANCELLED) });
      this.lookupFailing = false;
      if (!msg || this.parse(msg.subject, msg.data) !== featureId) {
        if (live && since === this.epoch) this.clear.add(featureId);
        return false;
      }
      this.cancel(featureId, "found in the event history");
      return true;
    } catch (err) {
      if (!this.lookupFailing) log.warn({ err, featureId }, "cannot look up feature.cancelled events; running tasks without that check until it works again");
      this.lookupFailing = true;
      return false;
    }
  }

  known(featureId: string): boolean {
    return this.set.has(featureId);
  }

  async check(featureId: string, dispatchedAt?: string): Promise<boolean> {
    if (this.set.has(featureId)) return true;
    const dispatched = dispatchedAt ? Date.parse(dispatchedAt) : NaN;
    if (dispatched - SKEW_MS > this.liveSince) return false; // the live subscription covers it
    if (this.clear.has(featureId)) return false; // looked up while live; the subscription covers the rest
    return this.lookup(featureId);
  }

  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      // nats.js types status() as a plain AsyncIterable; its iterator can be stopped (else it ends with the connection).
      const statuses = this.statuses;
      if (statuses && "stop" in statuses && typeof statuses.stop === "function") statuses.stop();
      if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
    })());
  }
}
