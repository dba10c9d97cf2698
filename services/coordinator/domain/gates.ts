// The gate sequencer: one path for a task's gates and the feature's own. Gates run one after another on qa
// (or reviewer) workers; a result either moves to the next gate, ends the sequence (passed), starts a fix
// round, or fails. `judgeGateResult` decides (pure, on a GateHolder); the two adapters apply the decision.
import { REVIEW_GATE, wireError, type EventBody, type FailurePolicy, type GateRef, type GateReport, type TaskResult } from "../../../shared/protocol/index.ts";
import { draft, durationMs, type FeatureContext, type GateProgress } from "./context.ts";
import { allCompleted, anyFailed } from "./dag.ts";
import { dispatchGate, scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { failTask, startFix } from "./failure-policy.ts";
import { recordGateResult } from "./read-model.ts";
import { emitInto } from "./status-events.ts";
import { moveTask } from "./task-lifecycle.ts";

/** Fix rounds a review gets when the policy sets none. */
export const DEFAULT_REVIEW_ROUNDS = 2;

/** Whoever's gates these are, as the sequencer sees it. */
export interface GateHolder {
  gates: readonly string[];
  progress: GateProgress | undefined;
  policy: FailurePolicy | undefined;
  /** Requested changes go back to the author's role (a task's own); the feature has none (its fix role). */
  authorRole?: string | undefined;
  /** False for a test-driven red phase: a red test that passed has nothing to fix. */
  fixable: boolean;
}

export type GateDecision =
  /** Not the run the holder waits for (a duplicate, a stale run, or the holder is not verifying): change nothing. */
  | { kind: "stale" }
  | { kind: "next"; current: { index: number; run: number }; gate: string }
  | { kind: "passed" }
  | { kind: "fix"; role: string; round: number; reason: string }
  /** No fix round left; `rounds` is " (after N fix rounds)" or "". */
  | { kind: "failed"; reason: string; rounds: string };

const passedOf = (m: TaskResult): boolean => m.outcome === "completed" && m.gateReport?.passed === true;

/** What a gate result means for its holder. Pure. */
export function judgeGateResult(h: GateHolder, m: TaskResult): GateDecision {
  const g = m.gate!;
  const cur = h.progress?.current;
  if (!cur || h.progress?.fixing || cur.run !== g.run || h.gates[cur.index] !== g.name) return { kind: "stale" };
  if (passedOf(m)) {
    const index = cur.index + 1;
    return index < h.gates.length ? { kind: "next", current: { index, run: cur.run + 1 }, gate: h.gates[index]! } : { kind: "passed" };
  }
  const reason = failureReason(m);
  const used = h.progress?.fixRounds ?? 0;
  const fix = !h.fixable ? undefined
    : g.name === REVIEW_GATE ? { maxRounds: h.policy?.fix?.maxRounds ?? DEFAULT_REVIEW_ROUNDS, role: h.authorRole ?? h.policy?.fix?.role ?? "bugfix" }
    : h.policy?.fix;
  if (fix && used < fix.maxRounds) return { kind: "fix", role: fix.role ?? "bugfix", round: used + 1, reason };
  return { kind: "failed", reason, rounds: used ? ` (after ${used} fix round${used > 1 ? "s" : ""})` : "" };
}

/** Why a gate run failed: its report's reason, else the worker's error (e.g. the qa worker could not run it). */
function failureReason(m: TaskResult): string {
  return m.gateReport?.reason ?? m.error?.message ?? "the gate did not pass";
}

/** The status event body for a gate run's outcome (a result without a report counts as failed). */
export function gateEvent(m: TaskResult, passed: boolean, taskId: string | undefined, attempt: number | undefined): EventBody {
  const r: Partial<GateReport> = m.gateReport ?? {};
  return {
    kind: passed ? "gate.passed" : "gate.failed",
    gate: m.gate!.name, scope: m.gate!.scope, run: m.gate!.run, taskId, attempt, workerId: m.workerId,
    expect: r.expect ?? "pass", command: r.command ?? [], exitCode: r.exitCode ?? m.exitCode ?? null,
    durationMs: r.durationMs ?? durationMs(m.startedAt, m.finishedAt),
    tests: r.tests, coverage: r.coverage,
    reason: passed ? undefined : failureReason(m),
    outputTail: r.outputTail ?? "",
    ...(r.review ? { review: r.review } : {}),
  } as EventBody;
}

/** Emits a gate run's event and keeps its result for the read model. */
function recordGate(d: FeatureContext, body: EventBody, at: string): void {
  emitInto(d, body, at);
  recordGateResult(d, body, at);
}

const gateRef = (name: string, scope: GateRef["scope"], run: number): GateRef => ({ name, scope, run });

/** A gate run for a task came back: the next gate, the task completes, a fix round, or the task fails. */
export function onTaskGateResult(ctx: FeatureContext, m: TaskResult, at: string, o: ScheduleOptions): FeatureContext {
  const t0 = ctx.tasks[m.taskId];
  if (!t0 || t0.status !== "verifying" || t0.attempt !== m.attempt || !t0.gates) return ctx;
  const decision = judgeGateResult({ gates: t0.gates, progress: t0.verify, policy: t0.policy, authorRole: t0.role, fixable: t0.tddPhase !== "red" }, m);
  if (decision.kind === "stale") return ctx;
  const d = draft(ctx);
  recordGate(d, gateEvent(m, decision.kind === "next" || decision.kind === "passed", t0.id, t0.attempt), at);
  const t = d.tasks[t0.id]!; // with the gate's result recorded
  switch (decision.kind) {
    case "next":
      d.tasks[t.id] = moveTask(t, "gate", { verify: { ...t.verify, current: decision.current } });
      dispatchGate(d, gateRef(decision.gate, "task", decision.current.run), t.id, t.attempt, at);
      break;
    case "passed":
      d.tasks[t.id] = moveTask(t, "complete", { verify: { fixRounds: t.verify?.fixRounds } });
      emitInto(d, { kind: "task.completed", taskId: t.id, role: t.role, attempt: t.attempt, workerId: t.workerId ?? m.workerId, durationMs: durationMs(t.startedAt, t.finishedAt ?? at), summary: t.summary }, at);
      if (!anyFailed(d)) scheduleInto(d, at, o, t.id);
      break;
    case "fix":
      startFix(d, t, m, decision, at, o);
      break;
    case "failed":
      failTask(d, t, wireError("GateFailed", `gate "${m.gate!.name}" failed${decision.rounds}: ${decision.reason}`), at);
      break;
  }
  return d;
}

/** Whether the feature's gates should start now: every task completed, gates configured, none started. */
export function featureGatesDue(ctx: FeatureContext): boolean {
  const fg = ctx.featureGates;
  return !!fg?.gates.length && !fg.current && !fg.passed && !fg.failure && allCompleted(ctx);
}

/** Starts the feature's gates (entering the machine's `verifying` state). */
export function startFeatureGates(ctx: FeatureContext, at: string): FeatureContext {
  if (!featureGatesDue(ctx)) return ctx;
  const d = draft(ctx);
  const fg = ctx.featureGates!;
  d.featureGates = { ...fg, current: { index: 0, run: 1 } };
  emitInto(d, { kind: "feature.verifying", gates: fg.gates }, at);
  dispatchGate(d, gateRef(fg.gates[0]!, "feature", 1), undefined, 1, at);
  return d;
}

/** A run of one of the feature's own gates came back. */
export function onFeatureGateResult(ctx: FeatureContext, m: TaskResult, at: string, o: ScheduleOptions): FeatureContext {
  const fg0 = ctx.featureGates;
  if (!fg0 || fg0.passed || fg0.failure) return ctx;
  const decision = judgeGateResult({ gates: fg0.gates, progress: fg0, policy: ctx.policy, fixable: true }, m);
  if (decision.kind === "stale") return ctx;
  const d = draft(ctx);
  recordGate(d, gateEvent(m, decision.kind === "next" || decision.kind === "passed", undefined, undefined), at);
  const fg = d.featureGates!; // with the gate's result recorded
  switch (decision.kind) {
    case "next":
      d.featureGates = { ...fg, current: decision.current };
      dispatchGate(d, gateRef(decision.gate, "feature", decision.current.run), undefined, 1, at);
      break;
    case "passed":
      d.featureGates = { ...fg, current: undefined, passed: true };
      break;
    case "fix":
      startFix(d, undefined, m, decision, at, o);
      break;
    case "failed": {
      const escalate = ctx.policy?.then === "escalate" ? ' (policy "escalate": questions to a human are not available yet, so the feature fails)' : "";
      d.featureGates = { ...fg, current: undefined, failure: `feature gate "${m.gate!.name}" failed${decision.rounds}: ${decision.reason}${escalate}` };
      break;
    }
  }
  return d;
}

/**
 * A fix task completed: a task's gates run again from the first (a fix may break what passed before); a
 * feature gate that failed runs again. Does nothing when its owner no longer waits for it.
 */
export function afterFix(d: FeatureContext, fixFor: { taskId?: string | undefined }, at: string): void {
  if (fixFor.taskId) {
    const t = d.tasks[fixFor.taskId];
    const cur = t?.verify?.current;
    if (!t || t.status !== "fixing" || !cur || !t.gates) return;
    const current = { index: 0, run: cur.run + 1 };
    d.tasks[t.id] = moveTask(t, "verify", { verify: { ...t.verify, fixing: undefined, current } });
    emitInto(d, { kind: "task.verifying", taskId: t.id, role: t.role, attempt: t.attempt, workerId: t.workerId ?? "", gates: t.gates }, at);
    dispatchGate(d, gateRef(t.gates[0]!, "task", current.run), t.id, t.attempt, at);
    return;
  }
  const fg = d.featureGates;
  const cur = fg?.current;
  if (!fg || !fg.fixing || !cur) return;
  const current = { index: cur.index, run: cur.run + 1 };
  d.featureGates = { ...fg, fixing: undefined, current };
  dispatchGate(d, gateRef(fg.gates[cur.index]!, "feature", current.run), undefined, 1, at);
}
