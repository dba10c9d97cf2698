// The read model: a feature's current state and the feature list, as any client sees them. Coordinators
// answer them on request/reply subjects (`<prefix>.api.features.get`, `<prefix>.api.features.list`);
// the same FeatureView is what folding a feature's status history gives (shared/client).
import * as z from "zod";
import { Id, Role, Timestamp, ValidationIssue, WireError } from "./common.ts";
import { GateName } from "./gates.ts";

export const ViewTaskState = z.enum(["waiting", "dispatched", "running", "verifying", "fixing", "retrying", "completed", "failed", "cancelled"]);
export type ViewTaskState = z.infer<typeof ViewTaskState>;
export const ViewFeatureState = z.enum(["unknown", "executing", "paused", "verifying", "completed", "failed", "rejected", "cancelled"]);
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
});
export type ViewTask = z.infer<typeof ViewTask>;

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
  errors: z.array(ValidationIssue).optional(),
  tasks: z.array(ViewTask),
  /** The feature's own gates and the latest result of each. */
  gates: z.array(GateName).optional(),
  gateResults: z.array(ViewGate).optional(),
  /** Highest feature-history seq this view includes (events at or below it are already in it). */
  seq: z.int().min(0),
  /** Messages about the feature that were rejected (subject: reason). */
  notices: z.array(z.string()),
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
