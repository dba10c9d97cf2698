// Git worktrees for a git feature: one per task attempt on the task's branch, and the feature's integration
// worktree on its integration branch; where they live, how a run's checkout is (re)made, and committing its work.
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, rm, symlink } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from "node:path";
import { wireError } from "../../../shared/protocol/errors.ts";
import type { WireError } from "../../../shared/protocol/index.ts";
import { taskBranch, type Checkout, type GitChanges } from "../../../shared/protocol/workspace.ts";
import { changesBetween, leftoverMarkers, rangeHasMerge } from "./git-changes.ts";
import { addExclude, branchHead, commitOf, gitCommit, gitMerge, gitWireError, GitCommandError, listWorktrees, gitWorkspacePrefix, merging, runGit, withLockRetry } from "./git.ts";
import { defaultWorktreesRoot, isWithin, realPathOf, workspaceFor, type WorkspaceOptions } from "./resolve.ts";

/** The worker's `worktrees` settings (shared/config.ts): where worktrees are made, and what is linked into them. */
export interface WorktreeSettings {
  /** Root of the worktrees: absolute, or relative to the top of the workspace's repository; default: see worktreePaths. */
  dir?: string | undefined;
  /** Untracked folders of the workspace (e.g. node_modules) linked into each worktree that lacks them. */
  link: readonly string[];
}

/** Where a feature's worktrees are, for a workspace (all paths real and absolute). */
export interface WorktreePaths {
  /** The workspace (the folder the request named). */
  repo: string;
  /** The top of the workspace's work tree. */
  top: string;
  /** The workspace's path inside its repository: "" at the top, else "sub/dir/". A run's cwd is `<worktree>/<prefix>`. */
  prefix: string;
  root: string;
  /** `<root>/<featureId>`: everything Baton makes for the feature. */
  feature: string;
  integration: string;
  task(taskId: string): string;
}

/**
 * Where the worktrees of feature `featureId` live for the workspace `repoReal` (a real path in a git work tree):
 * `<root>/<featureId>/integration` and `<root>/<featureId>/tasks/<taskId>`, the root being by default
 * `<defaultWorktreesRoot()>/<repository name>-<hash of its git common dir>` — outside every work tree (resolve.ts
 * says why). A root inside the work tree (`worktrees.dir` relative to it) is added to `info/exclude`. Rejects when
 * `repoReal` is not in a work tree.
 */
export async function worktreePaths(repoReal: string, featureId: string, settings: { dir?: string | undefined } = {}): Promise<WorktreePaths> {
  const shown = await runGit(repoReal, ["rev-parse", "--show-toplevel", "--git-common-dir", "--show-prefix"]);
  const [top = "", commonDir = "", prefix = ""] = shown.stdout.split("\n");
  const common = await realPathOf(resolve(repoReal, commonDir));
  const own = `${basename(top) || "repo"}-${createHash("sha256").update(common).digest("hex").slice(0, 12)}`;
  const root = await realPathOf(settings.dir === undefined ? join(defaultWorktreesRoot(), own) : resolve(top, settings.dir));
  if (isWithin(root, top) && !isWithin(root, resolve(repoReal, commonDir))) await addExclude(repoReal, `/${root.slice(top.length + 1).split(sep).join("/")}/`);
  const feature = join(root, featureId);
  return { repo: repoReal, top, prefix, root, feature, integration: join(feature, "integration"), task: (taskId) => join(feature, "tasks", taskId) };
}

/** Where a run happens in `worktree`: the workspace's subfolder in it (`prefix`), or its top. */
export const runDir = (worktree: string, prefix: string): string => (prefix ? join(worktree, prefix.replace(/\/+$/, "")) : worktree);

/** A run's folder: `dir` (its cwd: the worktree, or the workspace's subfolder in it) and the `worktree` itself. */
export type CheckoutResult = { dir: string; worktree: string } | { error: WireError };

/**
 * Makes the checkout a task message asks for and returns where the run happens. `task`: the worktree of the task
 * whose branch `branch` is (a fix task works in its owner's) — remade at `at` when `fresh`, else reused when it is on `branch` at `at` (remade there otherwise, so any
 * worker can rebuild a task's tree from its branch); `merge`: then merges `from` without committing, leaving any
 * conflicts (MERGE_HEAD and markers) for the agent. `integration`: the feature's integration worktree, made when
 * missing and never reset or cleaned (shared-mode tasks keep uncommitted work there). Untracked folders named in
 * `link` are linked in. Safe to call again after a crash; calls for different tasks of one repository may run at
 * once. Never rejects.
 */
