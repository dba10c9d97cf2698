// Dispatch: which ready tasks start now (request order, within maxParallel), and the task messages for a
// task's work and for gate runs, put in the outbox with deterministic msg ids. Pure; no clocks.
import { coordinatorMsgId, REVIEW_GATE, type GateRef, type Handoff } from "../../../shared/protocol/index.ts";
import { editable, KEPT_FILES, type FeatureContext, type TaskState } from "./context.ts";
import { anyFailed, dependentsOf, depsDone } from "./dag.ts";
import { emitInto } from "./status-events.ts";
import { HOLDS_SLOT, moveTask } from "./task-lifecycle.ts";
import { scopeBlockers } from "./scope.ts";
import { gateCheckout, lockFor, workCheckout, workspacePending } from "./workspace.ts";
import { startStreamGates } from "./streams.ts";
import { plannerBrief } from "./planning.ts";

/** The role gates run on; the `review` gate runs on the reviewer role. */
export const GATE_ROLE = "qa";
export const REVIEW_ROLE = "reviewer";
/** Task id that feature-gate runs carry on the wire (messages are routed by their `gate.scope`). */
export const FEATURE_GATES_TASK_ID = "feature-gates";

/** Whether new tasks may start: `hold` is true while the feature is paused (running ones still finish). */
export interface ScheduleOptions {
  hold: boolean;
}

/** Whether tasks must still wait for the baseline runs of the feature's test gates (test-counts.ts). */
export const baselinePending = (ctx: FeatureContext): boolean => !!ctx.baseline && !ctx.baseline.done;

/**
 * Marks blocked tasks whose dependencies all completed as ready, then dispatches ready tasks in request order
 * while fewer than `maxParallel` hold a place (none while `hold`, nor while baselines are pending, so they
 * measure the untouched workspace). Dispatches nothing once a task failed.
 * Idempotent: calling it twice in a row changes nothing the second time (and returns `ctx` itself).
 */
export function schedule(ctx: FeatureContext, at: string, opts: ScheduleOptions): FeatureContext {
  if (anyFailed(ctx) || !needsScheduling(ctx, opts)) return ctx; // a failed stream gate does not count (dag.ts)
  const draft = editable(ctx);
  scheduleInto(draft, at, opts);
  return draft;
}

/** Whether `scheduleInto` would change anything: a blocked task is unblocked, or a ready one fits. */
function needsScheduling(ctx: FeatureContext, opts: ScheduleOptions): boolean {
  let active = 0;
  let ready = false;
  for (const id of ctx.order) {
    const task = ctx.tasks[id]!;
    if (task.status === "blocked" && depsDone(ctx.tasks, task)) return true;
    if (HOLDS_SLOT.has(task.status)) active++;
    else if (task.status === "ready" && !scopeBlockers(ctx, task).length) ready = true;
  }
  return ready && !opts.hold && !baselinePending(ctx) && !workspacePending(ctx) && active < ctx.maxParallel;
}

/**
 * `schedule` on a draft. After `completed` finished, only its dependents can have become ready (every
 * other blocked task was checked when its last dependency completed, or at acceptance/resume).
 */
export function scheduleInto(draft: FeatureContext, at: string, opts: ScheduleOptions, completed?: string): void {
  const tasks = draft.tasks;
  let active = 0;
  if (completed !== undefined) {
    for (const id of dependentsOf(draft, completed)) {
      const task = tasks[id]!;
      if (task.status === "blocked" && depsDone(tasks, task)) tasks[id] = moveTask(task, "unblock");
    }
    for (const id of draft.order) if (HOLDS_SLOT.has(tasks[id]!.status)) active++;
  } else {
    for (const id of draft.order) {
      const task = tasks[id]!;
      if (task.status === "blocked" && depsDone(tasks, task)) tasks[id] = moveTask(task, "unblock");
      else if (HOLDS_SLOT.has(task.status)) active++;
    }
  }
  if (opts.hold || baselinePending(draft) || workspacePending(draft)) return;
  for (const id of draft.order) {
    if (active >= draft.maxParallel) break;
    const task = tasks[id]!;
    // a task whose files may overlap those of a task under way waits for it (file-scope locks, scope.ts)
    if (task.status !== "ready" || scopeBlockers(draft, task).length) continue;
    if (task.streamGate) startStreamGates(draft, task, at);
    else dispatchInto(draft, task, at);
    active++;
  }
}

