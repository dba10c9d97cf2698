// The Baton client library: everything a client (the CLI, a dashboard) does with a deployment, over the
// public protocol only. Functions take the connection and names; nothing here reads process.env.
export { emptyView, foldEvent, isTerminal } from "./feature-view.ts";
export { featureHistory, foldHistory, type HistoryOptions } from "./history.ts";
export { getFeature, listFeatures, type FeatureList, type FeatureRead, type GetFeatureOptions, type ViewSource } from "./read-model.ts";
export { awaitSubmission, publishFeature, requestSubmit, type FeatureRequestInput, type Published, type SubmissionOutcome } from "./submit.ts";
export { CONTROL_EFFECT, controlFeature, sendControl, type ControlOptions, type ControlOutcome } from "./control.ts";
export { answerQuestion, questionViews, resolveAnswer, type AnswerOutcome, type ResolvedAnswer } from "./questions.ts";
export { roleBacklogs, type RoleBacklog } from "./backlog.ts";
export { executionReport, roleMedians } from "./report.ts";
export { isFresh, liveCoordinators, liveWorkers, MISSED_BEATS, type LiveOptions } from "./workers.ts";
export { NoCoordinatorError, RemoteError } from "./errors.ts";
export { ask, DEFAULT_REQUEST_TIMEOUT_MS } from "./request.ts";
export type {
  FeatureSummary, FeatureView, ViewFeatureState, ViewGate, ViewTask, ViewTaskState,
} from "../protocol/views.ts";
export type { CoordinatorHeartbeat, WorkerHeartbeat } from "../protocol/workers.ts";
export type { StatusEvent } from "../protocol/events.ts";
export type { ControlVerb } from "../protocol/control.ts";
export type { SubmitReply } from "../protocol/feature.ts";
