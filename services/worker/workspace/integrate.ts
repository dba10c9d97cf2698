// Workspace operations an integrator worker carries out for the coordinator (prepare, integrate, finish, rollback):
// each confined to the worker's workspace roots, idempotent, and answered as an OpResult (or a wire error).
import type { Logger } from "../../../shared/logging.ts";
import { wireError } from "../../../shared/protocol/errors.ts";
import type { WireError } from "../../../shared/protocol/index.ts";
import type { ArtifactProblem, OpResult, WorkspaceOp } from "../../../shared/protocol/workspace.ts";
import { addExclude, branchHead, commitOf, gitWireError, gitWorkspacePrefix, runGit, statusPaths, withLockRetry, workspacePath } from "./git.ts";
import { finishFeature, rollbackFeature } from "./integrate-finish.ts";
import { withFeatureLock } from "./feature-lock.ts";
import { integrateTask } from "./integrate-merge.ts";
import { workspaceFor, type WorkspaceOptions } from "./resolve.ts";
import { ensureIntegrationWorktree, worktreePaths, type WorktreePaths, type WorktreeSettings } from "./worktrees.ts";

/** Reads a file of the result being integrated (the index after the merge or staging); undefined when it is absent. */
export type ArtifactReader = (path: string) => Promise<Buffer | undefined>;
/** Checks the artifacts a task declares it produces (workspace-relative paths); one problem per bad file. */
export type ArtifactValidator = (paths: string[], read: ArtifactReader) => Promise<ArtifactProblem[]>;

export interface WorkspaceOpOptions extends WorkspaceOptions {
  worktrees: WorktreeSettings;
  /** Validates `produces`; without it, a declared artifact is only checked to exist. */
  validateArtifacts?: ArtifactValidator | undefined;
  /** Where waits for the feature's workspace lock are told. */
  log?: Logger | undefined;
}

/** What every operation works with: the feature, the workspace's real path and its worktree paths. */
export interface OpContext {
  featureId: string;
  paths: WorktreePaths;
  options: WorkspaceOpOptions;
}

export type OpAnswer = { result: OpResult } | { error: WireError };

/**
 * Carries out one workspace operation on the workspace `op.repo` names (confined to the worker's workspace roots).
 * Every operation is idempotent: the same op run again (a redelivery after a crash) gives the same result and changes
 * nothing more. Outcomes the coordinator decides on (not a repository, conflict, moved, refused…) are results; a git
 * command that failed is a GIT error, a workspace that is not a git work tree a NOT_GIT error. Never rejects.
 */
export async function runWorkspaceOp(featureId: string, op: WorkspaceOp, options: WorkspaceOpOptions): Promise<OpAnswer> {
  const located = await workspaceFor({ workspace: op.repo, featureId }, options);
  if ("error" in located) return located;
  try {
    const prefix = await gitWorkspacePrefix(located.dir);
    if (prefix === undefined || (await commitOf(located.dir, "HEAD")) === undefined) {
      const message = notGitMessage(op.repo, prefix !== undefined);
      return op.kind === "prepare" ? { result: { kind: "not-git", message } } : { error: wireError("NotGit", message) };
    }
    const context: OpContext = { featureId, paths: await worktreePaths(located.dir, featureId, options.worktrees), options };
    // One operation at a time per feature: a redelivery waits for the delivery still running (then finds its result).
    return await withFeatureLock(context.paths.feature, () => carryOut(context, op), { log: options.log });
  } catch (err) {
    return { error: gitWireError(err, `${op.kind} of feature ${featureId} in ${op.repo}`) };
  }
}

async function carryOut(context: OpContext, op: WorkspaceOp): Promise<OpAnswer> {
  switch (op.kind) {
    case "prepare":
      return { result: await prepare(context, op.branch) };
    case "integrate":
      return await integrateTask(context, op);
    case "finish":
      return { result: await finishFeature(context, op) };
    case "rollback":
      return { result: await rollbackFeature(context, op) };
  }
}

/** The sentence a feature is rejected with when its workspace is not a git repository with a commit. */
function notGitMessage(repo: string, isRepository: boolean): string {
  const fix = "Baton integrates each task as a commit; run `git init && git add -A && git commit -m init` there, or submit with `baton submit --init-git`";
  return isRepository ? `${repo} is a git repository without a commit yet: ${fix}` : `${repo} is not a git repository: ${fix}`;
}

const MAX_DIRTY = 1000;

/**
 * Makes the integration branch at the workspace's HEAD (an existing one is kept as it is), git-ignores `.baton/` in
 * the workspace through `info/exclude`, lists the workspace's uncommitted files (they are left out of the feature)
 * and makes the integration worktree. Idempotent.
 */
async function prepare(context: OpContext, branch: string): Promise<OpResult> {
  const { paths } = context;
  const base = await commitOf(paths.repo, "HEAD");
  if (base === undefined) throw new Error(`${paths.repo} has no commit`);
  await addExclude(paths.repo, `/${paths.prefix}.baton/`);
  const dirty = (await statusPaths(paths.repo, { untracked: true })).map((path) => workspacePath(paths.prefix, path));
  let head = await branchHead(paths.repo, branch);
  if (head === undefined) {
    // Create only if absent (an empty old value): a concurrent prepare that made it first wins, and both read it back.
    await withLockRetry(() => runGit(paths.repo, ["update-ref", "-m", "baton: prepare", `refs/heads/${branch}`, base, ""], { ok: [0, 128] }));
    head = await branchHead(paths.repo, branch);
    if (head === undefined) throw new Error(`cannot create branch ${branch} in ${paths.repo}`);
  }
  const worktree = await ensureIntegrationWorktree(paths, branch, context.options.worktrees.link);
  return { kind: "prepared", base, head, dirty: dirty.slice(0, MAX_DIRTY), worktree };
}
