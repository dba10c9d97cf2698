// Integrating one task into the feature's integration branch, in its integration worktree: a `--no-ff` merge of the
// task's branch (worktree mode) or a commit of the task's files (shared mode); conflicts and bad artifacts change nothing.
import { randomUUID } from "node:crypto";
import { lstat, rm } from "node:fs/promises";
import { join, posix, resolve } from "node:path";
import type { OpResult, WorkspaceOp } from "../../../shared/protocol/workspace.ts";
import { changesBetween } from "./git-changes.ts";
import { branchHead, commitOf, gitBlob, gitCommit, gitMerge, GitCommandError, identityArgs, merging, nulList, runGit, withLockRetry, workspacePath } from "./git.ts";
import type { ArtifactReader, OpAnswer, OpContext } from "./integrate.ts";
import { ensureIntegrationWorktree, removeWorktree, runDir } from "./worktrees.ts";

type IntegrateOp = Extract<WorkspaceOp, { kind: "integrate" }>;

const MAX_CONFLICT_FILES = 200;
const MAX_SIDE_CHARS = 20_000;
const LITERAL = { GIT_LITERAL_PATHSPECS: "1" };

/**
 * Integrates task `op.taskId` into `op.branch`. Idempotent: a commit after `expectedHead` on the branch's
 * first-parent history with trailers `Baton-Task: <featureId>/<taskId>` and `Baton-Attempt: <attempt>` is the task's
 * checkpoint (`already`), tagged again when asked. Else the branch must be at `expectedHead` (`moved` otherwise).
 * A conflict, or a declared artifact missing or invalid on the result, leaves the branch and the worktree as they were.
 */
export async function integrateTask(context: OpContext, op: IntegrateOp): Promise<OpAnswer> {
  const { paths } = context;
  const worktree = await ensureIntegrationWorktree(paths, op.branch, context.options.worktrees.link);
  const head = await branchHead(paths.repo, op.branch);
  if (head === undefined) throw new Error(`the integration branch ${op.branch} does not exist (prepare makes it)`);
  const message = withTrailers(op.message, context.featureId, op);
  const done = await findCheckpoint(worktree, head, op.expectedHead, trailerLines(context.featureId, op));
  if (done !== undefined) return { result: await checkpoint(context, worktree, op, done, true) };
  if (head !== op.expectedHead) return { result: { kind: "moved", head } };
  if (await merging(worktree)) await runGit(worktree, ["merge", "--abort"]); // a merge a crashed attempt left
  if (op.taskHead !== undefined) return mergeTask(context, worktree, op, op.taskHead, message);
  return commitShared(context, worktree, op, message);
}

/** The trailer lines that mark a task attempt's checkpoint. */
const trailerLines = (featureId: string, op: IntegrateOp): string[] => [`Baton-Task: ${featureId}/${op.taskId}`, `Baton-Attempt: ${op.attempt}`];

/** `message` with the task's trailers appended when it lacks them (idempotency and rollback rely on them). */
function withTrailers(message: string, featureId: string, op: IntegrateOp): string {
  const lines = message.split("\n").map((line) => line.trim());
  const missing = trailerLines(featureId, op).filter((trailer) => !lines.includes(trailer));
  return missing.length ? `${message.trimEnd()}\n\n${missing.join("\n")}\n` : message;
}

/** The first-parent commit after `expectedHead` (up to `head`) whose message holds all `trailers`, if any. */
async function findCheckpoint(cwd: string, head: string, expectedHead: string, trailers: string[]): Promise<string | undefined> {
  if (head === expectedHead) return undefined;
  const known = (await commitOf(cwd, expectedHead)) !== undefined;
  const logged = await runGit(cwd, ["log", "--first-parent", "-n", "10000", "--format=%H%x1f%B%x1e", head, ...(known ? [`^${expectedHead}`] : [])]);
  for (const record of logged.stdout.split("\x1e")) {
    const [sha, body = ""] = record.trim().split("\x1f");
    const lines = body.split("\n").map((line) => line.trim());
    if (sha && trailers.every((trailer) => lines.includes(trailer))) return sha;
  }
  return undefined;
}

