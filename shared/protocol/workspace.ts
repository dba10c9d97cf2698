// Workspaces (issue 12): git worktrees per task, the feature's integration branch, file-scope locks, workspace
// operations (prepare, integrate, finish, rollback) that integrator workers carry out for the coordinator, and what
// git says a task changed. The coordinator never touches files: it sends these as task messages and reads results.
import * as z from "zod";
import { Id, Role } from "./common.ts";

/** The role whose workers carry out workspace operations (`baton worker --role integrator`; `baton up` starts one). */
export const INTEGRATOR_ROLE = "integrator";
/** Task id that feature-level workspace operations (prepare, finish, rollback) carry on the wire. */
export const FEATURE_OPS_TASK_ID = "feature-ops";

/** `worktree`: each task attempt in its own git worktree; `shared`: the feature's one worktree, file-scope locks between tasks. */
export const Isolation = z.enum(["shared", "worktree"]);
export type Isolation = z.infer<typeof Isolation>;

/** A full git object name (sha-1 or sha-256, lower-case hex). */
export const Sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "must be a full git commit id (40 or 64 hex digits)");

/**
 * A git branch name as `git check-ref-format --branch` accepts it, kept to a safe subset: letters, digits and
 * `._/-`, no `..`, no `//`, no leading or trailing `/` or `.`, no `.lock` ending, at most 200 characters.
 */
export const BranchName = z.string().min(1).max(200)
  .regex(/^[A-Za-z0-9._/-]+$/, "may hold only letters, digits and . _ / -")
  .refine((name) => !/(^[/.-])|([/.]$)|\.\.|\/\/|\.lock$|\/\./.test(name), "is not a valid git branch name");

/**
 * The feature's integration branch (`baton/<featureId>`) and a task's branch (`baton/<featureId>.tasks/<taskId>`).
 * Not `baton/<featureId>/<taskId>`: git keeps refs as paths, so a branch `baton/f` and a branch `baton/f/t` cannot both
 * exist; ids never hold a `.`, so `<featureId>.tasks` can be no feature's branch.
 */
export const integrationBranch = (featureId: string): string => `baton/${featureId}`;
export const taskBranch = (featureId: string, taskId: string): string => `baton/${featureId}.tasks/${taskId}`;
/** A milestone's tag on the integration branch. */
export const milestoneTag = (featureId: string, milestone: string): string => `baton/${featureId}/${milestone}`;

/**
 * Where a run happens in a git feature (on a task message; the worker derives the folder, never the message):
 * `task`: the task's own worktree on `branch` (worktree mode); `integration`: the feature's integration worktree
 * (shared-mode tasks, feature gates, baselines).
 */
export const Checkout = z.object({
  /** The feature's workspace as the request named it (a git work tree; the worktrees hang off its repository). */
  repo: z.string().min(1),
  kind: z.enum(["task", "integration"]),
  branch: BranchName,
  /**
   * The commit the tree must hold. `fresh`: the worktree and its branch are (re)made at `at` (a task attempt, from the
   * integration branch's head at dispatch). Otherwise the worktree is reused when its HEAD is `at`, else remade there
   * (gate runs and fix rounds of a task: `at` is its branch's head). Not used for `integration` in shared mode.
   */
  at: Sha.optional(),
  fresh: z.boolean().optional(),
  /** A conflict fix: merge `from` (the integration head) into the branch first, leaving the conflicts for the agent. */
  merge: z.object({ from: Sha }).optional(),
  /** After the work (worktree mode): commit everything the run changed on `branch` with this message. */
  commit: z.object({ message: z.string().min(1).max(10_000) }).optional(),
});
export type Checkout = z.infer<typeof Checkout>;

