// A git feature's workspace, as the coordinator sees it (it never touches files): the integration branch's state,
// where each run happens (a task's worktree or the feature's integration worktree), the file-scope lock a run
// holds, and the workspace operations (prepare, finish) sent to integrator workers one at a time. Pure.
import {
  coordinatorMsgId, FEATURE_OPS_TASK_ID, INTEGRATOR_ROLE, integrationBranch, taskBranch,
  type Checkout, type FeatureRequest, type LockSpec, type TaskResult, type WorkspaceOp,
} from "../../../shared/protocol/index.ts";
import type { FeatureContext, FeatureDefaults, FeatureGit, TaskState } from "./context.ts";
import { emitInto } from "./status-events.ts";

/** A lock lease when the coordinator's config sets none. */
export const DEFAULT_LEASE_SECONDS = 30;

/** The git state of a feature whose request names a workspace; undefined for a feature without one (scratch folders). */
export function gitFromRequest(featureId: string, req: FeatureRequest, defaults: FeatureDefaults | undefined): FeatureGit | undefined {
  if (!req.workspace) return undefined;
  return {
    repo: req.workspace, branch: integrationBranch(featureId),
    isolation: req.isolation ?? ((req.maxParallel ?? 1) > 1 ? "worktree" : "shared"),
    ...(req.locks ? { locks: req.locks } : {}),
    ...(req.scope ? { scope: req.scope } : {}),
    ...(req.integrateInto ? { integrateInto: req.integrateInto } : {}),
    ...(req.keepBranches ? { keepBranches: true } : {}),
    leaseSeconds: defaults?.lockLeaseSeconds ?? DEFAULT_LEASE_SECONDS,
    runs: 0, queue: [], checkpoints: [],
  };
}

/** Whether tasks must wait for the workspace to be prepared (its integration branch and worktree). */
export const workspacePending = (ctx: FeatureContext): boolean => !!ctx.git && !ctx.git.prepared;

/** The task's isolation in a git feature (its own, else the feature's); undefined outside git. */
export const isolationOf = (ctx: FeatureContext, task: TaskState): FeatureGit["isolation"] | undefined =>
  ctx.git ? (task.isolation ?? ctx.git.isolation) : undefined;

/** The task whose branch a fix task works on (a task gate's fix or a conflict fix); undefined for any other task. */
export function branchOwner(ctx: FeatureContext, task: TaskState): TaskState | undefined {
  const ownerId = task.conflictFor ?? task.fixFor?.taskId;
  return ownerId ? ctx.tasks[ownerId] : undefined;
}

/** Whether a completed task's work must be integrated before it counts (git features; fix tasks ride on their owner's branch; stream gates and the planner have no work). */
export const integrates = (ctx: FeatureContext, task: TaskState): boolean => !!ctx.git && !branchOwner(ctx, task) && !task.streamGate && !task.planner;

/** The commit message of a task's work on its own branch (the checkpoint's message is integration.ts's). */
const workMessage = (ctx: FeatureContext, task: TaskState): string =>
  `baton(${ctx.featureId}): ${task.id} (${task.role}) — ${task.title}\n\nBaton-Feature: ${ctx.featureId}\nBaton-Task: ${ctx.featureId}/${task.id}\nBaton-Attempt: ${task.attempt}`;

/**
 * Where a task's work (or a fix task's) runs, and what the worker does around it. Worktree mode: a fresh worktree of
 * its branch at the integration head (a fix: its owner's branch at its head; a conflict fix merges the integration
 * head in first), committed after the work. Shared mode: the integration worktree. `draft.git` must be set.
 */
export function workCheckout(draft: FeatureContext, task: TaskState): { checkout: Checkout; reportChanges?: boolean } {
  const git = draft.git!;
  const owner = branchOwner(draft, task);
  const subject = owner ?? task;
  if (isolationOf(draft, subject) === "shared") {
    return { checkout: { repo: git.repo, kind: "integration", branch: git.branch }, reportChanges: true };
  }
  const commit = { message: workMessage(draft, task) };
  if (!owner) return { checkout: { repo: git.repo, kind: "task", branch: taskBranch(draft.featureId, task.id), at: git.head, fresh: true, commit } };
  return {
    checkout: {
      repo: git.repo, kind: "task", branch: taskBranch(draft.featureId, owner.id), at: owner.head, commit,
      ...(task.conflictFor ? { merge: { from: git.head! } } : {}),
    },
  };
}

/** Where a gate run happens: the task's worktree at its branch's head, or (shared mode, feature gates, baselines) the integration worktree. */
export function gateCheckout(ctx: FeatureContext, taskId: string | undefined): Checkout | undefined {
  const git = ctx.git;
  if (!git) return undefined;
  const task = taskId ? ctx.tasks[taskId] : undefined;
  if (task && isolationOf(ctx, task) === "worktree" && task.head) {
    return { repo: git.repo, kind: "task", branch: taskBranch(ctx.featureId, task.id), at: task.head };
  }
  return { repo: git.repo, kind: "integration", branch: git.branch };
}

