// The coordinator's durable, idempotent event loop for one feature: load (checkpoint + journal tail) →
// apply events → append them to the feature's journal (compare-and-set on the subject's last sequence) →
// publish the outbox with deterministic msg ids → ack. Checkpoints (KV, CAS) every CHECKPOINT_EVERY
// entries and when the feature goes quiet; they also clear the published outbox. See docs/design.md.
import type { JetStreamClient } from "@nats-io/jetstream";
import { encode } from "../../shared/codec.ts";
import type { FAULT_POINTS } from "../../shared/config.ts";
import type { Logger } from "../../shared/logging.ts";
import type { Names } from "../../shared/subjects.ts";
import type { EventBody, StatusEvent } from "../../shared/protocol/index.ts";
import { persist, restore, step, view, type FeatureSnapshot, type StoredFeature } from "./actor.ts";
import type { FeatureEvent, FeatureStateValue } from "./machine.ts";
import type { FeatureContext, OutboxEntry } from "./model.ts";
import type { FeatureStore, JournalEntry } from "./store.ts";

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
/** A checkpoint is written once a feature's journal has this many entries after the last one. */
export const CHECKPOINT_EVERY = 64;
/** A journal entry larger than this is split (NATS's default max payload is 1 MiB). */
const MAX_ENTRY_BYTES = 512 * 1024;
const TERMINAL = new Set<FeatureStateValue>(["completed", "failed", "cancelled", "rejected"]);

/** Places where a test may crash the process on purpose (BATON_FAULTS; see docs/reliability.md). */
export type FaultPoint = (typeof FAULT_POINTS)[number];

export interface LoopHooks {
  /** Features kept in the hot cache (default 20,000) … */
  cacheSize?: number;
  /** … and at most this many bytes of encoded snapshots (default 256 MiB). */
  cacheMaxBytes?: number;
  /**
   * Quiet time after which a feature with journal entries or published outbox entries not yet in a
   * checkpoint gets one (default 500 ms). Re-armed by every apply, so a busy feature pays only for the
   * periodic ones. Must stay far below the streams' duplicate window (10 min): a crash before the
   * checkpoint republishes the outbox, and only the window makes that harmless.
   */
  clearDelayMs?: number;
  /** Called with the feature's latest context after every apply (e.g. to arm its deadline timer). */
  onApplied?: (featureId: string, context: FeatureContext, state: FeatureStateValue) => void;
  /** Fault injection for crash tests; a no-op in production. */
  fault?: (point: FaultPoint) => void;
}

