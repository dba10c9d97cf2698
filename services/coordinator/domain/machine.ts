// The feature's statechart (xstate v5). Pure: actions only `assign`; outbound messages go to the outbox as
// data. The task lifecycle inside a feature is task-lifecycle.ts; the reducers are in the modules it imports.
import { assertEvent, assign, setup } from "xstate";
import { wireError } from "../../../shared/protocol/index.ts";
import { durationMs, emptyContext, type FeatureContext, type FeatureStateValue } from "./context.ts";
import { allCompleted, anyFailed, failedTask } from "./dag.ts";
import { schedule } from "./dispatch.ts";
import { onTimer } from "./deadlines.ts";
import { featureGatesDue, startFeatureGates } from "./gates.ts";
import { startBaselines } from "./test-counts.ts";
import { contextFromRequest } from "./request-to-tasks.ts";
import { onLog, onProgress, onResult, onStarted } from "./results.ts";
import { emit, emitRejection, onFlushed } from "./status-events.ts";
import { cancelFeature } from "./cancel.ts";
import { onUnserved } from "./unserved.ts";
import { enforceBudgets, pausedForBudget, type BudgetMode } from "./budgets.ts";
import { countResult } from "./usage.ts";
import { applyBudgetChange, overLimits, raiseReached, refuseResume } from "./budget-control.ts";
import { startWorkspace } from "./workspace.ts";
import { endWorkspace } from "./workspace-ops.ts";
import { refuseResumeWhileRollingBack, requestRollback, ROLLBACK_PAUSE } from "./rollback.ts";
import { approvePlan, awaitsApproval, publishPlan, rejectPlan, taskSummaryOf } from "./planning.ts";
import { budgetChoice, onAnswer, resolveBudgetQuestion } from "./questions.ts";
import type { FeatureEvent } from "./machine-events.ts";
import { atOf, AWAITING_APPROVAL_STATE, CONTROL_VERBS, controlAfterEnd, planControls, ENDED, GATES, HOLD, PLANNING_STATE, RUN, whenTasksEnd, workerMessages, type ControlEventType, type Hold } from "./machine-parts.ts";

export type { FeatureEvent };

