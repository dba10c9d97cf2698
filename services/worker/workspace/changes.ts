// The phantom-completion check: did a task that should change files change any? A snapshot of the workspace
// before and after the task — in git, HEAD plus content hashes of the dirty files; elsewhere a bounded stat walk.
import { execFile } from "node:child_process";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../../shared/logging.ts";
import { wireError } from "../../../shared/protocol/errors.ts";
import type { TaskAssigned, WireError } from "../../../shared/protocol/index.ts";
import { globMatcher } from "./glob.ts";

const GIT_TIMEOUT_MS = 30_000;
const MAX_GIT_OUTPUT = 64 * 1024 * 1024;
/** Outside git, a workspace with more entries than this is not snapshotted (the check is skipped). */
export const MAX_WALK_ENTRIES = 20_000;
const SKIP_DIRS = new Set(["node_modules", ".git"]);

/**
 * What a workspace looked like. `git`: HEAD and, per dirty path (modified, deleted, untracked and not ignored),
 * its state (a content hash, "absent", a symlink target…); `committed` lists the paths that differ between
 * the `since` snapshot's HEAD and this one. `files`: per file below the workspace, size and mtime.
 * Paths are relative to the workspace, with `/`.
 */
export type WorkspaceSnapshot =
  | { kind: "git"; dir: string; head: string | null; dirty: ReadonlyMap<string, string>; committed?: { since: string | null; paths: readonly string[] } }
  | { kind: "files"; dir: string; files: ReadonlyMap<string, string> };

/**
 * Snapshots `dir`. Pass the earlier snapshot as `since` to take a comparable one (same method; in git the
 * paths of commits made in between are listed). Read-only: git runs with `--no-optional-locks`, so it never
 * writes the index under an agent's feet. Rejects when the workspace cannot be read, a git command fails or
 * times out, or a non-git workspace has more than MAX_WALK_ENTRIES entries.
 */
export async function snapshotWorkspace(dir: string, options: { since?: WorkspaceSnapshot | undefined } = {}): Promise<WorkspaceSnapshot> {
  const { since } = options;
  if (since?.kind === "files") return walk(dir);
  const prefix = await gitPrefix(dir);
  if (prefix === undefined) {
    if (since?.kind === "git") throw new Error(`${dir} is no longer in a git work tree`);
    return walk(dir);
  }
  const [head, dirty] = await Promise.all([gitHead(dir), gitDirty(dir, prefix)]);
  const snap: WorkspaceSnapshot = { kind: "git", dir, head, dirty };
  const from = since?.kind === "git" ? since.head : head;
  if (from !== head) {
    // A commit made meanwhile (or a checkout): what differs between the two trees changed too.
    const args = from && head ? ["diff", "--name-only", "-z", "--no-renames", "--relative", from, head, "--", "."] : ["ls-tree", "-r", "--name-only", "-z", (from ?? head)!];
    snap.committed = { since: from, paths: nulList((await git(dir, args, { ok: [0] })).stdout) };
  }
  return snap;
}

/** Workspace-relative paths added, removed or changed between two snapshots of one workspace (sorted). Pure. */
export function changedPaths(before: WorkspaceSnapshot, after: WorkspaceSnapshot): string[] {
  const changed = new Set<string>();
  const diff = (earlier: ReadonlyMap<string, string>, later: ReadonlyMap<string, string>) => {
    for (const path of new Set([...earlier.keys(), ...later.keys()])) if (earlier.get(path) !== later.get(path)) changed.add(path);
  };
  if (before.kind === "git" && after.kind === "git") {
    if (before.head !== after.head && after.committed?.since !== before.head) throw new Error("the later snapshot was not taken with `since` the earlier one");
    for (const path of after.head !== before.head ? (after.committed?.paths ?? []) : []) changed.add(path);
    diff(before.dirty, after.dirty); // a path missing from `dirty` is as in its HEAD
  } else if (before.kind === "files" && after.kind === "files") {
    diff(before.files, after.files);
  } else {
    throw new Error("cannot compare a git snapshot with a file walk: take the later one with `since`");
  }
  return [...changed].sort();
}

