// The execution status report (issue 14): what a coordinator of parallel streams reports about one feature —
// progress, streams, the critical path with an estimate of the time left, blockers, gates per level, agents at
// work, usage and cost. Computed from a FeatureView by `executionReport` (report.ts), pure, so that `baton status`,
// `baton report`, `baton watch`'s board and the dashboard all show the same numbers.
import type { ViewBudget, ViewFeatureState, ViewStream, ViewTaskState, ViewUsage } from "../protocol/views.ts";

/** How a task's remaining time was estimated: its own finished duration (0 left), its role's median, or not at all. */
export type EstimateBasis = "done" | "running" | "median" | "overall-median" | "unknown";

export interface ReportStep {
  taskId: string;
  role: string;
  title: string;
  state: ViewTaskState;
  /** Time this task still needs, by `basis` (0 when it ended); null when nothing finished to estimate from. */
  remainingMs: number | null;
  basis: EstimateBasis;
}

export interface CriticalPath {
  /** The longest remaining chain (by estimated remaining time, dependencies first); empty when nothing remains. */
  steps: ReportStep[];
  /**
   * The estimated time left: the longer of the chain's sum (`pathMs`) and all remaining work spread over the feature's
   * `maxParallel` places (`boundBy: "parallel"`; tasks without an estimate add nothing); null when a step of the
   * path has no estimate.
   */
  remainingMs: number | null;
  /** Sum of the steps' remaining time; null when a step has no estimate. */
  pathMs?: number | null;
  /** Set when `maxParallel` rather than the chain decides the time left: more work remains than the places run along the path. */
  boundBy?: "parallel";
  /** `now + remainingMs`, when there is an estimate. */
  eta?: string;
}

/** Why something does not move. `taskIds`: the tasks held (none for a feature-wide blocker). */
export type BlockerKind = "question" | "approval" | "lock" | "worker" | "budget" | "paused" | "stream" | "fix" | "retry";
export interface Blocker {
  kind: BlockerKind;
  taskIds: string[];
  /** One line a person can act on, e.g. `question q1 (api): "Max title length?" — baton answer F q1 …`. */
  detail: string;
  since?: string;
}

/** Gate results at one level: the tasks' own gates, their streams' gates, the feature's gates. */
export interface GateLevel {
  level: "task" | "stream" | "feature";
  passed: number;
  failed: number;
  /** Latest result of each gate run at this level (task id absent at the feature level). */
  runs: { name: string; taskId?: string; passed: boolean; at: string; reason?: string; tests?: { passed: number; failed: number; total: number } }[];
}

export interface ExecutionReport {
  featureId: string;
  title?: string;
  state: ViewFeatureState;
  /** When the report was made (the `now` it was computed with). */
  at: string;
  /** Since acceptance until it ended (or `at`). */
  elapsedMs?: number;
  progress: {
    total: number; completed: number; failed: number; cancelled: number; running: number; waiting: number;
    /** completed / total × 100, rounded down (100 only when all completed). */
    percent: number;
  };
  streams: (ViewStream & { percent: number })[];
  criticalPath: CriticalPath;
  blockers: Blocker[];
  gates: GateLevel[];
  /** Tasks under way now (dispatched to, or run by, a worker), by role. */
  agents: { active: number; byRole: Record<string, number>; tasks: { taskId: string; role: string; workerId?: string; since?: string }[] };
  usage?: ViewUsage;
  budget?: ViewBudget;
}

export interface ReportOptions {
  /** ms since the epoch; default Date.now(). */
  now?: number;
  /**
   * Median task duration per role from other features (e.g. `roleMedians` of recent views); the feature's own
   * finished tasks of that role take precedence.
   */
  roleMedians?: Record<string, number>;
  /**
   * Live workers per role (from heartbeats), to tell a task merely queued for a worker from one no live worker can
   * take: without it, only a task.unserved event makes a "worker" blocker.
   */
  liveWorkers?: Record<string, number>;
}