/** A file-scope lock the worker holds in KV (`<prefix>-locks`) while it runs the task: a lease renewed while it runs. */
export const LockSpec = z.object({
  /** The lock space: the folder the task runs in, as the coordinator names it (workspace + feature). */
  space: z.string().min(1).max(300),
  /** Globs the task may change; null: the whole space (a task with no `files` runs alone). */
  scope: z.array(z.string().min(1).max(500)).max(100).nullable(),
  /** The lease: a holder that has not renewed it for this long has lost it (a dead worker's lock expires). */
  leaseSeconds: z.int().min(2).max(3600),
});
export type LockSpec = z.infer<typeof LockSpec>;

/** One file a commit range changed, from `git diff --numstat` (binary files have no line counts). */
export const FileChange = z.object({
  path: z.string().min(1).max(4096),
  status: z.enum(["added", "modified", "deleted", "renamed", "other"]),
  insertions: z.int().min(0).optional(),
  deletions: z.int().min(0).optional(),
});
export type FileChange = z.infer<typeof FileChange>;

/** What git says a task changed: `base..head`, its files (at most MAX_CHANGED_FILES) and totals (a diffstat). */
export const GitChanges = z.object({
  base: Sha,
  head: Sha,
  files: z.array(FileChange).max(1000),
  /** Files beyond the list's limit. */
  more: z.int().min(0).optional(),
  insertions: z.int().min(0),
  deletions: z.int().min(0),
});
export type GitChanges = z.infer<typeof GitChanges>;
export const MAX_CHANGED_FILES = 1000;

/** One artifact a task declared (`produces`) that is missing or invalid, with the validator's messages. */
export const ArtifactProblem = z.object({ path: z.string(), messages: z.array(z.string().max(2000)).min(1).max(50) });
export type ArtifactProblem = z.infer<typeof ArtifactProblem>;

/**
 * A workspace operation, sent as a task message to the integrator role (`op`). Each is idempotent: redoing it
 * after a crash finds its work done (a merge commit carries `Baton-Task` trailers; refs move with compare-and-swap).
 */
export const WorkspaceOp = z.discriminatedUnion("kind", [
  /** Before any task: check the workspace is a git repository, make `branch` at HEAD (kept if it exists), and the integration worktree. */
  z.object({ kind: z.literal("prepare"), run: z.int().min(1), repo: z.string().min(1), branch: BranchName }),
  /**
   * Integrate one task into `branch` (whose head must be `expectedHead`): worktree mode merges `taskHead` (a merge
   * commit, `--no-ff`); shared mode commits `files` from the integration worktree. Then checks `produces` on the result
   * and, when `tag` is set, tags it. A conflict or an invalid artifact leaves `branch` untouched.
   */
  z.object({
    kind: z.literal("integrate"), run: z.int().min(1), repo: z.string().min(1), branch: BranchName,
    taskId: Id, role: Role, title: z.string(), attempt: z.int().min(1),
    expectedHead: Sha,
    taskBranch: BranchName.optional(),
    taskHead: Sha.optional(),
    files: z.array(z.string().min(1).max(4096)).max(10_000).optional(),
    message: z.string().min(1).max(10_000),
    produces: z.array(z.string().min(1).max(500)).max(50).optional(),
    tag: z.string().min(1).max(200).optional(),
  }),
  /**
   * The feature ended: remove its worktrees and task branches (the integration branch stays unless `removeBranch`),
   * and fast-forward `integrateInto` to the integration branch when it completed and can.
   */
  z.object({
    kind: z.literal("finish"), run: z.int().min(1), repo: z.string().min(1), branch: BranchName,
    outcome: z.enum(["completed", "failed", "cancelled"]),
    integrateInto: BranchName.optional(),
    /** Task branches to keep (the request's `keepBranches`), e.g. for a person to look at a failed task's work. */
    keep: z.array(BranchName).max(1000).optional(),
    /** Delete the integration branch too (a failed or cancelled feature whose request did not ask to keep its branches). */
    removeBranch: z.boolean().optional(),
  }),
  /**
   * Move `branch` back to `to` (a checkpoint; its head must be `expectedHead`), remove the worktrees and branches
   * of `tasks`, and refuse — changing nothing — when the integration worktree has changes no running task made.
   */
  z.object({
    kind: z.literal("rollback"), run: z.int().min(1), repo: z.string().min(1), branch: BranchName,
    to: Sha, expectedHead: Sha,
    tasks: z.array(Id).max(1000),
  }),
]);
export type WorkspaceOp = z.infer<typeof WorkspaceOp>;
export type WorkspaceOpKind = WorkspaceOp["kind"];

