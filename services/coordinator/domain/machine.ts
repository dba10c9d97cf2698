// The feature's statechart (xstate v5). Pure: actions only `assign`; outbound messages go to the outbox as
// data. The task lifecycle inside a feature is task-lifecycle.ts; the reducers are in the modules it imports.
import { assertEvent, assign, setup } from "xstate";
import { wireError, type BudgetChange, type FeatureRequest, type TaskLog, type TaskProgress, type TaskResult, type TaskStarted, type ValidationIssue, type WireError } from "../../../shared/protocol/index.ts";
import { durationMs, emptyContext, type FeatureContext, type FeatureDefaults, type FeatureStateValue } from "./context.ts";
import { allCompleted, anyFailed, failedTask } from "./dag.ts";
import { schedule } from "./dispatch.ts";
import { onTimer } from "./deadlines.ts";
import { featureGatesDue, startFeatureGates } from "./gates.ts";
import { startBaselines } from "./test-counts.ts";
import { contextFromRequest } from "./request-to-tasks.ts";
import { onLog, onProgress, onResult, onStarted } from "./results.ts";
import { emit, emitRejection, onFlushed } from "./status-events.ts";
import { cancelTasks } from "./cancel.ts";
import { onUnserved, type UnservedEvent } from "./unserved.ts";
import { enforceBudgets, pausedForBudget, type BudgetMode } from "./budgets.ts";
import { countResult } from "./usage.ts";
import { applyBudgetChange, overLimits, refuseResume } from "./budget-control.ts";
import { locksApply, startWorkspace } from "./workspace.ts";
import { endWorkspace } from "./workspace-ops.ts";
import { requestRollback, ROLLBACK_PAUSE, type RollbackEvent } from "./rollback.ts";

export type FeatureEvent =
  | { type: "feature.submit"; request: FeatureRequest; at: string; defaults?: FeatureDefaults }
  | { type: "feature.cancel"; reason?: string | undefined; by?: string | undefined; at: string; subject?: string }
  | { type: "feature.pause"; reason?: string | undefined; by?: string | undefined; at: string; subject?: string }
  | { type: "feature.resume"; by?: string | undefined; at: string; subject?: string }
  | { type: "feature.budget"; change: BudgetChange; by?: string | undefined; at: string; subject?: string }
  | { type: "timer.fired"; at: string }
  | { type: "feature.reject"; errors: ValidationIssue[]; at: string }
  | { type: "task.started"; msg: TaskStarted; at: string; subject?: string }
  | { type: "task.log"; msg: TaskLog; at: string; subject?: string }
  | { type: "task.progress"; msg: TaskProgress; at: string; subject?: string }
  | { type: "task.result"; msg: TaskResult; at: string; subject?: string }
  | { type: "message.rejected"; subject: string; taskId?: string | undefined; error: WireError; at: string }
  | { type: "outbox.flushed"; msgIds: string[] }
  | RollbackEvent
  | UnservedEvent;

export type { FeatureStateValue };

/**
 * `hold`: the feature is paused — results are recorded and deadlines fire, but no new task starts. `budgets`: what
 * the budget checks may do in the state (budgets.ts BudgetMode).
 */
type Hold = { hold: boolean; budgets: BudgetMode };
const RUN: Hold = { hold: false, budgets: "enforce" };
const HOLD: Hold = { hold: true, budgets: "enforce" };
/** Verifying: the feature's gates run; budgets are reported, nothing is held. */
const GATES: Hold = { hold: false, budgets: "report" };
/** Ended: late results are recorded; budgets are no longer checked. */
const ENDED: Hold = { hold: false, budgets: "off" };

/** Worker messages are handled the same way in every state after acceptance (`hold` while paused). */
const workerMessages = (params: Hold) => ({
  "task.started": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: "started" }],
  "task.log": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: "log" }],
  "task.progress": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: { type: "progress", params } }],
  "task.result": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: { type: "result", params } }],
}) as const;

/** The answer (message.rejected) to a control verb that makes no sense in `state`. */
const rejectIn = (state: FeatureStateValue) => ({ actions: { type: "rejectControl", params: { state } } }) as const;

