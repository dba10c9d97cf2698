// Work waiting for a worker: the dispatched tasks and gate runs no worker has started yet (`waitingRuns`),
// and the task.unserved event the runtime asks for when no live worker of their role exists (`onUnserved`).
// Pure: liveness comes in the event (runtime/unserved.ts reads the heartbeats), time in its `at`.
import type { FeatureContext, FeatureStateValue } from "./context.ts";
import { dispatchDeadline } from "./deadlines.ts";
import { FEATURE_GATES_TASK_ID, GATE_ROLE, REVIEW_ROLE } from "./dispatch.ts";
import { emit } from "./status-events.ts";
import { BASELINE_TASK_ID } from "./test-counts.ts";
import { FEATURE_OPS_TASK_ID, INTEGRATOR_ROLE, REVIEW_GATE } from "../../../shared/protocol/index.ts";

/** One run waiting for a worker of `role`: a task's work (no `gate`), or a gate run of a task, the feature or a baseline. */
export interface WaitingRun {
  /** The task id the run carries on the wire (FEATURE_GATES_TASK_ID / BASELINE_TASK_ID for feature-level gate runs). */
  taskId: string;
  role: string;
  attempt: number;
  gate?: { name: string; run: number } | undefined;
  /** A workspace operation (for the integrator role): its kind and run. */
  op?: { kind: string; run: number } | undefined;
  /** When it was dispatched, if known. */
  since?: string | undefined;
}

/** What the runtime sends the feature: `run` had no live worker of its role (`liveWorkers`, usually 0) at `at`. */
export interface UnservedEvent {
  type: "task.unserved";
  run: Pick<WaitingRun, "taskId" | "attempt" | "gate" | "op">;
  liveWorkers: number;
  at: string;
  /**
   * Ignore the event when the same wait was reported less than this long ago: several coordinators watch the same
   * features, and the history should say it once per interval, not once per coordinator. Default 0.
   */
  repeatSeconds?: number | undefined;
}

/** Feature states in which dispatched work can wait for a worker. */
const WAITING_STATES: ReadonlySet<FeatureStateValue> = new Set(["executing", "paused", "verifying"]);

const gateRole = (gate: string): string => (gate === REVIEW_GATE ? REVIEW_ROLE : GATE_ROLE);

/** Identifies a run across events (the runtime remembers when it last reported each). */
export const runKey = (run: Pick<WaitingRun, "taskId" | "attempt" | "gate" | "op">): string =>
  `${run.taskId}.${run.attempt}${run.gate ? `.${run.gate.name}.${run.gate.run}` : ""}${run.op ? `.op.${run.op.kind}.${run.op.run}` : ""}`;

/**
 * Every run of the feature that waits for a worker: tasks dispatched and not started, and the current gate run
 * of each verifying task, of the feature's gates and of its baselines. (A gate run's start is not recorded, so
 * a gate run counts as waiting until its result; the runtime reports it only when no worker of its role lives.)
 */
export function waitingRuns(state: FeatureStateValue, ctx: FeatureContext): WaitingRun[] {
  return WAITING_STATES.has(state) ? runsOf(ctx) : [];
}

function runsOf(ctx: FeatureContext): WaitingRun[] {
  const runs: WaitingRun[] = [];
  for (const id of ctx.order) {
    const task = ctx.tasks[id]!;
    if (task.status === "dispatched") runs.push({ taskId: id, role: task.role, attempt: task.attempt, since: task.dispatchedAt });
    const cur = task.verify?.current;
    const gate = cur && task.gates?.[cur.index];
    if (task.status === "verifying" && cur && gate && !task.verify?.fixing) {
      runs.push({ taskId: id, role: gateRole(gate), attempt: task.attempt, gate: { name: gate, run: cur.run }, since: cur.dispatchedAt });
    }
  }
  const fg = ctx.featureGates;
  const fgName = fg?.current && fg.gates[fg.current.index];
  if (fg?.current && fgName && !fg.fixing && !fg.passed && !fg.failure) {
    runs.push({ taskId: FEATURE_GATES_TASK_ID, role: gateRole(fgName), attempt: 1, gate: { name: fgName, run: fg.current.run }, since: fg.current.dispatchedAt });
  }
  const baseline = ctx.baseline;
  const blName = baseline && !baseline.done ? baseline.gates[baseline.index] : undefined;
  if (blName) runs.push({ taskId: BASELINE_TASK_ID, role: gateRole(blName), attempt: 1, gate: { name: blName, run: 1 } });
  // the workspace operation awaited, until its result (a git feature's, for the integrator role)
  const pending = ctx.git?.pending;
  if (pending) {
    const taskId = pending.taskId ?? FEATURE_OPS_TASK_ID;
    runs.push({ taskId, role: INTEGRATOR_ROLE, attempt: ctx.tasks[taskId]?.attempt || 1, op: { kind: pending.kind, run: pending.run }, since: pending.at });
  }
  return runs;
}

/** What to start for `role`, in words a person can follow. */
export const remedyFor = (role: string): string => `no live worker serves role "${role}": start one with \`baton worker --role ${role}\``;

/**
 * Publishes task.unserved for `event.run` if it still waits (the machine sends it only in executing, paused
 * and verifying) for a worker (else: stale, nothing changes): how
 * long it has waited, the live workers of its role, the remedy, and when it fails for want of a worker if the
 * feature has a `dispatchTimeoutSeconds`. The event is part of the feature's history (it gets the next seq).
 */
export function onUnserved(ctx: FeatureContext, event: UnservedEvent): FeatureContext {
  const key = runKey(event.run);
  const run = runsOf(ctx).find((candidate) => runKey(candidate) === key);
  if (!run) return ctx;
  // The wait's latest report (kept until the wait ends, read-model.ts recordForView): a recent one is enough.
  const featureLevel = (run.gate || run.op) && !ctx.tasks[run.taskId];
  const last = featureLevel ? ctx.unserved : ctx.tasks[run.taskId]?.unserved;
  if (last && last.gate === run.gate?.name && Date.parse(event.at) - Date.parse(last.at) < (event.repeatSeconds ?? 0) * 1000) return ctx;
  const waitingSeconds = run.since ? Math.max(0, Math.round((Date.parse(event.at) - Date.parse(run.since)) / 1000)) : 0;
  const task = run.gate || run.op ? undefined : ctx.tasks[run.taskId];
  const failsAt = task ? dispatchDeadline(ctx, task) : undefined;
  return emit(ctx, {
    kind: "task.unserved", taskId: run.taskId, role: run.role, attempt: run.attempt,
    ...(run.gate ? { gate: run.gate.name } : {}),
    waitingSeconds, liveWorkers: event.liveWorkers, remedy: remedyFor(run.role),
    ...(failsAt ? { failsAt } : {}),
  }, event.at);
}
