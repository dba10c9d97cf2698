// The execution status report of one feature (issue 14), computed from its FeatureView: progress, streams, the
// critical path with an estimate of the time left, blockers, gates per level, agents at work, usage and cost.
import type { FeatureView, ViewTask } from "../protocol/views.ts";
import { settleView } from "../protocol/waiting.ts";
import { blockersOf } from "./report-blockers.ts";
import type { CriticalPath, EstimateBasis, ExecutionReport, GateLevel, ReportOptions, ReportStep } from "./report-types.ts";

const ENDED_TASK: ReadonlySet<ViewTask["state"]> = new Set(["completed", "failed", "cancelled"]);
const ENDED_FEATURE: ReadonlySet<FeatureView["state"]> = new Set(["completed", "failed", "rejected", "cancelled"]);
/** States in which a worker does the task's work (or runs its gates) now: its elapsed time counts against its estimate. */
const WORKING: ReadonlySet<ViewTask["state"]> = new Set(["running", "verifying", "fixing", "integrating"]);
/** States in which a task is with a worker, or queued for one. */
const WITH_AGENT: ReadonlySet<ViewTask["state"]> = new Set(["dispatched", "running", "verifying", "integrating"]);

/** A completed task's duration: its recorded `durationMs`, else finish − start; undefined when neither is known. */
function durationOf(task: ViewTask): number | undefined {
  if (task.durationMs !== undefined) return task.durationMs;
  if (task.startedAt && task.finishedAt) return Math.max(0, Date.parse(task.finishedAt) - Date.parse(task.startedAt));
  return undefined;
}

