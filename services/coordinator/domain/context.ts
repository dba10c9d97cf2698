// The feature's persisted data: its tasks, their lifecycle states, its gates, the status-event sequence and
// the outbox. Plain JSON (it is checkpointed as it is); the reducers in this folder copy, never edit, it.
import type { AgentSession, GivenAnswer, Budget, FailurePolicy, FileChange, Usage, Isolation, StatusEvent, StoredRef, TaskAssigned, ValidationIssue, ViewGate, ViewUnserved, WireError, WorkspaceOpKind } from "../../../shared/protocol/index.ts";
import type { TaskStatus } from "./task-lifecycle.ts";
import type { PlannerKit, PlanningState, QuestionState, StreamsState } from "./planning-state.ts";
import type { Checkpoint, FeatureGit, TaskChanges } from "./git-state.ts";

export { KEPT_FILES, type Checkpoint, type FeatureGit, type RollbackPlan, type TaskChanges } from "./git-state.ts";

/**
 * Where a sequence of gates stands — a task's or the feature's, the same shape for both (gates.ts runs them).
 * `current`: the gate running now (index into the holder's `gates`) and its run number, which counts every
 * gate run of the holder; `fixing`: a fix round under way; `fixRounds`: rounds used so far.
 */
export interface GateProgress {
  current?: { index: number; run: number; dispatchedAt?: string | undefined } | undefined;
  fixRounds?: number | undefined;
  fixing?: { fixTaskId: string; gate: string; round: number } | undefined;
  /** The highest gate run number used so far (a conflict fix's gate runs go on from it). */
  runs?: number | undefined;
}

export interface TaskState {
  id: string;
  role: string;
  title: string;
  instructions?: string | undefined;
  dependsOn: string[];
  /** The task's lifecycle state; task-lifecycle.ts is the only place that decides how it moves. */
  status: TaskStatus;
  attempt: number;
  /** Seconds from a (re)start until the coordinator fails the task; timers are data, not setTimeouts. */
  timeoutSeconds: number;
  /** ISO time at which a running task times out (set on every start, cleared when its work ends). */
  deadlineAt?: string | undefined;
  dispatchedAt?: string | undefined;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  workerId?: string | undefined;
  /** JetStream delivery of the current attempt that last reported a start. */
  delivery?: number | undefined;
  /** The result's summary, or its preview when `stored` holds the whole result; kept small (the snapshot is checkpointed whole). */
  summary?: string | undefined;
  /** A small handoff, inline; a large one is in the results store (`stored`). */
  handoff?: unknown;
  /** Where the task's whole summary and handoff are, when its worker stored them (the coordinator never reads them). */
  stored?: StoredRef | undefined;
  /**
   * The agent session to continue on this task's next dispatch: its completed work's, updated by each completed fix
   * round; a fix task starts with its owner's (failure-policy.ts `startFix`, gates.ts `afterFix`).
   */
  session?: AgentSession | undefined;
  error?: WireError | undefined;
  exitCode?: number | null | undefined;
  /** Phantom-completion check, passed on to the worker: globs the task must change, or any change at all. */
  files?: string[] | undefined;
  expectChanges?: boolean | undefined;
  /** Gates (config names) that must pass, in order, after the work before the task counts as completed. */
  gates?: string[] | undefined;
  /** The task's gates while it is verifying or fixing, and the fix rounds used (kept across attempts). */
  verify?: GateProgress | undefined;
  /** The task's failure policy (its own, else the feature's). */
  policy?: FailurePolicy | undefined;
  /** While retrying: when the next attempt is dispatched. */
  retryAt?: string | undefined;
  /** A phase of a test-driven task: its gates run expecting failure in `red`. */
  tddPhase?: "red" | "green" | "refactor" | undefined;
  /** On a fix task: whose gate it fixes (`taskId` absent for a feature gate). */
  fixFor?: { taskId?: string | undefined; gate: string; round: number } | undefined;
  /** The latest result of each of the task's gates, for the read model (read-model.ts). */
  gateResults?: ViewGate[] | undefined;
  /** The latest task.unserved event about its current wait for a worker, for the read model (read-model.ts `recordForView`). */
  unserved?: ViewUnserved | undefined;
  /** The task may remove tests: its gates do not fail for running fewer tests than before (test-counts.ts). */
  allowTestRemoval?: boolean | undefined;
  /** The task's own budget (budgets.ts): from its request, changed by `baton budget --task`. */
  budget?: Budget | undefined;
  /** What its work used, per run (`<attempt>.<delivery>`): the latest running total, or the result's figure (budgets.ts). */
  usage?: Record<string, RunUsage> | undefined;
  /** When it first started: its wall time counts from here (kept across attempts, unlike `startedAt`). */
  firstStartedAt?: string | undefined;
  /** The attempt the coordinator asked workers to stop for a budget (budget.exceeded `stopped`). */
  budgetStop?: number | undefined;
  /** Attempts stopped for a budget and requeued: they do not count against the retry policy's maxAttempts. */
  budgetStops?: number | undefined;
  /** A git feature's task (workspace.ts): where it runs, its branch's base and head, and what integrating it found. */
  isolation?: Isolation | undefined;
  /** Artifacts it must produce (checked after its work and on the integration branch). */
  produces?: string[] | undefined;
  /** Its milestone: the integration branch is tagged when the last task naming it is integrated. */
  milestone?: string | undefined;
  /** Worktree mode: the integration head its current attempt started from, and its branch's head after its work (and fixes). */
  base?: string | undefined;
  head?: string | undefined;
  /** What its work changed (git's word: worktree mode from its commits, shared mode the paths attributed to it). */
  changes?: TaskChanges | undefined;
  /** Conflict fix rounds used (integration.ts); the latest conflict's files. */
  conflictRounds?: number | undefined;
  conflict?: { files: string[]; round: number } | undefined;
  /** A conflict fix task: it resolves `conflictFor`'s merge (it rides on that task's branch). */
  conflictFor?: string | undefined;
  /** Its checkpoint once integrated. */
  checkpoint?: Checkpoint | undefined;
  /** Files it changed outside its `files` (scope.violation). */
  scopeViolation?: string[] | undefined;
  /** Attempts made before a rollback undid the task: its retry policy counts only those after (rollback.ts). */
  undoneAttempts?: number | undefined;
  /** Cancelled by a rollback (`--cancel`, or a fix task whose owner went back): the feature completes without it. */
  withdrawn?: boolean | undefined;
  /** The usage its work's result reported, shown on task.completed once it is integrated (integration.ts). */
  resultUsage?: Usage | undefined;
  /** What the agent said comes next and the constraints it found (handed to dependents). */
  nextSteps?: string[] | undefined;
  constraints?: string[] | undefined;
  /** Planning (planning-state.ts): its stream and kind; `streamGate`: it runs that stream's gates; `planner`: the planner's run. */
  stream?: string | undefined;
  kind?: string | undefined;
  streamGate?: string | undefined;
  planner?: boolean | undefined;
  /** While asking: its open question; the answers it got (sent with its next dispatch); dispatches for answers (not retries). */
  question?: string | undefined;
  answers?: GivenAnswer[] | undefined;
  asks?: number | undefined;
  /** A person chose to skip it after its failure was escalated: its dependents went on without its work. */
  skipped?: boolean | undefined;
}