/**
 * What a finished task hands to the tasks that read its result: its small summary and handoff inline, or the
 * stored result's reference with the summary's preview (the worker reads the whole result from the store); and the
 * facts: what git says it changed and its checkpoint, its artifacts, the gates it passed, its next steps and constraints.
 */
export function handoffOf(task: TaskState): Handoff {
  const body = task.stored
    ? { taskId: task.id, role: task.role, summary: task.summary, stored: task.stored }
    : { taskId: task.id, role: task.role, summary: task.summary, handoff: task.handoff };
  const changes = task.checkpoint ?? task.changes;
  const passed = (task.gateResults ?? []).filter((gate) => gate.passed);
  return {
    ...body,
    ...(changes ? { changes: handoffChanges(task) } : {}),
    ...(task.checkpoint ? { commit: task.checkpoint.commit } : {}),
    ...(task.produces?.length ? { artifacts: task.produces } : {}),
    ...(passed.length ? { gates: passed.map((gate) => ({ name: gate.name, ...(gate.tests ? { tests: gate.tests.total } : {}) })) } : {}),
    ...(task.nextSteps?.length ? { nextSteps: task.nextSteps } : {}),
    ...(task.constraints?.length ? { constraints: task.constraints } : {}),
  };
}

/** What git says a finished task changed, for its handoff: its checkpoint's files (else its work's), capped, and the diffstat. */
function handoffChanges(task: TaskState): NonNullable<Handoff["changes"]> {
  const point = task.checkpoint;
  const files = point?.files ?? task.changes!.files.slice(0, KEPT_FILES).map((file) => file.path);
  const more = point ? point.more : (task.changes!.more ?? 0) + Math.max(0, task.changes!.files.length - KEPT_FILES);
  const totals = point ?? task.changes!;
  return { files, ...(more ? { more } : {}), insertions: totals.insertions, deletions: totals.deletions };
}

/** Dispatches the next attempt of a ready task: its task message (with its dependencies' handoffs) and task.dispatched. */
function dispatchInto(draft: FeatureContext, task: TaskState, at: string): void {
  const attempt = task.attempt + 1;
  draft.tasks[task.id] = moveTask(task, "dispatch", {
    attempt, dispatchedAt: at,
    // a retry starts clean: nothing of the previous attempt's run carries over (fix rounds used do)
    retryAt: undefined, error: undefined, startedAt: undefined, finishedAt: undefined, workerId: undefined, delivery: undefined,
    verify: task.verify?.fixRounds ? { fixRounds: task.verify.fixRounds } : undefined, exitCode: undefined,
    // a task's budgeted wall time counts from its first start (budgets.ts)
    firstStartedAt: task.firstStartedAt ?? task.startedAt,
  });
  const handoffs = task.dependsOn.map((dep) => handoffOf(draft.tasks[dep]!));
  const dispatched = draft.tasks[task.id]!;
  if (draft.git) draft.tasks[task.id] = { ...dispatched, base: draft.git.head, ...(task.conflictFor || task.fixFor?.taskId ? {} : { head: undefined, changes: undefined, scopeViolation: undefined }) };
  // the planner reads the workspace and changes nothing: no worktree, no lock, no integration
  const where = draft.git && !task.planner ? workCheckout(draft, dispatched) : undefined;
  const lock = task.planner ? undefined : lockFor(draft, dispatched);
  draft.outbox.push({
    msgId: coordinatorMsgId.dispatch(draft.featureId, task.id, attempt),
    to: "task",
    role: task.role,
    payload: {
      type: "baton.v1.task_assigned",
      featureId: draft.featureId, taskId: task.id, attempt, role: task.role, title: task.title,
      instructions: task.instructions, dependsOn: task.dependsOn, workspace: draft.workspace,
      feature: { title: draft.title, description: draft.description },
      handoffs, dispatchedAt: at,
      ...(task.files ? { files: task.files } : {}),
      ...(task.expectChanges || task.files ? { expectChanges: true } : {}),
      ...(task.session ? { session: task.session } : {}),
      ...(where ? { checkout: where.checkout, ...(where.reportChanges ? { reportChanges: true } : {}) } : {}),
      ...(lock ? { lock } : {}),
      ...(task.produces?.length ? { produces: task.produces } : {}),
      ...(task.planner ? { planning: plannerBrief(draft) } : {}),
      ...(task.answers?.length ? { answers: task.answers } : {}),
    },
  });
  emitInto(draft, { kind: "task.dispatched", taskId: task.id, role: task.role, attempt }, at);
}

