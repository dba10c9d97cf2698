// The coordinator's durable, idempotent event loop for one feature: load (checkpoint + journal tail) → apply
// events (domain/step.ts) → append them to the feature's journal (compare-and-set on the subject's last
// sequence) → carry out the outbox (effects.ts) → ack. Checkpoints clear the carried-out outbox. See docs/design.md.
import type { JetStreamClient } from "@nats-io/jetstream";
import { encode } from "../../../shared/codec.ts";
import type { FAULT_POINTS } from "../../../shared/config.ts";
import type { Logger } from "../../../shared/logging.ts";
import type { EventBody, StatusEvent } from "../../../shared/protocol/index.ts";
import type { Names } from "../../../shared/subjects.ts";
import type { FeatureContext, FeatureStateValue, OutboxEntry } from "../domain/context.ts";
import type { FeatureEvent } from "../domain/machine.ts";
import { persist, step, view, type Stepped } from "../domain/step.ts";
import { CHECKPOINT_EVERY, Checkpointer } from "./checkpointer.ts";
import { carryOut, natsEffects, type EffectHandlers } from "./effects.ts";
import { FeatureQueue } from "./feature-queue.ts";
import type { FeatureStore, JournalEntry } from "./journal-store.ts";
import { loadFeature } from "./load-feature.ts";
import { Recovery } from "./recovery.ts";
import { SnapshotCache, type Cached } from "./snapshot-cache.ts";

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
/** A journal entry larger than this is split (NATS's default max payload is 1 MiB). */
const MAX_ENTRY_BYTES = 512 * 1024;

/** Places where a test may crash the process on purpose (BATON_FAULTS; see docs/reliability.md). */
export type FaultPoint = (typeof FAULT_POINTS)[number];

export interface LoopHooks {
  /** Features kept in the hot cache (default 20,000) … */
  cacheSize?: number;
  /** … and at most this many bytes of encoded snapshots (default 256 MiB). */
  cacheMaxBytes?: number;
  /**
   * Quiet time after which a feature with journal entries or carried-out outbox entries not yet in a
   * checkpoint gets one (default 500 ms). Re-armed by every apply, so a busy feature pays only for the
   * periodic ones. Must stay far below the streams' duplicate window (10 min): a crash before the
   * checkpoint carries out the outbox again, and only the window makes that harmless.
   */
  clearDelayMs?: number;
  /** Called with the feature's latest context after every apply (e.g. to arm its timer). */
  onApplied?: (featureId: string, context: FeatureContext, state: FeatureStateValue) => void;
  /** Effect handlers (default: publish to NATS); tests may wrap them. */
  effects?: EffectHandlers;
  /** Fault injection for crash tests; a no-op in production. */
  fault?: (point: FaultPoint) => void;
  /** Told after each apply (also one that gave up) how long it took and how many journal writes it lost to another coordinator (metrics). Must not throw. */
  onApplyMeasured?: (measure: { seconds: number; conflicts: number }) => void;
}

/** One try of an apply: its outcome, or "retry" (lost a race — `conflict`: a journal write — reload and try again). */
type Attempt = { done: ApplyResult } | { retry: true; useCache: boolean; conflict?: boolean };

export class FeatureLoop {
  private readonly queue = new FeatureQueue();
  private readonly cache: SnapshotCache;
  private readonly checkpointer: Checkpointer;
  private readonly recovery: Recovery;
  private readonly effects: EffectHandlers;
  private readonly onApplied: NonNullable<LoopHooks["onApplied"]>;
  private readonly onMeasured: LoopHooks["onApplyMeasured"];
  private readonly fault: (point: FaultPoint) => void;
  private readonly faultsEnabled: boolean;

  constructor(
    private readonly store: FeatureStore,
    private readonly js: JetStreamClient,
    private readonly names: Names,
    private readonly log: Logger,
    hooks: LoopHooks = {},
  ) {
    this.onApplied = hooks.onApplied ?? (() => {});
    this.onMeasured = hooks.onApplyMeasured;
    this.fault = hooks.fault ?? (() => {});
    this.faultsEnabled = hooks.fault !== undefined;
    this.effects = hooks.effects ?? natsEffects(js, names);
    this.cache = new SnapshotCache({ maxEntries: hooks.cacheSize ?? 20_000, maxBytes: hooks.cacheMaxBytes ?? 256 * 1024 * 1024 });
    this.checkpointer = new Checkpointer(store, this.cache, this.queue, log, hooks.clearDelayMs ?? 500);
    this.recovery = new Recovery({
      store, cache: this.cache, checkpointer: this.checkpointer,
      flush: (id) => this.apply(id, []), onApplied: (...a) => this.onApplied(...a),
    });
  }

