// What workers report about a task's work: it started, it printed output, it ended. Only the current attempt
// of a task whose work is under way counts; duplicates, stale attempts and late messages change nothing.
import { SUMMARY_PREVIEW_CHARS, wireError, type TaskLog, type TaskProgress, type TaskResult, type TaskStarted } from "../../../shared/protocol/index.ts";
import { durationMs, editable, type FeatureContext, type TaskState } from "./context.ts";
import { anyFailed } from "./dag.ts";
import { dispatchGate, scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { failTask } from "./failure-policy.ts";
import { afterFix, gateEvent, onFeatureGateResult, onTaskGateResult } from "./gates.ts";
import { emit, emitInto } from "./status-events.ts";
import { moveTask, WORKING } from "./task-lifecycle.ts";
import { onBaselineResult } from "./test-counts.ts";
import { isBudgetStop, requeueStopped } from "./budget-control.ts";
import { countProgress } from "./usage.ts";
import { afterConflictFix, applyWork, beginIntegration } from "./integration.ts";
import { integrates } from "./workspace.ts";
import { onOpResult } from "./workspace-ops.ts";
import { onPlannerResult } from "./planning.ts";
import { taskAsks } from "./questions.ts";

/** A worker began (or, after a redelivery, began again) a task; its deadline counts from now. */
export function onStarted(ctx: FeatureContext, msg: TaskStarted, at: string): FeatureContext {
  const current = ctx.tasks[msg.taskId];
  if (msg.gate || msg.op || !current || current.attempt !== msg.attempt || !WORKING.has(current.status)) return ctx;
  if (current.status === "running" && current.workerId === msg.workerId && (current.delivery ?? 0) >= msg.delivery) return ctx;
  const deadlineAt = new Date(Date.parse(at) + current.timeoutSeconds * 1000).toISOString();
  const task = moveTask(current, "start", { startedAt: current.startedAt ?? msg.at, workerId: msg.workerId, delivery: msg.delivery, deadlineAt });
  return emit({ ...ctx, tasks: { ...ctx.tasks, [current.id]: task } },
    { kind: "task.started", taskId: current.id, role: current.role, attempt: current.attempt, workerId: msg.workerId, delivery: msg.delivery }, msg.at);
}

/** Output lines become task.log events; the feature's state is untouched. */
export function onLog(ctx: FeatureContext, msg: TaskLog, at: string): FeatureContext {
  const task = ctx.tasks[msg.taskId];
  if (!task || msg.gate || msg.op) return ctx; // a gate's output is reported in its gate event
  return emit(ctx, {
    kind: "task.log", taskId: task.id, role: task.role, attempt: msg.attempt, workerId: msg.workerId,
    stream: msg.stream, lines: msg.lines, dropped: msg.dropped,
  }, at);
}

/** What an agent is doing becomes a task.progress event (budgets.ts counts its usage). */
export function onProgress(ctx: FeatureContext, msg: TaskProgress, at: string, _opts: ScheduleOptions): FeatureContext {
  const task = ctx.tasks[msg.taskId];
  if (!task || msg.gate || msg.op || task.attempt !== msg.attempt || !WORKING.has(task.status)) return ctx;
  return countProgress(emit(ctx, {
    kind: "task.progress", taskId: task.id, role: task.role, attempt: msg.attempt, workerId: msg.workerId,
    tool: msg.tool, files: msg.files, text: msg.text, usage: msg.usage,
  }, at), msg);
}

/**
 * What a task keeps of its completed work's result: a small summary and handoff inline, or the stored result's
 * reference and the summary's preview (never a large body: the snapshot is checkpointed whole); and the agent
 * session to continue (the result's, else the one the task had).
 */
export function keptResult(task: TaskState, msg: TaskResult): Pick<TaskState, "summary" | "handoff" | "stored" | "session" | "nextSteps" | "constraints"> {
  const session = msg.session ?? task.session;
  const said = { nextSteps: msg.nextSteps, constraints: msg.constraints };
  if (!msg.stored) return { summary: msg.summary, handoff: msg.handoff, stored: undefined, session, ...said };
  return { summary: msg.summary?.slice(0, SUMMARY_PREVIEW_CHARS), handoff: undefined, stored: msg.stored, session, ...said };
}

/**
 * A task's work (or a gate run) ended. Completed work runs the task's gates, or completes it and schedules
 * its dependents; failed work goes to the task's failure policy.
 */
export function onResult(ctx: FeatureContext, msg: TaskResult, at: string, opts: ScheduleOptions): FeatureContext {
  if (msg.op) return onOpResult(ctx, msg, at, opts);
  if (msg.gate?.scope === "baseline") return onBaselineResult(ctx, msg, at, opts, (r, passed) => gateEvent(r, passed, undefined, undefined));
  if (msg.gate) return msg.gate.scope === "feature" ? onFeatureGateResult(ctx, msg, at, opts) : onTaskGateResult(ctx, msg, at, opts);
  const t0 = ctx.tasks[msg.taskId];
  if (!t0 || t0.attempt !== msg.attempt || !WORKING.has(t0.status)) return ctx;
  // A newer delivery of this attempt has started (the older one's ack wait ran out, e.g. around a NATS restart): the
  // older delivery's failure is not the task's (a fresh worktree for the newer one may have pulled the floor from under
  // it); the newer delivery reports. A completed older delivery still counts: its work is done.
  if (msg.outcome === "failed" && msg.delivery !== undefined && t0.delivery !== undefined && msg.delivery < t0.delivery && !isBudgetStop(msg)) return ctx;
  const draft = editable(ctx);
  // A short task reports only its result (the worker skips task_started): record its start from it.
  if (t0.status === "dispatched") {
    draft.tasks[t0.id] = moveTask(t0, "start", { startedAt: msg.startedAt, workerId: msg.workerId, delivery: msg.delivery ?? 1 });
    emitInto(draft, { kind: "task.started", taskId: t0.id, role: t0.role, attempt: t0.attempt, workerId: msg.workerId, delivery: msg.delivery ?? 1 }, msg.startedAt);
  }
  const task = draft.tasks[msg.taskId]!;
  const base = { ...task, finishedAt: msg.finishedAt, startedAt: task.startedAt ?? msg.startedAt, workerId: msg.workerId, exitCode: msg.exitCode, deadlineAt: undefined };
  const dur = durationMs(base.startedAt, msg.finishedAt);
  if (task.planner && msg.outcome === "completed") {
    onPlannerResult(draft, base, msg, at, opts); // checked: the plan's tasks, or back to the planner with every error (planning.ts)
    return draft;
  }
  if (msg.outcome === "completed" && msg.question) {
    // the work stops to ask a person: it waits (its dependents too) and runs again with the answer, in its session (questions.ts)
    taskAsks(draft, task, msg.question, at, { finishedAt: msg.finishedAt, workerId: msg.workerId, exitCode: msg.exitCode, session: msg.session ?? task.session, summary: msg.summary });
    return draft;
  }
  // A git task: its branch's head and git's changes, and the scope check (integration.ts); a strict violation fails it.
  const workError = applyWork(draft, task, msg, at);
  if (workError) {
    failTask(draft, { ...base, ...pickGit(draft.tasks[task.id]!), error: workError }, workError, at, { workerId: msg.workerId, durationMs: dur, exitCode: msg.exitCode, usage: msg.usage });
    return draft;
  }
  Object.assign(base, pickGit(draft.tasks[task.id]!));
  if (msg.outcome === "completed" && task.gates?.length) {
    // The work is done; it counts only once its gates pass (gates.ts runs them one after another).
    draft.tasks[task.id] = moveTask(base, "verify", { ...keptResult(task, msg), verify: { ...task.verify, current: { index: 0, run: 1 } } });
    emitInto(draft, { kind: "task.verifying", taskId: task.id, role: task.role, attempt: task.attempt, workerId: msg.workerId, gates: task.gates }, at);
    dispatchGate(draft, { name: task.gates[0]!, scope: "task", run: 1 }, task.id, task.attempt, at);
    return draft;
  }
  if (msg.outcome === "completed" && integrates(draft, task)) {
    beginIntegration(draft, { ...base, ...keptResult(task, msg), resultUsage: msg.usage }, at); // it completes once its work is on the integration branch
    return draft;
  }
  if (msg.outcome === "completed") {
    const kept = keptResult(task, msg);
    draft.tasks[task.id] = moveTask(base, "complete", kept);
    emitInto(draft, { kind: "task.completed", taskId: task.id, role: task.role, attempt: task.attempt, workerId: msg.workerId, durationMs: dur, summary: kept.summary, stored: kept.stored, usage: msg.usage }, at);
    if (task.fixFor) afterFix(draft, task.fixFor, at, kept.session);
    if (task.conflictFor) afterConflictFix(draft, draft.tasks[task.id]!, at);
    if (!anyFailed(draft)) scheduleInto(draft, at, opts, task.id);
    return draft;
  }
  if (isBudgetStop(msg)) {
    requeueStopped(draft, base, msg, at, opts); // stopped for a budget: back to ready, not a failure (budget-control.ts)
    return draft;
  }
  const error = msg.error ?? wireError("TaskFailed", `exit code ${msg.exitCode ?? "unknown"}`);
  // the worker found declared artifacts missing or invalid after the work (the integrator checks them again on the merge)
  if (msg.artifacts?.length) emitInto(draft, { kind: "artifact.invalid", taskId: task.id, role: task.role, attempt: task.attempt, problems: msg.artifacts }, at);
  failTask(draft, { ...base, error }, error, at, { workerId: msg.workerId, durationMs: dur, exitCode: msg.exitCode, usage: msg.usage });
  return draft;
}

/** The git facts applyWork recorded on a task, to carry onto the task's next state. */
function pickGit(task: TaskState): Partial<TaskState> {
  return { head: task.head, changes: task.changes, scopeViolation: task.scopeViolation };
}
