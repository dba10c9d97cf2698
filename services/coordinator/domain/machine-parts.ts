// Parts of the feature's statechart (machine.ts) that several states share, and the planning states (docs/planning.md):
// plain config objects, typed where the machine is created.
import type { BudgetMode } from "./budgets.ts";
import type { FeatureStateValue } from "./context.ts";

/**
 * `hold`: the feature is paused — results are recorded and deadlines fire, but no new task starts. `budgets`: what
 * the budget checks may do in the state (budgets.ts BudgetMode).
 */
export type Hold = { hold: boolean; budgets: BudgetMode };
export const RUN: Hold = { hold: false, budgets: "enforce" };
export const HOLD: Hold = { hold: true, budgets: "enforce" };
/** Verifying: the feature's gates run; budgets are reported, nothing is held. */
export const GATES: Hold = { hold: false, budgets: "report" };
/** Ended: late results are recorded; budgets are no longer checked. */
export const ENDED: Hold = { hold: false, budgets: "off" };

/** Worker messages are handled the same way in every state after acceptance (`hold` while paused). */
export const workerMessages = (params: Hold) => ({
  "task.started": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: "started" }],
  "task.log": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: "log" }],
  "task.progress": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: { type: "progress", params } }],
  "task.result": [{ guard: "unknownTask", actions: "rejectUnknownTask" }, { actions: { type: "result", params } }],
}) as const;

/** The answer (message.rejected) to a control verb that makes no sense in `state`. */
export const rejectIn = (state: FeatureStateValue) => ({ actions: { type: "rejectControl", params: { state } } }) as const;

/** Leaving executing or paused: a failure ends the feature; all done starts its gates, or completes it. */
export const whenTasksEnd = [
  { guard: "anyFailed", target: "failed", actions: "fail" },
  { guard: "gatesDue", target: "verifying", actions: "startGates" },
  { guard: "allCompleted", target: "completed", actions: "complete" },
] as const;

/** After the end, control verbs are answered with message.rejected. */
export const controlAfterEnd = (state: FeatureStateValue) => ({
  "feature.cancel": rejectIn(state),
  "feature.pause": rejectIn(state),
  "feature.resume": rejectIn(state),
  "feature.budget": rejectIn(state),
  "feature.rollback": rejectIn(state),
  ...planControls(state),
}) as const;

export const atOf = (event: { type: string }, fallback: string): string => ("at" in event && typeof event.at === "string" ? event.at : fallback);

/** The control verb of each control event (for message.rejected's text). */
export const CONTROL_VERBS = {
  "feature.cancel": "cancel", "feature.pause": "pause", "feature.resume": "resume", "feature.budget": "budget", "feature.rollback": "rollback",
  "plan.approve": "approve", "plan.reject": "reject", "question.answer": "answer",
} as const;
export type ControlEventType = keyof typeof CONTROL_VERBS;

/** Approve and reject outside awaitingApproval, and answers after the end: answered with message.rejected (a repeated approve is a no-op). */
export const planControls = (state: FeatureStateValue) => ({
  "plan.approve": [{ guard: "planApproved" }, rejectIn(state)],
  "plan.reject": rejectIn(state),
  "question.answer": rejectIn(state),
}) as const;

/** While the planner plans: its run is the feature's only task; once its plan is checked the feature executes, or waits for approval. */
export const PLANNING_STATE = {
  always: [
    { guard: "workspaceRejected", target: "rejected", actions: "rejectWorkspace" },
    { guard: "anyFailed", target: "failed", actions: "fail" },
    { guard: "planAwaitsApproval", target: "awaitingApproval" },
    { guard: "planReady", target: "executing" },
    { guard: "heldForBudget", target: "paused" },
  ],
  on: {
    ...workerMessages(RUN),
    "timer.fired": { actions: { type: "timer", params: RUN } },
    "task.unserved": { actions: "unserved" },
    "feature.cancel": { target: "cancelled", actions: "cancel" },
    "feature.pause": { target: "paused", actions: "pause" },
    "feature.resume": {},
    "feature.budget": { actions: { type: "budget", params: RUN } },
    "feature.rollback": rejectIn("planning"),
    ...planControls("planning"),
  },
} as const;

/** The plan is published and nothing starts until a person approves it (the workspace and baselines are prepared meanwhile). */
export const AWAITING_APPROVAL_STATE = {
  always: [
    { guard: "workspaceRejected", target: "rejected", actions: "rejectWorkspace" },
    { guard: "anyFailed", target: "failed", actions: "fail" },
  ],
  on: {
    ...workerMessages(HOLD),
    "timer.fired": { actions: { type: "timer", params: HOLD } },
    "task.unserved": { actions: "unserved" },
    "feature.cancel": { target: "cancelled", actions: "cancel" },
    "feature.pause": {},
    "feature.resume": {},
    "feature.budget": { actions: { type: "budget", params: HOLD } },
    "feature.rollback": rejectIn("awaitingApproval"),
    "plan.approve": { target: "executing", actions: { type: "approve", params: RUN } },
    "plan.reject": { target: "cancelled", actions: "rejectPlan" },
    "question.answer": { actions: { type: "answer", params: HOLD } },
  },
} as const;
