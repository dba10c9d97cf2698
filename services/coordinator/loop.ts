// The coordinator's durable, idempotent event loop for one feature:
// load snapshot → apply events → CAS write → publish outbox with deterministic msg ids → clear outbox (CAS).
import type { JetStreamClient } from "@nats-io/jetstream";
import { encode } from "../../shared/codec.ts";
import type { FAULT_POINTS } from "../../shared/config.ts";
import type { Logger } from "../../shared/logging.ts";
import type { Names } from "../../shared/subjects.ts";
import type { EventBody, StatusEvent } from "../../shared/protocol/index.ts";
import { restore, step, view, type FeatureSnapshot, type StoredFeature } from "./actor.ts";
import type { FeatureEvent, FeatureStateValue } from "./machine.ts";
import type { FeatureContext, OutboxEntry } from "./model.ts";
import type { FeatureStore } from "./store.ts";

export type ApplyResult =
  | { kind: "applied"; state: FeatureStateValue; context: FeatureContext }
  | { kind: "missing" }
  | { kind: "exists"; state: FeatureStateValue; context: FeatureContext };

export interface ApplyOptions {
  /** Create the feature if it does not exist; with `onlyIfNew`, leave an existing one untouched. */
  create?: boolean;
  onlyIfNew?: boolean;
}

const MAX_CAS_TRIES = 50;
const TERMINAL = new Set<FeatureStateValue>(["completed", "failed", "cancelled", "rejected"]);

/** Places where a test may crash the process on purpose (BATON_FAULTS; see docs/reliability.md). */
export type FaultPoint = (typeof FAULT_POINTS)[number];

export interface LoopHooks {
  /** Features kept in the hot cache (default 20,000) … */
  cacheSize?: number;
  /** … and at most this many bytes of encoded snapshots (default 256 MiB). */
  cacheMaxBytes?: number;
  /**
   * Delay before a write whose only purpose is to clear a published outbox (default 500 ms). Re-armed by
   * every apply, so a feature with an event at least this often never pays for one. Must stay far below
   * the streams' duplicate window (10 min): a crash before the clear republishes the entries, and only
   * the window makes that harmless.
   */
  clearDelayMs?: number;
  /** Called with the feature's latest context after every apply (e.g. to arm its deadline timer). */
  onApplied?: (featureId: string, context: FeatureContext, state: FeatureStateValue) => void;
  /** Fault injection for crash tests; a no-op in production. */
  fault?: (point: FaultPoint) => void;
}

/** What this process last wrote or read for a feature, and which outbox entries it already published. */
interface Cached {
  /** The machine's snapshot as of `revision`, kept in memory as it is (never modified: steps copy). */
  snapshot: FeatureSnapshot;
  revision: number;
  /** Published but still in the stored outbox; removed by the next write (or a debounced one). */
  published: string[];
  /** Encoded size, for the cache's byte bound. */
  bytes: number;
}

export class FeatureLoop {
  /** Per-feature FIFO so one process never races itself; other processes are handled by CAS. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Features seen finished with an empty outbox: rescans skip them. */
  private readonly finished = new Set<string>();
  /** Per feature, the batch of events waiting for the running apply to finish. */
  private readonly batches = new Map<string, { events: FeatureEvent[]; result: Promise<ApplyResult> }>();
  /** Hot cache (LRU by insertion order). The KV revision is the truth: a CAS conflict drops the entry. */
  private readonly cache = new Map<string, Cached>();
  private readonly clearTimers = new Map<string, NodeJS.Timeout>();
  private readonly onApplied: (featureId: string, context: FeatureContext, state: FeatureStateValue) => void;
  private readonly fault: (point: FaultPoint) => void;
  private readonly faultsEnabled: boolean;
  private readonly cacheSize: number;
  private readonly cacheMaxBytes: number;
  private cacheBytes = 0;
  private readonly clearDelayMs: number;

  constructor(
    private readonly store: FeatureStore,
    private readonly js: JetStreamClient,
    private readonly names: Names,
    private readonly log: Logger,
    hooks: LoopHooks = {},
  ) {
    this.onApplied = hooks.onApplied ?? (() => {});
    this.fault = hooks.fault ?? (() => {});
    this.faultsEnabled = hooks.fault !== undefined;
    this.cacheSize = hooks.cacheSize ?? 20_000;
    this.cacheMaxBytes = hooks.cacheMaxBytes ?? 256 * 1024 * 1024;
    this.clearDelayMs = hooks.clearDelayMs ?? 500;
  }

