// The gate sequencer: one path for a task's gates and the feature's own. Gates run one after another on qa
// (or reviewer) workers; a result either moves to the next gate, ends the sequence (passed), starts a fix
// round, or fails. `judgeGateResult` decides (pure, on a GateHolder); the two adapters apply the decision.
import { REVIEW_GATE, wireError, type AgentSession, type EventBody, type FailurePolicy, type GateRef, type GateReport, type TaskResult } from "../../../shared/protocol/index.ts";
import { durationMs, editable, type FeatureContext, type GateProgress, type TaskState } from "./context.ts";
import { allCompleted, anyFailed } from "./dag.ts";
import { dispatchGate, scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { failTask, startFix } from "./failure-policy.ts";
import { lastRunUsage } from "./usage.ts";
import { recordGateResult } from "./read-model.ts";
import { emitInto } from "./status-events.ts";
import { moveTask } from "./task-lifecycle.ts";
import { checkTestCount, recordPass, type CountCheck } from "./test-counts.ts";
import { beginIntegration } from "./integration.ts";
import { integrates } from "./workspace.ts";

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
export function judgeGateResult(holder: GateHolder, result: TaskResult): GateDecision {
  const gate = result.gate!;
  const cur = holder.progress?.current;
  if (!cur || holder.progress?.fixing || cur.run !== gate.run || holder.gates[cur.index] !== gate.name) return { kind: "stale" };
  if (passedOf(result)) {
    const index = cur.index + 1;
    return index < holder.gates.length ? { kind: "next", current: { index, run: cur.run + 1 }, gate: holder.gates[index]! } : { kind: "passed" };
  }
  const reason = failureReason(result);
  const used = holder.progress?.fixRounds ?? 0;
  const fix = !holder.fixable ? undefined
    : gate.name === REVIEW_GATE ? { maxRounds: holder.policy?.fix?.maxRounds ?? DEFAULT_REVIEW_ROUNDS, role: holder.authorRole ?? holder.policy?.fix?.role ?? "bugfix" }
    : holder.policy?.fix;
  if (fix && used < fix.maxRounds) return { kind: "fix", role: fix.role ?? "bugfix", round: used + 1, reason };
  return { kind: "failed", reason, rounds: used ? ` (after ${used} fix round${used > 1 ? "s" : ""})` : "" };
}

/** Why a gate run failed: its report's reason, else the worker's error (e.g. the qa worker could not run it). */
function failureReason(result: TaskResult): string {
  return result.gateReport?.reason ?? result.error?.message ?? "the gate did not pass";
}

/**
 * The status event body for a gate run's outcome (a result without a report counts as failed), with the
 * gate's test counts before it (`baseTests`, `lastPassTests`) when it has any.
 */
export function gateEvent(result: TaskResult, passed: boolean, taskId: string | undefined, attempt: number | undefined, counts: CountCheck["counts"] = {}): EventBody {
  const report: Partial<GateReport> = result.gateReport ?? {};
  return {
    kind: passed ? "gate.passed" : "gate.failed",
    gate: result.gate!.name, scope: result.gate!.scope, run: result.gate!.run, taskId, attempt, workerId: result.workerId,
    expect: report.expect ?? "pass", command: report.command ?? [], exitCode: report.exitCode ?? result.exitCode ?? null,
    durationMs: report.durationMs ?? durationMs(result.startedAt, result.finishedAt),
    tests: report.tests, coverage: report.coverage,
    reason: passed ? undefined : failureReason(result),
    outputTail: report.outputTail ?? "",
    ...(report.review ? { review: report.review } : {}),
    ...counts,
  } as EventBody;
}

/** Emits a gate run's event, keeps its result for the read model and, when it passed, its test count. */
function recordGate(draft: FeatureContext, body: EventBody, result: TaskResult, at: string): void {
  emitInto(draft, body, at);
  recordGateResult(draft, body, at);
  if (body.kind === "gate.passed") recordPass(draft, result);
}

const gateRef = (name: string, scope: GateRef["scope"], run: number): GateRef => ({ name, scope, run });

/** A gate run for a task came back: the next gate, the task completes, a fix round, or the task fails. */
export function onTaskGateResult(ctx: FeatureContext, result0: TaskResult, at: string, opts: ScheduleOptions): FeatureContext {
  const t0 = ctx.tasks[result0.taskId];
  if (!t0 || t0.status !== "verifying" || t0.attempt !== result0.attempt || !t0.gates) return ctx;
  // Fewer tests than the gate's base or last pass fail a run that passed otherwise (test-counts.ts).
  const checked = checkTestCount(ctx, result0, !!t0.allowTestRemoval);
  const result = checked.result;
  const decision = judgeGateResult({ gates: t0.gates, progress: t0.verify, policy: t0.policy, authorRole: t0.role, fixable: t0.tddPhase !== "red" }, result);
  if (decision.kind === "stale") return ctx;
  const draft = editable(ctx);
  recordGate(draft, gateEvent(result, decision.kind === "next" || decision.kind === "passed", t0.id, t0.attempt, checked.counts), result, at);
  const task = draft.tasks[t0.id]!; // with the gate's result recorded
  switch (decision.kind) {
    case "next":
      draft.tasks[task.id] = moveTask(task, "gate", { verify: { ...task.verify, current: decision.current } });
      dispatchGate(draft, gateRef(decision.gate, "task", decision.current.run), task.id, task.attempt, at);
      break;
    case "passed":
      if (integrates(draft, task)) {
        // a git feature's task completes once its work is on the integration branch (integration.ts)
        beginIntegration(draft, { ...task, verify: { fixRounds: task.verify?.fixRounds, runs: task.verify?.current?.run } }, at);
        break;
      }
      draft.tasks[task.id] = moveTask(task, "complete", { verify: { fixRounds: task.verify?.fixRounds }, finishedAt: task.finishedAt ?? at }); // a stream gate task has no work end
      emitInto(draft, { kind: "task.completed", taskId: task.id, role: task.role, attempt: task.attempt, workerId: task.workerId ?? result.workerId, durationMs: durationMs(task.startedAt, task.finishedAt ?? at), summary: task.summary, stored: task.stored, usage: lastRunUsage(task) }, at);
      if (!anyFailed(draft)) scheduleInto(draft, at, opts, task.id);
      break;
    case "fix":
      startFix(draft, task, result, decision, at, opts);
      break;
    case "failed":
      failTask(draft, task, wireError("GateFailed", `gate "${result.gate!.name}" failed${decision.rounds}: ${decision.reason}`), at);
      break;
  }
  return draft;
}

/** Whether the feature's gates should start now: every task completed, gates configured, none started. */
export function featureGatesDue(ctx: FeatureContext): boolean {
  const fg = ctx.featureGates;
  return !!fg?.gates.length && !fg.current && !fg.passed && !fg.failure && allCompleted(ctx);
}

/** Starts the feature's gates (entering the machine's `verifying` state). */
export function startFeatureGates(ctx: FeatureContext, at: string): FeatureContext {
  if (!featureGatesDue(ctx)) return ctx;
  const draft = editable(ctx);
  const fg = ctx.featureGates!;
  draft.featureGates = { ...fg, current: { index: 0, run: 1 } };
  emitInto(draft, { kind: "feature.verifying", gates: fg.gates }, at);
  dispatchGate(draft, gateRef(fg.gates[0]!, "feature", 1), undefined, 1, at);
  return draft;
}

/** A run of one of the feature's own gates came back. */
export function onFeatureGateResult(ctx: FeatureContext, result0: TaskResult, at: string, opts: ScheduleOptions): FeatureContext {
  const fg0 = ctx.featureGates;
  if (!fg0 || fg0.passed || fg0.failure) return ctx;
  // A feature gate has no task that may remove tests: a task that did lowered the last pass already.
  const checked = checkTestCount(ctx, result0, false);
  const result = checked.result;
  const decision = judgeGateResult({ gates: fg0.gates, progress: fg0, policy: ctx.policy, fixable: true }, result);
  if (decision.kind === "stale") return ctx;
  const draft = editable(ctx);
  recordGate(draft, gateEvent(result, decision.kind === "next" || decision.kind === "passed", undefined, undefined, checked.counts), result, at);
  const fg = draft.featureGates!; // with the gate's result recorded
  switch (decision.kind) {
    case "next":
      draft.featureGates = { ...fg, current: decision.current };
      dispatchGate(draft, gateRef(decision.gate, "feature", decision.current.run), undefined, 1, at);
      break;
    case "passed":
      draft.featureGates = { ...fg, current: undefined, passed: true };
      break;
    case "fix":
      startFix(draft, undefined, result, decision, at, opts);
      break;
    case "failed": {
      const escalate = ctx.policy?.then === "escalate" ? ' (policy "escalate": questions to a human are not available yet, so the feature fails)' : "";
      draft.featureGates = { ...fg, current: undefined, failure: `feature gate "${result.gate!.name}" failed${decision.rounds}: ${decision.reason}${escalate}` };
      break;
    }
  }
  return draft;
}

/**
 * Runs a fixing task's gates again from the first, as gate run `run` (its tree changed: a gate fix, or a conflict fix's
 * merge); the task keeps `session` (the fix's agent session), else its own. The task must have gates.
 */
export function rerunGates(draft: FeatureContext, task: TaskState, run: number, session: AgentSession | undefined, at: string): void {
  const current = { index: 0, run };
  draft.tasks[task.id] = moveTask(task, "verify", { verify: { ...task.verify, fixing: undefined, current, runs: run }, session: session ?? task.session });
  emitInto(draft, { kind: "task.verifying", taskId: task.id, role: task.role, attempt: task.attempt, workerId: task.workerId ?? "", gates: task.gates! }, at);
  dispatchGate(draft, gateRef(task.gates![0]!, "task", run), task.id, task.attempt, at);
}

/**
 * A fix task completed: a task's gates run again from the first (a fix may break what passed before); a
 * feature gate that failed runs again. Does nothing when its owner no longer waits for it. `session`: the fix
 * task's agent session, which the owner keeps, so that its next fix round continues this one's conversation.
 */
export function afterFix(draft: FeatureContext, fixFor: { taskId?: string | undefined }, at: string, session?: AgentSession): void {
  if (fixFor.taskId) {
    const task = draft.tasks[fixFor.taskId];
    const cur = task?.verify?.current;
    if (!task || task.status !== "fixing" || !cur || !task.gates) return;
    rerunGates(draft, task, cur.run + 1, session, at);
    return;
  }
  const fg = draft.featureGates;
  const cur = fg?.current;
  if (!fg || !fg.fixing || !cur) return;
  const current = { index: cur.index, run: cur.run + 1 };
  draft.featureGates = { ...fg, fixing: undefined, current };
  dispatchGate(draft, gateRef(fg.gates[cur.index]!, "feature", current.run), undefined, 1, at);
}