  /**
   * Applies `events` to the feature and carries out what they produced. Idempotent: the machine ignores
   * duplicate events, and outbox entries carry deterministic msg ids. A crash at any point leaves either the
   * old state (the redelivered message re-applies) or the new one with a non-empty outbox (the next apply or
   * any coordinator's rescan carries it out again). Plain applies that arrive while the feature is busy are
   * batched into one journal entry.
   */
  apply(featureId: string, events: FeatureEvent[], opts: ApplyOptions = {}): Promise<ApplyResult> {
    if (!opts.create && !opts.onlyIfNew) return this.queue.batch(featureId, events, (all) => this.applyNow(featureId, all, opts));
    return this.queue.run(featureId, () => this.applyNow(featureId, events, opts));
  }

  private async applyNow(featureId: string, events: FeatureEvent[], opts: ApplyOptions): Promise<ApplyResult> {
    const started = performance.now();
    let useCache = true;
    let conflicts = 0;
    try {
      for (let tryNo = 0; tryNo < MAX_CAS_TRIES; tryNo++) {
        const attempt = await this.tryApply(featureId, events, opts, useCache, tryNo);
        if ("done" in attempt) return attempt.done;
        useCache = attempt.useCache;
        if (attempt.conflict) conflicts++;
      }
      throw new Error(`feature ${featureId}: gave up after ${MAX_CAS_TRIES} conflicts with other coordinators`);
    } finally {
      this.onMeasured?.({ seconds: (performance.now() - started) / 1000, conflicts });
    }
  }

  private async tryApply(featureId: string, events: FeatureEvent[], opts: ApplyOptions, useCache: boolean, tryNo: number): Promise<Attempt> {
    const cached = useCache ? this.cache.get(featureId) : undefined;
    const cur: Cached | null = cached ?? (await loadFeature(this.store, featureId));
    if (!cur && !opts.create) return { done: { kind: "missing" } };
    if (cur && opts.onlyIfNew) {
      const stepped = step(featureId, cur.snapshot, []);
      await this.carryOutAll(featureId, cur, stepped.context.outbox, cur.published);
      this.onApplied(featureId, stepped.context, stepped.state);
      return { done: { kind: "exists", state: stepped.state, context: stepped.context } };
    }
    const before = cur ? view(cur.snapshot) : undefined;
    // Entries this process already carried out leave the outbox in the same write as the new events.
    const flushed: FeatureEvent[] = cur?.published.length ? [{ type: "outbox.flushed", msgIds: cur.published }] : [];
    const all = [...flushed, ...events];
    const stepped = step(featureId, cur?.snapshot ?? null, all);
    const progressed = !before || stepped.context.seq !== before.context.seq || stepped.state !== before.state;
    // A no-op against the cache may only mean the cache is behind another coordinator: check the truth.
    if (cached && events.length && !progressed) return { retry: true, useCache: false };
    let next: Cached | null = cur && { ...cur, published: [] };
    if (!cur) {
      next = await this.create(featureId, stepped);
      if (!next) return { retry: true, useCache: false, conflict: true }; // someone created it first: load theirs
    } else if (stepped.changed) {
      const entry: JournalEntry = { v: 1, prev: cur.journal, events: all };
      const data = JSON.stringify(entry);
      if (data.length > MAX_ENTRY_BYTES && events.length > 1) return { done: await this.applyInHalves(featureId, events, opts) };
      next = await this.append(featureId, cur, stepped, data, !cached);
      if (!next) {
        this.log.debug({ featureId, try: tryNo }, "journal append lost to another coordinator; reloading");
        this.cache.forget(featureId);
        await backoff(tryNo);
        return { retry: true, useCache: false, conflict: true };
      }
    }
    await this.carryOutAll(featureId, next!, stepped.context.outbox, stepped.changed ? undefined : cur?.published);
    if (next!.pending >= CHECKPOINT_EVERY) await this.checkpointer.now(featureId);
    this.onApplied(featureId, stepped.context, stepped.state);
    return { done: { kind: "applied", state: stepped.state, context: stepped.context } };
  }