  /**
   * Applies `events` to the feature and publishes what they produced. Idempotent: the machine
   * ignores duplicate events, and outbox messages carry deterministic msg ids. A crash at any
   * point leaves either the old snapshot (the redelivered message re-applies) or the new one
   * with a non-empty outbox (the next apply or any coordinator's rescan publishes it again).
   */
  apply(featureId: string, events: FeatureEvent[], opts: ApplyOptions = {}): Promise<ApplyResult> {
    const plain = !opts.create && !opts.onlyIfNew;
    // Events that arrive while the feature is busy join one batch: one snapshot write for all of them.
    const waiting = plain ? this.batches.get(featureId) : undefined;
    if (waiting) {
      waiting.events.push(...events);
      return waiting.result;
    }
    const batch = { events: [...events] } as { events: FeatureEvent[]; result: Promise<ApplyResult> };
    if (plain) this.batches.set(featureId, batch);
    const start = () => {
      if (this.batches.get(featureId) === batch) this.batches.delete(featureId);
      return this.applyNow(featureId, batch.events, opts);
    };
    const prev = this.chains.get(featureId) ?? Promise.resolve();
    const run = prev.then(start, start);
    batch.result = run;
    const tail = run.catch(() => {});
    this.chains.set(featureId, tail);
    void tail.then(() => {
      if (this.chains.get(featureId) === tail) this.chains.delete(featureId);
    });
    return run;
  }

