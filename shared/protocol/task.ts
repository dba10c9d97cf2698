// Coordinator → worker (task assignments) and worker → coordinator (progress and results).
import * as z from "zod";
import { Id, Json, Role, Timestamp, WireError } from "./common.ts";
import { GateRef, GateReport, ReviewVerdict } from "./gates.ts";
import { PlanningBrief } from "./plan.ts";
import { GivenAnswer, Question } from "./planning.ts";
import { ArtifactProblem, Checkout, GitChanges, HandoffFacts, LockSpec, OpRef, OpResult, WorkspaceOp } from "./workspace.ts";

/**
 * Where a task's stored result lives (the results object store, key `<featureId>.<taskId>.<attempt>` or a gate
 * run's own key): results too large to travel inline — long summaries, handoffs up to MAX_HANDOFF_BYTES — are
 * written there by the worker and referenced from messages and the feature's snapshot (docs/design.md).
 */
export const StoredRef = z.object({ key: z.string().min(1).max(400), bytes: z.int().min(0), sha256: z.string().length(64) });
export type StoredRef = z.infer<typeof StoredRef>;

/**
 * What an agent used, as it reported it. `inputTokens` excludes cache reads (`cacheReadTokens`); budgets count
 * `inputTokens + outputTokens` as tokens. In a task_progress message it is the running total of that delivery.
 */
export const Usage = z.object({
  inputTokens: z.int().min(0),
  outputTokens: z.int().min(0),
  cacheReadTokens: z.int().min(0).optional(),
  costUsd: z.number().min(0).optional(),
  turns: z.int().min(0).optional(),
  model: z.string().max(200).optional(),
});
export type Usage = z.infer<typeof Usage>;

/** An agent CLI session a later run can continue: which agent, its id, and the host whose config home holds it. */
export const AgentSession = z.object({
  agent: z.string().min(1).max(40),
  id: z.string().min(1).max(200),
  host: z.string().min(1).max(255),
});
export type AgentSession = z.infer<typeof AgentSession>;

/** What a finished dependency hands to the tasks that depend on it: inline, or by `stored` reference (the worker fetches it). */
export const Handoff = z.object({
  taskId: Id,
  role: Role,
  summary: z.string().optional(),
  handoff: Json.optional(),
  /** The dependency's full result (summary + handoff) in the results store, when it was too large to inline. */
  stored: StoredRef.optional(),
  /** Facts from git and the gates: files changed and diffstat, checkpoint, artifacts, gates passed, next steps, constraints. */
  ...HandoffFacts.shape,
});
export type Handoff = z.infer<typeof Handoff>;

/** Published on `baton.task.<role>`; carries data only, never a command line. */
export const TaskAssigned = z.object({
  type: z.literal("baton.v1.task_assigned"),
  featureId: Id,
  taskId: Id,
  attempt: z.int().min(1),
  role: Role,
  title: z.string(),
  instructions: z.string().optional(),
  dependsOn: z.array(Id),
  workspace: z.string().optional(),
  feature: z.object({ title: z.string(), description: z.string().optional() }),
  handoffs: z.array(Handoff),
  dispatchedAt: Timestamp,
  /** Present on a gate run (role qa): run this configured gate instead of the role's executor. */
  gate: GateRef.optional(),
  /**
   * On a review gate run (role reviewer): what to review. The worker adds the git diff of the workspace
   * since the last commit before `since` (the feature's submission) before handing the task to the reviewer.
   */
  review: z.object({ since: Timestamp }).optional(),
  /** Phantom-completion check: the worker fails the task "no changes" if it changed none of these globs … */
  files: z.array(z.string()).optional(),
  /** … or, without globs, nothing at all in the workspace. */
  expectChanges: z.boolean().optional(),
  /**
   * An agent session to continue (a fix round for a task an agent worked on): a worker whose role runs the same
   * agent on the same host resumes it (`claude --resume`, `codex exec resume`); any other starts fresh.
   */
  session: AgentSession.optional(),
  /** A git feature: where the run happens (the task's worktree, or the feature's integration worktree). */
  checkout: Checkout.optional(),
  /** A file-scope lock the worker must hold (a lease in KV) while the task's work runs. */
  lock: LockSpec.optional(),
  /** Artifacts the task must produce (paths): checked after its work, and again on the integration branch. */
  produces: z.array(z.string().min(1).max(500)).max(50).optional(),
  /** Shared mode: report the workspace paths the work changed (`changed` on the result), for integration and scope checks. */
  reportChanges: z.boolean().optional(),
  /** A workspace operation for the integrator role, instead of a task's work (`taskId` is the task it concerns, or FEATURE_OPS_TASK_ID). */
  op: WorkspaceOp.optional(),
  /** A planner run (`plan: auto`): the goal and what a plan may use; the result's `plan` is the answer (docs/planning.md). */
  planning: PlanningBrief.optional(),
  /** Answers a person gave to the questions this task asked, oldest first: the task goes on with them. */
  answers: z.array(GivenAnswer).max(50).optional(),
});
export type TaskAssigned = z.infer<typeof TaskAssigned>;

/** Characters of a summary shown in events and views (the whole one is in the task's stored result). */
export const SUMMARY_PREVIEW_CHARS = 2000;

/** Largest handoff a task may produce (its JSON); large ones travel and are kept in the results store, by reference. */
export const MAX_HANDOFF_BYTES = 1024 * 1024;
/** Longest summary a task may produce; events and views show a shortened one (SUMMARY_PREVIEW_CHARS). */
export const MAX_SUMMARY_CHARS = 100_000;