export async function ensureCheckout(
  task: { featureId: string; taskId: string; checkout: Checkout },
  options: WorkspaceOptions & { worktrees: WorktreeSettings },
): Promise<CheckoutResult> {
  const { checkout } = task;
  const located = await workspaceFor({ workspace: checkout.repo, featureId: task.featureId }, options);
  if ("error" in located) return located;
  try {
    if ((await gitWorkspacePrefix(located.dir)) === undefined) return { error: wireError("NotGit", `${checkout.repo} is not in a git work tree`) };
    const paths = await worktreePaths(located.dir, task.featureId, options.worktrees);
    const worktree = checkout.kind === "integration"
      ? await ensureIntegrationWorktree(paths, checkout.branch, options.worktrees.link)
      : await ensureTaskWorktree(paths, branchTask(task.featureId, checkout.branch) ?? task.taskId, checkout, options.worktrees.link);
    if (checkout.merge) await startMerge(worktree, checkout.merge.from);
    return { dir: runDir(worktree, paths.prefix), worktree };
  } catch (err) {
    return { error: gitWireError(err, `cannot check out ${checkout.branch} for task ${task.taskId}`) };
  }
}

/**
 * The task whose worktree holds `branch` (`baton/<featureId>.tasks/<taskId>` → taskId): a fix task (a gate's or a
 * conflict's) works in its owner's worktree, since git checks a branch out in one worktree only.
 */
function branchTask(featureId: string, branch: string): string | undefined {
  const prefix = taskBranch(featureId, "");
  const taskId = branch.startsWith(prefix) ? branch.slice(prefix.length) : "";
  return /^[A-Za-z0-9_-]+$/.test(taskId) ? taskId : undefined;
}

async function ensureTaskWorktree(paths: WorktreePaths, taskId: string, checkout: Checkout, link: readonly string[]): Promise<string> {
  const path = paths.task(taskId);
  const target = checkout.at ?? (await branchHead(paths.repo, checkout.branch));
  if (target === undefined) throw new Error(`branch ${checkout.branch} does not exist and the checkout names no commit (at)`);
  if (checkout.fresh || !(await isCheckedOutAt(paths, path, checkout.branch, target))) {
    await withLockRetry(async () => {
      await removeWorktree(paths.repo, path);
      await runGit(paths.repo, ["worktree", "add", "-q", "-B", checkout.branch, path, target]);
    });
  }
  await linkUntracked(paths, path, link);
  return path;
}

/** True when `path` is a worktree of this repository with `branch` checked out at `commit`. */
async function isCheckedOutAt(paths: WorktreePaths, path: string, branch: string, commit: string): Promise<boolean> {
  const entry = (await listWorktrees(paths.repo)).find((listed) => listed.path === path);
  if (entry?.branch !== `refs/heads/${branch}` || entry.head !== commit) return false;
  return lstat(path).then(() => true, () => false);
}

/**
 * The feature's integration worktree with `branch` checked out, made when missing; an existing one is kept as it is
 * (never reset or cleaned). Rejects when the folder holds something else, or the worktree is on another branch.
 */
export async function ensureIntegrationWorktree(paths: WorktreePaths, branch: string, link: readonly string[]): Promise<string> {
  const path = paths.integration;
  const entry = (await listWorktrees(paths.repo)).find((listed) => listed.path === path);
  const present = await lstat(path).then(() => true, () => false);
  if (entry && present) {
    if (entry.branch !== `refs/heads/${branch}`) throw new Error(`the integration worktree ${path} is on ${entry.branch ?? "a detached HEAD"}, not ${branch}`);
  } else {
    // Leftovers of a crash: a folder git forgot (holding at most its .git file), or git's record of a missing folder.
    if (present && (await readdir(path)).some((name) => name !== ".git")) throw new Error(`${path} exists but is not a worktree of ${paths.repo}; move it away`);
    if (present) await rm(path, { recursive: true, force: true });
    if (entry) await runGit(paths.repo, ["worktree", "prune"]);
    try {
      await withLockRetry(() => runGit(paths.repo, ["worktree", "add", "-q", path, branch]));
    } catch (err) {
      const made = (await listWorktrees(paths.repo)).find((listed) => listed.path === path); // by a concurrent call?
      if (made?.branch !== `refs/heads/${branch}`) throw err;
    }
  }
  await linkUntracked(paths, path, link);
  return path;
}

