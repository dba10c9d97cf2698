// The read model: a feature's current state and the feature list, as any client sees them. Coordinators
// answer them on request/reply subjects (`<prefix>.api.features.get`, `<prefix>.api.features.list`);
// the same FeatureView is what folding a feature's status history gives (shared/client).
import * as z from "zod";
import { Id, Role, Timestamp, ValidationIssue, WireError } from "./common.ts";
import { GateName } from "./gates.ts";
import { ChangeKind, QuestionId, StreamName, TemplateName } from "./planning.ts";
import { QuestionFields } from "./events.ts";

/** `asking`: it asked a question (or its failure was escalated to one) and waits for the answer. */
export const ViewTaskState = z.enum(["waiting", "dispatched", "running", "verifying", "fixing", "integrating", "retrying", "asking", "completed", "failed", "cancelled"]);
export type ViewTaskState = z.infer<typeof ViewTaskState>;
/** `planning`: the planner runs (`plan: auto`); `awaitingApproval`: the plan waits for `baton approve` (or reject). */
export const ViewFeatureState = z.enum(["unknown", "planning", "awaitingApproval", "executing", "paused", "verifying", "completed", "failed", "rejected", "cancelled"]);
export type ViewFeatureState = z.infer<typeof ViewFeatureState>;

/** The latest run of one gate, as its gate.passed / gate.failed event told it. */
export const ViewGate = z.object({
  name: GateName,
  passed: z.boolean(),
  at: Timestamp,
  reason: z.string().optional(),
  tests: z.object({ passed: z.int(), failed: z.int(), total: z.int() }).optional(),
  coverage: z.object({ metric: z.string(), pct: z.number(), min: z.number() }).optional(),
});
export type ViewGate = z.infer<typeof ViewGate>;

/** A `task.unserved` event about the task's current wait: no live worker of `role` had taken it (or its gate run). */
export const ViewUnserved = z.object({
  at: Timestamp,
  role: Role,
  gate: GateName.optional(),
  liveWorkers: z.int().min(0),
  remedy: z.string(),
  failsAt: Timestamp.optional(),
});
export type ViewUnserved = z.infer<typeof ViewUnserved>;

/** Usage counted against budgets (docs/budgets.md): `tokens` = input + output; `costUsd` when some run reported a cost. */
export const ViewUsage = z.object({
  tokens: z.int().min(0),
  inputTokens: z.int().min(0),
  outputTokens: z.int().min(0),
  costUsd: z.number().min(0).optional(),
});
export type ViewUsage = z.infer<typeof ViewUsage>;

/** A budget's limits (as requested, or as `baton budget` set them) and where its wall time counts from. */
export const ViewBudget = z.object({
  tokens: z.int().optional(),
  costUsd: z.number().optional(),
  wallSeconds: z.int().optional(),
  warnAtPercent: z.int(),
  /** The feature's acceptance, or the task's first start (absent before it started). */
  wallFrom: Timestamp.optional(),
});
export type ViewBudget = z.infer<typeof ViewBudget>;

/**
 * What a task that is not under way waits for (shared/protocol/waiting.ts derives it from the rest of the view,
 * for the read model and the folded history alike). Absent when it waits for nothing: it runs, it ended, or its
 * feature ended. Issue 12's file locks and issue 13's questions add `lock` and `question` kinds here.
 */
export const WaitingFor = z.discriminatedUnion("kind", [
  /** Dependencies that have not completed yet. */
  z.object({ kind: z.literal("dependencies"), taskIds: z.array(Id) }),
  /** Its feature is paused: nothing new starts until it is resumed. */
  z.object({ kind: z.literal("paused") }),
  /** Its feature is paused for a budget (`reason`, "budget: …"): a limit must be raised (`baton budget`), then `baton resume`. */
  z.object({ kind: z.literal("budget"), reason: z.string() }),
  /** `maxParallel` tasks hold a place already (`running` of them). */
  z.object({ kind: z.literal("parallel"), maxParallel: z.int(), running: z.int() }),
  /** Ready, a place free, not paused, and still not dispatched: the feature's baseline gate runs come first. */
  z.object({ kind: z.literal("baseline") }),
  /** Dispatched (or, with `gate`, its gate run) and not started; `unserved`: a task.unserved event said so. */
  z.object({ kind: z.literal("worker"), role: Role, gate: GateName.optional(), unserved: z.boolean() }),
  /** Retrying: the next attempt is dispatched at `until`. */
  z.object({ kind: z.literal("retry"), until: Timestamp }),
  /** Its work is done; its gates run (see `gates` and `gateResults`). */
  z.object({ kind: z.literal("gates"), gates: z.array(GateName) }),
  /** A gate failed, or (`conflict`) its branch conflicted with the integration branch; fix task `fixTaskId` runs, then the gates again. */
  z.object({ kind: z.literal("fix"), fixTaskId: Id, conflict: z.boolean().optional() }),
  /** Its file scope may overlap the scope of tasks under way (`taskIds`): it starts when they are integrated or ended. */
  z.object({ kind: z.literal("scope"), taskIds: z.array(Id) }),
  /** The feature's workspace is being prepared (its integration branch and worktree). */
  z.object({ kind: z.literal("workspace") }),
  /** Its work passed; it waits for its turn to be merged into the integration branch (`ahead`: tasks merged first). */
  z.object({ kind: z.literal("integration"), ahead: z.array(Id) }),
  /** It asked question `questionId` (or its failure was escalated): `baton answer` lets it go on. */
  z.object({ kind: z.literal("question"), questionId: QuestionId }),
  /** The feature's plan waits for a person's approval (`baton approve`). */
  z.object({ kind: z.literal("approval") }),
  /** Its stream's gates (`stream`) have not passed: the task that runs them is `taskId`. */
  z.object({ kind: z.literal("stream"), stream: StreamName, taskId: Id }),
]);
export type WaitingFor = z.infer<typeof WaitingFor>;