export type { FeatureStateValue };


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
    /** `plan: auto`: the planner plans first. */
    plansFirst: ({ event }) => event.type === "feature.submit" && event.request.plan === "auto",
    /** The request's own tasks (or its template's) wait for a person's approval. */
    needsApproval: ({ event }) => event.type === "feature.submit" && (event.request.approval ?? event.defaults?.approval) === "required",
    /** The plan is known and waits for approval / the plan is known. */
    planAwaitsApproval: ({ context }) => awaitsApproval(context),
    planReady: ({ context }) => !!context.planning?.ready,
    planApproved: ({ context }) => !!context.planning?.approved,
    /** An answer to the open budget question: cancel the feature, or raise the limits reached and go on. */
    budgetCancel: ({ context, event }) => event.type === "question.answer" && budgetChoice(context, event) === "cancel",
    budgetContinue: ({ context, event }) => event.type === "question.answer" && budgetChoice(context, event) === "continue",
    /** A resume while a limit is still reached (the feature's, or a task's that has not ended). */
    overBudget: ({ context, event }) => event.type === "feature.resume" && overLimits(context, event.at).length > 0,
    /** A resume while a rollback operation is under way (its result resets the undone tasks). */
    rollingBack: ({ context, event }) => event.type === "feature.resume" && context.git?.rollback !== undefined,
    /** A worker message for a task this feature does not have (feature-gate and baseline runs name no task). */
    unknownTask: ({ context, event }) =>
      (event.type === "task.started" || event.type === "task.log" || event.type === "task.result") &&
      !context.tasks[event.msg.taskId] && event.msg.gate?.scope !== "feature" && event.msg.gate?.scope !== "baseline" && !event.msg.op,
  },
  actions: {
    accept: assign(({ event }) => {
      assertEvent(event, "feature.submit");
      const ctx = contextFromRequest(event.request.id!, event.request, event.at, event.defaults);
      const waits = awaitsApproval(ctx);
      const accepted = emit(ctx, {
        kind: "feature.accepted", title: ctx.title, maxParallel: ctx.maxParallel, workspace: ctx.workspace, requestHash: ctx.requestHash,
        tasks: ctx.order.map((id) => taskSummaryOf(ctx, ctx.tasks[id]!)),
        ...(ctx.featureGates ? { gates: ctx.featureGates.gates } : {}),
        ...(ctx.planning?.source === "planner" ? { planning: { goal: ctx.planning.goal ?? ctx.title } } : {}),
        ...(ctx.planning?.approval === "required" ? { approval: "required" as const } : {}),
        ...(ctx.planning?.template ? { template: ctx.planning.template } : {}),
        ...(ctx.streams ? { streams: ctx.streams } : {}),
      }, event.at);
      // A git feature's workspace is prepared first (workspace.ts); the feature's test gates measure the untouched
      // workspace next; tasks wait for both (test-counts.ts).
      const started = startBaselines(startWorkspace(accepted, event.at), event.defaults, event.at);
      // a plan that waits for approval is published now, and nothing starts until a person approves it
      return waits ? publishPlan(started, event.at) : schedule(ctx.planning?.source === "template" ? publishPlan(started, event.at) : started, event.at, RUN);
    }),
    approve: assign(({ context, event }, params: Hold) => {
      assertEvent(event, "plan.approve");
      return approvePlan(context, event, params);
    }),
    rejectPlan: assign(({ context, event }) => {
      assertEvent(event, "plan.reject");
      return cancelFeature(rejectPlan(context, event), event.at, { reason: `plan rejected${event.reason ? `: ${event.reason}` : ""}`, by: event.by });
    }),
    answer: assign(({ context, event }, params: Hold) => {
      assertEvent(event, "question.answer");
      return onAnswer(context, event, params);
    }),
    /** The budget question answered "continue": the limits reached are raised by half and the feature resumes. */
    continueByAnswer: assign(({ context, event }) => {
      assertEvent(event, "question.answer");
      const raised = raiseReached(onAnswer(context, event, HOLD), event.at, event.by);
      return schedule(emit(raised, { kind: "feature.resumed", by: event.by }, event.at), event.at, RUN);
    }),
    cancelByAnswer: assign(({ context, event }) => {
      assertEvent(event, "question.answer");
      return cancelFeature(onAnswer(context, event, HOLD), event.at, { reason: `cancelled at its budget (${event.questionId} answered "cancel")`, by: event.by });
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
      return cancelFeature(context, event.at, event);
    }),
    pause: assign(({ context, event }) => {
      assertEvent(event, "feature.pause");
      return emit(context, { kind: "feature.paused", reason: event.reason, by: event.by }, event.at);
    }),
    resume: assign(({ context, event }) => {
      assertEvent(event, "feature.resume");
      return schedule(resolveBudgetQuestion(emit(context, { kind: "feature.resumed", by: event.by }, event.at), event.at, event.by), event.at, RUN);
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
    refuseResumeRollingBack: assign(({ context, event }) => {
      assertEvent(event, "feature.resume");
      return refuseResumeWhileRollingBack(context, event);
    }),
    /** Control verbs that make no sense in a finished feature are answered, not silently dropped. */
    rejectControl: assign(({ context, event }, { state }: { state: FeatureStateValue }) => {
      assertEvent(event, ["feature.cancel", "feature.pause", "feature.resume", "feature.budget", "feature.rollback", "plan.approve", "plan.reject", "question.answer"]);
      const verb = CONTROL_VERBS[event.type as ControlEventType];
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
        "feature.submit": [
          { guard: "plansFirst", target: "planning", actions: "accept" },
          { guard: "needsApproval", target: "awaitingApproval", actions: "accept" },
          { target: "executing", actions: "accept" },
        ],
        "feature.reject": { target: "rejected", actions: "reject" },
      },
    },
    planning: PLANNING_STATE,
    awaitingApproval: AWAITING_APPROVAL_STATE,
    executing: {
      // a budget check that reached a limit published feature.paused: follow it; a plan checked after a resume may wait for approval
      always: [{ guard: "workspaceRejected", target: "rejected", actions: "rejectWorkspace" }, { guard: "planAwaitsApproval", target: "awaitingApproval" }, ...whenTasksEnd, { guard: "heldForBudget", target: "paused" }],
      on: {
        ...workerMessages(RUN),
        ...planControls("executing"),
        "question.answer": { actions: { type: "answer", params: RUN } },
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
        ...planControls("paused"),
        "question.answer": [
          { guard: "budgetCancel", target: "cancelled", actions: "cancelByAnswer" },
          { guard: "budgetContinue", target: "executing", actions: "continueByAnswer" },
          { actions: { type: "answer", params: HOLD } },
        ],
        "feature.rollback": { actions: "rollback" },
        "timer.fired": { actions: { type: "timer", params: HOLD } },
        "task.unserved": { actions: "unserved" },
        "feature.cancel": { target: "cancelled", actions: "cancel" },
        "feature.pause": {},
        "feature.resume": [{ guard: "rollingBack", actions: "refuseResumeRollingBack" }, { guard: "overBudget", actions: "refuseResume" }, { target: "executing", actions: "resume" }],
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
        ...planControls("verifying"),
        "question.answer": { actions: { type: "answer", params: GATES } },
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