  /** Too big for one journal message: commit the batch in two halves. */
  private async applyInHalves(featureId: string, events: FeatureEvent[], opts: ApplyOptions): Promise<ApplyResult> {
    const half = Math.ceil(events.length / 2);
    await this.applyNow(featureId, events.slice(0, half), opts);
    return this.applyNow(featureId, events.slice(half), opts);
  }

  /** A new feature starts as a checkpoint at journal position 0; null when another coordinator created it first. */
  private async create(featureId: string, stepped: Stepped): Promise<Cached | null> {
    const stored = persist(stepped.snapshot, 0);
    const rev = await this.store.create(featureId, stored);
    if (rev === null) return null;
    this.fault("after-write");
    return { snapshot: stepped.snapshot, revision: rev, journal: 0, pending: 0, published: [], bytes: this.store.sizeOf(stored) };
  }

  /** Appends one journal entry after `cur.journal`; null when another coordinator appended first. */
  private async append(featureId: string, cur: Cached, stepped: Stepped, data: string, fresh: boolean): Promise<Cached | null> {
    let seq = await this.store.append(featureId, cur.journal, data);
    if (seq === null && fresh && !cur.pending && cur.journal && (await this.store.lastSeq(featureId)) === 0) {
      // Fresh from the checkpoint, yet the journal has no entry at all (emptied by hand, or by an older
      // version's trim): the checkpoint is the whole truth, so chain on from it. Only one such append wins.
      this.log.warn({ featureId, checkpoint: cur.journal }, "the feature's journal is empty; continuing from its checkpoint");
      seq = await this.store.append(featureId, cur.journal, data, 0);
    }
    if (seq === null) return null;
    this.fault("after-write");
    return { ...cur, snapshot: stepped.snapshot, journal: seq, pending: cur.pending + 1, published: [], bytes: cur.bytes + data.length };
  }

  /**
   * Carries out the outbox (every effect is idempotent by msg id) except what this process already carried
   * out for the same state (`already`), caches `next` with the outbox recorded as done, and arranges for a
   * checkpoint when the feature goes quiet.
   */
  private async carryOutAll(featureId: string, next: Cached, outbox: readonly OutboxEntry[], already: readonly string[] = []): Promise<void> {
    const skip = new Set(already);
    const todo = outbox.filter((e) => !skip.has(e.msgId));
    if (todo.length) {
      if (this.faultsEnabled) {
        // In order, the first alone, so that a test crash can land between two effects (mid-dispatch).
        await carryOut(this.effects, todo[0]!);
        this.fault("mid-publish");
        await Promise.all(todo.slice(1).map((e) => carryOut(this.effects, e)));
      } else {
        await Promise.all(todo.map((e) => carryOut(this.effects, e)));
      }
      this.fault("after-publish");
    }
    this.cache.remember(featureId, { ...next, published: outbox.map((e) => e.msgId) });
    if (outbox.length || next.pending) this.checkpointer.whenQuiet(featureId);
  }

  /** Writes every pending checkpoint now (graceful shutdown). */
  settle(): Promise<void> {
    return this.checkpointer.settle();
  }

  /** Publishes a notice outside any feature's history (seq 0), for messages about unknown features. */
  async notice(featureId: string, at: string, body: EventBody): Promise<void> {
    const payload = { ...body, type: "baton.v1.status_event", featureId, seq: 0, at } as StatusEvent;
    await this.js.publish(this.names.status(featureId, body.kind), encode(payload));
  }

  /** One recovery scan (recovery.ts): outboxes left by crashed coordinators, timers, stray journal entries. */
  recover(): Promise<{ scanned: number; flushed: number }> {
    return this.recovery.scan();
  }
}

function backoff(tryNo: number): Promise<void> {
  const ms = Math.min(200, 2 ** Math.min(tryNo, 7)) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}