export const ViewTask = z.object({
  id: Id,
  role: Role,
  title: z.string(),
  dependsOn: z.array(Id),
  state: ViewTaskState,
  attempt: z.int().min(0),
  workerId: z.string().optional(),
  dispatchedAt: Timestamp.optional(),
  startedAt: Timestamp.optional(),
  finishedAt: Timestamp.optional(),
  durationMs: z.number().optional(),
  summary: z.string().optional(),
  error: z.string().optional(),
  /** Gates the task must pass and the latest result of each. */
  gates: z.array(GateName).optional(),
  gateResults: z.array(ViewGate).optional(),
  /** While retrying: when the next attempt starts. */
  retryAt: Timestamp.optional(),
  /** A fix task: whose gate it fixes ("feature" for a feature gate). */
  fixes: z.string().optional(),
  /** What it waits for, when it is not under way (see WaitingFor). */
  waitingFor: WaitingFor.optional(),
  /** While it waits for a worker: the latest task.unserved event about that wait. */
  unserved: ViewUnserved.optional(),
  /** What its work used (every run of every attempt), once some run reported usage. Read model only: the history's fold leaves it out. */
  usage: ViewUsage.optional(),
  /** Its own budget, when it has one. Read model only. */
  budget: ViewBudget.optional(),
  /** Its declared file scope, and whether file-scope locks keep it apart from tasks whose scopes may overlap (feature.accepted). */
  files: z.array(z.string()).optional(),
  locked: z.boolean().optional(),
  /** A git feature: its checkpoint on the integration branch once integrated, and what git says it changed. */
  checkpoint: z.object({
    commit: z.string(), files: z.array(z.string()), insertions: z.int().min(0), deletions: z.int().min(0), tag: z.string().optional(),
  }).optional(),
  /** The latest merge conflict of its branch (files, round), while it is being fixed or after it failed. */
  conflict: z.object({ files: z.array(z.string()), round: z.int().min(1) }).optional(),
  /** Files it changed outside its declared scope (scope.violation). */
  scopeViolation: z.array(z.string()).optional(),
  /** Its stream and kind of change; `streamGate`: it runs its stream's gates. */
  stream: StreamName.optional(),
  kind: ChangeKind.optional(),
  streamGate: z.boolean().optional(),
  /** While asking: its open question. */
  questionId: QuestionId.optional(),
});
export type ViewTask = z.infer<typeof ViewTask>;

/** A question to a person and what became of it (question.asked, .answered, .escalated). */
export const ViewQuestion = z.object({
  ...QuestionFields,
  askedAt: Timestamp,
  state: z.enum(["open", "escalated", "answered"]),
  answer: z.string().optional(),
  by: z.string().optional(),
  via: z.enum(["person", "timeout", "resolved"]).optional(),
  answeredAt: Timestamp.optional(),
});
export type ViewQuestion = z.infer<typeof ViewQuestion>;

/** Where the plan came from and what a person decided (plan.ready, plan.invalid, plan.approved, plan.rejected). */
export const ViewPlan = z.object({
  source: z.enum(["request", "template", "planner"]).optional(),
  goal: z.string().optional(),
  template: TemplateName.optional(),
  summary: z.string().optional(),
  approval: z.enum(["required", "none"]).optional(),
  notes: z.array(z.string()).optional(),
  /** Planner attempts whose plan was invalid, and the latest errors. */
  invalid: z.int().min(0).optional(),
  errors: z.array(ValidationIssue).optional(),
  readyAt: Timestamp.optional(),
  approvedBy: z.string().optional(),
  approvedAt: Timestamp.optional(),
  rejectedBy: z.string().optional(),
  rejectedAt: Timestamp.optional(),
  rejectReason: z.string().optional(),
});
export type ViewPlan = z.infer<typeof ViewPlan>;

