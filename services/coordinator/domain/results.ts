// What workers report about a task's work: it started, it printed output, it ended. Only the current attempt
// of a task whose work is under way counts; duplicates, stale attempts and late messages change nothing.
import { wireError, type TaskLog, type TaskResult, type TaskStarted } from "../../../shared/protocol/index.ts";
import { draft, durationMs, type FeatureContext } from "./context.ts";
import { anyFailed } from "./dag.ts";
import { dispatchGate, scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { failTask } from "./failure-policy.ts";
import { afterFix, onFeatureGateResult, onTaskGateResult } from "./gates.ts";
import { emit, emitInto } from "./status-events.ts";
import { moveTask, WORKING } from "./task-lifecycle.ts";

/** A worker began (or, after a redelivery, began again) a task; its deadline counts from now. */
export function onStarted(ctx: FeatureContext, m: TaskStarted, at: string): FeatureContext {
  const t = ctx.tasks[m.taskId];
  if (m.gate || !t || t.attempt !== m.attempt || !WORKING.has(t.status)) return ctx;
  if (t.status === "running" && t.workerId === m.workerId && (t.delivery ?? 0) >= m.delivery) return ctx;
  const deadlineAt = new Date(Date.parse(at) + t.timeoutSeconds * 1000).toISOString();
  const task = moveTask(t, "start", { startedAt: t.startedAt ?? m.at, workerId: m.workerId, delivery: m.delivery, deadlineAt });
  return emit({ ...ctx, tasks: { ...ctx.tasks, [t.id]: task } },
    { kind: "task.started", taskId: t.id, role: t.role, attempt: t.attempt, workerId: m.workerId, delivery: m.delivery }, m.at);
}

/** Output lines become task.log events; the feature's state is untouched. */
export function onLog(ctx: FeatureContext, m: TaskLog, at: string): FeatureContext {
  const t = ctx.tasks[m.taskId];
  if (!t || m.gate) return ctx; // a gate's output is reported in its gate event
  return emit(ctx, {
    kind: "task.log", taskId: t.id, role: t.role, attempt: m.attempt, workerId: m.workerId,
    stream: m.stream, lines: m.lines, dropped: m.dropped,
  }, at);
}

/**
 * A task's work (or a gate run) ended. Completed work runs the task's gates, or completes it and schedules
 * its dependents; failed work goes to the task's failure policy.
 */
export function onResult(ctx: FeatureContext, m: TaskResult, at: string, o: ScheduleOptions): FeatureContext {
  if (m.gate) return m.gate.scope === "feature" ? onFeatureGateResult(ctx, m, at, o) : onTaskGateResult(ctx, m, at, o);
  const t0 = ctx.tasks[m.taskId];
  if (!t0 || t0.attempt !== m.attempt || !WORKING.has(t0.status)) return ctx;
  const d = draft(ctx);
  // A short task reports only its result (the worker skips task_started): record its start from it.
  if (t0.status === "dispatched") {
    d.tasks[t0.id] = moveTask(t0, "start", { startedAt: m.startedAt, workerId: m.workerId, delivery: m.delivery ?? 1 });
    emitInto(d, { kind: "task.started", taskId: t0.id, role: t0.role, attempt: t0.attempt, workerId: m.workerId, delivery: m.delivery ?? 1 }, m.startedAt);
  }
  const t = d.tasks[m.taskId]!;
  const base = { ...t, finishedAt: m.finishedAt, startedAt: t.startedAt ?? m.startedAt, workerId: m.workerId, exitCode: m.exitCode, deadlineAt: undefined };
  const dur = durationMs(base.startedAt, m.finishedAt);
  if (m.outcome === "completed" && t.gates?.length) {
    // The work is done; it counts only once its gates pass (gates.ts runs them one after another).
    d.tasks[t.id] = moveTask(base, "verify", { summary: m.summary, handoff: m.handoff, verify: { ...t.verify, current: { index: 0, run: 1 } } });
    emitInto(d, { kind: "task.verifying", taskId: t.id, role: t.role, attempt: t.attempt, workerId: m.workerId, gates: t.gates }, at);
    dispatchGate(d, { name: t.gates[0]!, scope: "task", run: 1 }, t.id, t.attempt, at);
    return d;
  }
  if (m.outcome === "completed") {
    d.tasks[t.id] = moveTask(base, "complete", { summary: m.summary, handoff: m.handoff });
    emitInto(d, { kind: "task.completed", taskId: t.id, role: t.role, attempt: t.attempt, workerId: m.workerId, durationMs: dur, summary: m.summary }, at);
    if (t.fixFor) afterFix(d, t.fixFor, at);
    if (!anyFailed(d)) scheduleInto(d, at, o, t.id);
    return d;
  }
  const error = m.error ?? wireError("TaskFailed", `exit code ${m.exitCode ?? "unknown"}`);
  failTask(d, { ...base, error }, error, at, { workerId: m.workerId, durationMs: dur, exitCode: m.exitCode });
  return d;
}