/** Leaving executing or paused: a failure ends the feature; all done starts its gates, or completes it. */
const whenTasksEnd = [
  { guard: "anyFailed", target: "failed", actions: "fail" },
  { guard: "gatesDue", target: "verifying", actions: "startGates" },
  { guard: "allCompleted", target: "completed", actions: "complete" },
] as const;

/** After the end, control verbs are answered with message.rejected. */
const controlAfterEnd = (state: FeatureStateValue) => ({
  "feature.cancel": rejectIn(state),
  "feature.pause": rejectIn(state),
  "feature.resume": rejectIn(state),
  "feature.budget": rejectIn(state),
  "feature.rollback": rejectIn(state),
}) as const;

const atOf = (event: { type: string }, fallback: string): string => ("at" in event && typeof event.at === "string" ? event.at : fallback);

export const featureMachine = setup({
  types: {
    context: {} as FeatureContext,
    events: {} as FeatureEvent,
    input: {} as { featureId: string },
  },
  guards: {
    /** Every task completed and the feature's gates, if any, passed. */
    allCompleted: ({ context }) => allCompleted(context) && (!context.featureGates?.gates.length || !!context.featureGates.passed),
    anyFailed: ({ context }) => anyFailed(context) || !!context.featureGates?.failure,
    gatesDue: ({ context }) => featureGatesDue(context),
    /** A budget check or a rollback paused the feature (it published feature.paused): the machine follows. */
    heldForBudget: ({ context }) => pausedForBudget(context) || !!context.pause?.reason?.startsWith(ROLLBACK_PAUSE),
    /** The workspace is not a git repository (or could not be prepared): the feature is rejected. */
    workspaceRejected: ({ context }) => !!context.git?.rejected,
    /** A resume while a limit is still reached (the feature's, or a task's that has not ended). */
    overBudget: ({ context, event }) => event.type === "feature.resume" && overLimits(context, event.at).length > 0,
    /** A worker message for a task this feature does not have (feature-gate and baseline runs name no task). */
    unknownTask: ({ context, event }) =>
      (event.type === "task.started" || event.type === "task.log" || event.type === "task.result") &&
      !context.tasks[event.msg.taskId] && event.msg.gate?.scope !== "feature" && event.msg.gate?.scope !== "baseline" && !event.msg.op,
  },
  actions: {
    accept: assign(({ event }) => {
      assertEvent(event, "feature.submit");
      const ctx = contextFromRequest(event.request.id!, event.request, event.at, event.defaults);
      const accepted = emit(ctx, {
        kind: "feature.accepted", title: ctx.title, maxParallel: ctx.maxParallel, workspace: ctx.workspace, requestHash: ctx.requestHash,
        tasks: ctx.order.map((id) => {
          const task = ctx.tasks[id]!;
          return {
            id, role: task.role, title: task.title, dependsOn: task.dependsOn, ...(task.gates ? { gates: task.gates } : {}),
            ...(task.files?.length ? { files: task.files } : {}), ...(locksApply(ctx, task) ? { locked: true } : {}),
          };
        }),
        ...(ctx.featureGates ? { gates: ctx.featureGates.gates } : {}),
      }, event.at);
      // A git feature's workspace is prepared first (workspace.ts); the feature's test gates measure the untouched
      // workspace next; tasks wait for both (test-counts.ts).
      return schedule(startBaselines(startWorkspace(accepted, event.at), event.defaults, event.at), event.at, RUN);
    }),
    reject: assign(({ context, event }) => {
      assertEvent(event, "feature.reject");
      const ctx = { ...context, submittedAt: event.at, finishedAt: event.at, rejection: event.errors, reason: "rejected" };
      return emit(ctx, { kind: "feature.rejected", errors: event.errors }, event.at);
    }),
    started: assign(({ context, event }) => {
      assertEvent(event, "task.started");
      return onStarted(context, event.msg, event.at);
    }),
    log: assign(({ context, event }) => {
      assertEvent(event, "task.log");
      return onLog(context, event.msg, event.at);
    }),
    progress: assign(({ context, event }, params: Hold) => {
      assertEvent(event, "task.progress");
      return enforceBudgets(onProgress(context, event.msg, event.at, params), event.at, params.budgets);
    }),
    result: assign(({ context, event }, params: Hold) => {
      assertEvent(event, "task.result");
      return enforceBudgets(countResult(context, onResult(context, event.msg, event.at, params), event.msg), event.at, params.budgets);
    }),
    rejectUnknownTask: assign(({ context, event }) => {
      assertEvent(event, ["task.started", "task.log", "task.progress", "task.result"]);
      const subject = event.subject ?? `result.${context.featureId}.${event.msg.taskId}`;
      const error = wireError("UnknownTask", `feature "${context.featureId}" has no task "${event.msg.taskId}"`);
      return emitRejection(context, subject, error, event.at, event.msg.taskId);
    }),
    rejectMessage: assign(({ context, event }) => {
      assertEvent(event, "message.rejected");
      return emitRejection(context, event.subject, event.error, event.at, event.taskId);
    }),
    complete: assign(({ context, event }) => {
      const at = atOf(event, context.submittedAt);
      return endWorkspace(emit({ ...context, finishedAt: at }, { kind: "feature.completed", durationMs: durationMs(context.submittedAt, at) }, at), "completed", at);
    }),
    /** The workspace is unusable (prepare found no git repository): feature.rejected with the reason, as for an invalid request. */
    rejectWorkspace: assign(({ context, event }) => {
      const at = atOf(event, context.submittedAt);
      const errors = [{ path: "workspace", message: context.git!.rejected! }];
      return emit({ ...context, finishedAt: at, rejection: errors, reason: "rejected" }, { kind: "feature.rejected", errors }, at);
    }),
    /** `baton rollback` (rollback.ts): refused with message.rejected, or the rollback operation goes out. */
    rollback: assign(({ context, event }) => {
      assertEvent(event, "feature.rollback");
      return requestRollback(context, event);
    }),
    fail: assign(({ context, event }) => {
      const at = atOf(event, context.submittedAt);
      const failed = failedTask(context);
      const reason = failed ? `task "${failed.id}" (${failed.role}) failed: ${failed.error?.message ?? "unknown error"}` : (context.featureGates?.failure ?? "failed");
      return endWorkspace(emit({ ...context, finishedAt: at, reason }, { kind: "feature.failed", durationMs: durationMs(context.submittedAt, at), reason, taskId: failed?.id }, at), "failed", at);
    }),
    startGates: assign(({ context, event }) => startFeatureGates(context, atOf(event, new Date(0).toISOString()))),
    timer: assign(({ context, event }, params: Hold) => {
      assertEvent(event, "timer.fired");
      return enforceBudgets(onTimer(context, event.at, params), event.at, params.budgets);
    }),
    cancel: assign(({ context, event }) => {
      assertEvent(event, "feature.cancel");
      const ctx = cancelTasks({ ...context, finishedAt: event.at, reason: event.reason ?? "cancelled" });
      return endWorkspace(emit(ctx, { kind: "feature.cancelled", durationMs: durationMs(context.submittedAt, event.at), reason: event.reason, by: event.by }, event.at), "cancelled", event.at);
    }),
    pause: assign(({ context, event }) => {
      assertEvent(event, "feature.pause");
      return emit(context, { kind: "feature.paused", reason: event.reason, by: event.by }, event.at);
    }),
    resume: assign(({ context, event }) => {
      assertEvent(event, "feature.resume");
      return schedule(emit(context, { kind: "feature.resumed", by: event.by }, event.at), event.at, RUN);
    }),
    /** New limits (`baton budget`): applied, budget.changed published, and the budgets checked at once. */
    budget: assign(({ context, event }, params: Hold) => {
      assertEvent(event, "feature.budget");
      return applyBudgetChange(context, event, params.budgets);
    }),
    /** A resume while over a limit: refused with message.rejected naming the limit and the `baton budget` remedy. */
    refuseResume: assign(({ context, event }) => {
      assertEvent(event, "feature.resume");
      return refuseResume(context, event.at, event.subject);
    }),
    /** Control verbs that make no sense in a finished feature are answered, not silently dropped. */
    rejectControl: assign(({ context, event }, { state }: { state: FeatureStateValue }) => {
      assertEvent(event, ["feature.cancel", "feature.pause", "feature.resume", "feature.budget", "feature.rollback"]);
      const verb = event.type.slice("feature.".length);
      const subject = event.subject ?? `control.${context.featureId}.${verb}`;
      const error = wireError("InvalidState", `feature "${context.featureId}" is ${state}; cannot ${verb} it`);
      return emitRejection(context, subject, error, event.at);
    }),
    /** The runtime found no live worker for a run that waits for one (unserved.ts; stale runs change nothing). */
    unserved: assign(({ context, event }) => {
      assertEvent(event, "task.unserved");
      return onUnserved(context, event);
    }),
    flushed: assign(({ context, event }) => {
      assertEvent(event, "outbox.flushed");
      return onFlushed(context, event.msgIds);
    }),
  },
}).createMachine({
  id: "feature",
  initial: "received",
  context: ({ input }) => emptyContext(input.featureId),
  // Handled in every state: publishing is confirmed whatever the feature's state.
  on: { "outbox.flushed": { actions: "flushed" }, "message.rejected": { actions: "rejectMessage" } },
  states: {
    received: {
      on: {
        "feature.submit": { target: "executing", actions: "accept" },
        "feature.reject": { target: "rejected", actions: "reject" },
      },
    },
    executing: {
      // a budget check that reached a limit published feature.paused: follow it
      always: [{ guard: "workspaceRejected", target: "rejected", actions: "rejectWorkspace" }, ...whenTasksEnd, { guard: "heldForBudget", target: "paused" }],
      on: {
        ...workerMessages(RUN),
        "feature.rollback": { actions: "rollback" },
        "timer.fired": { actions: { type: "timer", params: RUN } },
        "task.unserved": { actions: "unserved" },
        "feature.cancel": { target: "cancelled", actions: "cancel" },
        "feature.pause": { target: "paused", actions: "pause" },
        "feature.resume": {}, // already running: a duplicate or late resume changes nothing
        "feature.budget": { actions: { type: "budget", params: RUN } },
      },
    },
    // Paused: results are still recorded and deadlines still fire; nothing new is dispatched.
    paused: {
      always: [{ guard: "workspaceRejected", target: "rejected", actions: "rejectWorkspace" }, ...whenTasksEnd],
      on: {
        ...workerMessages(HOLD),
        "feature.rollback": { actions: "rollback" },
        "timer.fired": { actions: { type: "timer", params: HOLD } },
        "task.unserved": { actions: "unserved" },
        "feature.cancel": { target: "cancelled", actions: "cancel" },
        "feature.pause": {},
        "feature.resume": [{ guard: "overBudget", actions: "refuseResume" }, { target: "executing", actions: "resume" }],
        "feature.budget": { actions: { type: "budget", params: HOLD } },
      },
    },
    // Every task completed; the feature's gates run one after another on qa workers. Pause has nothing to
    // hold here (no task starts but fix tasks), so it is a no-op; cancel ends the feature.
    verifying: {
      always: [
        { guard: "anyFailed", target: "failed", actions: "fail" },
        { guard: "allCompleted", target: "completed", actions: "complete" },
        // a rollback undid tasks: the feature's gates wait for them again
        { guard: "heldForBudget", target: "paused" },
      ],
      on: {
        ...workerMessages(GATES),
        "feature.rollback": { actions: "rollback" },
        "timer.fired": { actions: { type: "timer", params: GATES } },
        "task.unserved": { actions: "unserved" },
        "feature.cancel": { target: "cancelled", actions: "cancel" },
        "feature.pause": {},
        "feature.resume": {},
        "feature.budget": { actions: { type: "budget", params: GATES } },
      },
    },
    // Terminal states are not xstate `final` states: late worker messages are still recorded
    // (a task that was running when another failed reports its result) and the outbox still drains.
    completed: { on: { ...workerMessages(ENDED), ...controlAfterEnd("completed") } },
    failed: { on: { ...workerMessages(ENDED), ...controlAfterEnd("failed") } },
    cancelled: { on: { ...workerMessages(ENDED), ...controlAfterEnd("cancelled"), "feature.cancel": {} } },
    // A rejected feature has no tasks: every worker message for it is answered with message.rejected.
    rejected: { on: { ...workerMessages(ENDED), ...controlAfterEnd("rejected") } },
  },
});

export type FeatureMachine = typeof featureMachine;
