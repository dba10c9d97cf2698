// The chaos run's account of tasks executed more than once: each repeat gets its cause — a kill of the worker running
// it (also when the agent was started by a helper its killed worker left behind), the NATS restart, a rollback that
// undid the task's work — or "other", which should never happen.
import { describe, expect, it } from "vitest";
import { analyze, type KillRecord } from "../../scripts/chaos/analyze.ts";
import type { Execution } from "../../scripts/chaos/ledger.ts";
import type { SeenEvent } from "../../scripts/chaos/observer.ts";

const run = (taskId: string, start: number, extra: Partial<Execution> = {}): Execution =>
  ({ featureId: "f1", taskId, attempt: 1, role: "api", pid: start, ppid: 500, ancestors: [500, 1], start, end: start + 300, ...extra });
const kill = (at: number, slot: string, pid: number): KillRecord => ({ at, kind: "worker", slot, pid, running: [] });

function causes(ledger: Execution[], kills: KillRecord[], events: SeenEvent[] = []) {
  const pidNames = new Map([[500, "api-1"], [600, "api-2"], [700, "database-1"]]);
  const result = analyze({ plannedFeatures: 1, submissions: [], events, ledger, kills, restarts: [], chaosStart: 0, pidNames });
  return Object.fromEntries(result.repeats.map((repeat) => [repeat.task, repeat.cause]));
}

describe("chaos analysis of repeated executions", () => {
  it("blames the kill of the worker the first run ran under", () => {
    expect(causes([run("t1", 1000, { end: undefined, killed: 1200 }), run("t1", 4500, { ppid: 600, ancestors: [600, 1] })], [kill(1100, "api-1", 500)])).toEqual({ "f1/t1": "worker kill" });
  });

  it("blames a kill of a worker of the task's role just before an orphaned run (its helper re-parented, its ancestry unknown)", () => {
    const orphan = run("t2", 1300, { ppid: 999, ancestors: [999, 1], end: undefined, killed: 1310 });
    expect(causes([orphan, run("t2", 4800, { ppid: 600, ancestors: [600, 1] })], [kill(1100, "api-1", 500)])).toEqual({ "f1/t2": "worker kill" });
    // a kill of a worker of another role does not explain it
    expect(causes([orphan, run("t2", 4800, { ppid: 600, ancestors: [600, 1] })], [kill(1100, "database-1", 700)])).toEqual({ "f1/t2": "other" });
  });

  it("blames a rollback that made the task pending again between the two runs", () => {
    const rolledBack: SeenEvent = { featureId: "f1", seq: 9, kind: "feature.rolled_back", at: 2000, ts: 2000, streamSeq: 9, git: { to: "a".repeat(40), tasks: ["t3"] } };
    expect(causes([run("t3", 1000), run("t3", 3000)], [], [rolledBack])).toEqual({ "f1/t3": "rollback" });
    expect(causes([run("t4", 1000), run("t4", 3000)], [], [rolledBack])).toEqual({ "f1/t4": "other" });
  });
});
