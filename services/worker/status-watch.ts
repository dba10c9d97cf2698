// A status-event kind that workers act on (feature.cancelled, budget.exceeded): a core-NATS subscription to every
// feature's events of that kind, and a look-up of a feature's last such event in the event history, for what the
// subscription cannot have seen (the worker was down or disconnected when it went out).
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { Subscription } from "@nats-io/nats-core";
import type * as z from "zod";
import { validate } from "../../shared/codec.ts";
import type { Logger } from "../../shared/logging.ts";
import type { NatsConnection } from "../../shared/nats.ts";
import type { StatusKind } from "../../shared/protocol/events.ts";
import type { Names } from "../../shared/subjects.ts";

/** Margin for clock skew between the coordinator that stamped a task's dispatchedAt and this worker. */
const SKEW_MS = 5000;

/** A set of ids (each with an optional note) that forgets the oldest beyond `max` entries and any entry older than `ttlMs`. */
export class RecentSet {
  private readonly at = new Map<string, { added: number; note?: string | undefined }>();
  constructor(private readonly options: { max: number; ttlMs: number; now?: () => number }) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Adds (or refreshes) `id`, with `note`; returns false when it was already there. */
  add(id: string, note?: string): boolean {
    const had = this.has(id);
    this.at.delete(id);
    this.at.set(id, { added: this.now(), note });
    for (const oldest of this.at.keys()) {
      if (this.at.size <= this.options.max) break;
      this.at.delete(oldest);
    }
    return !had;
  }

  has(id: string): boolean {
    const entry = this.at.get(id);
    if (entry === undefined) return false;
    if (this.now() - entry.added <= this.options.ttlMs) return true;
    this.at.delete(id);
    return false;
  }

  /** The note `id` was added with, while it is remembered. */
  note(id: string): string | undefined {
    return this.has(id) ? this.at.get(id)!.note : undefined;
  }

  get size(): number {
    return this.at.size;
  }
}

/** The status events a watch follows: each has a featureId, which must match its subject's. */
type FeatureEvent = { featureId: string };

export interface StatusWatchOptions<Event extends FeatureEvent> {
  nc: NatsConnection;
  names: Names;
  log: Logger;
  kind: StatusKind;
  /** What a valid event of `kind` looks like (what a worker needs of it; unknown fields pass). */
  schema: z.ZodType<Event>;
  /** Called for each valid event, repeats included: from the subscription (`event`) or a look-up. */
  onEvent(event: Event, how: "event" | "found in the event history"): void;
  /** Feature ids of the tasks running now, looked up again after a reconnect (events may have been missed). */
  running(): string[];
  /** Bounds of the memory of features looked up while live (default 10,000 for 1 h). */
  max?: number;
  ttlMs?: number;
}

export class StatusWatch<Event extends FeatureEvent> {
  /** Since when the subscription has surely seen every event (Infinity while disconnected or not yet subscribed). */
  private liveSince = Infinity;
  /**
   * Features looked up while the subscription was live: any later event reaches the subscription, so they need
   * no further look-up until the connection drops (then this is emptied).
   */
  private clear: RecentSet;
  /** Counts disconnects. */
  private epoch = 0;
  private jsm: JetStreamManager | undefined;
  private lookupFailing = false;
  private sub: Subscription | undefined;
  private statuses: AsyncIterable<{ type: string }> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: StatusWatchOptions<Event>) {
    this.clear = this.newSet();
  }

  private newSet(): RecentSet {
    return new RecentSet({ max: this.options.max ?? 10_000, ttlMs: this.options.ttlMs ?? 3_600_000 });
  }

  /** Subscribes, waits until the server has the subscription, and follows reconnects. */
  async subscribe(): Promise<void> {
    const { nc, names, log, kind } = this.options;
    this.sub = nc.subscribe(names.statusKindAll(kind), {
      callback: (err, msg) => {
        if (err) return log.warn({ err }, `${kind} subscription error`);
        const event = this.parse(msg.subject, msg.data);
        if (event) this.options.onEvent(event, "event");
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

  /** The event when it is valid and matches the subject's feature token; logs and ignores it otherwise. */
  private parse(subject: string, data: Uint8Array): Event | undefined {
    const { kind, schema, log } = this.options;
    const token = subject.split(".")[2]; // <prefix>.status.<featureId>.<kind>
    try {
      const event = validate(schema, JSON.parse(new TextDecoder().decode(data)), `${kind} event`);
      if (event.featureId !== token) throw new Error(`featureId "${event.featureId}" does not match the subject's "${token}"`);
      return event;
    } catch (err) {
      log.warn({ subject, err: (err as Error).message }, `ignoring an invalid ${kind} event`);
      return undefined;
    }
  }

  /**
   * Whether the subscription is sure to deliver every event of the feature that matters to a task dispatched at
   * `dispatchedAt`: it was live before the dispatch, or the feature was looked up while it was live.
   */
  covered(featureId: string, dispatchedAt?: string): boolean {
    const dispatched = dispatchedAt ? Date.parse(dispatchedAt) : NaN;
    return dispatched - SKEW_MS > this.liveSince || this.clear.has(featureId);
  }

  /** Looks up the feature's last event of the kind (calling `onEvent` when there is one). Never rejects (undefined on errors). */
  async lookup(featureId: string): Promise<Event | undefined> {
    const { names, log, kind } = this.options;
    const since = this.epoch;
    const live = this.liveSince !== Infinity;
    try {
      this.jsm ??= await jetstreamManager(this.options.nc);
      const msg = await this.jsm.streams.getMessage(names.streams.events, { last_by_subj: names.status(featureId, kind) });
      this.lookupFailing = false;
      const event = msg ? this.parse(msg.subject, msg.data) : undefined;
      if (live && since === this.epoch) this.clear.add(featureId);
      if (event) this.options.onEvent(event, "found in the event history");
      return event;
    } catch (err) {
      if (!this.lookupFailing) log.warn({ err, featureId }, `cannot look up ${kind} events; running tasks without that check until it works again`);
      this.lookupFailing = true;
      return undefined;
    }
  }

  /** Unsubscribes. Same promise on every call. */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      // nats.js types status() as a plain AsyncIterable; its iterator can be stopped (else it ends with the connection).
      const statuses = this.statuses;
      if (statuses && "stop" in statuses && typeof statuses.stop === "function") statuses.stop();
      if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
    })());
  }
}
