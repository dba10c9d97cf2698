// Status events on `baton.status.<featureId>.<kind>`: the public, replayable history of a feature.
import * as z from "zod";
import { BudgetCrossing } from "./budget.ts";
import { Id, Role, Timestamp, ValidationIssue, WireError } from "./common.ts";
import { CoverageWire, GateName, GateScope, ReviewVerdict, TestCountsWire } from "./gates.ts";
import { StoredRef, Usage } from "./task.ts";
import { ArtifactProblem, Sha } from "./workspace.ts";
import { ChangeKind, QuestionAbout, QuestionId, StreamName, StreamSpec, TemplateName } from "./planning.ts";

export const STATUS_EVENT = "baton.v1.status_event" as const;

const Base = {
  type: z.literal(STATUS_EVENT),
  featureId: Id,
  /** Per-feature sequence, increasing from 1; 0 marks a notice outside any feature's history. */
  seq: z.int().min(0),
  at: Timestamp,
};
const TaskBase = { ...Base, taskId: Id, role: Role, attempt: z.int().min(1) };

export const TaskSummary = z.object({
  id: Id, role: Role, title: z.string(), dependsOn: z.array(Id), gates: z.array(GateName).optional(),
  /** Its declared file scope (globs), and whether file-scope locks keep it apart from tasks whose scopes may overlap. */
  files: z.array(z.string()).optional(),
  locked: z.boolean().optional(),
  /** Its stream and kind of change (docs/planning.md); `streamGate`: the task that runs stream `stream`'s gates. */
  stream: StreamName.optional(),
  kind: ChangeKind.optional(),
  streamGate: z.boolean().optional(),
});

export type TaskSummary = z.infer<typeof TaskSummary>;

/** A question as question.asked publishes it (and the read model shows it). */
export const QuestionFields = {
  questionId: QuestionId,
  /** The task that asked, or whose failure or budget stop it is about (absent: the feature's budget). */
  taskId: Id.optional(),
  about: QuestionAbout,
  question: z.string(),
  options: z.array(z.string()).optional(),
  default: z.string().optional(),
  topic: z.string().optional(),
  context: z.string().optional(),
  /** Any text is a valid answer (else only one of `options`). */
  freeText: z.boolean(),
  /** When its default is taken (or it is escalated) if no one answers. */
  timeoutAt: Timestamp.optional(),
};