/**
 * Removes the worktree at `path` (forced: its changes go with it) or, when git does not know it, the folder, and
 * prunes git's records of missing worktrees. Symlinks inside are removed, never followed. True when something
 * was there. Idempotent.
 */
export async function removeWorktree(repo: string, path: string): Promise<boolean> {
  const registered = (await listWorktrees(repo)).some((listed) => listed.path === path);
  const present = await lstat(path).then(() => true, () => false);
  if (registered) {
    const removed = await runGit(repo, ["worktree", "remove", "--force", "--force", path], { ok: [0, 128] });
    if (removed.code === 0) return true;
  }
  if (present) await rm(path, { recursive: true, force: true });
  if (registered || present) await runGit(repo, ["worktree", "prune"]);
  return registered || present;
}

/**
 * Links each name in `link` that exists untracked in the workspace (at its repository's top, and beside the
 * workspace when it is a subfolder) and is absent in the worktree: worktree/name → workspace/name, so gates run
 * without a reinstall. Each link is added to `info/exclude` (as `/name`, which also matches a symlink, unlike a
 * `.gitignore` line `name/`), so it is never committed.
 */
async function linkUntracked(paths: WorktreePaths, worktree: string, link: readonly string[]): Promise<void> {
  const names = link.filter((name) => !isAbsolute(name) && !normalize(name).split(sep).includes(".."));
  const candidates = new Set(names.flatMap((name) => [name, ...(paths.prefix ? [`${paths.prefix}${name}`] : [])]).map((rel) => rel.replace(/\/+$/, "")));
  for (const rel of candidates) {
    const source = join(paths.top, rel);
    const target = join(worktree, rel);
    if (!(await lstat(source).then(() => true, () => false)) || (await lstat(target).then(() => true, () => false))) continue;
    const tracked = await runGit(paths.top, ["ls-files", "-z", "--", rel], { env: { GIT_LITERAL_PATHSPECS: "1" } });
    if (tracked.stdout !== "") continue;
    await addExclude(worktree, `/${rel}`);
    await mkdir(dirname(target), { recursive: true });
    await symlink(source, target).catch((err: NodeJS.ErrnoException) => (err.code === "EEXIST" ? undefined : Promise.reject(err)));
  }
}

/** Merges `from` into the worktree without committing; a merge of `from` already in progress is left as it is. */
async function startMerge(worktree: string, from: string): Promise<void> {
  const inProgress = (await runGit(worktree, ["rev-parse", "-q", "--verify", "MERGE_HEAD"], { ok: [0, 1] })).stdout.trim();
  if (inProgress === from) return;
  if (inProgress) await runGit(worktree, ["merge", "--abort"]);
  const merged = await gitMerge(worktree, ["--no-ff", "--no-commit", "--no-verify", from], { ok: [0, 1] });
  if (merged.code === 1 && !(await merging(worktree))) {
    throw new GitCommandError(`git merge ${from} in ${worktree} failed: ${merged.stderr.trim() || merged.stdout.trim()}`, 1, merged.stderr);
  }
}

/**
 * After a task's run in its worktree (`dir`): stages everything (`git add -A`) and commits with `message` when
 * anything is staged or a merge is in progress (a fix round that only resolved a merge makes the merge commit).
 * Commits the agent made itself count too: the changes are `base..HEAD`. When a merge is part of the range and
 * the result still holds conflict markers, returns CONFLICT_MARKERS naming the files (the commit stays on the
 * branch). Safe to call again: a second call finds nothing to commit and reports the same changes. Never rejects.
 */
export async function commitWork(dir: string, work: { base: string; message: string }): Promise<{ changes: GitChanges } | { error: WireError }> {
  try {
    await withLockRetry(() => runGit(dir, ["add", "-A"]));
    const wasMerging = await merging(dir);
    const staged = (await runGit(dir, ["diff", "--cached", "--quiet"], { ok: [0, 1] })).code === 1;
    if (staged || wasMerging) await withLockRetry(() => gitCommit(dir, ["-q", "-m", work.message]));
    const head = await commitOf(dir, "HEAD");
    if (head === undefined) throw new Error(`${dir} has no commit`);
    if (wasMerging || (await rangeHasMerge(dir, work.base, head))) {
      const files = await leftoverMarkers(dir, work.base, head);
      if (files.length) return { error: wireError("ConflictMarkers", `conflict markers left in ${files.join(", ")}`, { files, commit: head }) };
    }
    return { changes: await changesBetween(dir, work.base, head) };
  } catch (err) {
    return { error: gitWireError(err, `cannot commit the work in ${dir}`) };
  }
}