/** What one run (a delivery of a task's work, or a gate run) used, as reported; `final`: its result's figure. */
export interface RunUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd?: number | undefined;
  final?: boolean | undefined;
}

/**
 * An effect waiting to be carried out, named by its kind (`to`); the runtime has one handler per kind
 * (runtime/effects.ts). `msgId` is deterministic (shared/protocol/msg-ids.ts) so redoing an effect is harmless.
 */
export type OutboxEntry =
  | { msgId: string; to: "task"; role: string; payload: TaskAssigned }
  | { msgId: string; to: "status"; kind: StatusEvent["kind"]; payload: StatusEvent };

export type EffectKind = OutboxEntry["to"];

/** The feature's own gates: run in order once every task completed; `passed` or `failure` once they end. */
export interface FeatureGates extends GateProgress {
  gates: string[];
  passed?: boolean | undefined;
  failure?: string | undefined;
  /** The latest result of each gate, for the read model. */
  results?: ViewGate[] | undefined;
}

/** States a feature can be in (the machine's); `received` exists only until its first event. */
export type FeatureStateValue = "received" | "planning" | "awaitingApproval" | "executing" | "paused" | "verifying" | "completed" | "failed" | "cancelled" | "rejected";

export const TERMINAL_STATES: ReadonlySet<FeatureStateValue> = new Set(["completed", "failed", "cancelled", "rejected"]);

