// Coordinator → worker (task assignments) and worker → coordinator (progress and results).
import * as z from "zod";
import { Id, Json, Role, Timestamp, WireError } from "./common.ts";
import { GateRef, GateReport, ReviewVerdict } from "./gates.ts";

/** What a finished dependency hands to the tasks that depend on it. */
export const Handoff = z.object({
  taskId: Id,
  role: Role,
  summary: z.string().optional(),
  handoff: Json.optional(),
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
});
export type TaskAssigned = z.infer<typeof TaskAssigned>;

/** Largest handoff a task may produce (its JSON); handoffs are kept in the feature's state. */
export const MAX_HANDOFF_BYTES = 64 * 1024;

/** A handoff document: any JSON up to MAX_HANDOFF_BYTES. */
export const BoundedHandoff = Json.refine(
  (v) => v === undefined || Buffer.byteLength(JSON.stringify(v)) <= MAX_HANDOFF_BYTES,
  { message: `handoff is larger than ${MAX_HANDOFF_BYTES} bytes of JSON; put large artifacts in the workspace and hand off their paths` },
);

/** What an executor may write to `$BATON_RESULT_FILE` (`review`: a reviewer's verdict on a review gate run). */
export const ExecutorOutput = z.strictObject({
  summary: z.string().max(20_000).optional(),
  handoff: BoundedHandoff.optional(),
  review: ReviewVerdict.optional(),
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
};

export const TaskStarted = z.object({
  type: z.literal("baton.v1.task_started"),
  ...TaskRef,
  delivery: z.int().min(1),
  at: Timestamp,
});
export type TaskStarted = z.infer<typeof TaskStarted>;

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
  summary: z.string().max(20_000).optional(),
  handoff: BoundedHandoff.optional(),
  /** A gate run's findings (with `outcome` "completed" when the gate passed, "failed" otherwise). */
  gateReport: GateReport.optional(),
});
export type TaskResult = z.infer<typeof TaskResult>;

/** Everything a worker publishes on `baton.result.<featureId>.<taskId>`. */
export const WorkerMessage = z.discriminatedUnion("type", [TaskStarted, TaskLog, TaskResult]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;
