// The gate sequencer's decision (services/coordinator/domain/gates.ts `judgeGateResult`), shared by a task's
// gates and the feature's own: which run counts, next gate, passed, fix round (review or policy), failed.
import { describe, expect, it } from "vitest";
import { judgeGateResult, type GateHolder } from "../../services/coordinator/domain/index.ts";
import type { GateReport, TaskResult } from "../../shared/protocol/index.ts";

const T = "2025-01-01T00:00:00.000Z";
function result(name: string, run: number, passed: boolean, extra: Partial<GateReport> = {}): TaskResult {
  const gate = { name, scope: "task" as const, run };
  return {
    type: "baton.v1.task_result", featureId: "f", taskId: "api", attempt: 1, role: "qa", workerId: "w", startedAt: T, finishedAt: T,
    outcome: passed ? "completed" : "failed", gate,
    gateReport: { ...gate, passed, expect: "pass", command: ["npm", "test"], exitCode: passed ? 0 : 1, durationMs: 5, outputTail: "", ...(passed ? {} : { reason: "2 of 9 tests failed" }), ...extra },
  };
}
const holder = (over: Partial<GateHolder> = {}): GateHolder => ({
  gates: ["unit", "lint"], progress: { current: { index: 0, run: 1 } }, policy: undefined, fixable: true, ...over,
});

describe("judging a gate result", () => {
  it("a pass moves to the next gate with the next run number, and the last pass ends the sequence", () => {
    expect(judgeGateResult(holder(), result("unit", 1, true))).toEqual({ kind: "next", current: { index: 1, run: 2 }, gate: "lint" });
    expect(judgeGateResult(holder({ progress: { current: { index: 1, run: 2 } } }), result("lint", 2, true))).toEqual({ kind: "passed" });
  });

  it("ignores what the holder does not wait for: another run, another gate, a holder that is fixing or not verifying", () => {
    expect(judgeGateResult(holder(), result("unit", 2, true))).toEqual({ kind: "stale" });
    expect(judgeGateResult(holder(), result("lint", 1, true))).toEqual({ kind: "stale" });
    expect(judgeGateResult(holder({ progress: { current: { index: 0, run: 1 }, fixing: { fixTaskId: "x", gate: "unit", round: 1 } } }), result("unit", 1, false))).toEqual({ kind: "stale" });
    expect(judgeGateResult(holder({ progress: undefined }), result("unit", 1, true))).toEqual({ kind: "stale" });
  });

  it("a failure with no policy fails, with the report's reason", () => {
    expect(judgeGateResult(holder(), result("unit", 1, false))).toEqual({ kind: "failed", reason: "2 of 9 tests failed", rounds: "" });
  });

  it("a failure without a report fails with the worker's error (e.g. the gate is not configured on the qa worker)", () => {
    const m: TaskResult = { ...result("unit", 1, false), gateReport: undefined, error: { name: "UnknownGate", code: "UNKNOWN_GATE", message: 'gate "unit" is not configured' } };
    expect(judgeGateResult(holder(), m)).toMatchObject({ kind: "failed", reason: 'gate "unit" is not configured' });
  });

  it("the policy's fix rounds start fix tasks of its role, then the gate fails naming the rounds used", () => {
    const policy = { fix: { maxRounds: 2, role: "bugfix" }, then: "fail" as const };
    expect(judgeGateResult(holder({ policy }), result("unit", 1, false))).toEqual({ kind: "fix", role: "bugfix", round: 1, reason: "2 of 9 tests failed" });
    expect(judgeGateResult(holder({ policy, progress: { current: { index: 0, run: 3 }, fixRounds: 1 } }), result("unit", 3, false))).toMatchObject({ kind: "fix", round: 2 });
    expect(judgeGateResult(holder({ policy, progress: { current: { index: 0, run: 5 }, fixRounds: 2 } }), result("unit", 5, false))).toEqual({ kind: "failed", reason: "2 of 9 tests failed", rounds: " (after 2 fix rounds)" });
  });

  it("requested changes go back to the author's role, with two rounds by default; the feature (no author) uses its fix role", () => {
    const review = holder({ gates: ["review"], authorRole: "backend" });
    expect(judgeGateResult(review, result("review", 1, false))).toMatchObject({ kind: "fix", role: "backend", round: 1 });
    expect(judgeGateResult({ ...review, progress: { current: { index: 0, run: 3 }, fixRounds: 2 } }, result("review", 3, false))).toMatchObject({ kind: "failed", rounds: " (after 2 fix rounds)" });
    const feature = holder({ gates: ["review"], policy: { fix: { maxRounds: 1, role: "docs" }, then: "fail" } });
    expect(judgeGateResult(feature, result("review", 1, false))).toMatchObject({ kind: "fix", role: "docs", round: 1 });
    expect(judgeGateResult(holder({ gates: ["review"] }), result("review", 1, false))).toMatchObject({ kind: "fix", role: "bugfix" });
  });

  it("a test-driven red phase is never fixed: its gate failing to fail means the tests test nothing missing", () => {
    const red = holder({ gates: ["unit"], fixable: false, policy: { fix: { maxRounds: 3, role: "bugfix" }, then: "fail" } });
    expect(judgeGateResult(red, result("unit", 1, false, { reason: "red phase did not fail" }))).toEqual({ kind: "failed", reason: "red phase did not fail", rounds: "" });
  });

  it("a report that says failed counts as failed even when the worker's outcome says completed", () => {
    const m = { ...result("unit", 1, false), outcome: "completed" as const };
    expect(judgeGateResult(holder(), m).kind).toBe("failed");
  });
});