/** The error of a task that expected changes and made none (`changed`: everything it did change). */
export function noChangesError(files: readonly string[] | undefined, changed: readonly string[]): WireError | undefined {
  if (!files?.length) {
    return changed.length ? undefined : wireError("NoChanges", "no changes in the workspace");
  }
  const matches = globMatcher(files);
  if (changed.some(matches)) return undefined;
  const shown = changed.slice(0, 5).join(", ") + (changed.length > 5 ? ` and ${changed.length - 5} more` : "");
  const message = `no changes (expected changes to ${files.join(", ")}${changed.length ? `; changed only ${shown}` : ""})`;
  return wireError("NoChanges", message, { expected: [...files], changed: changed.slice(0, 100) });
}

export interface ChangeCheck {
  /** After the task completed: its NO_CHANGES error, or undefined (it changed something, or the check could not run). Never rejects. */
  verdict(): Promise<WireError | undefined>;
  /** The workspace paths that changed during the run (undefined when a snapshot could not be taken). Never rejects; computed once. */
  changed(): Promise<string[] | undefined>;
}

/** True when the task must change files: it names `files` globs or says `expectChanges`. */
export const expectsChanges = (task: Pick<TaskAssigned, "files" | "expectChanges">): boolean => task.expectChanges === true || (task.files?.length ?? 0) > 0;

/**
 * Takes the "before" snapshot of the task's workspace `dir`. Fails soft: when a snapshot cannot be taken
 * (before or after), the check is skipped with a warning — a task never fails because the check itself broke.
 * `expect`: whether the verdict may fail the task (else only `changed` is wanted: shared mode's attribution). Never rejects.
 */
export async function startChangeCheck(task: Pick<TaskAssigned, "files" | "expectChanges">, dir: string, log: Logger, expect = true): Promise<ChangeCheck> {
  const skipped = (when: "before" | "after") => (err: unknown) => {
    log.warn({ err, workspace: dir, when }, "change check skipped: it could not run; the task is reported as its executor ended");
    return undefined;
  };
  const before = await snapshotWorkspace(dir).catch(skipped("before"));
  let after: Promise<string[] | undefined> | undefined;
  const changed = () => (after ??= (async () => {
    if (!before) return undefined;
    try {
      const paths = changedPaths(before, await snapshotWorkspace(dir, { since: before }));
      log.debug({ changed: paths.length, method: before.kind }, "change check");
      return paths;
    } catch (err) {
      return skipped("after")(err);
    }
  })());
  return {
    changed,
    async verdict() {
      const paths = await changed();
      return expect && paths ? noChangesError(task.files, paths) : undefined;
    },
  };
}

// ---- git ------------------------------------------------------------------------------------------------

/** Runs git (argv, no shell) in `dir`; resolves with its exit code when it is one of `ok`, rejects otherwise. */
function git(dir: string, args: string[], options: { ok: number[]; input?: string }): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile("git", ["--no-optional-locks", ...args], { cwd: dir, timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_GIT_OUTPUT, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      if (typeof code === "number" && options.ok.includes(code) && !err?.killed) return resolve({ code, stdout });
      reject(new Error(`git ${args[0]} in ${dir} failed: ${err?.killed ? `timed out after ${GIT_TIMEOUT_MS} ms` : (stderr.trim() || err?.message)}`, { cause: err }));
    });
    child.stdin?.on("error", () => {}); // EPIPE when git exits early
    child.stdin?.end(options.input ?? "");
  });
}

const nulList = (text: string): string[] => text.split("\0").filter((path) => path !== "");

/**
 * The workspace's path inside its git work tree ("" at the top, "sub/dir/"), or undefined when git does not
 * cover it: not in a work tree, git missing, or the folder is ignored by an enclosing repository (a default
 * workspace under an ignored `.baton/` would otherwise never show a change).
 */
