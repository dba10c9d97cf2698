// The file-scope locks' storage: lock entries in the `<prefix>-locks` KV bucket, one per holder, read from the
// stream leader and written with compare-and-swap on the entry's revision. services/worker/locks.ts decides with them.
import { createHash } from "node:crypto";
import { jetstreamManager, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import * as z from "zod";
import type { Logger } from "../../shared/logging.ts";
import { isCasConflict, openKv, type NatsConnection } from "../../shared/nats.ts";
import { InvalidTokenError, isToken } from "../../shared/subjects.ts";

/** Who holds (or wants) a lock: one delivery of one task attempt on one worker. */
export interface LockHolder { featureId: string; taskId: string; attempt: number; workerId: string }

/** A lock entry's value (JSON). `since`: the revision that created the entry, kept by every renewal (absent: the entry's own revision). */
export const LockEntry = z.object({
  space: z.string(),
  scope: z.array(z.string()).nullable(),
  holder: z.object({ featureId: z.string(), taskId: z.string(), attempt: z.int(), workerId: z.string() }),
  expiresAt: z.iso.datetime(),
  leaseSeconds: z.number().positive(),
  since: z.int().positive().optional(),
});
export type LockEntry = z.infer<typeof LockEntry>;

/** An entry as read: its key, the revision of its latest write and the revision that created it. */
export interface StoredLock { key: string; revision: number; since: number; entry: LockEntry }

/**
 * A lock space's key prefix: the first 32 hex digits of the space's sha256 (a space is a folder path; KV keys allow
 * few characters).
 */
export function spacePrefix(space: string): string {
  return createHash("sha256").update(space).digest("hex").slice(0, 32);
}

/** The key of `holder`'s entry in `space`: `<spacePrefix>.<featureId>.<taskId>`. Throws InvalidTokenError on a bad id. */
export function lockKey(space: string, holder: Pick<LockHolder, "featureId" | "taskId">): string {
  for (const id of [holder.featureId, holder.taskId]) if (!isToken(id)) throw new InvalidTokenError(`invalid lock holder id ${JSON.stringify(id)}`);
  return `${spacePrefix(space)}.${holder.featureId}.${holder.taskId}`;
}

/** Reads and writes lock entries. Reads go to the stream's leader (not direct gets), so none returns a stale entry. */
export class LockStore {
  private constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
    private readonly log: Logger,
  ) {}

  /** Opens the bucket, creating it (as ensureTopology does) when it does not exist yet. Safe to race with it. */
  static async open(nc: NatsConnection, bucket: string, log: Logger): Promise<LockStore> {
    const jsm = await jetstreamManager(nc);
    const exists = await jsm.streams.info(`KV_${bucket}`).then(() => true, (err: Error) => {
      if (/not found/i.test(err.message)) return false;
      throw err;
    });
    const kv = exists ? await openKv(nc, bucket) : await new Kvm(nc).create(bucket, { history: 1, storage: StorageType.File });
    return new LockStore(kv, jsm, bucket, log);
  }

  private get stream(): string {
    return `KV_${this.bucket}`;
  }

  private subject(key: string): string {
    return `$KV.${this.bucket}.${key}`;
  }

  /** Every live entry of `space` (deleted and unreadable ones left out; the latter logged). */
  async list(space: string): Promise<StoredLock[]> {
    const prefix = this.subject("");
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: `${prefix}${spacePrefix(space)}.>` });
    const keys = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
    const read = await Promise.all(keys.map((key) => this.read(key)));
    return read.filter((stored): stored is StoredLock => stored !== null && stored.entry.space === space);
  }

  /** The entry under `key`, or null when there is none (never written, removed, deleted, or unreadable). */
  async read(key: string): Promise<StoredLock | null> {
    const message = await this.jsm.streams.getMessage(this.stream, { last_by_subj: this.subject(key) });
    if (!message) return null;
    const operation = message.header?.get("KV-Operation");
    if (operation === "DEL" || operation === "PURGE") return null;
    const parsed = LockEntry.safeParse(parseJson(message.string()));
    if (!parsed.success) {
      this.log.warn({ key, bucket: this.bucket, issues: parsed.error.issues }, "unreadable lock entry ignored");
      return null;
    }
    return { key, revision: message.seq, since: parsed.data.since ?? message.seq, entry: parsed.data };
  }

  /** Creates `key`; its revision, or null when the key holds an entry already. */
  async create(key: string, entry: LockEntry): Promise<number | null> {
    try {
      return await this.kv.create(key, JSON.stringify(entry));
    } catch (err) {
      if (isCasConflict(err)) return null;
      throw err;
    }
  }

  /** Rewrites `key` if its latest revision is still `revision`; the new revision, or null when it is not. */
  async update(key: string, entry: LockEntry, revision: number): Promise<number | null> {
    try {
      return await this.kv.update(key, JSON.stringify(entry), revision);
    } catch (err) {
      if (isCasConflict(err)) return null;
      throw err;
    }
  }

  /**
   * Removes `key`'s entry if its latest write is still `revision`: purges the subject's messages up to that revision,
   * so a later write (a renewal, a take-over) survives, and no delete marker is left to list. Idempotent.
   */
  async remove(key: string, revision: number): Promise<void> {
    await this.jsm.streams.purge(this.stream, { filter: this.subject(key), seq: revision + 1 });
  }
}

/** JSON.parse, with undefined for text that is not JSON (the schema then rejects it). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