/** Echoed on every worker message about an operation (like `gate`). */
export const OpRef = z.object({ kind: z.enum(["prepare", "integrate", "finish", "rollback"]), run: z.int().min(1) });
export type OpRef = z.infer<typeof OpRef>;

/** What an operation found (on its task_result, with outcome "completed" unless the operation could not run). */
export const OpResult = z.discriminatedUnion("kind", [
  /** `head`: the integration branch's head (= `base`, the workspace's HEAD, when it was made now); `dirty`: the workspace's uncommitted files, left out. */
  z.object({ kind: z.literal("prepared"), base: Sha, head: Sha, dirty: z.array(z.string()).max(1000), worktree: z.string().optional() }),
  /** Not a git repository (or no commit yet): the feature is rejected with `message`. */
  z.object({ kind: z.literal("not-git"), message: z.string() }),
  /** The checkpoint: `commit` is the new head of the integration branch (`already`: a redone operation found it there). */
  z.object({ kind: z.literal("integrated"), commit: Sha, changes: GitChanges, tag: z.string().optional(), already: z.boolean().optional() }),
  /** The merge conflicts: per file, what each side changed since their merge base (diff excerpts). */
  z.object({
    kind: z.literal("conflict"), ours: Sha, theirs: Sha,
    files: z.array(z.object({ path: z.string(), ours: z.string().max(20_000), theirs: z.string().max(20_000) })).min(1).max(200),
  }),
  /** `produces` missing or invalid on the merged result: nothing was integrated. */
  z.object({ kind: z.literal("artifacts"), problems: z.array(ArtifactProblem).min(1) }),
  /** The integration branch moved since the coordinator last saw it (`head`): the coordinator re-reads and retries. */
  z.object({ kind: z.literal("moved"), head: Sha }),
  z.object({
    kind: z.literal("finished"), head: Sha.optional(), removed: z.int().min(0),
    /** `integrateInto` fast-forwarded (`from` → `to`), or why not. */
    integrated: z.object({ into: z.string(), from: Sha.nullable(), to: Sha }).optional(),
    refused: z.string().optional(),
  }),
  z.object({ kind: z.literal("rolled-back"), head: Sha, tree: Sha, removed: z.int().min(0) }),
  /** Rollback refused: files with changes that did not come from the feature (nothing was changed). */
  z.object({ kind: z.literal("refused"), reason: z.string(), files: z.array(z.string()).max(1000) }),
]);
export type OpResult = z.infer<typeof OpResult>;

/** What a completed task hands its dependents beyond its summary and handoff document: facts from git and the gates. */
export const HandoffFacts = z.object({
  /** Files its integrated work changed and the diffstat, from git (not from the agent's word). */
  changes: z.object({ files: z.array(z.string()).max(MAX_CHANGED_FILES), more: z.int().min(0).optional(), insertions: z.int().min(0), deletions: z.int().min(0) }).optional(),
  /** Its checkpoint commit on the integration branch. */
  commit: Sha.optional(),
  /** Artifacts it produced (checked before its dependents started). */
  artifacts: z.array(z.string()).optional(),
  /** Gates it passed, with the tests they ran. */
  gates: z.array(z.object({ name: z.string(), tests: z.int().min(0).optional() })).optional(),
  /** What the agent said comes next, and the constraints it found (its result file's `nextSteps`, `constraints`). */
  nextSteps: z.array(z.string().max(2000)).max(50).optional(),
  constraints: z.array(z.string().max(2000)).max(50).optional(),
});
export type HandoffFacts = z.infer<typeof HandoffFacts>;