  private async applyNow(featureId: string, events: FeatureEvent[], opts: ApplyOptions): Promise<ApplyResult> {
    let useCache = true;
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const cached = useCache ? this.cache.get(featureId) : undefined;
      const cur: Cached | null = cached ?? (await this.load(featureId));
      if (!cur && !opts.create) return { kind: "missing" };
      if (cur && opts.onlyIfNew) {
        const r = step(featureId, cur.snapshot, []);
        await this.publishAll(featureId, cur, r.snapshot, cur.revision, cur.bytes, r.context.outbox);
        this.onApplied(featureId, r.context, r.state);
        return { kind: "exists", state: r.state, context: r.context };
      }
      const before = cur ? view(cur.snapshot) : undefined;
      // Entries this process already published leave the outbox in the same write as the new events.
      const flushed: FeatureEvent[] = cur?.published.length ? [{ type: "outbox.flushed", msgIds: cur.published }] : [];
      const r = step(featureId, cur?.snapshot ?? null, [...flushed, ...events]);
      const progressed = !before || r.context.seq !== before.context.seq || r.state !== before.state;
      if (cached && events.length && !progressed) {
        // A no-op against the cache may only mean the cache is behind another coordinator: check the truth.
        useCache = false;
        continue;
      }
      let revision = cur?.revision ?? 0;
      let bytes = cur?.bytes ?? 0;
      if (r.changed) {
        const rev = cur ? await this.store.update(featureId, r.stored, cur.revision) : await this.store.create(featureId, r.stored);
        if (rev === null) {
          this.log.debug({ featureId, try: i }, "snapshot write lost compare-and-swap; reloading");
          this.forget(featureId);
          useCache = false;
          await backoff(i);
          continue;
        }
        revision = rev;
        bytes = this.store.sizeOf(r.stored);
        this.fault("after-write");
      }
      await this.publishAll(featureId, cur && !r.changed ? cur : null, r.snapshot, revision, bytes, r.context.outbox);
      this.onApplied(featureId, r.context, r.state);
      return { kind: "applied", state: r.state, context: r.context };
    }
    throw new Error(`feature ${featureId}: gave up after ${MAX_CAS_TRIES} compare-and-swap conflicts`);
  }

  private async load(featureId: string): Promise<Cached | null> {
    const l = await this.store.load(featureId);
    return l ? { snapshot: restore(l.stored), revision: l.revision, published: [], bytes: this.store.sizeOf(l.stored) } : null;
  }

  /**
   * Publishes the outbox (JetStream drops duplicates by msg id), remembers the entries as published,
   * and arranges for them to leave the stored outbox: with the next write, or a debounced one.
   */
  private async publishAll(featureId: string, unchanged: Cached | null, snapshot: FeatureSnapshot, revision: number, bytes: number, outbox: readonly OutboxEntry[]): Promise<void> {
    const alreadyPublished = new Set(unchanged?.published ?? []);
    const todo = outbox.filter((e) => !alreadyPublished.has(e.msgId));
    if (todo.length) {
      if (this.faultsEnabled) {
        // In order, the first alone, so that a test crash can land between two publishes (mid-dispatch).
        await this.publish(todo[0]!);
        this.fault("mid-publish");
        await Promise.all(todo.slice(1).map((e) => this.publish(e)));
      } else {
        await Promise.all(todo.map((e) => this.publish(e)));
      }
      this.fault("after-publish");
    }
    this.remember(featureId, { snapshot, revision, bytes, published: outbox.map((e) => e.msgId) });
    if (outbox.length) this.scheduleClear(featureId);
  }

  /** Keeps `c` as the newest entry; evicts the oldest while over the entry or byte bound. */
  private remember(featureId: string, c: Cached): void {
    this.forget(featureId);
    this.cache.set(featureId, c);
    this.cacheBytes += c.bytes;
    while (this.cache.size > this.cacheSize || (this.cacheBytes > this.cacheMaxBytes && this.cache.size > 1)) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.forget(oldest);
    }
  }

  private forget(featureId: string): void {
    const old = this.cache.get(featureId);
    if (!old) return;
    this.cacheBytes -= old.bytes;
    this.cache.delete(featureId);
  }

  /**
   * If no other event writes the feature for `clearDelayMs`, write once just to clear its published
   * outbox. Re-armed by every apply, so a busy feature never pays for a clear-only write.
   */
  private scheduleClear(featureId: string): void {
    const old = this.clearTimers.get(featureId);
    if (old) clearTimeout(old);
    const t = setTimeout(() => {
      this.clearTimers.delete(featureId);
      if (!this.cache.get(featureId)?.published.length) return;
      this.apply(featureId, []).catch((e) => this.log.warn({ err: e, featureId }, "clearing a published outbox failed; a rescan will retry"));
    }, this.clearDelayMs);
    this.clearTimers.set(featureId, t);
  }

  /** Writes every pending outbox clear now (graceful shutdown). */
  async settle(): Promise<void> {
    const ids = [...this.clearTimers.keys()];
    for (const t of this.clearTimers.values()) clearTimeout(t);
    this.clearTimers.clear();
    await Promise.allSettled(ids.map((id) => this.apply(id, [])));
  }

  private async publish(e: OutboxEntry): Promise<void> {
    const subject = e.to === "task" ? this.names.task(e.role) : this.names.status(e.payload.featureId, e.kind);
    await this.js.publish(subject, encode(e.payload), { msgID: e.msgId });
  }

  /** Publishes a notice outside any feature's history (seq 0), for messages about unknown features. */
  async notice(featureId: string, at: string, body: EventBody): Promise<void> {
    const payload = { ...body, type: "baton.v1.status_event", featureId, seq: 0, at } as StatusEvent;
    await this.js.publish(this.names.status(featureId, body.kind), encode(payload));
  }

  /**
   * Visits every feature: publishes any outbox a crashed coordinator left behind and reports each
   * feature to `onApplied` (which re-arms its deadline). Safe to run at any time, by any number of
   * coordinators at once.
   */
  async recover(): Promise<{ scanned: number; flushed: number }> {
    let flushed = 0;
    const keys = await this.store.keys();
    for (const id of keys) {
      if (this.finished.has(id)) continue;
      const cur = await this.store.load(id);
      if (!cur) continue;
      const { context, state } = view(cur.stored);
      const mine = this.cache.get(id);
      if (context.outbox.length && mine?.revision !== cur.revision) {
        // Left by a coordinator that died (entries this process published itself are cleared by its own
        // timer). Our cached copy, if any, is older than KV: drop it so the apply works on what KV holds.
        this.forget(id);
        await this.apply(id, []);
        flushed++;
      } else {
        this.onApplied(id, context, state);
        // A finished feature with nothing left to publish never needs another visit.
        if (!context.outbox.length && TERMINAL.has(state)) this.finished.add(id);
      }
    }
    return { scanned: keys.length, flushed };
  }
}

function backoff(i: number): Promise<void> {
  const ms = Math.min(200, 2 ** Math.min(i, 7)) * (0.5 + Math.random());
  return new Promise((r) => setTimeout(r, ms));
}

export type { StoredFeature };