/** The `integrated` result for checkpoint `commit` (tagging it when asked). */
async function checkpoint(context: OpContext, worktree: string, op: IntegrateOp, commit: string, already: boolean): Promise<OpResult> {
  if (op.tag !== undefined) await withLockRetry(() => runGit(worktree, ["tag", "-f", op.tag!, commit]));
  // The task is done: its worktree goes now (its branch stays until the finish), so a feature holds the worktrees of the
  // tasks under way only, and the finish has no burst of deletions. Best effort: the finish removes what is left.
  if (op.taskBranch !== undefined) await removeWorktree(context.paths.repo, context.paths.task(op.taskId)).catch(() => false);
  const parent = (await commitOf(worktree, `${commit}^1`)) ?? commit; // the branch's head before the checkpoint
  const changes = await changesBetween(runDir(worktree, context.paths.prefix), parent, commit);
  return { kind: "integrated", commit, changes, ...(op.tag !== undefined ? { tag: op.tag } : {}), ...(already ? { already: true } : {}) };
}

/** Worktree mode: `git merge --no-ff --no-commit <taskHead>`, then the artifacts, then the merge commit. */
async function mergeTask(context: OpContext, worktree: string, op: IntegrateOp, taskHead: string, message: string): Promise<OpAnswer> {
  const merged = await gitMerge(worktree, ["--no-ff", "--no-commit", "--no-verify", taskHead], { ok: [0, 1] });
  if (merged.code === 1) {
    const unmerged = nulList((await runGit(worktree, ["diff", "--name-only", "-z", "--diff-filter=U"])).stdout);
    if (unmerged.length === 0) {
      if (await merging(worktree)) await runGit(worktree, ["merge", "--abort"]);
      throw new GitCommandError(`git merge ${taskHead} in ${worktree} failed: ${merged.stderr.trim() || merged.stdout.trim()}`, 1, merged.stderr);
    }
    const files = await describeConflict(worktree, context.paths.prefix, op.expectedHead, taskHead, unmerged);
    await runGit(worktree, ["merge", "--abort"]);
    return { result: { kind: "conflict", ours: op.expectedHead, theirs: taskHead, files } };
  }
  const problems = await checkArtifacts(context, op, (path) => gitBlob(worktree, indexSpec(context.paths.prefix, path)));
  if (problems) {
    if (await merging(worktree)) await runGit(worktree, ["merge", "--abort"]);
    return { result: problems };
  }
  // --allow-empty: a task whose branch adds nothing (already merged) still gets its checkpoint commit.
  await withLockRetry(() => gitCommit(worktree, ["-q", "--allow-empty", "-m", message]));
  const commit = await commitOf(worktree, "HEAD");
  return { result: await checkpoint(context, worktree, op, commit!, false) };
}

/** Per conflicting file (at most 200), what each side changed since the merge base (diff excerpts, cut at 20,000 characters). */
async function describeConflict(worktree: string, prefix: string, ours: string, theirs: string, unmerged: string[]) {
  const base = (await runGit(worktree, ["merge-base", ours, theirs])).stdout.trim();
  const side = async (commit: string, path: string) => {
    const diff = (await runGit(worktree, ["diff", "--no-ext-diff", base, commit, "--", path], { env: LITERAL })).stdout;
    return diff.length > MAX_SIDE_CHARS ? `${diff.slice(0, MAX_SIDE_CHARS - 20)}\n… (diff cut)` : diff;
  };
  return Promise.all(unmerged.slice(0, MAX_CONFLICT_FILES).map(async (path) => ({ path: workspacePath(prefix, path), ours: await side(ours, path), theirs: await side(theirs, path) })));
}

/** `:<path>` in the index for a workspace-relative path. */
const indexSpec = (prefix: string, path: string): string => `:${posix.normalize(posix.join(prefix, path))}`;

