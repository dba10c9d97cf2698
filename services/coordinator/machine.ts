// The feature actor (xstate v5). Pure: it never does I/O; outbound messages are appended to the outbox.
import { assertEvent, assign, setup } from "xstate";
import type { FeatureRequest, TaskLog, TaskResult, TaskStarted, ValidationIssue, WireError } from "../../shared/protocol/index.ts";
import { contextFromRequest, durationMs, emit, emptyContext, type FeatureContext, type FeatureDefaults } from "./model.ts";
import { allCompleted, anyFailed, cancelTasks, failedTask, featureGatesDue, onFlushed, onLog, onResult, onStarted, onTimer, schedule, startFeatureGates } from "./scheduling.ts";

export type FeatureEvent =
  | { type: "feature.submit"; request: FeatureRequest; at: string; defaults?: FeatureDefaults }
  | { type: "feature.cancel"; reason?: string | undefined; by?: string | undefined; at: string; subject?: string }
  | { type: "feature.pause"; reason?: string | undefined; by?: string | undefined; at: string; subject?: string }
  | { type: "feature.resume"; by?: string | undefined; at: string; subject?: string }
  | { type: "timer.fired"; at: string }
  | { type: "feature.reject"; errors: ValidationIssue[]; at: string }
  | { type: "task.started"; msg: TaskStarted; at: string; subject?: string }
  | { type: "task.log"; msg: TaskLog; at: string; subject?: string }
  | { type: "task.result"; msg: TaskResult; at: string; subject?: string }
  | { type: "message.rejected"; subject: string; taskId?: string | undefined; error: WireError; at: string }
  | { type: "outbox.flushed"; msgIds: string[] };

/** States a feature can be in; `received` exists only until its first event. */
export type FeatureStateValue = "received" | "executing" | "paused" | "verifying" | "completed" | "failed" | "cancelled" | "rejected";

/** Worker messages are handled the same way in every state after acceptance. */
const workerMessages = {
  "task.started": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: "started" }],
  "task.log": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: "log" }],
  "task.result": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: "result" }],
} as const;

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
}) as const;

