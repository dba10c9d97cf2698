// One workspace operation at a time per feature on this machine. Integrators that share a workspace share its
// integration worktree; a redelivered operation (its ack wait ran out under load, or NATS restarted) must not run
// beside the delivery still working in it — the chaos run saw the second `git merge --abort` the first's merge, and
// the task completed without its work on the branch. A lock directory beside the feature's worktrees, held with
// proper-lockfile (mkdir is atomic on every filesystem; the holder refreshes its mtime, so a lock left by a process
// that died goes stale and is taken over) rather than a hand-written lock file: stale detection is the hard part.
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import lockfile from "proper-lockfile";
import type { Logger } from "../../../shared/logging.ts";

export interface FeatureLockOptions {
  /** A lock not refreshed for this long belongs to a process that died (default 30 s; refreshed every 5 s). */
  staleMs?: number;
  /** How long to wait for the holder before giving up with an error (default 10 minutes). */
  waitMs?: number;
  log?: Logger | undefined;
}

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_WAIT_MS = 10 * 60_000;
const MAX_POLL_MS = 1_000;

/**
 * Runs `work` holding the lock on `featureDir` (the folder of everything Baton makes for one feature: its integration
 * worktree and task worktrees), waiting for another holder — in this process or another — to finish first. The lock is
 * released however `work` ends. Rejects when the lock cannot be had within `waitMs`. A lock taken over while held (its
 * holder's event loop stood still longer than `staleMs`) is logged; the work goes on, as nothing safer is possible then.
 */
export async function withFeatureLock<T>(featureDir: string, work: () => Promise<T>, opts: FeatureLockOptions = {}): Promise<T> {
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const waitMs = opts.waitMs ?? DEFAULT_WAIT_MS;
  await mkdir(dirname(featureDir), { recursive: true });
  const started = Date.now();
  let release: (() => Promise<void>) | undefined;
  let waited = false;
  while (!release) {
    try {
      release = await lockfile.lock(featureDir, {
        realpath: false,
        stale: staleMs,
        update: Math.max(1_000, Math.floor(staleMs / 6)),
        lockfilePath: `${featureDir}.lock`,
        onCompromised: (err) => opts.log?.error({ err, featureDir }, "the feature's workspace lock was taken over while held"),
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ELOCKED") throw err;
      if (Date.now() - started > waitMs) throw new Error(`another workspace operation of this feature held ${featureDir}.lock for over ${Math.round(waitMs / 1000)}s`);
      if (!waited) opts.log?.info({ featureDir }, "waiting for another workspace operation of this feature to finish");
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_POLL_MS, 50 + (Date.now() - started) / 10)));
    }
  }
  try {
    return await work();
  } finally {
    await release().catch((err: unknown) => opts.log?.warn({ err, featureDir }, "releasing the feature's workspace lock failed; it goes stale"));
  }
}