function median(values: readonly number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The median duration (ms) of the completed tasks of each role, over all `views`. A role with no completed task
 * with a known duration is absent. Pure.
 */
export function roleMedians(views: readonly FeatureView[]): Record<string, number> {
  const byRole = new Map<string, number[]>();
  for (const view of views) {
    for (const task of view.tasks) {
      const duration = task.state === "completed" ? durationOf(task) : undefined;
      if (duration !== undefined) byRole.set(task.role, [...(byRole.get(task.role) ?? []), duration]);
    }
  }
  return Object.fromEntries([...byRole].map(([role, durations]) => [role, median(durations)!]));
}

/** How long a task of each role takes: this feature's own medians, then `given`, then this feature's overall median. */
interface Estimator {
  own: Record<string, number>;
  given: Record<string, number>;
  overall: number | undefined;
}

/** A remaining task's step on the critical path: what it still needs, and how that was estimated. */
function stepOf(task: ViewTask, estimator: Estimator, now: number): ReportStep {
  const base = { taskId: task.id, role: task.role, title: task.title, state: task.state };
  const known = estimator.own[task.role] ?? estimator.given[task.role];
  const typical = known ?? estimator.overall;
  if (typical === undefined) return { ...base, remainingMs: null, basis: "unknown" };
  if (WORKING.has(task.state) && task.startedAt) {
    return { ...base, remainingMs: Math.max(typical - Math.max(0, now - Date.parse(task.startedAt)), 0), basis: "running" };
  }
  const basis: EstimateBasis = known !== undefined ? "median" : "overall-median";
  return { ...base, remainingMs: typical, basis };
}

/** A chain's length for comparisons: known time first, then its unknown steps, then its steps. */
interface ChainLength { knownMs: number; unknown: number; steps: number }
const longer = (left: ChainLength, right: ChainLength) =>
  left.knownMs !== right.knownMs ? left.knownMs > right.knownMs : left.unknown !== right.unknown ? left.unknown > right.unknown : left.steps > right.steps;

/**
 * The longest chain of remaining tasks (dependencies first) by estimated remaining time. A task being fixed also
 * waits for its fix task. Deterministic: ties go to the task listed first.
 */
function criticalPath(view: FeatureView, estimator: Estimator, now: number): CriticalPath {
  if (ENDED_FEATURE.has(view.state)) return { steps: [], remainingMs: 0 };
  const remaining = new Map(view.tasks.filter((task) => !ENDED_TASK.has(task.state)).map((task) => [task.id, task]));
  const steps = new Map([...remaining.values()].map((task) => [task.id, stepOf(task, estimator, now)]));
  const best = new Map<string, { length: ChainLength; previous?: string }>();
  const visiting = new Set<string>();
  const chainTo = (taskId: string): ChainLength => {
    const known = best.get(taskId);
    if (known) return known.length;
    const step = steps.get(taskId)!;
    const own: ChainLength = { knownMs: step.remainingMs ?? 0, unknown: step.remainingMs === null ? 1 : 0, steps: 1 };
    visiting.add(taskId); // a cycle (a rejected plan has none here, but a view may be odd) is cut, not followed
    let chosen: { length: ChainLength; previous?: string } = { length: own };
    for (const dep of predecessors(remaining.get(taskId)!, remaining)) {
      if (visiting.has(dep)) continue;
      const before = chainTo(dep);
      const through = { knownMs: before.knownMs + own.knownMs, unknown: before.unknown + own.unknown, steps: before.steps + 1 };
      if (longer(through, chosen.length)) chosen = { length: through, previous: dep };
    }
    visiting.delete(taskId);
    best.set(taskId, chosen);
    return chosen.length;
  };
  let end: string | undefined;
  for (const taskId of remaining.keys()) if (end === undefined || longer(chainTo(taskId), chainTo(end))) end = taskId;
  const chain: ReportStep[] = [];
  for (let at = end; at !== undefined; at = best.get(at)?.previous) chain.unshift(steps.get(at)!);
  const pathMs = chain.some((step) => step.remainingMs === null) ? null : chain.reduce((sum, step) => sum + step.remainingMs!, 0);
  const spread = parallelBound([...steps.values()], view.maxParallel);
  const boundBy = pathMs !== null && spread > pathMs ? "parallel" as const : undefined;
  const remainingMs = pathMs === null ? null : Math.max(pathMs, spread);
  return {
    steps: chain, remainingMs, pathMs, ...(boundBy ? { boundBy } : {}),
    ...(remainingMs !== null && chain.length ? { eta: new Date(now + remainingMs).toISOString() } : {}),
  };
}

/**
 * The remaining work with an estimate over `maxParallel` places: no schedule finishes sooner than this, whatever the
 * chains (a task without an estimate adds nothing: it is a lower bound). 0 without a bound (then only the path counts).
 */
function parallelBound(steps: readonly ReportStep[], maxParallel: number | undefined): number {
  if (!maxParallel || maxParallel < 1) return 0;
  const total = steps.reduce((sum, step) => sum + (step.remainingMs ?? 0), 0);
  return Math.ceil(total / maxParallel);
}

/** The remaining tasks `task` waits for: its dependencies, and (being fixed) its fix tasks. */
function predecessors(task: ViewTask, remaining: ReadonlyMap<string, ViewTask>): string[] {
  const fixes = [...remaining.values()].filter((other) => other.fixes === task.id).map((other) => other.id);
  return [...task.dependsOn, ...fixes].filter((id) => remaining.has(id));
}

/** Gate results per level: the tasks' own, the streams' (tasks that run a stream's gates), the feature's. */
function gateLevels(view: FeatureView): GateLevel[] {
  const level = (name: GateLevel["level"], runs: GateLevel["runs"]): GateLevel =>
    ({ level: name, passed: runs.filter((run) => run.passed).length, failed: runs.filter((run) => !run.passed).length, runs });
  const taskRuns = (streamGate: boolean) => view.tasks
    .filter((task) => !!task.streamGate === streamGate)
    .flatMap((task) => (task.gateResults ?? []).map((gate) => ({ name: gate.name, taskId: task.id, passed: gate.passed, at: gate.at, ...(gate.reason ? { reason: gate.reason } : {}), ...(gate.tests ? { tests: gate.tests } : {}) })));
  const featureRuns = (view.gateResults ?? []).map((gate) => ({ name: gate.name, passed: gate.passed, at: gate.at, ...(gate.reason ? { reason: gate.reason } : {}), ...(gate.tests ? { tests: gate.tests } : {}) }));
  return [level("task", taskRuns(false)), level("stream", taskRuns(true)), level("feature", featureRuns)];
}

function progressOf(view: FeatureView): ExecutionReport["progress"] {
  const count = (states: readonly ViewTask["state"][]) => view.tasks.filter((task) => states.includes(task.state)).length;
  const total = view.tasks.length;
  const completed = count(["completed"]);
  const running = count(["running", "verifying", "fixing", "integrating"]);
  const failed = count(["failed"]);
  const cancelled = count(["cancelled"]);
  const percent = total === 0 ? (view.state === "completed" ? 100 : 0) : Math.floor((completed / total) * 100);
  return { total, completed, failed, cancelled, running, waiting: total - completed - failed - cancelled - running, percent };
}

function agentsOf(view: FeatureView): ExecutionReport["agents"] {
  const tasks = view.tasks.filter((task) => WITH_AGENT.has(task.state)).map((task) => {
    const since = task.startedAt ?? task.dispatchedAt;
    return { taskId: task.id, role: task.role, ...(task.workerId ? { workerId: task.workerId } : {}), ...(since ? { since } : {}) };
  });
  const byRole: Record<string, number> = {};
  for (const task of tasks) byRole[task.role] = (byRole[task.role] ?? 0) + 1;
  return { active: tasks.length, byRole, tasks };
}

/**
 * The execution report of `given` at `opts.now`. Pure: reads nothing but its arguments (the view is settled on a
 * copy first, so a view from an older coordinator without `waitingFor` reports the same). Percentages are rounded
 * down; an estimate is null, never a guess, when no task of the feature (or of `opts.roleMedians`) finished.
 */
export function executionReport(given: FeatureView, opts: ReportOptions = {}): ExecutionReport {
  const view = settleView(structuredClone(given));
  const now = opts.now ?? Date.now();
  const completedDurations = view.tasks.filter((task) => task.state === "completed").map(durationOf).filter((ms) => ms !== undefined);
  const estimator: Estimator = { own: roleMedians([view]), given: opts.roleMedians ?? {}, overall: median(completedDurations) };
  const acceptedAt = view.acceptedAt ? Date.parse(view.acceptedAt) : undefined;
  const elapsedMs = view.durationMs ?? (acceptedAt !== undefined ? Math.max(0, (view.finishedAt ? Date.parse(view.finishedAt) : now) - acceptedAt) : undefined);
  const streams = (view.streams ?? []).map((stream) => ({
    ...stream,
    percent: stream.tasks === 0 ? (stream.state === "passed" ? 100 : 0) : Math.floor((stream.completed / stream.tasks) * 100),
  }));
  return {
    featureId: view.featureId,
    ...(view.title !== undefined ? { title: view.title } : {}),
    state: view.state,
    at: new Date(now).toISOString(),
    ...(elapsedMs !== undefined ? { elapsedMs } : {}),
    progress: progressOf(view),
    streams,
    criticalPath: criticalPath(view, estimator, now),
    blockers: blockersOf(view, opts.liveWorkers),
    gates: gateLevels(view),
    agents: agentsOf(view),
    ...(view.usage ? { usage: view.usage } : {}),
    ...(view.budget ? { budget: view.budget } : {}),
  };
}
