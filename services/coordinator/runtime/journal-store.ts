// A feature's durable state: a checkpoint in KV (snapshot + the journal position it covers), written only
// with compare-and-swap on the entry's revision, and its journal: one JetStream subject per feature, to
// which every apply appends the events it committed, with the subject's last sequence as the expectation.
import type { JetStreamClient, JetStreamManager, MsgRequest, NextMsgRequest } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import * as z from "zod";
import { isCasConflict, kvKeys } from "../../../shared/nats.ts";
import type { Names } from "../../../shared/subjects.ts";
import type { FeatureEvent } from "../domain/machine.ts";
import { upgradeStored, type StoredFeature } from "../domain/stored.ts";

export interface Loaded {
  stored: StoredFeature;
  revision: number;
}

/** A shallow check of what KV holds (the snapshot itself is the machine's own output); `v` is checked by upgradeStored. */
const StoredShape = z.looseObject({
  v: z.unknown(),
  snapshot: z.looseObject({ value: z.string(), context: z.looseObject({ featureId: z.string(), tasks: z.record(z.string(), z.unknown()) }) }),
  journal: z.number().int().nonnegative().optional(),
});

/**
 * One journal entry: the events of one apply, in order, applied to the state left by the entry at stream
 * sequence `prev` (or, when `prev` is the checkpoint's `journal`, to the checkpoint itself).
 */
export interface JournalEntry {
  v: 1;
  prev: number;
  events: FeatureEvent[];
}

/** A shallow check of a journal entry (its events are the coordinator's own, already validated when they came in). */
const EntryShape = z.looseObject({
  v: z.literal(1),
  prev: z.number().int().nonnegative(),
  events: z.array(z.looseObject({ type: z.string() })).min(1),
});

export class FeatureStore {
  /** Encoded size of every snapshot this store read or wrote, for byte-bounded caches. */
  private readonly sizes = new WeakMap<object, number>();

  private readonly js: JetStreamClient;

  /** `jsm` lists keys from the bucket's stream (kv.keys() can hang while keys are being written). */
  constructor(
    readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly names: Names,
  ) {
    this.js = jsm.jetstream();
  }

  /** The feature's snapshot and revision, or null if there is none. */
  async load(featureId: string): Promise<Loaded | null> {
    const entry = await this.kv.get(featureId);
    if (!entry || entry.operation !== "PUT" || entry.length === 0) return null;
    const parsed = StoredShape.safeParse(entry.json());
    if (!parsed.success) {
      // Not written by this version of Baton (or damaged): refuse to act on it rather than guess.
      throw new Error(`feature ${featureId}: stored snapshot (revision ${entry.revision}) is not one this coordinator can read: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    }
    // Older formats are migrated here; a format this version does not know is refused (UnreadableFeatureError).
    const stored = upgradeStored(featureId, parsed.data);
    this.sizes.set(stored, entry.length);
    return { stored, revision: entry.revision };
  }

  /** Bytes of `stored` as last read or written here (0 when unknown). */
  sizeOf(stored: StoredFeature): number {
    return this.sizes.get(stored) ?? 0;
  }

  /** Creates the entry; null if it already exists (someone else created it). */
  async create(featureId: string, stored: StoredFeature): Promise<number | null> {
    try {
      const data = JSON.stringify(stored);
      this.sizes.set(stored, data.length);
      return await this.kv.create(featureId, data);
    } catch (err) {
      if (isCasConflict(err)) return null;
      throw err;
    }
  }

  /** Replaces the entry if it is still at `revision`; null if another writer got there first. */
  async update(featureId: string, stored: StoredFeature, revision: number): Promise<number | null> {
    try {
      const data = JSON.stringify(stored);
      this.sizes.set(stored, data.length);
      return await this.kv.update(featureId, data, revision);
    } catch (err) {
      if (isCasConflict(err)) return null;
      throw err;
    }
  }

  /** Every feature id in the bucket. */
  keys(): Promise<string[]> {
    return kvKeys(this.jsm, this.names.buckets.features);
  }

  /**
   * Appends an encoded `JournalEntry` to the feature's journal if the journal's last entry is still
   * `prev` (0: none). Returns the entry's stream sequence, or null if another coordinator appended first.
   */
  async append(featureId: string, prev: number, data: string, expected = prev): Promise<number | null> {
    try {
      const ack = await this.js.publish(this.names.journal(featureId), data, { expect: { lastSubjectSequence: expected } });
      return ack.seq;
    } catch (err) {
      if (isCasConflict(err)) return null;
      throw err;
    }
  }

  /** The feature's journal entries after stream sequence `after`, in order (one request each, and one more). */
  async tail(featureId: string, after: number): Promise<{ seq: number; entry: JournalEntry; size: number }[]> {
    const subject = this.names.journal(featureId);
    const out: { seq: number; entry: JournalEntry; size: number }[] = [];
    for (let cursor = after; ; ) {
      // STREAM.MSG.GET with next_by_subj (nats-server 2.9 has it); nats.js 3.4 types only seq/last_by_subj
      // for this API but sends the request as given (the journal tests read tails through it).
      const next: NextMsgRequest = { next_by_subj: subject, seq: cursor + 1 };
      const msg = await this.jsm.streams.getMessage(this.names.streams.journal, next as unknown as MsgRequest);
      if (!msg) return out;
      const parsed = EntryShape.safeParse(msg.json());
      if (!parsed.success) throw new Error(`feature ${featureId}: journal entry ${msg.seq} is not one this coordinator can read: ${parsed.error.issues[0]?.message ?? "invalid"}`);
      out.push({ seq: msg.seq, entry: parsed.data as unknown as JournalEntry, size: msg.data.length });
      cursor = msg.seq;
    }
  }

  /**
   * Removes the feature's journal entries before stream sequence `upTo` (a checkpoint covers them). The
   * entry at `upTo` stays: the subject's last sequence must never go back, or an append expecting an old
   * position could succeed.
   */
  async trim(featureId: string, upTo: number): Promise<void> {
    // nats-server treats a purge "up to sequence 1" as "purge everything on the subject": never send it.
    if (upTo <= 1) return;
    await this.jsm.streams.purge(this.names.streams.journal, { filter: this.names.journal(featureId), seq: upTo });
  }

  /** Stream sequence of the feature's last journal entry, 0 when it has none. */
  async lastSeq(featureId: string): Promise<number> {
    const msg = await this.jsm.streams.getMessage(this.names.streams.journal, { last_by_subj: this.names.journal(featureId) });
    return msg?.seq ?? 0;
  }

  /** How many journal entries each feature has (features without entries are absent). */
  async journalCounts(): Promise<Map<string, number>> {
    const info = await this.jsm.streams.info(this.names.streams.journal, { subjects_filter: this.names.journalAll() });
    const counts = new Map<string, number>();
    const skip = this.names.journal("x").length - 1;
    for (const [subject, count] of Object.entries(info.state.subjects ?? {})) counts.set(subject.slice(skip), count);
    return counts;
  }
}
