// File-scope locks (issue 12, shared mode): a worker holds a lease in the `<prefix>-locks` KV bucket while a task
// runs, so that two tasks whose scopes may overlap (shared/scope.ts) never run at once in one space (workspace folder).
import type { Logger } from "../../shared/logging.ts";
import { silentLogger } from "../../shared/logging.ts";
import type { NatsConnection } from "../../shared/nats.ts";
import type { LockSpec } from "../../shared/protocol/workspace.ts";
import { scopesMayOverlap } from "../../shared/scope.ts";
import type { Names } from "../../shared/subjects.ts";
import { lockKey, LockStore, type LockEntry, type LockHolder, type StoredLock } from "./lock-store.ts";

export { lockKey, type LockHolder } from "./lock-store.ts";

/** The holder in the way of an acquire, with its scope and when its lease runs out unless renewed. */
export type LockBlocker = LockHolder & { scope: string[] | null; expiresAt: string };

export interface AcquireOptions {
  /** Aborting gives up: acquire rejects with the signal's reason and leaves no entry behind. */
  signal: AbortSignal;
  /** Called while waiting, each time another holder is the one in the way (not on every poll). */
  onWait?: (heldBy: LockBlocker) => void;
  /** Called once if the lease is lost while held (see Lease.lost). */
  onLost?: () => void;
  /** How often a waiter looks again (default 500 ms, plus up to half of it at random). */
  pollMs?: number;
}

/** A held lock. It renews itself every leaseSeconds/3 until released. */
export interface Lease {
  readonly key: string;
  /**
   * True once a renewal found the entry gone or rewritten (another reader took it as expired, or another delivery of
   * this task took it over), or the connection closed: others may hold the scope now. Once true, stays true.
   */
  readonly lost: boolean;
  /** Stops renewing and removes the entry (unless lost). Same promise on every call; never rejects (an entry left behind expires). */
  release(): Promise<void>;
}

const DEFAULT_POLL_MS = 500;
const MAX_CLAIM_TRIES = 5;

/*
 * Why two overlapping holders never hold at once (leases not expired, clocks within a few seconds — NTP):
 * an acquirer first creates its entry (revision R, kept as the entry's `since` by every renewal), then lists the space
 * and holds only if no unexpired overlapping entry with a lower `since` is there; otherwise it removes its entry and
 * waits. Take two overlapping entries with s1 < s2. Entry 1 exists without a gap from s1 until it is removed (renewals
 * and take-overs rewrite it in place with compare-and-swap; removal is revision-checked). Entry 2's owner lists after
 * s2 > s1, so it sees entry 1 — and withdraws — unless entry 1 was removed before: released or withdrawn (its owner
 * then holds nothing; holding again means a new entry with a `since` above s2, whose owner sees entry 2 and
 * withdraws), or purged as expired (its owner's next renewal fails: `lost`). The lowest `since` among contenders
 * never withdraws, so racing acquirers make progress. A lease assumes the holder renews within leaseSeconds and that
 * clocks agree within a few seconds; a partitioned holder learns it lost the lease only on its next renewal.
 */