/** What this process last wrote or read for a feature, and which outbox entries it already published. */
export interface Cached {
  /** The machine's snapshot after journal entry `journal` (kept as it is: steps copy, never modify). */
  snapshot: FeatureSnapshot;
  /** KV revision of the checkpoint this state started from (the next checkpoint's CAS expectation). */
  revision: number;
  /** Stream sequence of the last journal entry applied (0: none); the next append's expectation. */
  journal: number;
  /** Journal entries applied since the checkpoint. */
  pending: number;
  /** Published but still in the stored outbox; removed by the next journal entry or checkpoint. */
  published: string[];
  /** Encoded size of the checkpoint plus the entries since, for the cache's byte bound. */
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
    batch.result = this.inChain(featureId, start);
    return batch.result;
  }

  private async applyNow(featureId: string, events: FeatureEvent[], opts: ApplyOptions): Promise<ApplyResult> {
    let useCache = true;
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const cached = useCache ? this.cache.get(featureId) : undefined;
      const cur: Cached | null = cached ?? (await this.load(featureId));
      if (!cur && !opts.create) return { kind: "missing" };
      if (cur && opts.onlyIfNew) {
        const r = step(featureId, cur.snapshot, []);
        await this.publishAll(featureId, cur, r.context.outbox, cur.published);
        this.onApplied(featureId, r.context, r.state);
        return { kind: "exists", state: r.state, context: r.context };
      }
      const before = cur ? view(cur.snapshot) : undefined;
      // Entries this process already published leave the outbox in the same write as the new events.
      const flushed: FeatureEvent[] = cur?.published.length ? [{ type: "outbox.flushed", msgIds: cur.published }] : [];
      const all = [...flushed, ...events];
      const r = step(featureId, cur?.snapshot ?? null, all);
      const progressed = !before || r.context.seq !== before.context.seq || r.state !== before.state;
      if (cached && events.length && !progressed) {
        // A no-op against the cache may only mean the cache is behind another coordinator: check the truth.
        useCache = false;
        continue;
      }
      let next: Cached | null = cur && { ...cur, published: [] };
      if (!cur) {
        // A new feature starts as a checkpoint at journal position 0.
        const stored = persist(r.snapshot, 0);
        const rev = await this.store.create(featureId, stored);
        if (rev === null) {
          useCache = false;
          continue; // someone created it first: load theirs
        }
        next = { snapshot: r.snapshot, revision: rev, journal: 0, pending: 0, published: [], bytes: this.store.sizeOf(stored) };
        this.fault("after-write");
      } else if (r.changed) {
        const entry: JournalEntry = { v: 1, prev: cur.journal, events: all };
        const data = JSON.stringify(entry);
        if (data.length > MAX_ENTRY_BYTES && events.length > 1) {
          // Too big for one message: commit the batch in two halves.
          const half = Math.ceil(events.length / 2);
          await this.applyNow(featureId, events.slice(0, half), opts);
          return this.applyNow(featureId, events.slice(half), opts);
        }
        let seq = await this.store.append(featureId, cur.journal, data);
        if (seq === null && !cached && !cur.pending && cur.journal && (await this.store.lastSeq(featureId)) === 0) {
          // Fresh from the checkpoint, yet the journal has no entry at all (emptied by hand, or by an older
          // version's trim): the checkpoint is the whole truth, so chain on from it. Only one such append wins.
          this.log.warn({ featureId, checkpoint: cur.journal }, "the feature's journal is empty; continuing from its checkpoint");
          seq = await this.store.append(featureId, cur.journal, data, 0);
        }
        if (seq === null) {
          this.log.debug({ featureId, try: i }, "journal append lost to another coordinator; reloading");
          this.forget(featureId);
          useCache = false;
          await backoff(i);
          continue;
        }
        next = { ...cur, snapshot: r.snapshot, journal: seq, pending: cur.pending + 1, published: [], bytes: cur.bytes + data.length };
        this.fault("after-write");
      }
      await this.publishAll(featureId, next!, r.context.outbox, r.changed ? undefined : cur?.published);
      if (next!.pending >= CHECKPOINT_EVERY) await this.checkpointNow(featureId);
      this.onApplied(featureId, r.context, r.state);
      return { kind: "applied", state: r.state, context: r.context };
    }
    throw new Error(`feature ${featureId}: gave up after ${MAX_CAS_TRIES} conflicts with other coordinators`);
  }

  private load(featureId: string, count?: number): Promise<Cached | null> {
    return loadFeature(this.store, featureId, count);
  }

  /**
   * Writes the feature's state as a checkpoint (clearing the outbox entries this process published) and
   * trims the journal entries it covers. Runs inside the feature's chain. A lost compare-and-swap means
   * another coordinator checkpointed: the cache entry is dropped and the next event reloads.
   */
  private async checkpointNow(featureId: string): Promise<void> {
    const cur = this.cache.get(featureId);
    if (!cur || (!cur.pending && !cur.published.length)) return;
    const r = cur.published.length ? step(featureId, cur.snapshot, [{ type: "outbox.flushed", msgIds: cur.published }]) : null;
    const snapshot = r ? r.snapshot : cur.snapshot;
    const stored = persist(snapshot, cur.journal);
    const rev = await this.store.update(featureId, stored, cur.revision);
    if (rev === null) {
      this.forget(featureId);
      return;
    }
    this.remember(featureId, { snapshot, revision: rev, journal: cur.journal, pending: 0, published: [], bytes: this.store.sizeOf(stored) });
    if (cur.journal) {
      await this.store.trim(featureId, cur.journal).catch((e) => this.log.warn({ err: e, featureId }, "trimming the journal failed; the next checkpoint trims it"));
    }
  }

  /**
   * Publishes the outbox (JetStream drops duplicates by msg id) except what this process already
   * published for the same state (`already`), caches `next` with the outbox recorded as published, and
   * arranges for a checkpoint when the feature goes quiet.
   */
  private async publishAll(featureId: string, next: Cached, outbox: readonly OutboxEntry[], already: readonly string[] = []): Promise<void> {
    const skip = new Set(already);
    const todo = outbox.filter((e) => !skip.has(e.msgId));
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
    this.remember(featureId, { ...next, published: outbox.map((e) => e.msgId) });
    if (outbox.length || next.pending) this.scheduleCheckpoint(featureId);
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
   * If no other event reaches the feature for `clearDelayMs`, checkpoint it (which also clears its
   * published outbox). Re-armed by every apply.
   */
  private scheduleCheckpoint(featureId: string): void {
    const old = this.clearTimers.get(featureId);
    if (old) clearTimeout(old);
    const t = setTimeout(() => {
      this.clearTimers.delete(featureId);
      this.inChain(featureId, () => this.checkpointNow(featureId)).catch((e) =>
        this.log.warn({ err: e, featureId }, "checkpoint failed; the next event or a rescan retries"));
    }, this.clearDelayMs);
    this.clearTimers.set(featureId, t);
  }

  /** Runs `fn` after everything queued for the feature (the same FIFO as `apply`). */
  private inChain<T>(featureId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(featureId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.chains.set(featureId, tail);
    void tail.then(() => {
      if (this.chains.get(featureId) === tail) this.chains.delete(featureId);
    });
    return run;
  }

  /** Writes every pending checkpoint now (graceful shutdown). */
  async settle(): Promise<void> {
    const ids = [...this.clearTimers.keys()];
    for (const t of this.clearTimers.values()) clearTimeout(t);
    this.clearTimers.clear();
    await Promise.allSettled(ids.map((id) => this.inChain(id, () => this.checkpointNow(id))));
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
    const counts = await this.store.journalCounts();
    for (const id of keys) {
      if (this.finished.has(id)) continue;
      const cur = await this.load(id, counts.get(id) ?? 0);
      if (!cur) continue;
      const { context, state } = view(cur.snapshot);
      const mine = this.cache.get(id);
      if (context.outbox.length && (mine?.revision !== cur.revision || mine.journal !== cur.journal)) {
        // Left by a coordinator that died (entries this process published itself are cleared by its own
        // timer). Our cached copy, if any, is older than KV: drop it so the apply works on what KV holds.
        this.forget(id);
        await this.apply(id, []);
        flushed++;
      } else {
        this.onApplied(id, context, state);
        if (cur.pending && !mine) {
          // Journal entries no checkpoint covers (their writer died or moved on): checkpoint them soon.
          this.remember(id, cur);
          this.scheduleCheckpoint(id);
        }
        // A finished feature with nothing left to publish never needs another visit.
        if (!context.outbox.length && !cur.pending && TERMINAL.has(state)) this.finished.add(id);
      }
    }
    return { scanned: keys.length, flushed };
  }
}

/**
 * A feature's current state: its checkpoint, with the journal entries after it applied in order (null
 * when it does not exist). `count` (the feature's journal entries, from a scan) lets a caller that looks
 * at many features skip the tail read when the checkpoint covers everything. Retries when a checkpoint
 * moved (and trimmed the journal) while reading.
 */
export async function loadFeature(store: FeatureStore, featureId: string, count?: number): Promise<Cached | null> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const l = await store.load(featureId);
    if (!l) return null;
    const start = l.stored.journal ?? 0;
    let snapshot = restore(l.stored);
    let journal = start;
    let pending = 0;
    let bytes = store.sizeOf(l.stored);
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
    if (!broken) return { snapshot, revision: l.revision, journal, pending, published: [], bytes };
  }
  throw new Error(`feature ${featureId}: its checkpoint kept moving while its journal was read`);
}

function backoff(i: number): Promise<void> {
  const ms = Math.min(200, 2 ** Math.min(i, 7)) * (0.5 + Math.random());
  return new Promise((r) => setTimeout(r, ms));
}

export type { StoredFeature };