export interface FeatureContext {
  featureId: string;
  title: string;
  description?: string | undefined;
  workspace?: string | undefined;
  maxParallel: number;
  /** Task ids in request order (dispatch order among ready tasks). */
  order: string[];
  tasks: Record<string, TaskState>;
  /** Last status-event sequence number used. */
  seq: number;
  outbox: OutboxEntry[];
  submittedAt: string;
  finishedAt?: string | undefined;
  /** The feature's own gates, if the request named any. */
  featureGates?: FeatureGates | undefined;
  /** The feature's default failure policy; its `fix` also covers the feature's gates. */
  policy?: FailurePolicy | undefined;
  /** Why the feature failed or was rejected. */
  reason?: string | undefined;
  rejection?: ValidationIssue[] | undefined;
  /** The latest messages about this feature that were rejected (`subject: reason`, at most MAX_NOTICES), for the read model. */
  notices?: string[] | undefined;
  /** The accepted request's fingerprint (shared/protocol/feature.ts `requestHash`); absent in features accepted before it existed. */
  requestHash?: string | undefined;
  /** A task not started this long after its dispatch fails (deadlines.ts); absent: no limit. */
  dispatchTimeoutSeconds?: number | undefined;
  /** The latest task.unserved event about a feature-level gate run (feature gate, baseline), for the read model. */
  unserved?: ViewUnserved | undefined;
  /** The latest feature.paused event (since when, why, by whom), for the read model; cleared on resume. */
  pause?: { at: string; reason?: string | undefined; by?: string | undefined } | undefined;
  /** Baseline runs of the feature's test gates (test-counts.ts): in order, one at a time; no task starts until `done`. */
  baseline?: { gates: string[]; index: number; done?: boolean | undefined } | undefined;
  /** Per test gate name: the tests it ran at the feature's start and at its last pass; fewer fails it (test-counts.ts). */
  testCounts?: Record<string, GateTestCounts> | undefined;
  /** The feature's budget (budgets.ts): from the request, changed by `baton budget`. */
  budget?: Budget | undefined;
  /** What gate runs used (an llm reviewer), per run; counted in the feature's usage only (budgets.ts). */
  gateUsage?: Record<string, RunUsage> | undefined;
  /** Budget alerts already published (`warning|exceeded:<feature|task:id>:<metric>`); a changed limit re-arms its own. */
  budgetAlerts?: string[] | undefined;
  /** A git feature (its request named a workspace): integration branch, operations, merge queue, checkpoints. */
  git?: FeatureGit | undefined;
  /** Its plan, questions to people, streams, and how long questions wait by default (planning-state.ts). */
  planning?: PlanningState | undefined;
  questions?: QuestionState[] | undefined;
  streams?: StreamsState | undefined;
  questionTimeoutSeconds?: number | undefined;
}

/** Tests (passed + failed) a gate ran: at the feature's start (`base`, absent when unreadable) and at its last pass. */
export interface GateTestCounts {
  base?: number | undefined;
  lastPass?: number | undefined;
}

export function emptyContext(featureId: string): FeatureContext {
  return { featureId, title: "", maxParallel: 1, order: [], tasks: {}, seq: 0, outbox: [], submittedAt: "" };
}

export interface FeatureDefaults {
  /** Deadline for tasks that set no `timeoutSeconds`. */
  taskTimeoutSeconds: number;
  /** `dispatchTimeoutSeconds` for requests that set none; absent: no limit. */
  dispatchTimeoutSeconds?: number | undefined;
  /** Configured gates that count tests (`tests:` set): the feature measures each it names before any task runs. */
  testGates?: readonly string[] | undefined;
  /** A file-scope lock's lease (coordinator.lockLeaseSeconds). */
  lockLeaseSeconds?: number | undefined;
  /** `approval` for requests that set none, the planner's kit (`plan: auto`), and questions' default timeout. */
  approval?: "required" | "none" | undefined;
  planner?: PlannerKit | undefined;
  /** What the template's expansion left out, and why (plan.ready's notes). */
  expansionNotes?: string[] | undefined;
  questionTimeoutSeconds?: number | undefined;
}

export const DEFAULTS: FeatureDefaults = { taskTimeoutSeconds: 4 * 3600 };

/** A budget's warnAtPercent when it names none (shared/protocol/budget.ts defaults it so too; requests built in code may not). */
export const DEFAULT_WARN_PERCENT = 80;

/**
 * A working copy of `ctx` for one reducer: the task map and the outbox are copied once, then changed in
 * place (task entries are replaced, never edited), so an event costs one copy of the map, not one per change.
 */
export function editable(ctx: FeatureContext): FeatureContext {
  return { ...ctx, tasks: { ...ctx.tasks }, outbox: [...ctx.outbox] };
}

export function durationMs(from: string | undefined, to: string): number {
  return from ? Math.max(0, Date.parse(to) - Date.parse(from)) : 0;
}
