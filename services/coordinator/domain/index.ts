// The pure feature logic: the statechart, its context, the task lifecycle, dispatch, results, gates, failure
// policies, deadlines, the read-model projection and the pure `step`. No I/O, no clocks.
export { cancelTasks } from "./cancel.ts";
export { DEFAULTS, TERMINAL_STATES, emptyContext, type EffectKind, type FeatureContext, type FeatureDefaults, type FeatureGates, type FeatureStateValue, type GateProgress, type OutboxEntry, type TaskState } from "./context.ts";
export { nextDeadline, onTimer, wakeUpAt } from "./deadlines.ts";
export { FEATURE_GATES_TASK_ID, GATE_ROLE, REVIEW_ROLE, schedule } from "./dispatch.ts";
export { DEFAULT_REVIEW_ROUNDS, judgeGateResult, type GateDecision, type GateHolder } from "./gates.ts";
export { featureMachine, type FeatureEvent, type FeatureMachine } from "./machine.ts";
export { MAX_NOTICES, projectSummary, projectView } from "./read-model.ts";
export { contextFromRequest } from "./request-to-tasks.ts";
export { persist, restore, step, view, type FeatureSnapshot, type Stepped } from "./step.ts";
export { STORED_VERSION, UnreadableFeatureError, migrateV1Context, upgradeStored, type StoredFeature } from "./stored.ts";
export { BASELINE_TASK_ID, checkTestCount, startBaselines } from "./test-counts.ts";
export { ENDED_STATES, HOLDS_SLOT, IllegalTaskMove, TASK_MOVES, TASK_STATUSES, TASK_TRANSITIONS, WORKING, moveTask, nextStatus, type TaskMove, type TaskStatus } from "./task-lifecycle.ts";
