// Integration in dependency order (issue 12 item 2): a git feature's task whose work and gates passed waits in the
// merge queue; one integrate operation at a time merges it into the integration branch (a checkpoint), and only then
// does it complete. A conflict becomes a fix task for the task's role (bounded rounds, then the failure policy). Pure.
import { milestoneTag, taskBranch, wireError, type TaskResult, type WireError } from "../../../shared/protocol/index.ts";
import { editable, KEPT_FILES, type Checkpoint, type FeatureContext, type TaskState } from "./context.ts";
import { anyFailed } from "./dag.ts";
import { scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { failTask } from "./failure-policy.ts";
import { afterFix, rerunGates } from "./gates.ts";
import { attributedPaths, scopeViolations } from "./scope.ts";
import { emitInto } from "./status-events.ts";
import { moveTask } from "./task-lifecycle.ts";
import { lastRunUsage } from "./usage.ts";
import { branchOwner, isAwaitedOp, isolationOf, sendFinish, sendOp } from "./workspace.ts";
import { sendRollback } from "./rollback.ts";
import { conflictInstructions } from "./conflict-text.ts";

/** `changes` with at most KEPT_FILES files, the others counted in `more`. */
function capped<T>(files: readonly T[], more = 0): { files: T[]; more?: number } {
  const extra = Math.max(0, files.length - KEPT_FILES) + more;
  return { files: files.slice(0, KEPT_FILES), ...(extra ? { more: extra } : {}) };
}

/** Conflict fix rounds when the task's policy sets no `fix.maxRounds`. */
export const DEFAULT_CONFLICT_ROUNDS = 2;

/** The checkpoint commit's message: names feature, task and role, with trailers a redone merge is recognised by. */
function checkpointMessage(ctx: FeatureContext, task: TaskState): string {
  return `baton(${ctx.featureId}): integrate ${task.id} (${task.role}) — ${task.title}\n\n` +
    `Baton-Feature: ${ctx.featureId}\nBaton-Task: ${ctx.featureId}/${task.id}\nBaton-Role: ${task.role}\nBaton-Attempt: ${task.attempt}`;
}

/** The task's work and gates passed: it waits for its turn to be merged (it completes once it is). */
export function beginIntegration(draft: FeatureContext, task: TaskState, at: string): void {
  if (draft.finishedAt || draft.git!.rollback) {
    // the feature ended (or is going back) while this task ran: its work is not integrated
    draft.tasks[task.id] = moveTask(task, "cancel", { deadlineAt: undefined });
    return;
  }
  const runs = task.verify?.runs ?? task.verify?.current?.run;
  draft.tasks[task.id] = moveTask(task, "integrate", { verify: task.verify?.fixRounds || runs ? { fixRounds: task.verify?.fixRounds, runs } : undefined });
  draft.git = { ...draft.git!, queue: [...draft.git!.queue.filter((id) => id !== task.id), task.id] };
  emitInto(draft, { kind: "task.integrating", taskId: task.id, role: task.role, attempt: task.attempt, branch: draft.git.branch, head: task.head }, at);
  pumpIntegration(draft, at);
}

/**
 * Sends the next workspace operation, unless one is under way: a planned rollback first, then (the feature ended) the
 * finish operation, else the integrate operation for the first task in the queue. No task is integrated once the
 * feature ended or a rollback is planned.
 */
export function pumpIntegration(draft: FeatureContext, at: string): void {
  let git = draft.git;
  if (!git || git.pending) return;
  if (git.rollback) return sendRollback(draft, at);
  if (git.ending) {
    if (!git.finished) sendFinish(draft, at);
    return;
  }
  while (git.queue.length) {
    const task = draft.tasks[git.queue[0]!]!;
    if (task.status !== "integrating") {
      git = draft.git = { ...git, queue: git.queue.slice(1) };
      continue;
    }
    const worktree = isolationOf(draft, task) === "worktree";
    sendOp(draft, {
      kind: "integrate", repo: git.repo, branch: git.branch, taskId: task.id, role: task.role, title: task.title, attempt: task.attempt,
      expectedHead: git.head!, message: checkpointMessage(draft, task),
      ...(worktree ? { taskBranch: taskBranch(draft.featureId, task.id), taskHead: task.head! } : { files: (task.changes?.files ?? []).map((file) => file.path) }),
      ...(task.produces?.length ? { produces: task.produces } : {}),
      ...(milestoneDue(draft, task) ? { tag: milestoneTag(draft.featureId, task.milestone!) } : {}),
    }, at, task);
    return;
  }
}

/** Whether integrating `task` completes its milestone: every other task naming it is completed. */
function milestoneDue(ctx: FeatureContext, task: TaskState): boolean {
  if (!task.milestone) return false;
  return ctx.order.every((id) => id === task.id || ctx.tasks[id]!.milestone !== task.milestone || ctx.tasks[id]!.status === "completed");
}

/**
 * What a git task's finished work left (called before its result is judged): worktree mode — its branch's new head
 * and git's list of changes (a fix task's go to the task whose branch it works on); shared mode — the changed paths
 * that are its own. Then the scope check. Returns the error that fails the work (no commit, a strict scope violation).
 */
export function applyWork(draft: FeatureContext, task: TaskState, msg: TaskResult, at: string): WireError | undefined {
  if (!draft.git || msg.outcome !== "completed") return undefined;
  const owner = branchOwner(draft, task);
  const subject = owner ?? task;
  let paths: string[];
  if (isolationOf(draft, subject) === "worktree") {
    if (!msg.git) return wireError("GitError", "the worker reported no commit of the task's worktree (is it older than this coordinator?)");
    paths = msg.git.files.map((file) => file.path);
    const changes = owner ? subject.changes : { ...capped(msg.git.files, msg.git.more), insertions: msg.git.insertions, deletions: msg.git.deletions };
    draft.tasks[subject.id] = { ...draft.tasks[subject.id]!, head: msg.git.head, changes };
  } else {
    paths = attributedPaths(draft, subject, msg.changed ?? []);
    const known = new Set((subject.changes?.files ?? []).map((file) => file.path));
    const files = [...(subject.changes?.files ?? []), ...paths.filter((path) => !known.has(path)).map((path) => ({ path, status: "other" as const }))];
    draft.tasks[subject.id] = { ...draft.tasks[subject.id]!, changes: { files, insertions: 0, deletions: 0 } };
  }
  const outside = scopeViolations(subject, paths);
  if (!outside.length) return undefined;
  const strict = draft.git.scope === "strict";
  draft.tasks[subject.id] = { ...draft.tasks[subject.id]!, scopeViolation: outside };
  emitInto(draft, { kind: "scope.violation", taskId: task.id, role: task.role, attempt: task.attempt, files: outside, scope: subject.files ?? [], strict }, at);
  if (!strict) return undefined;
  return wireError("ScopeViolation", `changed ${outside.length} file(s) outside its declared files (${(subject.files ?? []).join(", ")}): ${outside.slice(0, 10).join(", ")}`, { files: outside });
}

/** The integrate operation's result: a checkpoint (the task completes), a retry after the branch moved, a conflict, or a failure. */
export function onIntegrateResult(ctx: FeatureContext, msg: TaskResult, at: string, opts: ScheduleOptions): FeatureContext {
  if (!isAwaitedOp(ctx, msg)) return ctx;
  const draft = editable(ctx);
  const git = ctx.git!;
  const taskId = git.pending!.taskId!;
  draft.git = { ...git, pending: undefined, queue: git.queue.filter((id) => id !== taskId) };
  const task = draft.tasks[taskId]!;
  const found = msg.outcome === "completed" ? msg.opResult : undefined;
  if (task.status !== "integrating") {
    // cancelled or rolled back meanwhile; the branch still moved if it merged
    if (found?.kind === "integrated") draft.git = { ...draft.git, head: found.commit };
  } else if (found?.kind === "integrated") {
    integrated(draft, task, found, at, opts);
  } else if (found?.kind === "moved") {
    draft.git = { ...draft.git, head: found.head, queue: [taskId, ...draft.git.queue] };
  } else if (found?.kind === "conflict") {
    conflicted(draft, task, found.files, msg, at, opts);
  } else if (found?.kind === "artifacts") {
    emitInto(draft, { kind: "artifact.invalid", taskId, role: task.role, attempt: task.attempt, problems: found.problems }, at);
    const text = found.problems.map((problem) => `${problem.path}: ${problem.messages.join("; ")}`).join(" | ");
    failTask(draft, task, wireError("ArtifactInvalid", `artifacts invalid on the integration branch: ${text}`, { problems: found.problems }), at);
  } else {
    failTask(draft, task, msg.error ?? wireError("GitError", `integration failed: unexpected result ${found?.kind ?? "none"}`), at);
  }
  pumpIntegration(draft, at);
  return draft;
}

function integrated(draft: FeatureContext, task: TaskState, found: Extract<NonNullable<TaskResult["opResult"]>, { kind: "integrated" }>, at: string, opts: ScheduleOptions): void {
  const kept = capped(found.changes.files, found.changes.more);
  const files = kept.files.map((file) => file.path);
  const checkpoint: Checkpoint = {
    taskId: task.id, role: task.role, commit: found.commit, files, ...(kept.more ? { more: kept.more } : {}), insertions: found.changes.insertions, deletions: found.changes.deletions, at,
    ...(found.tag ? { tag: found.tag } : {}),
  };
  draft.git = { ...draft.git!, head: found.commit, checkpoints: [...draft.git!.checkpoints, checkpoint] };
  draft.tasks[task.id] = moveTask(task, "complete", { resultUsage: undefined, checkpoint, changes: { ...kept, insertions: found.changes.insertions, deletions: found.changes.deletions }, conflict: undefined });
  emitInto(draft, { kind: "checkpoint.created", taskId: task.id, role: task.role, attempt: task.attempt, commit: found.commit, branch: draft.git.branch, files, insertions: checkpoint.insertions, deletions: checkpoint.deletions, tag: found.tag }, at);
  emitInto(draft, {
    kind: "task.completed", taskId: task.id, role: task.role, attempt: task.attempt, workerId: task.workerId ?? "",
    durationMs: Math.max(0, Date.parse(task.finishedAt ?? at) - Date.parse(task.startedAt ?? at)), summary: task.summary, stored: task.stored, usage: task.resultUsage ?? lastRunUsage(task),
  }, at);
  // a fix task of a feature gate integrates like any task: its gate runs again once its work is on the branch
  if (task.fixFor) afterFix(draft, task.fixFor, at, task.session);
  if (!anyFailed(draft)) scheduleInto(draft, at, opts, task.id);
}

/** A merge conflict: a fix task of the task's role works on its branch with the integration head merged in, or (no round left) the policy. */
function conflicted(draft: FeatureContext, task: TaskState, files: { path: string; ours: string; theirs: string }[], msg: TaskResult, at: string, opts: ScheduleOptions): void {
  const round = (task.conflictRounds ?? 0) + 1;
  const maxRounds = task.policy?.fix?.maxRounds ?? DEFAULT_CONFLICT_ROUNDS;
  const paths = files.map((file) => file.path);
  if (round > maxRounds) {
    emitInto(draft, { kind: "task.conflict", taskId: task.id, role: task.role, attempt: task.attempt, files: paths, round }, at);
    const error = wireError("MergeConflict", `its branch conflicts with the integration branch in ${paths.join(", ")} after ${maxRounds} fix round(s)`, { files: paths });
    failTask(draft, { ...task, conflict: { files: paths, round }, conflictRounds: 0, head: undefined }, error, at);
    return;
  }
  let fixId = `${task.id.slice(0, 50)}-merge-${round}`;
  for (let suffix = 2; draft.tasks[fixId]; suffix++) fixId = `${task.id.slice(0, 46)}-merge-${round}-${suffix}`;
  const title = `Resolve the merge conflict of task ${task.id} (round ${round})`;
  draft.tasks[fixId] = {
    id: fixId, role: task.role, title,
    instructions: conflictInstructions(draft, task, files, msg), dependsOn: [...task.dependsOn], status: "ready", attempt: 0,
    timeoutSeconds: task.timeoutSeconds, conflictFor: task.id, ...(task.session ? { session: task.session } : {}),
  };
  draft.order = [...draft.order, fixId];
  draft.tasks[task.id] = moveTask(task, "conflict", { conflictRounds: round, conflict: { files: paths, round } });
  emitInto(draft, { kind: "task.conflict", taskId: task.id, role: task.role, attempt: task.attempt, files: paths, round, fixTaskId: fixId, title }, at);
  scheduleInto(draft, at, opts);
}

/** A conflict fix completed: its owner's gates run again from the first (the merge changed its tree), or it is integrated again. */
export function afterConflictFix(draft: FeatureContext, fix: TaskState, at: string): void {
  const owner = draft.tasks[fix.conflictFor!];
  if (!owner || owner.status !== "fixing") return;
  const session = fix.session ?? owner.session;
  if (!owner.gates?.length) {
    beginIntegration(draft, { ...owner, session }, at);
    return;
  }
  rerunGates(draft, owner, (owner.verify?.runs ?? 0) + 1, session, at);
}