/** The file-scope lock a task's run must hold: in shared mode always (no `files`: the whole workspace), in worktree mode only with `locks: strict`. */
export function lockFor(ctx: FeatureContext, task: TaskState): LockSpec | undefined {
  const owner = branchOwner(ctx, task) ?? task;
  if (!locksApply(ctx, owner)) return undefined;
  const space = ctx.git ? `${ctx.git.repo}#${ctx.featureId}` : `scratch#${ctx.featureId}`;
  return { space, scope: owner.files?.length ? [...owner.files] : null, leaseSeconds: ctx.git?.leaseSeconds ?? DEFAULT_LEASE_SECONDS };
}

/**
 * Whether file-scope locks keep `task` apart from others: in a git feature, shared mode or `locks: strict`; without a
 * workspace (scratch folders, no code to protect) only tasks that declare `files` are kept apart by their scopes.
 */
export function locksApply(ctx: FeatureContext, task: TaskState): boolean {
  if (!ctx.git) return !!task.files?.length;
  return isolationOf(ctx, task) === "shared" || ctx.git.locks === "strict";
}

/**
 * Puts a workspace operation in the outbox for the integrator role and records it as the one awaited. `taskId`: the
 * task it concerns (integrate), else the feature's (FEATURE_OPS_TASK_ID). Returns the run number.
 */
export function sendOp(draft: FeatureContext, op: DistributiveOmit<WorkspaceOp, "run">, at: string, task?: TaskState): number {
  const git = draft.git!;
  const run = git.runs + 1;
  const taskId = task?.id ?? FEATURE_OPS_TASK_ID;
  draft.git = { ...git, runs: run, pending: { kind: op.kind, run, at, ...(task ? { taskId: task.id } : {}) } };
  draft.outbox.push({
    msgId: coordinatorMsgId.op(draft.featureId, op.kind, taskId, run),
    to: "task",
    role: INTEGRATOR_ROLE,
    payload: {
      type: "baton.v1.task_assigned",
      featureId: draft.featureId, taskId, attempt: task?.attempt || 1, role: INTEGRATOR_ROLE,
      title: `${op.kind} ${task ? `task ${task.id}` : "the feature's workspace"}`,
      dependsOn: [], workspace: git.repo,
      feature: { title: draft.title, description: draft.description },
      handoffs: [], dispatchedAt: at, op: { ...op, run } as WorkspaceOp,
    },
  });
  return run;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** At acceptance: a git feature's first operation prepares its workspace (tasks wait for it). */
export function startWorkspace(ctx: FeatureContext, at: string): FeatureContext {
  if (!ctx.git || ctx.git.pending || ctx.git.prepared) return ctx;
  const draft = { ...ctx, outbox: [...ctx.outbox] };
  sendOp(draft, { kind: "prepare", repo: ctx.git.repo, branch: ctx.git.branch }, at);
  return draft;
}

/** Whether `msg` is the result of the operation the feature waits for. */
export function isAwaitedOp(ctx: FeatureContext, msg: TaskResult): boolean {
  const pending = ctx.git?.pending;
  return !!msg.op && !!pending && pending.kind === msg.op.kind && pending.run === msg.op.run;
}

/** The feature ended: once no operation is under way, its worktrees and task branches go (finish) and `integrateInto` is fast-forwarded if it completed. */
export function markEnding(ctx: FeatureContext, outcome: "completed" | "failed" | "cancelled"): FeatureContext {
  if (!ctx.git?.prepared || ctx.git.ending) return ctx;
  return { ...ctx, git: { ...ctx.git, ending: outcome } };
}

/** Sends the finish operation (the caller checked that none is under way). */
export function sendFinish(draft: FeatureContext, at: string): void {
  const git = draft.git!;
  const outcome = git.ending!;
  sendOp(draft, {
    kind: "finish", repo: git.repo, branch: git.branch, outcome,
    ...(outcome === "completed" && git.integrateInto ? { integrateInto: git.integrateInto } : {}),
    ...(git.keepBranches ? { keep: draft.order.map((id) => taskBranch(draft.featureId, id)) } : {}),
    // nothing is left after a failure or a cancel but what the request asked to keep
    ...(outcome !== "completed" && !git.keepBranches ? { removeBranch: true } : {}),
  }, at);
}

/** The finish operation's result: feature.integrated (the branch, and whether `integrateInto` was fast-forwarded). */
export function onFinished(draft: FeatureContext, msg: TaskResult, at: string): void {
  const git = draft.git!;
  const found = msg.opResult?.kind === "finished" ? msg.opResult : undefined;
  const refused = found?.refused ?? (found ? undefined : `the finish operation failed: ${msg.error?.message ?? "no result"}`);
  const into = git.integrateInto;
  draft.git = { ...git, pending: undefined, head: found?.head ?? git.head, finished: { into, fastForwarded: !!found?.integrated, ...(refused ? { refused } : {}) } };
  emitInto(draft, {
    kind: "feature.integrated", branch: git.branch, head: found?.head ?? git.head, into,
    fastForwarded: !!found?.integrated, refused, removed: found?.removed ?? 0,
  }, at);
}