async function gitPrefix(dir: string): Promise<string | undefined> {
  try {
    const shown = await git(dir, ["rev-parse", "--is-inside-work-tree", "--show-prefix"], { ok: [0] });
    const [inside, prefix = ""] = shown.stdout.split("\n");
    if (inside !== "true") return undefined;
    if (prefix && (await git(dir, ["check-ignore", "-q", "--", "."], { ok: [0, 1] })).code === 0) return undefined;
    return prefix;
  } catch {
    return undefined;
  }
}

async function gitHead(dir: string): Promise<string | null> {
  const verified = await git(dir, ["rev-parse", "-q", "--verify", "HEAD^{commit}"], { ok: [0, 1] }); // 1: no commit yet
  return verified.code === 0 ? verified.stdout.trim() : null;
}

/** State of every dirty path under the workspace: a content hash (one hash-object for all), "absent", or its file type. */
async function gitDirty(dir: string, prefix: string): Promise<Map<string, string>> {
  const status = nulList((await git(dir, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", "."], { ok: [0] })).stdout);
  const paths = new Set<string>();
  const add = (path: string | undefined) => {
    if (path?.startsWith(prefix) && path.length > prefix.length) paths.add(path.slice(prefix.length).replace(/\/$/, ""));
  };
  for (let index = 0; index < status.length; index++) {
    const entry = status[index]!;
    const xy = entry.slice(0, 2);
    add(entry.slice(3)); // porcelain paths are relative to the repository's top
    if (/[RC]/.test(xy)) add(status[++index]); // -z: a rename's or copy's source follows
  }
  const dirty = new Map<string, string>();
  const toHash: string[] = [];
  await Promise.all(
    [...paths].map(async (path) => {
      const st = await lstat(join(dir, path)).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" || err.code === "ENOTDIR" ? undefined : Promise.reject(err)));
      if (!st) dirty.set(path, "absent");
      else if (st.isSymbolicLink()) dirty.set(path, `link:${await readlink(join(dir, path))}`);
      else if (st.isFile() && !/[\n\r]/.test(path)) toHash.push(path);
      else dirty.set(path, `${st.isDirectory() ? "dir" : "other"}:${st.size}:${st.mtimeMs}`);
    }),
  );
  if (toHash.length) {
    // Absolute paths: git reads --stdin-paths relative to the top of the work tree, not to its cwd.
    const hashes = (await git(dir, ["hash-object", "--no-filters", "--stdin-paths"], { ok: [0], input: toHash.map((path) => `${join(dir, path)}\n`).join("") })).stdout.split("\n");
    toHash.forEach((path, index) => dirty.set(path, `blob:${hashes[index]}`));
  }
  return dirty;
}

// ---- outside git --------------------------------------------------------------------------------------

/** Size and mtime of every file below `dir` (breadth first, skipping node_modules and .git), bounded. */
async function walk(dir: string): Promise<WorkspaceSnapshot> {
  const files = new Map<string, string>();
  let seen = 0;
  const queue = [""];
  for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
    // The top must be readable; a folder below that vanished or is unreadable is left out.
    const entries = await readdir(join(dir, rel), { withFileTypes: true }).catch((err: unknown) => (rel === "" ? Promise.reject(err) : []));
    seen += entries.length;
    if (seen > MAX_WALK_ENTRIES) throw new Error(`${dir} is not in git and has more than ${MAX_WALK_ENTRIES} entries`);
    await Promise.all(
      entries.map(async (entry) => {
        const path = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (!SKIP_DIRS.has(entry.name)) queue.push(path);
          return;
        }
        const st = await lstat(join(dir, path)).catch(() => undefined);
        if (st) files.set(path, `${st.size}:${st.mtimeMs}`);
      }),
    );
  }
  return { kind: "files", dir, files };
}
