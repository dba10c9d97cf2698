// Which features are cancelled, as far as this worker knows: `feature.cancelled` status events arrive on a
// core-NATS subscription (to kill running tasks at once) and are remembered in a bounded, expiring set; a
// task of a feature not in the set is checked against the event history before it runs (a worker that was
// down or disconnected when the event went out still answers the feature's queued tasks CANCELLED).
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { Subscription } from "@nats-io/nats-core";
import { z } from "zod";
import { validate } from "../../shared/codec.ts";
import type { Logger } from "../../shared/logging.ts";
import type { NatsConnection } from "../../shared/nats.ts";
import { Id } from "../../shared/protocol/index.ts";
import type { Names } from "../../shared/subjects.ts";

export const CANCELLED_KIND = "feature.cancelled";

/** The little a worker needs from a `feature.cancelled` status event; the rest is the coordinator's business. */
export const CancelEvent = z.looseObject({ featureId: Id, kind: z.literal(CANCELLED_KIND) });

/** A set of feature ids that forgets the oldest beyond `max` entries and any entry older than `ttlMs`. */
export class RecentSet {
  private readonly at = new Map<string, number>();
  constructor(private readonly o: { max: number; ttlMs: number; now?: () => number }) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** Adds (or refreshes) `id`; returns false when it was already there. */
  add(id: string): boolean {
    const had = this.has(id);
    this.at.delete(id);
    this.at.set(id, this.now());
    for (const oldest of this.at.keys()) {
      if (this.at.size <= this.o.max) break;
      this.at.delete(oldest);
    }
    return !had;
  }

  has(id: string): boolean {
    const t = this.at.get(id);
    if (t === undefined) return false;
    if (this.now() - t <= this.o.ttlMs) return true;
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
export async function watchCancellations(o: CancellationOptions): Promise<Cancellations> {
  const set = new RecentSet({ max: o.max ?? 10_000, ttlMs: o.ttlMs ?? 3_600_000 });
  // Since when the subscription has surely seen every event (Infinity while disconnected). A margin
  // covers clock skew between the coordinator that stamped dispatchedAt and this worker.
  const SKEW_MS = 5000;
  let liveSince = Infinity; // set once the subscription is registered
  const { nc, names, log } = o;
  let jsm: JetStreamManager | undefined;
  let lookupFailing = false;

  /** The event's feature id when it is valid and matches the subject's feature token; logs and ignores it otherwise. */
  const parse = (subject: string, data: Uint8Array): string | undefined => {
    const token = subject.split(".")[2]; // <prefix>.status.<featureId>.feature.cancelled
    try {
      const e = validate(CancelEvent, JSON.parse(new TextDecoder().decode(data)), "feature.cancelled event");
      if (e.featureId !== token) throw new Error(`featureId "${e.featureId}" does not match the subject's "${token}"`);
      return e.featureId;
    } catch (err) {
      log.warn({ subject, err: (err as Error).message }, "ignoring an invalid feature.cancelled event");
      return undefined;
    }
  };

  const cancel = (featureId: string, how: string) => {
    if (set.add(featureId)) log.info({ featureId, how }, "feature cancelled: its tasks are killed and answered CANCELLED");
    o.onCancel(featureId);
  };

  // Features looked up and found not cancelled while the subscription was live: any later event reaches
  // the subscription, so they need no further look-up until the connection drops (then this is emptied).
  let clear = new RecentSet({ max: o.max ?? 10_000, ttlMs: o.ttlMs ?? 3_600_000 });
  let epoch = 0; // counts disconnects
  const lookup = async (featureId: string): Promise<boolean> => {
    const since = epoch;
    const live = liveSince !== Infinity;
    try {
      jsm ??= await jetstreamManager(nc);
      const m = await jsm.streams.getMessage(names.streams.events, { last_by_subj: names.status(featureId, CANCELLED_KIND) });
      lookupFailing = false;
      if (!m || parse(m.subject, m.data) !== featureId) {
        if (live && since === epoch) clear.add(featureId);
        return false;
      }
      cancel(featureId, "found in the event history");
      return true;
    } catch (err) {
      if (!lookupFailing) log.warn({ err, featureId }, "cannot look up feature.cancelled events; running tasks without that check until it works again");
      lookupFailing = true;
      return false;
    }
  };

  const sub: Subscription = nc.subscribe(names.statusKindAll(CANCELLED_KIND), {
    callback: (err, m) => {
      if (err) return log.warn({ err }, "feature.cancelled subscription error");
      const featureId = parse(m.subject, m.data);
      if (featureId) cancel(featureId, "event");
    },
  });
  await nc.flush();
  liveSince = Date.now();

  // Events published while this worker was disconnected are lost to the subscription: re-check what runs.
  const statuses = nc.status();
  void (async () => {
    for await (const s of statuses) {
      if (s.type === "disconnect") {
        liveSince = Infinity;
        epoch++;
        clear = new RecentSet({ max: o.max ?? 10_000, ttlMs: o.ttlMs ?? 3_600_000 });
      }
      if (s.type !== "reconnect") continue;
      liveSince = Date.now();
      for (const featureId of new Set(o.running())) void lookup(featureId);
    }
  })().catch(() => {});

  let stopping: Promise<void> | undefined;
  return {
    known: (featureId) => set.has(featureId),
    check: async (featureId, dispatchedAt) => {
      if (set.has(featureId)) return true;
      const dispatched = dispatchedAt ? Date.parse(dispatchedAt) : NaN;
      if (dispatched - SKEW_MS > liveSince) return false; // the live subscription covers it
      if (clear.has(featureId)) return false; // looked up while live; the subscription covers the rest
      return lookup(featureId);
    },
    stop: () =>
      (stopping ??= (async () => {
        // nats.js types status() as a plain AsyncIterable; its iterator can be stopped (else it ends with the connection).
        if ("stop" in statuses && typeof statuses.stop === "function") statuses.stop();
        if (!sub.isClosed()) sub.unsubscribe();
      })()),
  };
}