/** A stream's progress (derived from its tasks: shared/protocol/waiting.ts `streamsOf`). */
export const ViewStream = z.object({
  name: StreamName,
  gates: z.array(GateName).optional(),
  tasks: z.int().min(0),
  completed: z.int().min(0),
  state: z.enum(["waiting", "running", "verifying", "passed", "failed"]),
});
export type ViewStream = z.infer<typeof ViewStream>;

export const FeatureView = z.object({
  featureId: Id,
  state: ViewFeatureState,
  title: z.string().optional(),
  maxParallel: z.int().optional(),
  workspace: z.string().optional(),
  acceptedAt: Timestamp.optional(),
  finishedAt: Timestamp.optional(),
  durationMs: z.number().optional(),
  reason: z.string().optional(),
  /** While a feature-level gate run (a feature gate, a baseline) waits for a worker: the latest task.unserved event about it. */
  unserved: ViewUnserved.optional(),
  /** While paused: since when, why and by whom (as the feature.paused event said). */
  paused: z.object({ at: Timestamp, reason: z.string().optional(), by: z.string().optional() }).optional(),
  errors: z.array(ValidationIssue).optional(),
  tasks: z.array(ViewTask),
  /** The feature's own gates and the latest result of each. */
  gates: z.array(GateName).optional(),
  gateResults: z.array(ViewGate).optional(),
  /** Highest feature-history seq this view includes (events at or below it are already in it). */
  seq: z.int().min(0),
  /** Messages about the feature that were rejected (subject: reason). */
  notices: z.array(z.string()),
  /** What its tasks and gate runs used, once one reported usage. Read model only: the history's fold leaves it out. */
  usage: ViewUsage.optional(),
  /** The feature's budget, when it has one. Read model only (feature.accepted does not carry it). */
  budget: ViewBudget.optional(),
  /**
   * A git feature: its integration branch, where it started (`base`) and its head now; once it ended, the branch a
   * request's `integrateInto` named and whether it was fast-forwarded (or why not).
   */
  git: z.object({
    branch: z.string(), base: z.string(), head: z.string(),
    into: z.string().optional(), fastForwarded: z.boolean().optional(), refused: z.string().optional(),
  }).optional(),
  /** Where its plan came from, and the approval (docs/planning.md). */
  plan: ViewPlan.optional(),
  /** Questions asked so far, open and answered, oldest first. */
  questions: z.array(ViewQuestion).optional(),
  /** Progress per stream, when its tasks name streams. */
  streams: z.array(ViewStream).optional(),
});
export type FeatureView = z.infer<typeof FeatureView>;

/** One row of the feature list. */
export const FeatureSummary = z.object({
  featureId: Id,
  /** `unreadable`: the coordinator cannot read the feature's stored state (`error` says why). */
  state: z.union([ViewFeatureState, z.literal("unreadable")]),
  error: z.string().optional(),
  title: z.string(),
  submittedAt: z.string(),
  finishedAt: z.string().optional(),
  tasks: z.int().min(0),
  completed: z.int().min(0),
  /** What its tasks and gate runs used so far, once one reported usage (the dashboard's cost column). */
  usage: ViewUsage.optional(),
});
export type FeatureSummary = z.infer<typeof FeatureSummary>;

/** Request on `<prefix>.api.features.get`: one feature's current state. */
export const FeatureGetRequest = z.strictObject({ type: z.literal("baton.v1.feature_get"), featureId: Id });
export type FeatureGetRequest = z.infer<typeof FeatureGetRequest>;
export const FeatureGetReply = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), feature: FeatureView }),
  z.object({ ok: z.literal(false), error: WireError }),
]);
export type FeatureGetReply = z.infer<typeof FeatureGetReply>;

/** Request on `<prefix>.api.features.list`: features, newest first (`limit` rows at most, default 50). */
export const FeatureListRequest = z.strictObject({
  type: z.literal("baton.v1.feature_list"),
  limit: z.int().min(1).max(100_000).optional(),
});
export type FeatureListRequest = z.infer<typeof FeatureListRequest>;
export const FeatureListReply = z.discriminatedUnion("ok", [
  /** `total`: how many features exist (the rows are the newest `limit` of them). */
  z.object({ ok: z.literal(true), features: z.array(FeatureSummary), total: z.int().min(0) }),
  z.object({ ok: z.literal(false), error: WireError }),
]);
export type FeatureListReply = z.infer<typeof FeatureListReply>;
