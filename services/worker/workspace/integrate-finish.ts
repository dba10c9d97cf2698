// The end of a git feature (remove its worktrees and task branches, fast-forward the branch it integrates into)
// and rollback (move the integration branch back to a checkpoint, refusing when that would destroy foreign work).
import { rm } from "node:fs/promises";
import { milestoneTag, taskBranch, type OpResult, type WorkspaceOp } from "../../../shared/protocol/workspace.ts";
import { branchHead, gitMerge, isAncestor, listWorktrees, nulList, runGit, statusPaths, withLockRetry, workspacePath } from "./git.ts";
import type { OpContext } from "./integrate.ts";
import { isWithin } from "./resolve.ts";
import { removeWorktree } from "./worktrees.ts";

type FinishOp = Extract<WorkspaceOp, { kind: "finish" }>;
type RollbackOp = Extract<WorkspaceOp, { kind: "rollback" }>;

const CHECKPOINT_TRAILER = /^Baton-Task: /m;

/**
 * Ends the feature in git: removes every worktree under `<root>/<featureId>/` (their uncommitted changes go with
 * them) and deletes the task branches except `keep`. The integration branch stays unless `removeBranch` says
 * to delete it (a failed or cancelled feature whose request did not ask to keep its branches). When it completed and `integrateInto` is set,
 * that branch is created at the integration head, or fast-forwarded to it (in the work tree that has it checked
 * out, where git refuses to overwrite local changes); a branch with commits the feature lacks is refused. Idempotent.
 */
export async function finishFeature(context: OpContext, op: FinishOp): Promise<OpResult> {
  const { paths } = context;
  let removed = 0;
  for (const entry of await listWorktrees(paths.repo)) {
    if (isWithin(entry.path, paths.feature) && (await removeWorktree(paths.repo, entry.path))) removed++;
  }
  await rm(paths.feature, { recursive: true, force: true });
  await runGit(paths.repo, ["worktree", "prune"]);
  const keep = new Set((op.keep ?? []).map((branch) => `refs/heads/${branch}`));
  const prefix = `refs/heads/${taskBranch(context.featureId, "")}`;
  const refs = nulList((await runGit(paths.repo, ["for-each-ref", "--format=%(refname)%00", "refs/heads/"])).stdout).map((ref) => ref.trim());
  await deleteRefs(paths.repo, refs.filter((ref) => ref.startsWith(prefix) && ref !== `refs/heads/${op.branch}` && !keep.has(ref)));
  const head = await branchHead(paths.repo, op.branch);
  if (head === undefined) return { kind: "finished", removed };
  if (op.removeBranch) {
    // `head` stays in the result (and in git's objects for a while): a person can still recover the branch from it.
    await runGit(paths.repo, ["update-ref", "-d", `refs/heads/${op.branch}`, head]);
    return { kind: "finished", head, removed };
  }
  if (op.outcome !== "completed" || op.integrateInto === undefined) return { kind: "finished", head, removed };
  return { kind: "finished", head, removed, ...(await fastForward(paths.repo, op.integrateInto, op.branch, head)) };
}

/** Deletes `refs` (full names), whatever work tree has them checked out. */
async function deleteRefs(repo: string, refs: string[]): Promise<void> {
  if (refs.length) await withLockRetry(() => runGit(repo, ["update-ref", "--stdin"], { input: refs.map((ref) => `delete ${ref}\n`).join("") }));
}

/** Moves `into` to `head` when that is a fast-forward: `integrated` when it is (or already was) there, else `refused` with why. */
async function fastForward(repo: string, into: string, branch: string, head: string): Promise<Pick<Extract<OpResult, { kind: "finished" }>, "integrated" | "refused">> {
  const ref = `refs/heads/${into}`;
  const old = await branchHead(repo, into);
  if (old === undefined) {
    await runGit(repo, ["update-ref", "-m", `baton: ${branch}`, ref, head, ""]);
    return { integrated: { into, from: null, to: head } };
  }
  if (old === head) return { integrated: { into, from: old, to: head } };
  if (!(await isAncestor(repo, old, head))) return { refused: `${into} has commits the feature does not; merge ${branch} yourself` };
  const checkedOut = (await listWorktrees(repo)).find((entry) => entry.branch === ref);
  if (checkedOut) {
    const merged = await gitMerge(checkedOut.path, ["--ff-only", "--no-verify", branch], { ok: [0, 1, 2, 128] });
    if (merged.code !== 0) return { refused: `git merge --ff-only ${branch} in ${checkedOut.path} refused: ${(merged.stderr || merged.stdout).trim()}` };
  } else {
    await runGit(repo, ["update-ref", "-m", `baton: fast-forward to ${branch}`, ref, head, old]);
  }
  return { integrated: { into, from: old, to: head } };
}