export const featureMachine = setup({
  types: {
    context: {} as FeatureContext,
    events: {} as FeatureEvent,
    input: {} as { featureId: string },
  },
  guards: {
    /** Every task completed and the feature's gates, if any, passed. */
    allCompleted: ({ context }) => allCompleted(context) && (!context.gates?.length || !!context.gatesPassed),
    anyFailed: ({ context }) => anyFailed(context) || !!context.gateFailure,
    gatesDue: ({ context }) => featureGatesDue(context),
    /** A worker message for a task this feature does not have (feature-gate runs name no task). */
    unknownTask: ({ context, event }) =>
      (event.type === "task.started" || event.type === "task.log" || event.type === "task.result") &&
      !context.tasks[event.msg.taskId] && event.msg.gate?.scope !== "feature",
  },
  actions: {
    accept: assign(({ event }) => {
      assertEvent(event, "feature.submit");
      const ctx = contextFromRequest(event.request.id!, event.request, event.at, event.defaults);
      const accepted = emit(ctx, {
        kind: "feature.accepted", title: ctx.title, maxParallel: ctx.maxParallel, workspace: ctx.workspace,
        tasks: ctx.order.map((id) => {
          const t = ctx.tasks[id]!;
          return { id, role: t.role, title: t.title, dependsOn: t.dependsOn, ...(t.gates ? { gates: t.gates } : {}) };
        }),
        ...(ctx.gates ? { gates: ctx.gates } : {}),
      }, event.at);
      return schedule(accepted, event.at);
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
    result: assign(({ context, event }) => {
      assertEvent(event, "task.result");
      return onResult(context, event.msg, event.at);
    }),
    rejectUnknownTask: assign(({ context, event }) => {
      assertEvent(event, ["task.started", "task.log", "task.result"]);
      return emit(context, {
        kind: "message.rejected", subject: event.subject ?? `result.${context.featureId}.${event.msg.taskId}`, taskId: event.msg.taskId,
        error: { name: "UnknownTask", message: `feature "${context.featureId}" has no task "${event.msg.taskId}"`, code: "UNKNOWN_TASK" },
      }, event.at);
    }),
    rejectMessage: assign(({ context, event }) => {
      assertEvent(event, "message.rejected");
      return emit(context, { kind: "message.rejected", subject: event.subject, taskId: event.taskId, error: event.error }, event.at);
    }),
    complete: assign(({ context, event }) => {
      const at = "at" in event ? event.at : context.submittedAt;
      return emit({ ...context, finishedAt: at }, { kind: "feature.completed", durationMs: durationMs(context.submittedAt, at) }, at);
    }),
    fail: assign(({ context, event }) => {
      const at = "at" in event ? event.at : context.submittedAt;
      const t = failedTask(context);
      const reason = t ? `task "${t.id}" (${t.role}) failed: ${t.error?.message ?? "unknown error"}` : (context.gateFailure ?? "failed");
      return emit({ ...context, finishedAt: at, reason }, { kind: "feature.failed", durationMs: durationMs(context.submittedAt, at), reason, taskId: t?.id }, at);
    }),
    startGates: assign(({ context, event }) => startFeatureGates(context, "at" in event ? event.at : new Date(0).toISOString())),
    timer: assign(({ context, event }) => {
      assertEvent(event, "timer.fired");
      return onTimer(context, event.at);
    }),
    cancel: assign(({ context, event }) => {
      assertEvent(event, "feature.cancel");
      const ctx = cancelTasks({ ...context, finishedAt: event.at, reason: event.reason ?? "cancelled" });
      return emit(ctx, { kind: "feature.cancelled", durationMs: durationMs(context.submittedAt, event.at), reason: event.reason, by: event.by }, event.at);
    }),
    pause: assign(({ context, event }) => {
      assertEvent(event, "feature.pause");
      return emit({ ...context, paused: true }, { kind: "feature.paused", reason: event.reason, by: event.by }, event.at);
    }),
    resume: assign(({ context, event }) => {
      assertEvent(event, "feature.resume");
      return schedule(emit({ ...context, paused: false }, { kind: "feature.resumed", by: event.by }, event.at), event.at);
    }),
    /** Control verbs that make no sense in a finished feature are answered, not silently dropped. */
    rejectControl: assign(({ context, event }, { state }: { state: FeatureStateValue }) => {
      assertEvent(event, ["feature.cancel", "feature.pause", "feature.resume"]);
      const verb = event.type.slice("feature.".length);
      return emit(context, {
        kind: "message.rejected", subject: event.subject ?? `control.${context.featureId}.${verb}`,
        error: { name: "InvalidState", code: "INVALID_STATE", message: `feature "${context.featureId}" is ${state}; cannot ${verb} it` },
      }, event.at);
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
      always: whenTasksEnd,
      on: {
        ...workerMessages,
        "timer.fired": { actions: "timer" },
        "feature.cancel": { target: "cancelled", actions: "cancel" },
        "feature.pause": { target: "paused", actions: "pause" },
        "feature.resume": {}, // already running: a duplicate or late resume changes nothing
      },
    },
    // Paused: results are still recorded and deadlines still fire; nothing new is dispatched.
    paused: {
      always: whenTasksEnd,
      on: {
        ...workerMessages,
        "timer.fired": { actions: "timer" },
        "feature.cancel": { target: "cancelled", actions: "cancel" },
        "feature.pause": {},
        "feature.resume": { target: "executing", actions: "resume" },
      },
    },
    // Every task completed; the feature's gates run one after another on qa workers. Pause has nothing to
    // hold here (no task starts), so it is a no-op; cancel ends the feature.
    verifying: {
      always: [
        { guard: "anyFailed", target: "failed", actions: "fail" },
        { guard: "allCompleted", target: "completed", actions: "complete" },
      ],
      on: {
        ...workerMessages,
        "timer.fired": { actions: "timer" },
        "feature.cancel": { target: "cancelled", actions: "cancel" },
        "feature.pause": {},
        "feature.resume": {},
      },
    },
    // Terminal states are not xstate `final` states: late worker messages are still recorded
    // (a task that was running when another failed reports its result) and the outbox still drains.
    completed: { on: { ...workerMessages, ...controlAfterEnd("completed") } },
    failed: { on: { ...workerMessages, ...controlAfterEnd("failed") } },
    cancelled: { on: { ...workerMessages, "feature.cancel": {}, "feature.pause": rejectIn("cancelled"), "feature.resume": rejectIn("cancelled") } },
    // A rejected feature has no tasks: every worker message for it is answered with message.rejected.
    rejected: { on: { ...workerMessages, ...controlAfterEnd("rejected") } },
  },
});

export type FeatureMachine = typeof featureMachine;