/** The `artifacts` result when a declared artifact is missing or invalid on the result being integrated, else undefined. */
async function checkArtifacts(context: OpContext, op: IntegrateOp, read: ArtifactReader): Promise<OpResult | undefined> {
  if (!op.produces?.length) return undefined;
  const validate = context.options.validateArtifacts;
  const problems = validate
    ? await validate(op.produces, read)
    : (await Promise.all(op.produces.map(async (path) => ((await read(path)) === undefined ? [{ path, messages: ["missing on the integration branch"] }] : [])))).flat();
  return problems.length ? { kind: "artifacts", problems } : undefined;
}

/**
 * Shared mode: commits exactly `op.files` as they are in the integration worktree (deletions included; ignored
 * files left out) on top of the branch. Staged in a private index, so whatever else is staged or changed in the
 * worktree is never part of the checkpoint, and an invalid artifact leaves nothing to undo. No change at all still
 * makes an (empty) checkpoint commit. The branch moves by compare-and-swap from `expectedHead`.
 */
async function commitShared(context: OpContext, worktree: string, op: IntegrateOp, message: string): Promise<OpAnswer> {
  const dir = runDir(worktree, context.paths.prefix);
  const gitDir = resolve(worktree, (await runGit(worktree, ["rev-parse", "--git-dir"])).stdout.trim());
  const index = join(gitDir, `baton-index-${process.pid}-${randomUUID()}`);
  const env = { ...LITERAL, GIT_INDEX_FILE: index };
  try {
    await runGit(worktree, ["read-tree", op.expectedHead], { env });
    const files = await stageable(dir, context.paths.prefix, op.files ?? [], env);
    if (files.length) await runGit(dir, ["add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul"], { env, input: files.join("\0") });
    const problems = await checkArtifacts(context, op, (path) => gitBlob(worktree, indexSpec(context.paths.prefix, path), env));
    if (problems) return { result: problems };
    const tree = (await runGit(worktree, ["write-tree"], { env })).stdout.trim();
    const identity = await identityArgs(worktree);
    const commit = (await runGit(worktree, [...identity, "commit-tree", tree, "-p", op.expectedHead, "-F", "-"], { input: message })).stdout.trim();
    const moved = await withLockRetry(() => runGit(worktree, ["update-ref", "-m", `baton: integrate ${op.taskId}`, `refs/heads/${op.branch}`, commit, op.expectedHead], { ok: [0, 128] }));
    if (moved.code !== 0) return { result: { kind: "moved", head: (await branchHead(worktree, op.branch)) ?? op.expectedHead } };
    // The worktree's HEAD moved with its branch: its real index takes the committed files from the new HEAD.
    if (files.length) await runGit(dir, ["reset", "-q", "--pathspec-from-file=-", "--pathspec-file-nul"], { env: LITERAL, input: files.join("\0") });
    return { result: await checkpoint(context, worktree, op, commit, false) };
  } finally {
    await rm(index, { force: true });
    await rm(`${index}.lock`, { force: true });
  }
}

/** The paths of `files` (workspace-relative) that git can stage: present in the worktree or tracked, and not ignored. */
async function stageable(dir: string, prefix: string, files: readonly string[], env: Record<string, string>): Promise<string[]> {
  const present = await Promise.all(files.map((path) => lstat(join(dir, path)).then(() => true, () => false)));
  const absent = files.filter((_, index) => !present[index]);
  const tracked = new Set(absent.length ? nulList((await runGit(dir, ["ls-files", "-z", "--full-name", "--", ...absent], { env })).stdout) : []);
  const known = files.filter((path, index) => present[index] || tracked.has(posix.normalize(posix.join(prefix, path))));
  if (!known.length) return [];
  const checkEnv = { GIT_INDEX_FILE: env.GIT_INDEX_FILE! }; // check-ignore takes paths, and refuses literal pathspecs
  const ignored = new Set(nulList((await runGit(dir, ["check-ignore", "-z", "--stdin"], { env: checkEnv, input: known.join("\0"), ok: [0, 1] })).stdout));
  return known.filter((path) => !ignored.has(path));
}