/** A handoff document: any JSON up to MAX_HANDOFF_BYTES. */
export const BoundedHandoff = Json.refine(
  (v) => v === undefined || Buffer.byteLength(JSON.stringify(v)) <= MAX_HANDOFF_BYTES,
  { message: `handoff is larger than ${MAX_HANDOFF_BYTES} bytes of JSON; put large artifacts in the workspace and hand off their paths` },
);

/** What an executor may write to `$BATON_RESULT_FILE` (`review`: a reviewer's verdict on a review gate run). */
export const ExecutorOutput = z.strictObject({
  summary: z.string().max(MAX_SUMMARY_CHARS).optional(),
  handoff: BoundedHandoff.optional(),
  review: ReviewVerdict.optional(),
  /** What should come next, and constraints the dependents must respect (handed to them with the files git saw change). */
  nextSteps: z.array(z.string().max(2000)).max(50).optional(),
  constraints: z.array(z.string().max(2000)).max(50).optional(),
  /** A decision only a person can make: the task waits (its dependents too) and is dispatched again with the answer. */
  question: Question.optional(),
  /** A planner's plan (checked by the coordinator, shared/protocol/plan.ts `Plan`). */
  plan: BoundedHandoff.optional(),
});
export type ExecutorOutput = z.infer<typeof ExecutorOutput>;

const TaskRef = {
  featureId: Id,
  taskId: Id,
  attempt: z.int().min(1),
  role: Role,
  workerId: z.string().min(1).max(200),
  /** Echoes the task message's `gate` on every message about a gate run. */
  gate: GateRef.optional(),
  /** Echoes the task message's `op` (its kind and run) on every message about a workspace operation. */
  op: OpRef.optional(),
};

export const TaskStarted = z.object({
  type: z.literal("baton.v1.task_started"),
  ...TaskRef,
  delivery: z.int().min(1),
  at: Timestamp,
});
export type TaskStarted = z.infer<typeof TaskStarted>;

/**
 * What an agent is doing (a tool call, the files it touched, a short text) and its running usage, rate-limited
 * by the worker like log lines; the coordinator publishes it as `task.progress` and counts `usage` against budgets.
 */
export const TaskProgress = z.object({
  type: z.literal("baton.v1.task_progress"),
  ...TaskRef,
  delivery: z.int().min(1),
  /** Progress message number within one delivery, starting at 1. */
  seq: z.int().min(1),
  /** The agent's tool, as it names it: Write, Edit, Bash, file_change, command_execution, … */
  tool: z.string().max(100).optional(),
  /** Workspace paths the step touched, when known. */
  files: z.array(z.string().max(1000)).max(50).optional(),
  /** A short description (a command, the start of a message). */
  text: z.string().max(500).optional(),
  /** Usage of this delivery so far (a running total, not an increment). */
  usage: Usage.optional(),
  at: Timestamp,
});
export type TaskProgress = z.infer<typeof TaskProgress>;

export const LogStream = z.enum(["stdout", "stderr"]);
export const TaskLog = z.object({
  type: z.literal("baton.v1.task_log"),
  ...TaskRef,
  delivery: z.int().min(1),
  /** Batch number within one delivery, starting at 1. */
  batch: z.int().min(1),
  stream: LogStream,
  lines: z.array(z.string().max(4096)).min(1).max(200),
  /** Lines dropped by the worker's rate limit since the previous batch. */
  dropped: z.int().min(0).default(0),
  at: Timestamp,
});
export type TaskLog = z.infer<typeof TaskLog>;

export const TaskResult = z.object({
  type: z.literal("baton.v1.task_result"),
  ...TaskRef,
  outcome: z.enum(["completed", "failed"]),
  /** JetStream delivery of the task message that produced this result. */
  delivery: z.int().min(1).optional(),
  startedAt: Timestamp,
  finishedAt: Timestamp,
  exitCode: z.int().nullable().optional(),
  error: WireError.optional(),
  /** The summary, whole or (with `stored`) its first SUMMARY_PREVIEW_CHARS characters. */
  summary: z.string().max(MAX_SUMMARY_CHARS).optional(),
  /** The handoff, unless it is in the results store (`stored`). */
  handoff: BoundedHandoff.optional(),
  /** The full summary and handoff, written to the results store before this message when too large to inline. */
  stored: StoredRef.optional(),
  /** A gate run's findings (with `outcome` "completed" when the gate passed, "failed" otherwise). */
  gateReport: GateReport.optional(),
  /** What the agent used in this delivery, when it reported usage. */
  usage: Usage.optional(),
  /** The agent session this run used, for a later fix round to continue. */
  session: AgentSession.optional(),
  /** Worktree mode: the commit of the task's work on its branch and what it changed, from git. */
  git: GitChanges.optional(),
  /** Shared mode (`reportChanges`): the workspace paths the work changed (at most 10000). */
  changed: z.array(z.string().max(4096)).max(10_000).optional(),
  /** `produces` missing or invalid after the work (the task failed ARTIFACT_INVALID). */
  artifacts: z.array(ArtifactProblem).optional(),
  /** What the agent said comes next and the constraints it found (from its result file). */
  nextSteps: z.array(z.string().max(2000)).max(50).optional(),
  constraints: z.array(z.string().max(2000)).max(50).optional(),
  /** A workspace operation's findings. */
  opResult: OpResult.optional(),
  /** The task asks a person (with outcome "completed"): it waits for the answer, then runs again with it. */
  question: Question.optional(),
  /** A planner run's plan, unchecked (the coordinator checks it and sends every error back to the planner). */
  plan: BoundedHandoff.optional(),
});
export type TaskResult = z.infer<typeof TaskResult>;

/** Everything a worker publishes on `baton.result.<featureId>.<taskId>`. */
export const WorkerMessage = z.discriminatedUnion("type", [TaskStarted, TaskLog, TaskProgress, TaskResult]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;
