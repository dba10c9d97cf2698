// The chaos run's check on quality gates: a gated task or feature must complete only after its gate passed, and a
// feature naming a (test-counting) gate measures its baseline before its first task.
import { describe, expect, it } from "vitest";
import { analyze } from "../../scripts/chaos/analyze.ts";
import type { SeenEvent } from "../../scripts/chaos/observer.ts";

let seq = 0;
const ev = (kind: string, extra: Partial<SeenEvent> = {}): SeenEvent => {
  seq++;
  return { featureId: "f1", seq, kind, at: 1000 + seq, ts: 1000 + seq, streamSeq: seq, ...extra };
};

function run(events: SeenEvent[]) {
  return analyze({ plannedFeatures: 1, submissions: [{ featureId: "f1", tasks: 1, ackedAt: 1 }], events, ledger: [], kills: [], restarts: [], chaosStart: 0 });
}

describe("chaos analysis of gates", () => {
  it("accepts a gated task and feature that completed after their gates passed", () => {
    seq = 0;
    const a = run([
      ev("feature.accepted", { gated: true }), ev("gate.passed", { scope: "baseline" }),
      ev("task.dispatched", { taskId: "t1", attempt: 1 }), ev("task.verifying", { taskId: "t1", attempt: 1 }),
      ev("gate.passed", { taskId: "t1", attempt: 1, scope: "task" }), ev("task.completed", { taskId: "t1", attempt: 1 }),
      ev("feature.verifying"), ev("gate.passed", { scope: "feature" }), ev("feature.completed"),
    ]);
    expect(a.gates).toMatchObject({ passed: 3, failed: 0, gatedTasks: 1, gatedFeatures: 1, completedUngated: [], baselined: 1, tasksBeforeBaseline: [] });
    expect(a.reasons.filter((r) => r.includes("gate") || r.includes("baseline"))).toEqual([]);
  });

  it("does not take a baseline run for the feature's gate, and fails the run when a task went before the baseline", () => {
    seq = 0;
    const a = run([
      ev("feature.accepted", { gated: true }), ev("task.dispatched", { taskId: "t1", attempt: 1 }), ev("gate.passed", { scope: "baseline" }),
      ev("task.completed", { taskId: "t1", attempt: 1 }), ev("feature.verifying"), ev("feature.completed"),
    ]);
    expect(a.gates.completedUngated).toEqual(["f1"]);
    expect(a.gates.tasksBeforeBaseline).toEqual(["f1"]);
    expect(a.reasons).toContainEqual(expect.stringContaining("dispatched a task before their test gate's baseline"));
  });

  it("fails the run when a gated task or feature completed without its gate passing", () => {
    seq = 0;
    const a = run([
      ev("feature.accepted"), ev("task.verifying", { taskId: "t1", attempt: 1 }), ev("gate.failed", { taskId: "t1", attempt: 1 }),
      ev("task.completed", { taskId: "t1", attempt: 1 }), ev("feature.verifying"), ev("feature.completed"),
    ]);
    expect(a.gates.completedUngated).toEqual(["f1/t1", "f1"]);
    expect(a.reasons).toContainEqual(expect.stringContaining("completed without their gate passing"));
  });
});

describe("chaos analysis of handoffs", () => {
  it("fails the run when a dependent did not get its dependency's stored handoff intact", () => {
    const execution = { featureId: "f1", taskId: "t2", attempt: 1, role: "r", pid: 10, ppid: 9, start: 1, end: 2 };
    const ok = analyze({ plannedFeatures: 1, submissions: [], events: [], kills: [], restarts: [], chaosStart: 0, ledger: [{ ...execution, handoffsChecked: 2, badHandoffs: [] }] });
    expect(ok.handoffs).toEqual({ checked: 2, bad: [] });
    expect(ok.reasons.filter((reason) => reason.includes("handoff"))).toEqual([]);
    const bad = analyze({ plannedFeatures: 1, submissions: [], events: [], kills: [], restarts: [], chaosStart: 0, ledger: [{ ...execution, handoffsChecked: 2, badHandoffs: ["t1 (different)"] }] });
    expect(bad.reasons).toContainEqual(expect.stringContaining("1 handoff(s) did not arrive intact: f1/t2 got t1 (different)"));
  });
});
