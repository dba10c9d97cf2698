// What workers and coordinators publish about themselves, and the one status event workers read: heartbeats in
// the workers and coordinators KV buckets (rewritten every few seconds; readers drop those missing 3 beats) and
// the `feature.cancelled` view a worker needs to stop a feature's tasks.
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
  /** Seconds between heartbeats; readers drop an entry whose `at` is older than 3 of them. Older workers omit it (then only the bucket TTL expires them). */
  heartbeatSeconds: z.number().positive().optional(),
  /** Where it serves Prometheus metrics (`http://host:port/metrics`), when it does (config `metrics.workerPort`). */
  metricsUrl: z.string().optional(),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;

/**
 * One coordinator's heartbeat (JSON), key `<coordinatorId>` in the coordinators bucket. `fingerprint` hashes what
 * decides a request's fate (`roles`, `gates`, `settings`, shared/fingerprint.ts): coordinators of one prefix should agree.
 */
export const CoordinatorHeartbeat = z.looseObject({
  coordinatorId: z.string().min(1),
  pid: z.int(),
  host: z.string(),
  /** The Baton version the coordinator runs. */
  version: z.string(),
  startedAt: Timestamp,
  at: Timestamp,
  heartbeatSeconds: z.number().positive(),
  fingerprint: z.string().min(1),
  /** The roles a request may name; null when its config names none (then any well-formed role is accepted). */
  roles: z.array(Role).nullable(),
  /** Gate name → short hash of its definition. */
  gates: z.record(z.string(), z.string()),
  /** Coordinator settings that change outcomes (task timeout, dispatch timeout, request size limit), when set. */
  settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  /** Where it serves Prometheus metrics, when it does (config `metrics.coordinatorPort`). */
  metricsUrl: z.string().optional(),
});
export type CoordinatorHeartbeat = z.infer<typeof CoordinatorHeartbeat>;

export const FEATURE_CANCELLED = "feature.cancelled" as const;

/** The little a worker (or any client) needs from a `feature.cancelled` status event. */
export const FeatureCancelledView = z.looseObject({ featureId: Id, kind: z.literal(FEATURE_CANCELLED) });
export type FeatureCancelledView = z.infer<typeof FeatureCancelledView>;