/**
 * Moves the integration branch back to checkpoint `to` (hard reset in the integration worktree), deletes the feature's
 * milestone tags no longer on the branch and removes the worktrees and branches of `op.tasks`. Refuses, changing
 * nothing, when commits after `to` lack a `Baton-Task` trailer (someone else committed on the branch) or tracked
 * files in the integration worktree have uncommitted changes (untracked files survive a reset and do not count).
 * Idempotent: a branch already at `to` is rolled back (the tasks' worktrees and branches are still removed).
 */
export async function rollbackFeature(context: OpContext, op: RollbackOp): Promise<OpResult> {
  const { paths } = context;
  const head = await branchHead(paths.repo, op.branch);
  if (head === undefined) throw new Error(`the integration branch ${op.branch} does not exist`);
  const tree = (await runGit(paths.repo, ["rev-parse", "--verify", `${op.to}^{tree}`])).stdout.trim();
  if (head !== op.to) {
    if (head !== op.expectedHead) return { kind: "moved", head };
    const refusal = await rollbackRefusal(context, op, head);
    if (refusal) return refusal;
    const worktree = (await listWorktrees(paths.repo)).find((entry) => entry.path === paths.integration && entry.branch === `refs/heads/${op.branch}`);
    if (worktree) await withLockRetry(() => runGit(worktree.path, ["reset", "-q", "--hard", op.to]));
    else await runGit(paths.repo, ["update-ref", "-m", `baton: rollback to ${op.to}`, `refs/heads/${op.branch}`, op.to, head]);
  }
  await deleteLaterTags(context, op.to);
  let removed = 0;
  for (const taskId of op.tasks) if (await removeWorktree(paths.repo, paths.task(taskId))) removed++;
  const branches = op.tasks.map((taskId) => `refs/heads/${taskBranch(context.featureId, taskId)}`);
  const existing = new Set(nulList((await runGit(paths.repo, ["for-each-ref", "--format=%(refname)%00", ...branches])).stdout).map((ref) => ref.trim()));
  await deleteRefs(paths.repo, branches.filter((ref) => existing.has(ref)));
  return { kind: "rolled-back", head: op.to, tree, removed };
}

/** Why the rollback must not happen (foreign commits after `to`, or changed tracked files), or undefined. */
async function rollbackRefusal(context: OpContext, op: RollbackOp, head: string): Promise<OpResult | undefined> {
  const { paths } = context;
  if (!(await isAncestor(paths.repo, op.to, head))) {
    return { kind: "refused", reason: `${op.to} is not on ${op.branch}: nothing was changed`, files: [] };
  }
  const logged = await runGit(paths.repo, ["log", "--first-parent", "--format=%H%x1f%B%x1e", `${op.to}..${head}`]);
  const foreign = logged.stdout.split("\x1e").map((record) => record.trim().split("\x1f")).filter(([sha, body = ""]) => sha && !CHECKPOINT_TRAILER.test(body)).map(([sha]) => sha!);
  if (foreign.length) {
    const files = new Set<string>();
    for (const sha of foreign) {
      // Every commit after `to` has a parent; a foreign merge counts with what it brought onto the branch.
      const touched = await runGit(paths.repo, ["diff", "--name-only", "-z", "--no-renames", `${sha}^1`, sha]);
      for (const path of nulList(touched.stdout)) files.add(workspacePath(paths.prefix, path));
    }
    const reason = `${op.branch} has ${foreign.length} commit(s) after the checkpoint that did not come from the feature (${foreign.map((sha) => sha.slice(0, 12)).join(", ")}): nothing was changed`;
    return { kind: "refused", reason, files: [...files].sort().slice(0, 1000) };
  }
  const present = (await listWorktrees(paths.repo)).some((entry) => entry.path === paths.integration);
  const changed = present ? await statusPaths(paths.integration, { untracked: false }) : [];
  if (changed.length) {
    const reason = `the integration worktree ${paths.integration} has uncommitted changes to tracked files: nothing was changed`;
    return { kind: "refused", reason, files: changed.map((path) => workspacePath(paths.prefix, path)).sort().slice(0, 1000) };
  }
  return undefined;
}

/** Deletes the feature's milestone tags whose commit is not `to` or one of its ancestors (no longer on the branch). */
async function deleteLaterTags(context: OpContext, to: string): Promise<void> {
  const prefix = `refs/tags/${milestoneTag(context.featureId, "")}`;
  const listed = await runGit(context.paths.repo, ["for-each-ref", "--format=%(refname)%1f%(objectname)%1f%(*objectname)%00", "refs/tags/"]);
  const stale: string[] = [];
  for (const record of nulList(listed.stdout)) {
    const [ref = "", object = "", peeled = ""] = record.trim().split("\x1f");
    if (ref.startsWith(prefix) && !(await isAncestor(context.paths.repo, peeled || object, to))) stale.push(ref);
  }
  await deleteRefs(context.paths.repo, stale);
}
