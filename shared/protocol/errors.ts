// The catalogue of wire error codes: every error that crosses a process boundary has one name and one code,
// with one meaning each. Clients branch on `code` (or `name`); docs/protocol.md lists the same table.
import type { WireError } from "./common.ts";

/** name → { code, meaning }. Adding an error means adding a row here (a test checks docs/protocol.md lists it). */
export const WIRE_ERRORS = {
  ProtocolError: { code: "PROTOCOL", meaning: "a message (or an executor's result file) failed validation" },
  Rejected: { code: "REJECTED", meaning: "an invalid submission reused the id of a feature that already exists; the feature is untouched" },
  UnknownFeature: { code: "UNKNOWN_FEATURE", meaning: "a message names a feature the coordinators do not have" },
  UnknownTask: { code: "UNKNOWN_TASK", meaning: "a worker message names a task the feature does not have" },
  InvalidState: { code: "INVALID_STATE", meaning: "a control verb that makes no sense in the feature's state (e.g. pause a completed feature)" },
  TaskFailed: { code: "TASK_FAILED", meaning: "the worker reported the task failed without saying why" },
  Deadline: { code: "DEADLINE", meaning: "the coordinator had no result within the task's timeoutSeconds of its start" },
  Unserved: { code: "UNSERVED", meaning: "no worker of the task's role started it within dispatchTimeoutSeconds of its dispatch" },
  Timeout: { code: "TIMEOUT", meaning: "the executor's process ran longer than the role's timeoutSeconds and was killed" },
  GateFailed: { code: "GATE_FAILED", meaning: "a quality gate did not pass (and no fix round was left)" },
  FixFailed: { code: "FIX_FAILED", meaning: "the fix task for a failed gate failed, so the task it was fixing fails too" },
  ChangesRequested: { code: "CHANGES_REQUESTED", meaning: "the reviewer asked for changes" },
  NoVerdict: { code: "NO_VERDICT", meaning: "the reviewer ended without writing a verdict" },
  UnknownGate: { code: "UNKNOWN_GATE", meaning: "the qa worker's config has no gate of that name" },
  NoChanges: { code: "NO_CHANGES", meaning: "a task that had to change files changed none of them (phantom completion)" },
  NoExecutor: { code: "NO_EXECUTOR", meaning: "the worker's config has no executor for the task's role" },
  WorkerLost: { code: "WORKER_LOST", meaning: "the task was delivered more than maxDeliver times without finishing" },
  Cancelled: { code: "CANCELLED", meaning: "the task's feature was cancelled" },
  Aborted: { code: "ABORTED", meaning: "the worker stopped the executor (drain grace over or cancellation)" },
  ExitCode: { code: "EXIT_CODE", meaning: "the executor's process exited with a non-zero code" },
  Killed: { code: "SIGNAL", meaning: "the executor's process was killed by a signal" },
  SpawnError: { code: "SPAWN", meaning: "the executor's command could not be started" },
  WorkspaceError: { code: "WORKSPACE", meaning: "the task's workspace is missing, not a directory, or cannot be created" },
  WorkspaceOutsideRoots: { code: "WORKSPACE_OUTSIDE_ROOTS", meaning: "the task's workspace (symlinks resolved) is not under one of the worker's workspaceRoots" },
  Stalled: { code: "STALLED", meaning: "the agent printed nothing for the role's stallSeconds; its process group was killed (retryable)" },
  AgentError: { code: "AGENT_ERROR", meaning: "the agent CLI reported that its run failed (its final result event was an error), or ended without one" },
  LlmError: { code: "LLM_ERROR", meaning: "the model API failed (after its retries) or timed out" },
  InvalidOutput: { code: "INVALID_OUTPUT", meaning: "the model's structured output stayed invalid after the re-asks" },
  BudgetExceeded: { code: "BUDGET_EXCEEDED", meaning: "the task was stopped because its budget or its feature's was used up" },
  ResultStore: { code: "RESULT_STORE", meaning: "a stored result (large summary or handoff) could not be written or read" },
  NotGit: { code: "NOT_GIT", meaning: "the feature's workspace is not a git repository with a commit (`baton submit --init-git` makes it one)" },
  GitError: { code: "GIT", meaning: "a git command the worker ran for the task's worktree or the feature's integration failed" },
  MergeConflict: { code: "MERGE_CONFLICT", meaning: "the task's branch conflicts with the integration branch and no fix round was left" },
  ConflictMarkers: { code: "CONFLICT_MARKERS", meaning: "a conflict fix left conflict markers in the files it committed" },
  ArtifactInvalid: { code: "ARTIFACT_INVALID", meaning: "a file the task declares it produces is missing or does not validate (the validator's messages are in details)" },
  ScopeViolation: { code: "SCOPE_VIOLATION", meaning: "the task changed files outside its declared `files` and the feature's scope is strict" },
  PlanInvalid: { code: "PLAN_INVALID", meaning: "the planner's plan was still invalid after its last attempt (every error is in details)" },
  UnknownQuestion: { code: "UNKNOWN_QUESTION", meaning: "an answer names a question the feature does not have" },
  AlreadyAnswered: { code: "ALREADY_ANSWERED", meaning: "an answer came for a question that was already answered differently (a repeat of the same answer is a no-op)" },
  InvalidAnswer: { code: "INVALID_ANSWER", meaning: "the answer is not one of the question's options and the question takes no free text" },
  RollbackRefused: { code: "ROLLBACK_REFUSED", meaning: "a rollback would have destroyed changes that did not come from the feature (the files are in details); nothing was changed" },
} as const satisfies Record<string, { code: string; meaning: string }>;

export type WireErrorName = keyof typeof WIRE_ERRORS;
export type WireErrorCode = (typeof WIRE_ERRORS)[WireErrorName]["code"];

/** Builds the wire form of a catalogued error: `{ name, code, message, details? }`. */
export function wireError(name: WireErrorName, message: string, details?: unknown): WireError & { name: WireErrorName; code: WireErrorCode } {
  return { name, code: WIRE_ERRORS[name].code, message, ...(details === undefined ? {} : { details }) };
}

const BY_CODE = new Map<string, WireErrorName>(Object.entries(WIRE_ERRORS).map(([name, e]) => [e.code, name as WireErrorName]));

/** The catalogued name of a wire code, or undefined for a code Baton does not define. */
export function errorNameOf(code: string | undefined): WireErrorName | undefined {
  return code === undefined ? undefined : BY_CODE.get(code);
}
