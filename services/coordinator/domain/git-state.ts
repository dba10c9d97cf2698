// What a git feature keeps (docs/workspaces.md): its integration branch, operations, merge queue and checkpoints, and
// what each task changed. Plain JSON in the feature's context; workspace.ts, integration.ts and rollback.ts keep it.
import type { FileChange, Isolation, WorkspaceOpKind } from "../../../shared/protocol/index.ts";

/** What a task changed, as git saw it. `paths` in shared mode are the files attributed to it (its commit's). */
export interface TaskChanges {
  files: FileChange[];
  more?: number | undefined;
  insertions: number;
  deletions: number;
}

/**
 * Files of a task's changes kept in the feature's state, events and handoffs (the rest are counted in `more`): the
 * snapshot is checkpointed whole. Shared mode keeps every path until the task is integrated (they are what it commits).
 */
export const KEPT_FILES = 100;

/** A task integrated into the integration branch: its commit there (a merge commit naming feature, task and role). */
export interface Checkpoint {
  taskId: string;
  role: string;
  commit: string;
  /** The first KEPT_FILES files its commit changed; `more`: how many others. */
  files: string[];
  more?: number | undefined;
  insertions: number;
  deletions: number;
  tag?: string | undefined;
  at: string;
}

/**
 * A git feature's workspace (its request named a `workspace`): the integration branch, where it started and
 * stands, the one workspace operation under way (operations run one at a time, in order), the merge queue and
 * the checkpoints. workspace.ts and integration.ts keep it.
 */
export interface FeatureGit {
  repo: string;
  branch: string;
  isolation: Isolation;
  locks?: "resolve" | "strict" | undefined;
  scope?: "report" | "strict" | undefined;
  integrateInto?: string | undefined;
  keepBranches?: boolean | undefined;
  leaseSeconds: number;
  /** The workspace's HEAD when the feature started, and the integration branch's head as last known. */
  base?: string | undefined;
  head?: string | undefined;
  prepared?: boolean | undefined;
  /** Operations sent so far (each gets the next number as its run). */
  runs: number;
  /** The operation awaited; its result is the only one that counts. */
  pending?: { kind: WorkspaceOpKind; run: number; taskId?: string | undefined; at?: string | undefined } | undefined;
  /** Tasks whose work passed, waiting to be merged, in the order they passed (dependencies are always ahead). */
  queue: string[];
  checkpoints: Checkpoint[];
  /** The finish operation's outcome, once the feature ended and it ran. */
  finished?: { into?: string | undefined; fastForwarded: boolean; refused?: string | undefined } | undefined;
  /** A rollback asked for and not carried out yet. */
  rollback?: RollbackPlan | undefined;
  /** The feature ended (complete, fail, cancel): the finish operation goes out once no other is under way. */
  ending?: "completed" | "failed" | "cancelled" | undefined;
  /** Why the workspace cannot be used (not a git repository…): the feature is rejected with it. */
  rejected?: string | undefined;
}

/** What a rollback does once its operation succeeds (rollback.ts). */
export interface RollbackPlan {
  to: string;
  toTask?: string | undefined;
  cancel: boolean;
  /** `policy`: the failure policy `then: rollback` (the feature stays failed). */
  by?: string | undefined;
  reason?: string | undefined;
  policy?: boolean | undefined;
}
