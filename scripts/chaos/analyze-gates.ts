// The quality gates' side of the chaos analysis: every gated task and feature completed only after its gate passed,
// every feature naming the test gate measured its baseline before its first task, and every handoff the agents
// checked arrived intact. Pure.
import { PLANNER_TASK_ID } from "../../shared/protocol/planning.ts";
import type { Execution } from "./ledger.ts";
import type { SeenEvent } from "./observer.ts";

export interface GateFigures {
  passed: number;
  failed: number;
  gatedTasks: number;
  gatedFeatures: number;
  completedUngated: string[];
  baselined: number;
  tasksBeforeBaseline: string[];
}

/**
 * A gated task (it had task.verifying) completes only after a gate.passed of that task and attempt; a gated feature
 * (feature.verifying) only after a feature gate.passed; a feature naming the test gate (in its request or its plan)
 * measures its baseline before any task but its planner's is dispatched.
 */
export function gatesOf(events: readonly SeenEvent[], grouped: Map<string, SeenEvent[]>): GateFigures {
  const figures: GateFigures = {
    passed: events.filter((event) => event.seq > 0 && event.kind === "gate.passed").length,
    failed: events.filter((event) => event.seq > 0 && event.kind === "gate.failed").length,
    gatedTasks: 0, gatedFeatures: 0, completedUngated: [], baselined: 0, tasksBeforeBaseline: [],
  };
  for (const [featureId, sorted] of grouped) {
    const before = (done: SeenEvent, kind: string) =>
      sorted.some((event) => event.kind === kind && event.taskId === done.taskId && event.attempt === done.attempt && event.seq < done.seq);
    for (const done of sorted.filter((event) => event.kind === "task.completed")) {
      if (!before(done, "task.verifying")) continue;
      figures.gatedTasks++;
      if (!before(done, "gate.passed")) figures.completedUngated.push(`${featureId}/${done.taskId}`);
    }
    const finished = sorted.find((event) => event.kind === "feature.completed");
    if (finished && sorted.some((event) => event.kind === "feature.verifying")) {
      figures.gatedFeatures++;
      if (!sorted.some((event) => event.kind === "gate.passed" && event.scope === "feature" && event.seq < finished.seq)) figures.completedUngated.push(featureId);
    }
    // a planned feature's gates come with its plan (plan.ready), and its planner's run goes before any baseline
    const gated = sorted.find((event) => event.kind === "feature.accepted")?.gated || sorted.find((event) => event.kind === "plan.ready")?.gated;
    const firstDispatch = sorted.find((event) => event.kind === "task.dispatched" && event.taskId !== PLANNER_TASK_ID);
    if (gated && firstDispatch) {
      figures.baselined++;
      const baseline = sorted.find((event) => (event.kind === "gate.passed" || event.kind === "gate.failed") && event.scope === "baseline");
      if (!baseline || baseline.seq > firstDispatch.seq) figures.tasksBeforeBaseline.push(featureId);
    }
  }
  return figures;
}

/** Every dependency's ~6 KiB document (stored by reference) reached each run of its dependents intact. */
export function handoffsOf(ledger: readonly Execution[]): { checked: number; bad: string[] } {
  return {
    checked: ledger.reduce((sum, run) => sum + (run.handoffsChecked ?? 0), 0),
    bad: ledger.flatMap((run) => (run.badHandoffs ?? []).map((bad) => `${run.featureId}/${run.taskId} got ${bad}`)),
  };
}
