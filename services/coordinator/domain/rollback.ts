// Rollback (issue 12 item 5): back to a checkpoint — the integration branch is restored by an integrator (which
// refuses, changing nothing, when changes that did not come from the feature would be lost), and the tasks after it
// are pending again (the feature pauses) or cancelled. The failure policy `then: rollback` does the same for a
// failed feature (its tasks after the checkpoint are cancelled). Pure.
import { wireError, type RollbackRequest, type TaskResult } from "../../../shared/protocol/index.ts";
import { editable, type FeatureContext, type RollbackPlan, type TaskState } from "./context.ts";
import { scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { emitInto, emitRejection } from "./status-events.ts";
import { moveTask, UNDER_WAY } from "./task-lifecycle.ts";
import { branchOwner, sendOp } from "./workspace.ts";

/** How the reason of a pause after a rollback begins (the machine follows such a pause, like a budget's). */
export const ROLLBACK_PAUSE = "rollback:";

export interface RollbackEvent extends RollbackRequest {
  type: "feature.rollback";
  reason?: string | undefined;
  by?: string | undefined;
  at: string;
  subject?: string | undefined;
}

/** The checkpoint `to` names: "base" or nothing (the feature's start), a task with a checkpoint, or a checkpoint commit (≥ 7 hex digits). */
export function rollbackTarget(ctx: FeatureContext, to: string | undefined): { commit: string; toTask?: string } | { error: string } {
  const git = ctx.git!;
  if (to === undefined || to === "base") return { commit: git.base! };
  const byTask = git.checkpoints.find((point) => point.taskId === to);
  if (byTask) return { commit: byTask.commit, toTask: byTask.taskId };
  if (ctx.tasks[to]) return { error: `task "${to}" has no checkpoint (it was not integrated)` };
  if (/^[0-9a-f]{7,64}$/.test(to)) {
    if (git.base!.startsWith(to)) return { commit: git.base! };
    const byCommit = git.checkpoints.filter((point) => point.commit.startsWith(to));
    if (byCommit.length === 1) return { commit: byCommit[0]!.commit, toTask: byCommit[0]!.taskId };
  }
  const known = ["base", ...git.checkpoints.map((point) => `${point.taskId} (${point.commit.slice(0, 10)})`)].join(", ");
  return { error: `"${to}" is not a checkpoint of this feature; its checkpoints: ${known}` };
}

/** `baton rollback` (control verb): refused when the feature has no workspace, something is under way, or the target is unknown. */
export function requestRollback(ctx: FeatureContext, event: RollbackEvent): FeatureContext {
  const refuse = (name: "InvalidState" | "RollbackRefused", message: string) => {
    const subject = event.subject ?? `control.${ctx.featureId}.rollback`;
    const error = wireError(name, message);
    return emitRejection(ctx, subject, error, event.at);
  };
  const git = ctx.git;
  if (!git?.prepared) return refuse("InvalidState", `feature "${ctx.featureId}" has no git workspace to roll back`);
  if (git.pending || git.rollback) return refuse("InvalidState", `a workspace operation (${git.pending?.kind ?? "rollback"}) is under way; try again when it is done`);
  const busy = ctx.order.filter((id) => underWay(ctx, ctx.tasks[id]!));
  if (busy.length) return refuse("InvalidState", `tasks under way: ${busy.join(", ")}; pause the feature (\`baton pause\`), wait until they are done, then roll back`);
  const target = rollbackTarget(ctx, event.to);
  if ("error" in target) return refuse("RollbackRefused", target.error);
  const draft = editable(ctx);
  draft.git = { ...git, rollback: { to: target.commit, toTask: target.toTask, cancel: !!event.cancel, by: event.by, reason: event.reason } };
  sendRollback(draft, event.at);
  return draft;
}

/**
 * A resume while a rollback operation is under way: refused (InvalidState), since the rollback's result resets the
 * undone tasks — a task the resume dispatched meanwhile would be reset while it runs. Resume after feature.rolled_back.
 */
export function refuseResumeWhileRollingBack(ctx: FeatureContext, event: { at: string; subject?: string | undefined }): FeatureContext {
  const subject = event.subject ?? `control.${ctx.featureId}.resume`;
  const to = ctx.git?.rollback?.toTask ? `task ${ctx.git.rollback.toTask}'s checkpoint` : "the feature's start";
  const error = wireError("InvalidState", `feature "${ctx.featureId}" is rolling back to ${to}; resume once feature.rolled_back is published (\`baton watch\` shows it)`);
  return emitRejection(ctx, subject, error, event.at);
}

/** Whether a task is under way: its work, gates or integration run, or its fix task does (a fix task a pause holds back does not). */
function underWay(ctx: FeatureContext, task: TaskState): boolean {
  if (!UNDER_WAY.has(task.status)) return false;
  if (task.status !== "fixing") return true;
  const fixes = ctx.order.map((id) => ctx.tasks[id]!).filter((fix) => fix.conflictFor === task.id || fix.fixFor?.taskId === task.id);
  return fixes.some((fix) => UNDER_WAY.has(fix.status));
}

/** A task failed for good under `then: rollback`: plan the rollback (sent once no operation is under way; the feature fails). */
export function planPolicyRollback(draft: FeatureContext, task: TaskState): void {
  const git = draft.git;
  if (!git?.prepared || git.rollback) return;
  const target = rollbackTarget(draft, task.policy?.rollbackTo);
  const commit = "error" in target ? git.base! : target.commit;
  const toTask = "error" in target ? undefined : target.toTask;
  draft.git = { ...git, rollback: { to: commit, toTask, cancel: true, policy: true, reason: `task "${task.id}" failed (policy then: rollback)` } };
}

/** The tasks a rollback to `plan.to` undoes: every task but those integrated at or before the checkpoint. */
function undone(ctx: FeatureContext, plan: RollbackPlan): { keep: Set<string>; ids: string[] } {
  const points = ctx.git!.checkpoints;
  const upTo = plan.toTask ? points.findIndex((point) => point.taskId === plan.toTask) : -1;
  const keep = new Set(points.slice(0, upTo + 1).map((point) => point.taskId));
  return { keep, ids: ctx.order.filter((id) => !keep.has(id)) };
}

/** Sends the planned rollback (the caller checked that no operation is under way). */
export function sendRollback(draft: FeatureContext, at: string): void {
  const git = draft.git!;
  const plan = git.rollback!;
  const tasks = undone(draft, plan).ids.filter((id) => draft.tasks[id]!.attempt > 0);
  sendOp(draft, { kind: "rollback", repo: git.repo, branch: git.branch, to: plan.to, expectedHead: git.head!, tasks }, at);
}

/** The rollback's result: the tasks after the checkpoint are reset (or cancelled) and feature.rolled_back published; a refusal changes nothing but says why. */
export function onRollbackResult(ctx: FeatureContext, msg: TaskResult, at: string, opts: ScheduleOptions): FeatureContext {
  const draft = editable(ctx);
  const git = ctx.git!;
  const plan = git.rollback!;
  const found = msg.outcome === "completed" ? msg.opResult : undefined;
  if (found?.kind === "moved") {
    draft.git = { ...git, pending: undefined, head: found.head };
    sendRollback(draft, at); // the branch moved under us (a redone merge landed): roll back from where it is
    return draft;
  }
  draft.git = { ...git, pending: undefined, rollback: undefined };
  if (found?.kind !== "rolled-back") {
    const reason = found?.kind === "refused" ? found.reason : `the rollback failed: ${msg.error?.message ?? "no result"}`;
    const files = found?.kind === "refused" ? found.files : [];
    const error = wireError("RollbackRefused", files.length ? `${reason}: ${files.slice(0, 20).join(", ")}` : reason, { files });
    const subject = `control.${ctx.featureId}.rollback`;
    return emitRejection(draft, subject, error, at);
  }
  const { keep, ids } = undone(ctx, plan);
  // a policy rollback leaves the task whose failure caused it failed: the feature failed for it
  const changed = ids.filter((id) => (ctx.tasks[id]!.attempt > 0 || ctx.tasks[id]!.status !== "blocked") && !(plan.policy && ctx.tasks[id]!.status === "failed"));
  for (const id of changed) draft.tasks[id] = undoTask(draft, draft.tasks[id]!, plan.cancel);
  draft.git = { ...draft.git, head: found.head, queue: [], checkpoints: git.checkpoints.filter((point) => keep.has(point.taskId)) };
  if (draft.featureGates) draft.featureGates = { gates: draft.featureGates.gates, results: draft.featureGates.results };
  emitInto(draft, { kind: "feature.rolled_back", to: plan.to, toTask: plan.toTask, tasks: changed, cancelled: plan.cancel, stopped: [], reason: plan.reason, by: plan.by }, at);
  // a manual rollback pauses the feature: `baton resume` runs the undone tasks again (or, with --cancel, goes on without
  // them); not one that ended meanwhile (its result came after a failure or a cancel): its history ends as it did
  if (!plan.policy && ctx.finishedAt === undefined) {
    const next = plan.cancel ? "goes on without the cancelled tasks" : "runs the undone tasks again";
    emitInto(draft, { kind: "feature.paused", reason: `${ROLLBACK_PAUSE} back to ${plan.toTask ? `task ${plan.toTask}'s checkpoint` : "the feature's start"}; \`baton resume\` ${next}`, by: plan.by }, at);
    scheduleInto(draft, at, { ...opts, hold: true });
  }
  return draft;
}

/** A task undone by a rollback: pending again with nothing of its runs kept but its attempt count, or (`cancel`, and always a fix task) cancelled. */
function undoTask(ctx: FeatureContext, task: TaskState, cancel: boolean): TaskState {
  const cleared: Partial<TaskState> = {
    base: undefined, head: undefined, changes: undefined, checkpoint: undefined, conflict: undefined, conflictRounds: undefined,
    scopeViolation: undefined, summary: undefined, handoff: undefined, stored: undefined, error: undefined, exitCode: undefined,
    startedAt: undefined, finishedAt: undefined, dispatchedAt: undefined, workerId: undefined, delivery: undefined, deadlineAt: undefined,
    verify: undefined, gateResults: undefined, retryAt: undefined, session: undefined, nextSteps: undefined, constraints: undefined,
    budgetStop: undefined, unserved: undefined, undoneAttempts: task.attempt - (task.budgetStops ?? 0),
  };
  if (cancel || branchOwner(ctx, task) || task.fixFor) return task.status === "cancelled" ? { ...task, ...cleared, withdrawn: true } : moveTask(task, "withdraw", { ...cleared, withdrawn: true });
  return task.status === "blocked" ? { ...task, ...cleared } : moveTask(task, "reset", cleared);
}
