// Test counts never shrink: each test gate's count at the feature's start (its baseline, measured before any
// task runs) and at its last pass; a later run with fewer tests fails unless the task may remove tests. Pure.
import { gateCheckout, workspacePending } from "./workspace.ts";
import { coordinatorMsgId, type EventBody, type GateRef, type TaskResult } from "../../../shared/protocol/index.ts";
import { editable, type FeatureContext, type FeatureDefaults, type GateTestCounts } from "./context.ts";
import { GATE_ROLE, scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { emitInto } from "./status-events.ts";

/** Task id that baseline runs carry on the wire (messages are routed by their `gate.scope`). */
export const BASELINE_TASK_ID = "feature-baseline";

/** Tests a report says ran (passed + failed; skipped, excluded and todo ones did not), or undefined without counts. */
export function ranOf(result: TaskResult): number | undefined {
  const tests = result.gateReport?.tests;
  return tests ? tests.passed + tests.failed : undefined;
}

/** The fewest tests a run may report: the last pass, else the base. (A pass never lowers it unless its task may remove tests.) */
const floorOf = (counts: GateTestCounts | undefined): number | undefined => counts?.lastPass ?? counts?.base;

/**
 * Starts the baseline runs at acceptance: every gate the feature names (its tasks' gates, test-driven phases
 * included, and its own) that the coordinator's config says counts tests, once each, in order. Without any,
 * nothing changes. Pure; call before the first `schedule` (which holds tasks while baselines are pending).
 */
export function startBaselines(ctx: FeatureContext, defaults: FeatureDefaults | undefined, at: string): FeatureContext {
  const testGates = new Set(defaults?.testGates ?? []);
  const named = [...ctx.order.flatMap((id) => ctx.tasks[id]!.gates ?? []), ...(ctx.featureGates?.gates ?? [])];
  const gates = [...new Set(named)].filter((gate) => testGates.has(gate));
  if (!gates.length) return ctx;
  const draft = editable({ ...ctx, baseline: { gates, index: 0 } });
  // a git feature measures its integration worktree: the first baseline waits for the workspace (workspace-ops.ts)
  if (!workspacePending(draft)) dispatchBaseline(draft, gates[0]!, at);
  return draft;
}

/** The workspace is ready: the first baseline run goes out now, if the feature has baselines waiting for it. */
export function baselinesAfterWorkspace(draft: FeatureContext, at: string): void {
  const bl = draft.baseline;
  if (bl && !bl.done && bl.index === 0) dispatchBaseline(draft, bl.gates[0]!, at);
}

function dispatchBaseline(draft: FeatureContext, gate: string, at: string): void {
  const ref: GateRef = { name: gate, scope: "baseline", run: 1 };
  draft.outbox.push({
    msgId: coordinatorMsgId.baselineGate(draft.featureId, gate),
    to: "task",
    role: GATE_ROLE,
    payload: {
      type: "baton.v1.task_assigned",
      featureId: draft.featureId, taskId: BASELINE_TASK_ID, attempt: 1, role: GATE_ROLE,
      title: `baseline of gate ${gate}: its test count before any task runs`,
      dependsOn: [], workspace: draft.workspace,
      feature: { title: draft.title, description: draft.description },
      handoffs: [], dispatchedAt: at, gate: ref,
      ...(draft.git ? { checkout: gateCheckout(draft, undefined) } : {}),
    },
  });
}

/**
 * A baseline run came back: whatever it measured is the gate's base (an unreadable summary or a run that could
 * not start gives none) — a baseline never fails the feature. Then the next baseline, or, after the last, the
 * tasks are scheduled. Stale or duplicate results change nothing; after the feature ended none is dispatched.
 */
export function onBaselineResult(ctx: FeatureContext, result: TaskResult, at: string, opts: ScheduleOptions, event: (r: TaskResult, passed: boolean) => EventBody): FeatureContext {
  const bl = ctx.baseline;
  const gate = result.gate!.name;
  if (!bl || bl.done || bl.gates[bl.index] !== gate) return ctx;
  const base = ranOf(result);
  const draft = editable(ctx);
  draft.testCounts = { ...ctx.testCounts, [gate]: { base } };
  const passed = result.outcome === "completed" && result.gateReport?.passed === true;
  emitInto(draft, { ...event(result, passed), ...(base !== undefined ? { baseTests: base } : {}) } as EventBody, at);
  const index = bl.index + 1;
  if (index < bl.gates.length) {
    draft.baseline = { ...bl, index };
    if (!ctx.finishedAt) dispatchBaseline(draft, bl.gates[index]!, at);
    return draft;
  }
  draft.baseline = { ...bl, index, done: true };
  scheduleInto(draft, at, opts);
  return draft;
}

/** What a gate run was held to: the counts before it (for the event), and the result as judged. */
export interface CountCheck {
  result: TaskResult;
  counts: { baseTests?: number; lastPassTests?: number };
}

/**
 * Holds a task or feature gate run to its gate's counts: a run that passed with fewer tests than the floor
 * (the last pass, else the base) becomes a failure naming both counts, unless `allowRemoval`. Pure.
 */
export function checkTestCount(ctx: FeatureContext, result: TaskResult, allowRemoval: boolean): CountCheck {
  const known = ctx.testCounts?.[result.gate!.name];
  const counts = {
    ...(known?.base !== undefined ? { baseTests: known.base } : {}),
    ...(known?.lastPass !== undefined ? { lastPassTests: known.lastPass } : {}),
  };
  const ran = ranOf(result);
  const floor = floorOf(known);
  const report = result.gateReport;
  if (!report?.passed || result.outcome !== "completed" || allowRemoval || ran === undefined || floor === undefined || ran >= floor) return { result, counts };
  const base = known?.base !== undefined ? `${known.base} at the feature's start` : "none at the feature's start";
  const last = known?.lastPass !== undefined ? `${known.lastPass} at its last pass` : "no pass yet";
  const reason = `exit ${report.exitCode ?? "none"}: ${ran} tests ran, fewer than before (${base}, ${last}): tests were removed or skipped — a task may remove tests only with \`allowTestRemoval: true\``;
  return { result: { ...result, outcome: "failed", gateReport: { ...report, passed: false, reason } }, counts };
}

/** After a gate run passed: its count is the gate's last pass (lower only when its task may remove tests). */
export function recordPass(draft: FeatureContext, result: TaskResult): void {
  const ran = ranOf(result);
  if (ran === undefined) return;
  const gate = result.gate!.name;
  draft.testCounts = { ...draft.testCounts, [gate]: { ...draft.testCounts?.[gate], lastPass: ran } };
}
