// Pure scheduling of a feature's task DAG: readiness, the parallel bound, results. No I/O, no clocks.
import type { TaskLog, TaskResult, TaskStarted } from "../../shared/protocol/index.ts";
import { durationMs, emit, type FeatureContext, type TaskState } from "./model.ts";

const ACTIVE = new Set(["dispatched", "running"]);

export function activeCount(ctx: FeatureContext): number {
  let n = 0;
  for (const id of ctx.order) if (ACTIVE.has(ctx.tasks[id]!.status)) n++;
  return n;
}

export function allCompleted(ctx: FeatureContext): boolean {
  return ctx.order.length > 0 && ctx.order.every((id) => ctx.tasks[id]!.status === "completed");
}

export function anyFailed(ctx: FeatureContext): boolean {
  return ctx.order.some((id) => ctx.tasks[id]!.status === "failed");
}

/**
 * Marks blocked tasks whose dependencies all completed as ready, then dispatches ready tasks in
 * request order while fewer than `maxParallel` are active. Dispatches nothing once a task failed.
 * Idempotent: calling it twice in a row changes nothing the second time.
 */
export function schedule(ctx: FeatureContext, at: string): FeatureContext {
  if (anyFailed(ctx)) return ctx;
  let tasks = ctx.tasks;
  for (const id of ctx.order) {
    const t = tasks[id]!;
    if (t.status === "blocked" && t.dependsOn.every((d) => tasks[d]!.status === "completed")) {
      tasks = { ...tasks, [id]: { ...t, status: "ready" } };
    }
  }
  let next: FeatureContext = tasks === ctx.tasks ? ctx : { ...ctx, tasks };
  if (next.paused) return next;
  let active = activeCount(next);
  for (const id of next.order) {
    if (active >= next.maxParallel) break;
    const t = next.tasks[id]!;
    if (t.status !== "ready") continue;
    next = dispatch(next, t, at);
    active++;
  }
  return next;
}

function dispatch(ctx: FeatureContext, t: TaskState, at: string): FeatureContext {
  const attempt = t.attempt + 1;
  const task: TaskState = { ...t, status: "dispatched", attempt, dispatchedAt: at };
  const handoffs = t.dependsOn.map((d) => {
    const dep = ctx.tasks[d]!;
    return { taskId: dep.id, role: dep.role, summary: dep.summary, handoff: dep.handoff };
  });
  let next: FeatureContext = {
    ...ctx,
    tasks: { ...ctx.tasks, [t.id]: task },
    outbox: [
      ...ctx.outbox,
      {
        // four tokens, so it can never equal a status event id (`<feature>.ev.<seq>`, three tokens)
        msgId: `${ctx.featureId}.task.${t.id}.${attempt}`,
        to: "task",
        role: t.role,
        payload: {
          type: "baton.v1.task_assigned",
          featureId: ctx.featureId, taskId: t.id, attempt, role: t.role, title: t.title,
          instructions: t.instructions, dependsOn: t.dependsOn, workspace: ctx.workspace,
          feature: { title: ctx.title, description: ctx.description },
          handoffs, dispatchedAt: at,
        },
      },
    ],
  };
  next = emit(next, { kind: "task.dispatched", taskId: t.id, role: t.role, attempt }, at);
  return next;
}

/**
 * A worker began (or, after a redelivery, began again) a task; its deadline counts from now.
 * Stale or late messages, and repeats of the same delivery, change nothing.
 */
export function onStarted(ctx: FeatureContext, m: TaskStarted, at: string): FeatureContext {
  const t = ctx.tasks[m.taskId];
  if (!t || t.attempt !== m.attempt || !ACTIVE.has(t.status)) return ctx;
  if (t.status === "running" && t.workerId === m.workerId && (t.delivery ?? 0) >= m.delivery) return ctx;
  const deadlineAt = new Date(Date.parse(at) + t.timeoutSeconds * 1000).toISOString();
  const task: TaskState = { ...t, status: "running", startedAt: t.startedAt ?? m.at, workerId: m.workerId, delivery: m.delivery, deadlineAt };
  return emit({ ...ctx, tasks: { ...ctx.tasks, [t.id]: task } },
    { kind: "task.started", taskId: t.id, role: t.role, attempt: t.attempt, workerId: m.workerId, delivery: m.delivery }, m.at);
}

/** Output lines become task.log events; the feature's state is untouched. */
export function onLog(ctx: FeatureContext, m: TaskLog, at: string): FeatureContext {
  const t = ctx.tasks[m.taskId];
  if (!t) return ctx;
  return emit(ctx, {
    kind: "task.log", taskId: t.id, role: t.role, attempt: m.attempt, workerId: m.workerId,
    stream: m.stream, lines: m.lines, dropped: m.dropped,
  }, at);
}

