// What workers publish about themselves, and the one status event they read: heartbeats in the workers KV
// bucket (`<role>.<workerId>`, rewritten every few seconds, expiring with the bucket's TTL) and the
// `feature.cancelled` view a worker needs to stop a feature's tasks.
import * as z from "zod";
import { Id, Role, Timestamp } from "./common.ts";

/** One heartbeat entry (JSON). Readers accept unknown extra fields, so workers may add some. */
export const WorkerHeartbeat = z.looseObject({
  workerId: z.string().min(1),
  role: Role,
  pid: z.int(),
  host: z.string(),
  /** Tasks this process runs at once, and how many it runs now. */
  slots: z.int().min(1),
  busy: z.int().min(0),
  /** The worker's lifecycle state: starting, idle, working, draining. */
  state: z.string(),
  startedAt: Timestamp,
  at: Timestamp,
  tasks: z.array(z.object({ featureId: Id, taskId: Id })),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;

export const FEATURE_CANCELLED = "feature.cancelled" as const;

/** The little a worker (or any client) needs from a `feature.cancelled` status event. */
export const FeatureCancelledView = z.looseObject({ featureId: Id, kind: z.literal(FEATURE_CANCELLED) });
export type FeatureCancelledView = z.infer<typeof FeatureCancelledView>;