/**
 * Puts a gate run in the outbox: a task message for the qa role naming the gate (never its command), or for
 * the reviewer role when the gate is `review`. `taskId` undefined: one of the feature's own gates.
 */
export function dispatchGate(draft: FeatureContext, gate: GateRef, taskId: string | undefined, attempt: number, at: string): void {
  // A test-driven task's red phase: its tests must fail (the work they test does not exist yet).
  if (taskId && draft.tasks[taskId]?.tddPhase === "red") gate = { ...gate, expect: "fail" };
  const review = gate.name === REVIEW_GATE;
  const role = review ? REVIEW_ROLE : GATE_ROLE;
  // A review sees the task's (or, for the feature, every task's) summary and handoff; the worker adds the diff.
  const reviewed = !review ? [] : taskId ? [draft.tasks[taskId]!] : draft.order.map((id) => draft.tasks[id]!);
  draft.outbox.push({
    msgId: taskId ? coordinatorMsgId.taskGate(draft.featureId, taskId, attempt, gate.name, gate.run) : coordinatorMsgId.featureGate(draft.featureId, gate.name, gate.run),
    to: "task",
    role,
    payload: {
      type: "baton.v1.task_assigned",
      featureId: draft.featureId, taskId: taskId ?? FEATURE_GATES_TASK_ID, attempt, role,
      title: gateTitle(draft, gate.name, taskId),
      ...(review && taskId ? { instructions: draft.tasks[taskId]!.instructions } : {}),
      dependsOn: [], workspace: draft.workspace,
      feature: { title: draft.title, description: draft.description },
      handoffs: reviewed.filter((t) => t.status === "completed" || t.id === taskId).map(handoffOf),
      dispatchedAt: at, gate,
      ...(draft.git ? { checkout: gateCheckout(draft, taskId) } : {}),
      ...(review ? { review: { since: draft.submittedAt } } : {}),
    },
  });
  stampGateDispatch(draft, taskId, at);
}

/** Records when the holder's current gate run was sent (unserved.ts reports how long it waits for a worker). */
function stampGateDispatch(draft: FeatureContext, taskId: string | undefined, at: string): void {
  const holder = taskId ? draft.tasks[taskId] : undefined;
  if (holder?.verify?.current) draft.tasks[holder.id] = { ...holder, verify: { ...holder.verify, current: { ...holder.verify.current, dispatchedAt: at } } };
  else if (!taskId && draft.featureGates?.current) draft.featureGates = { ...draft.featureGates, current: { ...draft.featureGates.current, dispatchedAt: at } };
}

function gateTitle(ctx: FeatureContext, gate: string, taskId: string | undefined): string {
  if (gate === REVIEW_GATE) return `Review ${taskId ? `task ${taskId} (${ctx.tasks[taskId]!.title})` : `the feature "${ctx.title}"`}`;
  return taskId ? `gate ${gate} for task ${taskId}` : `feature gate ${gate}`;
}