/**
 * A task finished. Only the current attempt of a dispatched/running task counts; duplicates and
 * stale attempts are no-ops. Completion schedules dependents; failure stops further dispatch.
 */
export function onResult(ctx: FeatureContext, m: TaskResult, at: string): FeatureContext {
  const t0 = ctx.tasks[m.taskId];
  if (!t0 || t0.attempt !== m.attempt || !ACTIVE.has(t0.status)) return ctx;
  // A short task reports only its result (the worker skips task_started): record its start from it.
  if (t0.status === "dispatched") {
    ctx = emit({ ...ctx, tasks: { ...ctx.tasks, [t0.id]: { ...t0, status: "running", startedAt: m.startedAt, workerId: m.workerId, delivery: m.delivery ?? 1 } } },
      { kind: "task.started", taskId: t0.id, role: t0.role, attempt: t0.attempt, workerId: m.workerId, delivery: m.delivery ?? 1 }, m.startedAt);
  }
  const t = ctx.tasks[m.taskId]!;
  const base = { ...t, finishedAt: m.finishedAt, startedAt: t.startedAt ?? m.startedAt, workerId: m.workerId, exitCode: m.exitCode, deadlineAt: undefined };
  const dur = durationMs(base.startedAt, m.finishedAt);
  if (m.outcome === "completed") {
    const task: TaskState = { ...base, status: "completed", summary: m.summary, handoff: m.handoff };
    const next = emit({ ...ctx, tasks: { ...ctx.tasks, [t.id]: task } },
      { kind: "task.completed", taskId: t.id, role: t.role, attempt: t.attempt, workerId: m.workerId, durationMs: dur, summary: m.summary }, at);
    return schedule(next, at);
  }
  const error = m.error ?? { name: "TaskFailed", message: `exit code ${m.exitCode ?? "unknown"}` };
  const task: TaskState = { ...base, status: "failed", error };
  return emit({ ...ctx, tasks: { ...ctx.tasks, [t.id]: task } },
    { kind: "task.failed", taskId: t.id, role: t.role, attempt: t.attempt, workerId: m.workerId, durationMs: dur, exitCode: m.exitCode, error }, at);
}

/** Removes published entries from the outbox (by msg id); unknown ids are ignored. */
export function onFlushed(ctx: FeatureContext, msgIds: readonly string[]): FeatureContext {
  if (!msgIds.length || !ctx.outbox.length) return ctx;
  const done = new Set(msgIds);
  const outbox = ctx.outbox.filter((e) => !done.has(e.msgId));
  return outbox.length === ctx.outbox.length ? ctx : { ...ctx, outbox };
}

export function failedTask(ctx: FeatureContext): TaskState | undefined {
  for (const id of ctx.order) if (ctx.tasks[id]!.status === "failed") return ctx.tasks[id];
  return undefined;
}

/** Fails every active task whose deadline has passed at `at`. Idempotent; a no-op when none is due. */
export function onTimer(ctx: FeatureContext, at: string): FeatureContext {
  let next = ctx;
  const now = Date.parse(at);
  for (const id of ctx.order) {
    const t = next.tasks[id]!;
    if (!ACTIVE.has(t.status) || !t.deadlineAt || Date.parse(t.deadlineAt) > now) continue;
    const error = { name: "Timeout", code: "DEADLINE", message: `no result within ${t.timeoutSeconds}s of the task starting (deadline ${t.deadlineAt})` };
    const task: TaskState = { ...t, status: "failed", finishedAt: at, deadlineAt: undefined, error };
    next = emit({ ...next, tasks: { ...next.tasks, [id]: task } },
      { kind: "task.failed", taskId: id, role: t.role, attempt: t.attempt, workerId: t.workerId, durationMs: durationMs(t.startedAt, at), error }, at);
  }
  return next;
}

/** The earliest deadline among active tasks, or undefined: what a coordinator must arm a timer for. */
export function nextDeadline(ctx: FeatureContext): string | undefined {
  let min: string | undefined;
  for (const id of ctx.order) {
    const t = ctx.tasks[id]!;
    if (ACTIVE.has(t.status) && t.deadlineAt && (!min || t.deadlineAt < min)) min = t.deadlineAt;
  }
  return min;
}

/** Marks every task that has not ended as cancelled (their late results are then ignored). */
export function cancelTasks(ctx: FeatureContext): FeatureContext {
  const tasks = { ...ctx.tasks };
  for (const id of ctx.order) {
    const t = tasks[id]!;
    if (t.status !== "completed" && t.status !== "failed") tasks[id] = { ...t, status: "cancelled", deadlineAt: undefined };
  }
  return { ...ctx, tasks };
}
