// Plans (docs/planning.md): a feature's tasks come from its request, a template (expanded before acceptance), or the
// planner (`plan: auto`): the planner's run is the feature's first task; its plan is checked (shared/planning) and
// either becomes the feature's tasks or goes back to the planner with every error, a bounded number of times. A plan
// may wait for a person's approval. Pure reducers on the context.
import { catalogueFrom, checkPlan, goalOf } from "../../../shared/planning/index.ts";
import { PLANNER_ROLE, PLANNER_TASK_ID, wireError, type FeatureRequest, type PlanningBrief, type TaskResult, type TaskSummary, type ValidationIssue } from "../../../shared/protocol/index.ts";
import { DEFAULTS, durationMs, editable, type FeatureContext, type FeatureDefaults, type TaskState } from "./context.ts";
import { scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import type { PlannerKit, PlanningState } from "./planning-state.ts";
import { tasksFromRequest } from "./request-to-tasks.ts";
import { emitInto } from "./status-events.ts";
import { moveTask } from "./task-lifecycle.ts";
import { startBaselines } from "./test-counts.ts";
import { locksApply } from "./workspace.ts";

/** A previous plan larger than this (JSON) is not sent back to the planner whole: only its errors are. */
const PREVIOUS_PLAN_CHARS = 64 * 1024;

/** The kit of a feature accepted without one (a coordinator with no planning configuration, or a test). */
const EMPTY_KIT: PlannerKit = { templates: [], rules: [], gates: [], maxAttempts: 3 };

/** What the feature keeps about its plan; undefined when its tasks are the request's own and need no approval. */
export function planningFromRequest(req: FeatureRequest, defaults: FeatureDefaults): PlanningState | undefined {
  const approval = req.approval ?? defaults.approval ?? "none";
  if (req.plan === "auto") {
    const { tasks: _tasks, ...base } = req;
    return { source: "planner", approval, goal: goalOf(req), ready: false, base, kit: defaults.planner ?? EMPTY_KIT };
  }
  if (req.template) return { source: "template", approval, template: req.template, ready: true, ...(defaults.expansionNotes?.length ? { notes: defaults.expansionNotes } : {}) };
  return approval === "required" ? { source: "request", approval, ready: true } : undefined;
}

/** A `plan: auto` feature's only task at first: the planner's run. */
export function plannerTasks(req: FeatureRequest, defaults: FeatureDefaults): { tasks: Record<string, TaskState>; order: string[] } {
  const task: TaskState = {
    id: PLANNER_TASK_ID, role: PLANNER_ROLE, title: `Plan: ${req.title}`, instructions: goalOf(req), dependsOn: [], status: "blocked", attempt: 0,
    timeoutSeconds: defaults.taskTimeoutSeconds, planner: true, ...(req.onFailure?.retry ? { policy: { retry: req.onFailure.retry, then: "fail" } } : {}),
  };
  return { tasks: { [task.id]: task }, order: [task.id] };
}

/** What the planner's run is given: the goal, the kit, and the previous plan with every error in it. */
export function plannerBrief(ctx: FeatureContext): PlanningBrief {
  const planning = ctx.planning!;
  const kit = planning.kit ?? EMPTY_KIT;
  return {
    goal: planning.goal ?? ctx.title, attempt: (planning.invalid ?? 0) + 1, maxAttempts: kit.maxAttempts,
    templates: kit.templates, rules: kit.rules, gates: kit.gates, ...(kit.roles ? { roles: kit.roles } : {}),
    ...(planning.previous ? { previous: planning.previous } : {}),
  };
}

/** Whether the plan is known and waits for a person. */
export const awaitsApproval = (ctx: FeatureContext): boolean => !!ctx.planning?.ready && ctx.planning.approval === "required" && !ctx.planning.approved;

/**
 * The planner's work ended with a result (completed): its plan is checked; a valid one becomes the feature's tasks
 * (plan.ready), an invalid one goes back to the planner with every error (plan.invalid), or — no attempt left — the
 * planner's task fails PLAN_INVALID with all of them (and the feature with it).
 */
export function onPlannerResult(draft: FeatureContext, task: TaskState, msg: TaskResult, at: string, opts: ScheduleOptions): void {
  const planning = draft.planning!;
  const kit = planning.kit ?? EMPTY_KIT;
  const check = msg.plan === undefined
    ? { ok: false as const, errors: [{ path: "plan", message: 'no plan: end your final message with a fenced json block { "plan": { … } } (or write it to $BATON_RESULT_FILE)' }] }
    : checkPlan(msg.plan, { catalogue: catalogueFrom(kit.templates, kit.rules), gates: kit.gates, roles: kit.roles, roleDefaults: kit.roleDefaults, base: planning.base ?? { title: draft.title } });
  if (check.ok) {
    acceptPlan(draft, task, check.request, { notes: check.notes, summary: check.summary ?? msg.summary }, at, opts);
    return;
  }
  const invalid = (planning.invalid ?? 0) + 1;
  const willRetry = invalid < kit.maxAttempts;
  emitInto(draft, { kind: "plan.invalid", attempt: invalid, errors: check.errors, willRetry }, at);
  const previousPlan = JSON.stringify(msg.plan ?? null).length <= PREVIOUS_PLAN_CHARS ? (msg.plan ?? null) : "(the plan was too large to send back; fix the errors listed)";
  draft.planning = { ...planning, invalid, errors: check.errors, previous: { plan: previousPlan, errors: check.errors } };
  const ended = { finishedAt: msg.finishedAt, deadlineAt: undefined, session: msg.session ?? task.session };
  if (willRetry) {
    draft.tasks[task.id] = moveTask(task, "requeue", ended);
    scheduleInto(draft, at, opts);
    return;
  }
  const error = wireError("PlanInvalid", `the plan was still invalid after ${invalid} attempt(s): ${describeErrors(check.errors)}`, check.errors);
  draft.tasks[task.id] = moveTask(task, "fail", { ...ended, error });
  draft.tasks[task.id] = { ...draft.tasks[task.id]!, finishedAt: at };
  emitInto(draft, { kind: "task.failed", taskId: task.id, role: task.role, attempt: task.attempt, workerId: msg.workerId, error, durationMs: durationMs(task.startedAt, at) }, at);
}

function describeErrors(errors: readonly ValidationIssue[]): string {
  return errors.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
}

/** A checked plan: the planner's task completes, the plan's tasks join the feature, plan.ready; they start now unless approval is required. */
function acceptPlan(draft: FeatureContext, task: TaskState, request: FeatureRequest, said: { notes: string[]; summary?: string | undefined }, at: string, opts: ScheduleOptions): void {
  const planning = draft.planning!;
  const kit = planning.kit;
  draft.tasks[task.id] = moveTask(task, "complete", { summary: said.summary, finishedAt: at, deadlineAt: undefined });
  emitInto(draft, { kind: "task.completed", taskId: task.id, role: task.role, attempt: task.attempt, workerId: task.workerId ?? "planner", durationMs: durationMs(task.startedAt, at), summary: said.summary }, at);
  const defaults: FeatureDefaults = { ...DEFAULTS, taskTimeoutSeconds: task.timeoutSeconds };
  const { tasks, order } = tasksFromRequest(request, defaults, draft.order);
  Object.assign(draft.tasks, tasks);
  draft.order = [...draft.order, ...order];
  if (request.gates?.length && !draft.featureGates) draft.featureGates = { gates: [...request.gates] };
  if (request.streams && Object.keys(request.streams).length) draft.streams = request.streams;
  if (request.onFailure && !draft.policy) draft.policy = request.onFailure;
  draft.planning = {
    ...planning, ready: true, readyAt: at, base: undefined, kit: undefined, previous: undefined,
    ...(request.template ? { template: request.template } : {}),
    ...(said.summary ? { summary: said.summary } : {}), ...(said.notes.length ? { notes: said.notes } : {}),
  };
  emitPlanReady(draft, at);
  // the plan's test gates are measured on the untouched workspace before its tasks run (test-counts.ts)
  Object.assign(draft, startBaselines(draft, { ...DEFAULTS, testGates: kit?.testGates }, at));
  if (!awaitsApproval(draft)) scheduleInto(draft, at, opts);
}

/** plan.ready: every task of the plan in order, where it came from, and whether it waits for approval. */
export function emitPlanReady(draft: FeatureContext, at: string): void {
  const planning = draft.planning!;
  const tasks = draft.order.filter((id) => !draft.tasks[id]!.planner).map((id) => taskSummaryOf(draft, draft.tasks[id]!));
  emitInto(draft, {
    kind: "plan.ready", source: planning.source, tasks, approval: planning.approval,
    ...(planning.template ? { template: planning.template } : {}), ...(planning.summary ? { summary: planning.summary } : {}),
    ...(draft.featureGates ? { gates: draft.featureGates.gates } : {}), ...(draft.streams ? { streams: draft.streams } : {}),
    ...(planning.notes?.length ? { notes: planning.notes } : {}), ...(planning.source === "planner" ? { attempt: (planning.invalid ?? 0) + 1 } : {}),
  }, at);
}

/** plan.ready for a plan known at acceptance (a template's, or a request that needs approval). */
export function publishPlan(ctx: FeatureContext, at: string): FeatureContext {
  const draft = editable(ctx);
  emitPlanReady(draft, at);
  return draft;
}

/** A task as feature.accepted and plan.ready list it. */
export function taskSummaryOf(ctx: FeatureContext, task: TaskState): TaskSummary {
  return {
    id: task.id, role: task.role, title: task.title, dependsOn: task.dependsOn, ...(task.gates ? { gates: task.gates } : {}),
    ...(task.files?.length ? { files: task.files } : {}), ...(locksApply(ctx, task) ? { locked: true } : {}),
    ...(task.stream ? { stream: task.stream } : {}), ...(task.kind ? { kind: task.kind } : {}), ...(task.streamGate ? { streamGate: true } : {}),
  };
}

export interface PlanDecision {
  by?: string | undefined;
  reason?: string | undefined;
  at: string;
  subject?: string | undefined;
}

/** `baton approve`: recorded (who, when), plan.approved, and the tasks start. */
export function approvePlan(ctx: FeatureContext, event: PlanDecision, opts: ScheduleOptions): FeatureContext {
  const draft = editable(ctx);
  draft.planning = { ...ctx.planning!, approved: { at: event.at, ...(event.by ? { by: event.by } : {}) } };
  emitInto(draft, { kind: "plan.approved", ...(event.by ? { by: event.by } : {}) }, event.at);
  scheduleInto(draft, event.at, opts);
  return draft;
}

/** `baton reject`: recorded and plan.rejected; machine.ts cancels the feature next. */
export function rejectPlan(ctx: FeatureContext, event: PlanDecision): FeatureContext {
  const draft = editable(ctx);
  draft.planning = { ...ctx.planning!, rejected: { at: event.at, ...(event.by ? { by: event.by } : {}), ...(event.reason ? { reason: event.reason } : {}) } };
  emitInto(draft, { kind: "plan.rejected", ...(event.by ? { by: event.by } : {}), ...(event.reason ? { reason: event.reason } : {}) }, event.at);
  return draft;
}