/** File-scope locks over one NATS connection. */
export class FileLocks {
  private constructor(
    private readonly store: LockStore,
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** Opens the locks bucket (`names.buckets.locks`), creating it when it does not exist yet. */
  static async open(nc: NatsConnection, names: Names, opts: { log?: Logger; now?: () => number } = {}): Promise<FileLocks> {
    const log = opts.log ?? silentLogger;
    return new FileLocks(await LockStore.open(nc, names.buckets.locks, log), nc, log, opts.now ?? Date.now);
  }

  /**
   * Waits until no other unexpired holder's scope in `spec.space` may overlap `spec.scope`, then holds the lock and
   * renews it until released. An entry this same task left (an earlier delivery whose worker died) is taken over.
   * Rejects with the signal's reason when aborted (nothing left behind), or with a NATS error.
   */
  async acquire(spec: LockSpec, holder: LockHolder, opts: AcquireOptions): Promise<Lease> {
    const { signal } = opts;
    const key = lockKey(spec.space, holder);
    const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    let shown: string | undefined;
    for (;;) {
      signal.throwIfAborted();
      let blocker = await this.blocker(spec, key);
      if (!blocker) {
        const mine = await this.claim(key, spec, holder);
        try {
          blocker = await this.blocker(spec, key, mine.since);
          signal.throwIfAborted();
        } catch (err) {
          await this.store.remove(key, mine.revision).catch(() => {});
          throw err;
        }
        if (!blocker) return new RenewedLease(this.store, key, mine, { log: this.log, now: this.now, isClosed: () => this.nc.isClosed(), onLost: opts.onLost });
        await this.store.remove(key, mine.revision); // both raced; the lower `since` holds
      }
      const identity = `${blocker.key}@${blocker.since}`;
      if (identity !== shown) {
        shown = identity;
        const { holder: heldBy, scope, expiresAt } = blocker.entry;
        opts.onWait?.({ ...heldBy, scope, expiresAt });
      }
      await pause(pollMs + Math.random() * pollMs / 2, signal);
    }
  }

  /**
   * An unexpired entry of another holder in the space whose scope may overlap `spec.scope` (with `before`: only one
   * created before that revision), or undefined. Expired entries are removed on the way (revision-checked, so a
   * renewal that just happened survives).
   */
  private async blocker(spec: LockSpec, ownKey: string, before?: number): Promise<StoredLock | undefined> {
    let found: StoredLock | undefined;
    for (const stored of await this.store.list(spec.space)) {
      if (stored.key === ownKey) continue;
      if (Date.parse(stored.entry.expiresAt) <= this.now()) {
        this.log.info({ key: stored.key, holder: stored.entry.holder, expiresAt: stored.entry.expiresAt }, "removing an expired file lock");
        await this.store.remove(stored.key, stored.revision);
        continue;
      }
      if (before !== undefined && stored.since >= before) continue;
      if (!scopesMayOverlap(spec.scope, stored.entry.scope)) continue;
      if (!found || stored.since < found.since) found = stored;
    }
    return found;
  }

  /** Writes this holder's entry: creates it, or takes over the one an earlier delivery of the same task left. */
  private async claim(key: string, spec: LockSpec, holder: LockHolder): Promise<{ revision: number; since: number; entry: LockEntry }> {
    const entry: LockEntry = { space: spec.space, scope: spec.scope, holder, expiresAt: "", leaseSeconds: spec.leaseSeconds };
    for (let attempt = 0; attempt < MAX_CLAIM_TRIES; attempt++) {
      entry.expiresAt = new Date(this.now() + spec.leaseSeconds * 1000).toISOString();
      const created = await this.store.create(key, entry);
      if (created !== null) return { revision: created, since: created, entry };
      const existing = await this.store.read(key);
      if (!existing) continue;
      if (Date.parse(existing.entry.expiresAt) <= this.now()) {
        await this.store.remove(key, existing.revision);
        continue;
      }
      this.log.warn({ key, previous: existing.entry.holder, holder }, "taking over the file lock an earlier delivery of this task held");
      const takenOver = { ...entry, since: existing.since };
      const revision = await this.store.update(key, takenOver, existing.revision);
      if (revision !== null) return { revision, since: existing.since, entry: takenOver };
    }
    throw new Error(`could not write file lock ${key}: it changed under every one of ${MAX_CLAIM_TRIES} tries`);
  }
}

/** A held entry, renewed with compare-and-swap every leaseSeconds/3. */
class RenewedLease implements Lease {
  private isLost = false;
  private revision: number;
  private readonly entry: LockEntry;
  private readonly timer: NodeJS.Timeout;
  private renewing: Promise<void> | undefined;
  private released: Promise<void> | undefined;

  constructor(
    private readonly store: LockStore,
    readonly key: string,
    held: { revision: number; since: number; entry: LockEntry },
    private readonly opts: { log: Logger; now: () => number; isClosed: () => boolean; onLost?: (() => void) | undefined },
  ) {
    this.revision = held.revision;
    this.entry = { ...held.entry, since: held.since };
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    }, held.entry.leaseSeconds * 1000 / 3);
    this.timer.unref();
  }

  get lost(): boolean {
    return this.isLost;
  }

  private async renew(): Promise<void> {
    if (this.isLost || this.released) return;
    const entry = { ...this.entry, expiresAt: new Date(this.opts.now() + this.entry.leaseSeconds * 1000).toISOString() };
    try {
      const revision = await this.store.update(this.key, entry, this.revision);
      if (revision !== null) this.revision = revision;
      else this.lose("the entry was removed or rewritten by another (it was taken as expired, or this task's lock was taken over)");
    } catch (err) {
      if (this.opts.isClosed()) this.lose("the NATS connection is closed");
      else this.opts.log.warn({ key: this.key, err: String(err) }, "renewing a file lock failed; trying again at the next renewal");
    }
  }

  private lose(why: string): void {
    if (this.isLost) return;
    this.isLost = true;
    clearInterval(this.timer);
    this.opts.log.warn({ key: this.key, holder: this.entry.holder }, `file lock lost: ${why}`);
    this.opts.onLost?.();
  }

  release(): Promise<void> {
    this.released ??= (async () => {
      clearInterval(this.timer);
      await this.renewing;
      if (this.isLost) return;
      try {
        await this.store.remove(this.key, this.revision);
      } catch (err) {
        this.opts.log.warn({ key: this.key, err: String(err) }, "releasing a file lock failed; it expires after its lease");
      }
    })();
    return this.released;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
