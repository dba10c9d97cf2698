// Feature state persisted by the coordinator before the reshape (format v1: test/fixtures/stored-v1) is migrated
// when read and continues under today's machine exactly where it stood; a format this version does not know
// is refused with an error naming the feature, never misread.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { STORED_VERSION, UnreadableFeatureError, upgradeStored, view, type StoredFeature } from "../../services/coordinator/domain/index.ts";
import { FeatureHarness } from "../helpers/feature-harness.ts";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/stored-v1/${name}.json`, import.meta.url), "utf8")) as { v: number; snapshot: unknown };

/** A harness continuing from a v1 checkpoint (migrated as the store does on read). */
function resume(name: string, featureId: string): FeatureHarness {
  const c = new FeatureHarness(featureId);
  const raw = fixture(name);
  c.stored = upgradeStored(featureId, raw);
  const { context } = view(c.stored);
  expect(context.outbox).toEqual([]); // v1 had published everything
  // The task messages v1 published for work under way, so that the harness can answer them as a worker would.
  for (const t of Object.values(context.tasks)) {
    if (t.status !== "dispatched" && t.status !== "running") continue;
    const payload = {
      type: "baton.v1.task_assigned" as const, featureId, taskId: t.id, attempt: t.attempt, role: t.role, title: t.title,
      dependsOn: t.dependsOn, feature: { title: context.title }, handoffs: [], dispatchedAt: t.dispatchedAt!,
    };
    c.published.push({ msgId: `${featureId}.task.${t.id}.${t.attempt}`, to: "task", role: t.role, payload });
  }
  return c;
}

describe("v1 checkpoints", () => {
  it("are migrated: gate progress moves into verify / featureGates, and paused is only the state", () => {
    const stored = upgradeStored("fixing", fixture("paused-while-fixing"));
    expect(stored.v).toBe(STORED_VERSION);
    const { state, context } = view(stored);
    expect(state).toBe("paused");
    expect(context).not.toHaveProperty("paused");
    expect(context).not.toHaveProperty("gates");
    expect(context.featureGates).toEqual({ gates: ["coverage"], current: undefined, passed: undefined, failure: undefined, fixRounds: undefined, fixing: undefined });
    expect(context.tasks.api).toMatchObject({ status: "fixing", verify: { current: { index: 1, run: 2 }, fixRounds: 1, fixing: { fixTaskId: "api-fix-1", gate: "lint", round: 1 } } });
    expect(context.tasks.api).not.toHaveProperty("gate");
    expect(context.tasks.api).not.toHaveProperty("fixRounds");
  });

  it("a task fixing its gate continues: the fix completes, its gates rerun from the first, then its dependents, then the feature's gate", () => {
    const c = resume("task-fixing", "fixing");
    c.work("api-fix-1"); // the fix task was dispatched by v1: answer it as the worker would
    expect(c.last.context.tasks.api!.status).toBe("verifying");
    expect(c.latest((x) => !!x.gate).gate).toEqual({ name: "unit", scope: "task", run: 3 });
    c.gate("unit", true, {}, "api");
    c.gate("lint", true, {}, "api");
    expect(c.last.context.tasks.api!.status).toBe("completed");
    c.work("ui");
    expect(c.last.state).toBe("verifying");
    c.gate("coverage", true);
    expect(c.last.state).toBe("completed");
  });

  it("a paused feature stays paused: results are recorded, nothing new starts until resume", () => {
    const c = resume("paused-while-fixing", "fixing");
    c.work("api-fix-1");
    c.gate("unit", true, {}, "api");
    c.gate("lint", true, {}, "api");
    expect(c.last.state).toBe("paused");
    expect(c.last.context.tasks.ui!.status).toBe("ready");
    c.send({ type: "feature.resume", at: c.now() });
    expect(c.last.context.tasks.ui!.status).toBe("dispatched");
  });

  it("feature gates that were fixing continue with the failed gate's next run", () => {
    const c = resume("feature-gate-fixing", "fgate");
    c.work("feature-fix-1");
    expect(c.latest((x) => !!x.gate).gate).toEqual({ name: "coverage", scope: "feature", run: 3 });
    c.gate("coverage", true);
    expect(c.last.state).toBe("completed");
  });

  it("a retrying task keeps its retry time and is dispatched again when it comes", () => {
    const c = resume("retrying", "retry");
    const retryAt = view(c.stored!).context.tasks.a!.retryAt!;
    expect(retryAt).toBeTruthy();
    c.timer(Date.parse(retryAt));
    expect(c.last.context.tasks.a).toMatchObject({ status: "dispatched", attempt: 2 });
  });

  it("a completed feature reads as completed, with its feature gate passed", () => {
    const { state, context } = view(upgradeStored("done", fixture("completed-with-gates")));
    expect(state).toBe("completed");
    expect(context.featureGates).toMatchObject({ gates: ["unit"], passed: true, current: undefined });
  });
});

describe("formats this version does not know", () => {
  it("are refused with an error naming the feature and the format", () => {
    const raw = { ...fixture("retrying"), v: 3 };
    expect(() => upgradeStored("retry", raw)).toThrow(UnreadableFeatureError);
    expect(() => upgradeStored("retry", raw)).toThrow(/feature retry: stored with format version 3, which this coordinator \(format 2\) cannot read/);
    expect(() => upgradeStored("x", { v: undefined, snapshot: {} } as unknown as StoredFeature)).toThrow(/feature x: stored with format version undefined/);
  });
});
