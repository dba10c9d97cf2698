// Config homes for agent CLIs: one folder per concurrent run (`<cwd>/.baton/agent-homes/<agent>/<n>`), claimed
// exclusively through a lock file holding the owner's pid, kept across runs and restarts (the CLI's sessions live there).
import { randomBytes } from "node:crypto";
import { link, mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";

/** A claimed home; `release` gives it back (idempotent). */
export interface HomeLease {
  dir: string;
  release(): Promise<void>;
}

const LOCK = "baton.lock";

/** Homes this process holds right now (a lock with our own pid that is not in here is left from an earlier process). */
const held = new Set<string>();

/** The folder holding one agent's homes. */
export const homesRoot = (cwd: string, agent: string): string => join(cwd, ".baton", "agent-homes", agent);

/**
 * Claims the lowest-numbered free home of `agent` (creating it when needed), or exactly `prefer` when given and free
 * (undefined when it is not). Two claims, in this process or in two processes sharing `cwd`, never get the same home
 * while both hold it. A lock whose pid is dead (or is ours but not held, left by an earlier process with our pid) is
 * reclaimed. Never writes anything but the folder and its lock file.
 */
export async function claimHome(cwd: string, agent: string, prefer?: string): Promise<HomeLease | undefined> {
  const root = homesRoot(cwd, agent);
  await mkdir(root, { recursive: true });
  if (prefer !== undefined) return tryClaim(prefer);
  for (let index = 0; index < 10_000; index++) {
    const lease = await tryClaim(join(root, String(index)));
    if (lease) return lease;
  }
  throw new Error(`no free agent home under ${root}`);
}

/** The existing homes of `agent` (claimed or not), lowest number first. Never rejects. */
export async function listHomes(cwd: string, agent: string): Promise<string[]> {
  const root = homesRoot(cwd, agent);
  const names = await readdir(root).catch(() => [] as string[]);
  return names.filter((name) => /^\d+$/.test(name)).sort((left, right) => Number(left) - Number(right)).map((name) => join(root, name));
}

async function tryClaim(dir: string): Promise<HomeLease | undefined> {
  if (held.has(dir)) return undefined;
  held.add(dir); // reserve it in this process before the first await
  try {
    await mkdir(dir, { recursive: true });
    const lock = join(dir, LOCK);
    for (let tries = 0; tries < 3; tries++) {
      if (await createLock(lock)) return lease(dir, lock);
      const owner = await readFile(lock, "utf8").catch(() => undefined);
      if (owner === undefined) continue; // it went away meanwhile
      if (isAlive(Number(owner.trim()))) break;
      await reclaim(lock, owner);
    }
  } catch {
    // an unreadable or unwritable home is not ours to use
  }
  held.delete(dir);
  return undefined;
}

function lease(dir: string, lock: string): HomeLease {
  let released: Promise<void> | undefined;
  return {
    dir,
    release: () =>
      (released ??= (async () => {
        await unlink(lock).catch(() => {});
        held.delete(dir);
      })()),
  };
}

async function createLock(lock: string): Promise<boolean> {
  try {
    const handle = await open(lock, "wx");
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/**
 * Removes a stale lock whose content was `owner`. It is first moved aside (only one contender can move it), then
 * checked: if it turned out to be a fresh lock someone else took meanwhile, it is put back.
 */
async function reclaim(lock: string, owner: string): Promise<void> {
  const aside = `${lock}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await rename(lock, aside);
  } catch {
    return;
  }
  const moved = await readFile(aside, "utf8").catch(() => owner);
  if (moved !== owner) await link(aside, lock).catch(() => {});
  await unlink(aside).catch(() => {});
}

/** True when `pid` is a live process other than an unheld claim of our own (a lock left by an earlier process with our pid). */
function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false; // every claim of this process is in `held`, checked before
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