export const StatusEvent = z.discriminatedUnion("kind", [
  z.object({
    ...Base,
    kind: z.literal("feature.accepted"),
    title: z.string(),
    maxParallel: z.int(),
    workspace: z.string().optional(),
    tasks: z.array(TaskSummary),
    gates: z.array(GateName).optional(),
    /** The accepted request's fingerprint (feature.ts `requestHash`): a client can tell its own submission. */
    requestHash: z.string().optional(),
    /** `plan: auto`: the planner plans from `goal` first (`tasks` holds only its run; plan.ready brings the rest). */
    planning: z.object({ goal: z.string() }).optional(),
    /** The plan waits for a person's approval (plan.ready, then plan.approved or plan.rejected). */
    approval: z.literal("required").optional(),
    template: TemplateName.optional(),
    streams: z.record(StreamName, StreamSpec).optional(),
  }),
  // The feature's plan (from a template, a planner, or the request when approval is required): every task in order.
  // With `approval: "required"` nothing runs until plan.approved; `notes`: what the expansion left out and why.
  z.object({
    ...Base,
    kind: z.literal("plan.ready"),
    source: z.enum(["request", "template", "planner"]),
    template: TemplateName.optional(),
    summary: z.string().optional(),
    tasks: z.array(TaskSummary),
    gates: z.array(GateName).optional(),
    streams: z.record(StreamName, StreamSpec).optional(),
    approval: z.enum(["required", "none"]),
    notes: z.array(z.string()).optional(),
    /** The planner's attempt that gave it. */
    attempt: z.int().min(1).optional(),
  }),
  // A planner's plan failed the checks: every error; it goes back to the planner (`willRetry`) or the feature fails.
  z.object({ ...Base, kind: z.literal("plan.invalid"), attempt: z.int().min(1), errors: z.array(ValidationIssue), willRetry: z.boolean() }),
  z.object({ ...Base, kind: z.literal("plan.approved"), by: z.string().optional() }),
  // The plan was rejected (the feature is cancelled next).
  z.object({ ...Base, kind: z.literal("plan.rejected"), by: z.string().optional(), reason: z.string().optional() }),
  // A question to a person (docs/planning.md): the task it is about and its dependents wait; `baton answer` answers it.
  z.object({ ...Base, kind: z.literal("question.asked"), ...QuestionFields }),
  // Answered by a person (`by`), by its default at its timeout, or made moot (`resolved`: e.g. a budget raised with `baton budget`).
  z.object({
    ...Base,
    kind: z.literal("question.answered"),
    questionId: QuestionId,
    taskId: Id.optional(),
    answer: z.string(),
    by: z.string().optional(),
    via: z.enum(["person", "timeout", "resolved"]),
  }),
  // No answer by its timeout and no default: it stays open, and whoever watches escalations should look.
  z.object({ ...Base, kind: z.literal("question.escalated"), questionId: QuestionId, taskId: Id.optional(), reason: z.string() }),
  // A request refused. With seq 0 it is a notice, not the feature's history: `reason: "duplicate-id"` says a
  // different request (`requestHash`) reused the id of the existing feature (`existing`), which it leaves untouched.
  z.object({
    ...Base,
    kind: z.literal("feature.rejected"),
    errors: z.array(ValidationIssue),
    reason: z.enum(["invalid", "duplicate-id"]).optional(),
    existing: z.object({ state: z.string() }).optional(),
    requestHash: z.string().optional(),
  }),
  z.object({ ...TaskBase, kind: z.literal("task.dispatched") }),
  // A dispatched task (or gate run, `gate` set) that no live worker of its role has taken: published once when
  // first seen unserved, then again every so often while it stays so. `remedy` says what to start.
  z.object({
    ...TaskBase,
    kind: z.literal("task.unserved"),
    gate: GateName.optional(),
    /** Seconds since the task was dispatched. */
    waitingSeconds: z.number().min(0),
    /** Live workers of the role when this was published (0 = none serves it). */
    liveWorkers: z.int().min(0),
    remedy: z.string(),
    /** When the task fails for want of a worker (`dispatchTimeoutSeconds`), if a limit is set. */
    failsAt: Timestamp.optional(),
  }),
  z.object({ ...TaskBase, kind: z.literal("task.started"), workerId: z.string(), delivery: z.int() }),
  z.object({
    ...TaskBase,
    kind: z.literal("task.log"),
    workerId: z.string(),
    stream: z.enum(["stdout", "stderr"]),
    lines: z.array(z.string()),
    dropped: z.int(),
  }),
  // What an agent is doing: its tool, the files it touched, a short text, its usage so far (rate-limited).
  z.object({
    ...TaskBase,
    kind: z.literal("task.progress"),
    workerId: z.string(),
    tool: z.string().optional(),
    files: z.array(z.string()).optional(),
    text: z.string().optional(),
    usage: Usage.optional(),
  }),
  z.object({
    ...TaskBase,
    kind: z.literal("task.completed"),
    workerId: z.string(),
    durationMs: z.number(),
    /** The summary (its first SUMMARY_PREVIEW_CHARS characters when `stored` holds the whole result). */
    summary: z.string().optional(),
    stored: StoredRef.optional(),
    usage: Usage.optional(),
  }),
  z.object({
    ...TaskBase,
    kind: z.literal("task.failed"),
    workerId: z.string().optional(),
    durationMs: z.number().optional(),
    exitCode: z.int().nullable().optional(),
    error: WireError,
    usage: Usage.optional(),
  }),
  // The task's work is done; its gates run now (in order, on qa workers). task.completed follows when all pass.
  z.object({ ...TaskBase, kind: z.literal("task.verifying"), workerId: z.string(), gates: z.array(GateName) }),
  // The task failed (its work, its deadline or a gate) and its policy retries it: attempt `attempt + 1` at `retryAt`.
  z.object({ ...TaskBase, kind: z.literal("task.retrying"), nextAttempt: z.int().min(2), retryAt: Timestamp, reason: z.string() }),
  // A gate failed and the policy fixes: task `fixTaskId` (a new task of the fix role, given the gate's output)
  // runs, then the gate again. For a feature gate, `taskId` is absent.
  z.object({
    ...Base,
    kind: z.literal("task.fixing"),
    taskId: Id.optional(),
    attempt: z.int().min(1).optional(),
    gate: GateName,
    round: z.int().min(1),
    fixTaskId: Id,
    fixRole: Role,
    title: z.string(),
    reason: z.string(),
  }),
  // Every task is completed; the feature's gates run before feature.completed.
  z.object({ ...Base, kind: z.literal("feature.verifying"), gates: z.array(GateName) }),
  ...(["gate.passed", "gate.failed"] as const).map((kind) =>
    z.object({
      ...Base,
      kind: z.literal(kind),
      gate: GateName,
      scope: GateScope,
      run: z.int().min(1),
      /** The task whose gate this is (absent for a feature gate). */
      taskId: Id.optional(),
      attempt: z.int().min(1).optional(),
      workerId: z.string(),
      expect: z.enum(["pass", "fail"]),
      command: z.array(z.string()),
      exitCode: z.int().nullable(),
      durationMs: z.number(),
      tests: TestCountsWire.optional(),
      coverage: CoverageWire.optional(),
      reason: z.string().optional(),
      outputTail: z.string(),
      review: ReviewVerdict.optional(),
      /** Tests (passed + failed) this gate ran at the feature's start (its baseline); for a baseline run, what it recorded. */
      baseTests: z.int().min(0).optional(),
      /** Tests this gate ran at its last pass in this feature, before this run. */
      lastPassTests: z.int().min(0).optional(),
    })),
  z.object({ ...Base, kind: z.literal("feature.completed"), durationMs: z.number() }),
  z.object({ ...Base, kind: z.literal("feature.failed"), durationMs: z.number(), reason: z.string(), taskId: Id.optional() }),
  z.object({ ...Base, kind: z.literal("feature.cancelled"), durationMs: z.number(), reason: z.string().optional(), by: z.string().optional() }),
  z.object({ ...Base, kind: z.literal("feature.paused"), reason: z.string().optional(), by: z.string().optional() }),
  z.object({ ...Base, kind: z.literal("feature.resumed"), by: z.string().optional() }),
  // A budget (the feature's, or a task's own) passed its warnAtPercent.
  z.object({ ...Base, kind: z.literal("budget.warning"), ...BudgetCrossing }),
  // A budget was used up: the feature pauses (reason `budget`); `stopped` lists the running tasks stopped for it.
  z.object({ ...Base, kind: z.literal("budget.exceeded"), ...BudgetCrossing, stopped: z.array(z.object({ taskId: Id, attempt: z.int().min(1) })) }),
  // New limits set with the control verb `budget` (`baton budget`).
  z.object({ ...Base, kind: z.literal("budget.changed"), taskId: Id.optional(), tokens: z.int().optional(), costUsd: z.number().optional(), wallSeconds: z.int().optional(), by: z.string().optional() }),
  // Workspaces (issue 12, docs/workspaces.md).
  // The feature's integration branch `branch` exists at `head` (made from the workspace's HEAD, `base`); `dirty`
  // lists uncommitted files of the workspace that the feature does not see (it starts from HEAD).
  z.object({ ...Base, kind: z.literal("workspace.prepared"), branch: z.string(), base: Sha, head: Sha, dirty: z.array(z.string()) }),
  // The task's work (and gates) passed; it is being integrated into the integration branch (it completes once it is).
  z.object({ ...TaskBase, kind: z.literal("task.integrating"), branch: z.string(), head: Sha.optional() }),
  // A task's work is on the integration branch: `commit` is the checkpoint (a merge commit naming feature, task and role).
  z.object({
    ...TaskBase,
    kind: z.literal("checkpoint.created"),
    commit: Sha,
    branch: z.string(),
    files: z.array(z.string()),
    insertions: z.int().min(0),
    deletions: z.int().min(0),
    tag: z.string().optional(),
  }),
  // The task's branch conflicts with the integration branch: fix task `fixTaskId` (the task's role) resolves it,
  // or (no round left, `fixTaskId` absent) the task's failure policy applies.
  z.object({ ...TaskBase, kind: z.literal("task.conflict"), files: z.array(z.string()), round: z.int().min(1), fixTaskId: Id.optional(), title: z.string().optional() }),
  // The task changed files outside its declared `files` (`strict`: it fails for it).
  z.object({ ...TaskBase, kind: z.literal("scope.violation"), files: z.array(z.string()), scope: z.array(z.string()), strict: z.boolean() }),
  // An artifact the task declared (`produces`) is missing or invalid (the task then fails ARTIFACT_INVALID, or retries).
  z.object({ ...TaskBase, kind: z.literal("artifact.invalid"), problems: z.array(ArtifactProblem) }),
  // The integration branch went back to checkpoint `to` (`toTask`'s, or the feature's start); `tasks` are pending
  // again (or cancelled), `stopped` lists the runs stopped for it.
  z.object({
    ...Base,
    kind: z.literal("feature.rolled_back"),
    to: Sha,
    toTask: Id.optional(),
    tasks: z.array(Id),
    cancelled: z.boolean(),
    stopped: z.array(z.object({ taskId: Id, attempt: z.int().min(1) })),
    reason: z.string().optional(),
    by: z.string().optional(),
  }),
  // The feature ended and its workspace was cleaned up: the integration branch is at `head`; `into` was
  // fast-forwarded to it (or `refused` says why not); `removed` worktrees.
  z.object({
    ...Base,
    kind: z.literal("feature.integrated"),
    branch: z.string(),
    head: Sha.optional(),
    into: z.string().optional(),
    fastForwarded: z.boolean(),
    refused: z.string().optional(),
    removed: z.int().min(0),
  }),
  z.object({
    ...Base,
    kind: z.literal("message.rejected"),
    subject: z.string(),
    taskId: Id.optional(),
    error: WireError,
  }),
]);
export type StatusEvent = z.infer<typeof StatusEvent>;
export type StatusKind = StatusEvent["kind"];
/** A status event before the coordinator stamps it with type, featureId, seq and at. */
export type EventBody = StatusEvent extends infer E ? (E extends StatusEvent ? Omit<E, "type" | "featureId" | "seq" | "at"> : never) : never;

export const TERMINAL_KINDS = ["feature.completed", "feature.failed", "feature.rejected", "feature.cancelled"] as const satisfies readonly StatusKind[];
