// Dispatch: which ready tasks start now (request order, within maxParallel), and the task messages for a
// task's work and for gate runs, put in the outbox with deterministic msg ids. Pure; no clocks.
import { coordinatorMsgId, REVIEW_GATE, type GateRef } from "../../../shared/protocol/index.ts";
import { draft, type FeatureContext, type TaskState } from "./context.ts";
import { anyFailed, dependentsOf, depsDone } from "./dag.ts";
import { emitInto } from "./status-events.ts";
import { HOLDS_SLOT, moveTask } from "./task-lifecycle.ts";

/** The role gates run on; the `review` gate runs on the reviewer role. */
export const GATE_ROLE = "qa";
export const REVIEW_ROLE = "reviewer";
/** Task id that feature-gate runs carry on the wire (messages are routed by their `gate.scope`). */
export const FEATURE_GATES_TASK_ID = "feature-gates";

/** Whether new tasks may start: `hold` is true while the feature is paused (running ones still finish). */
export interface ScheduleOptions {
  hold: boolean;
}

/**
 * Marks blocked tasks whose dependencies all completed as ready, then dispatches ready tasks in request order
 * while fewer than `maxParallel` hold a place (none while `hold`). Dispatches nothing once a task failed.
 * Idempotent: calling it twice in a row changes nothing the second time (and returns `ctx` itself).
 */
export function schedule(ctx: FeatureContext, at: string, o: ScheduleOptions): FeatureContext {
  if (anyFailed(ctx) || !needsScheduling(ctx, o)) return ctx;
  const d = draft(ctx);
  scheduleInto(d, at, o);
  return d;
}

/** Whether `scheduleInto` would change anything: a blocked task is unblocked, or a ready one fits. */
function needsScheduling(ctx: FeatureContext, o: ScheduleOptions): boolean {
  let active = 0;
  let ready = false;
  for (const id of ctx.order) {
    const t = ctx.tasks[id]!;
    if (t.status === "blocked" && depsDone(ctx.tasks, t)) return true;
    if (HOLDS_SLOT.has(t.status)) active++;
    else if (t.status === "ready") ready = true;
  }
  return ready && !o.hold && active < ctx.maxParallel;
}

/**
 * `schedule` on a draft. After `completed` finished, only its dependents can have become ready (every
 * other blocked task was checked when its last dependency completed, or at acceptance/resume).
 */
export function scheduleInto(d: FeatureContext, at: string, o: ScheduleOptions, completed?: string): void {
  const tasks = d.tasks;
  let active = 0;
  if (completed !== undefined) {
    for (const id of dependentsOf(d, completed)) {
      const t = tasks[id]!;
      if (t.status === "blocked" && depsDone(tasks, t)) tasks[id] = moveTask(t, "unblock");
    }
    for (const id of d.order) if (HOLDS_SLOT.has(tasks[id]!.status)) active++;
  } else {
    for (const id of d.order) {
      const t = tasks[id]!;
      if (t.status === "blocked" && depsDone(tasks, t)) tasks[id] = moveTask(t, "unblock");
      else if (HOLDS_SLOT.has(t.status)) active++;
    }
  }
  if (o.hold) return;
  for (const id of d.order) {
    if (active >= d.maxParallel) break;
    const t = tasks[id]!;
    if (t.status !== "ready") continue;
    dispatchInto(d, t, at);
    active++;
  }
}

/** Dispatches the next attempt of a ready task: its task message (with its dependencies' handoffs) and task.dispatched. */
function dispatchInto(d: FeatureContext, t: TaskState, at: string): void {
  const attempt = t.attempt + 1;
  d.tasks[t.id] = moveTask(t, "dispatch", {
    attempt, dispatchedAt: at,
    // a retry starts clean: nothing of the previous attempt's run carries over (fix rounds used do)
    retryAt: undefined, error: undefined, startedAt: undefined, finishedAt: undefined, workerId: undefined, delivery: undefined,
    verify: t.verify?.fixRounds ? { fixRounds: t.verify.fixRounds } : undefined, exitCode: undefined,
  });
  const handoffs = t.dependsOn.map((dep) => {
    const x = d.tasks[dep]!;
    return { taskId: x.id, role: x.role, summary: x.summary, handoff: x.handoff };
  });
  d.outbox.push({
    msgId: coordinatorMsgId.dispatch(d.featureId, t.id, attempt),
    to: "task",
    role: t.role,
    payload: {
      type: "baton.v1.task_assigned",
      featureId: d.featureId, taskId: t.id, attempt, role: t.role, title: t.title,
      instructions: t.instructions, dependsOn: t.dependsOn, workspace: d.workspace,
      feature: { title: d.title, description: d.description },
      handoffs, dispatchedAt: at,
      ...(t.files ? { files: t.files } : {}),
      ...(t.expectChanges || t.files ? { expectChanges: true } : {}),
    },
  });
  emitInto(d, { kind: "task.dispatched", taskId: t.id, role: t.role, attempt }, at);
}

/**
 * Puts a gate run in the outbox: a task message for the qa role naming the gate (never its command), or for
 * the reviewer role when the gate is `review`. `taskId` undefined: one of the feature's own gates.
 */
export function dispatchGate(d: FeatureContext, gate: GateRef, taskId: string | undefined, attempt: number, at: string): void {
  // A test-driven task's red phase: its tests must fail (the work they test does not exist yet).
  if (taskId && d.tasks[taskId]?.tddPhase === "red") gate = { ...gate, expect: "fail" };
  const review = gate.name === REVIEW_GATE;
  const role = review ? REVIEW_ROLE : GATE_ROLE;
  // A review sees the task's (or, for the feature, every task's) summary and handoff; the worker adds the diff.
  const reviewed = !review ? [] : taskId ? [d.tasks[taskId]!] : d.order.map((id) => d.tasks[id]!);
  d.outbox.push({
    msgId: taskId ? coordinatorMsgId.taskGate(d.featureId, taskId, attempt, gate.name, gate.run) : coordinatorMsgId.featureGate(d.featureId, gate.name, gate.run),
    to: "task",
    role,
    payload: {
      type: "baton.v1.task_assigned",
      featureId: d.featureId, taskId: taskId ?? FEATURE_GATES_TASK_ID, attempt, role,
      title: gateTitle(d, gate.name, taskId),
      ...(review && taskId ? { instructions: d.tasks[taskId]!.instructions } : {}),
      dependsOn: [], workspace: d.workspace,
      feature: { title: d.title, description: d.description },
      handoffs: reviewed.filter((t) => t.status === "completed" || t.id === taskId).map((t) => ({ taskId: t.id, role: t.role, summary: t.summary, handoff: t.handoff })),
      dispatchedAt: at, gate,
      ...(review ? { review: { since: d.submittedAt } } : {}),
    },
  });
}

function gateTitle(d: FeatureContext, gate: string, taskId: string | undefined): string {
  if (gate === REVIEW_GATE) return `Review ${taskId ? `task ${taskId} (${d.tasks[taskId]!.title})` : `the feature "${d.title}"`}`;
  return taskId ? `gate ${gate} for task ${taskId}` : `feature gate ${gate}`;
}
