// The coordinator's watch on work no live worker serves (runtime/unserved.ts), with the heartbeats and the feature
// loop injected: what it reports, how often, and that thousands of held features are reported a few at a time.
import type { NatsConnection } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import { contextFromRequest, type FeatureContext } from "../../services/coordinator/domain/index.ts";
import type { FeatureEvent } from "../../services/coordinator/domain/machine.ts";
import { UnservedWatcher } from "../../services/coordinator/runtime/unserved.ts";
import { silentLogger } from "../../shared/logging.ts";
import type { WorkerHeartbeat } from "../../shared/protocol/index.ts";
import { names } from "../../shared/subjects.ts";

const T0 = Date.parse("2026-11-28T00:00:00.000Z");

/** A feature whose one task (role `role`) was dispatched at T0 and waits for a worker. */
function waiting(featureId: string, role = "docs"): FeatureContext {
  const ctx = contextFromRequest(featureId, { title: featureId, tasks: [{ id: "a", role, title: "a" }] }, new Date(T0).toISOString());
  return { ...ctx, tasks: { a: { ...ctx.tasks.a!, status: "dispatched", attempt: 1, dispatchedAt: new Date(T0).toISOString() } } };
}

const beat = (role: string): WorkerHeartbeat => ({ workerId: `${role}-1`, role, pid: 1, host: "h", slots: 1, busy: 0, state: "idle", startedAt: "2026-11-28T00:00:00.000Z", at: "2026-11-28T00:00:00.000Z", tasks: [] });

function watcher(opts: { live: () => WorkerHeartbeat[]; now: () => number; onApply?: () => Promise<void> }) {
  const applied: { featureId: string; events: FeatureEvent[] }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const w = new UnservedWatcher({
    nc: {} as NatsConnection, names: names("t"), log: silentLogger, repeatSeconds: 60,
    live: async () => opts.live(),
    now: () => new Date(opts.now()),
    apply: async (featureId, events) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await (opts.onApply?.() ?? Promise.resolve());
      applied.push({ featureId, events });
      inFlight--;
    },
  });
  return { w, applied, maxInFlight: () => maxInFlight };
}

describe("UnservedWatcher", () => {
  it("reports a wait once, again after the repeat interval, and not while a worker of the role lives", async () => {
    let now = T0 + 2000;
    let live: WorkerHeartbeat[] = [];
    const { w, applied } = watcher({ live: () => live, now: () => now });
    w.track("f1", "executing", waiting("f1"));
    await w.check();
    expect(applied).toEqual([{ featureId: "f1", events: [expect.objectContaining({ type: "task.unserved", run: { taskId: "a", attempt: 1, gate: undefined }, liveWorkers: 0, repeatSeconds: 60 })] }]);
    now += 30_000;
    await w.check();
    expect(applied).toHaveLength(1);
    now += 31_000;
    await w.check();
    expect(applied).toHaveLength(2);
    live = [beat("docs")];
    now += 61_000;
    await w.check();
    expect(applied).toHaveLength(2);
    // served, then unserved again: said at once
    live = [];
    await w.check();
    expect(applied).toHaveLength(3);
  });

  it("forgets a feature once nothing of it waits", async () => {
    const { w, applied } = watcher({ live: () => [], now: () => T0 });
    w.track("f1", "executing", waiting("f1"));
    w.track("f1", "completed", waiting("f1"));
    await w.check();
    expect(applied).toEqual([]);
  });

  it("reports thousands of held features a few at a time, and stops when workers appear during the check", async () => {
    let clock = T0;
    let live: WorkerHeartbeat[] = [];
    const { w, applied, maxInFlight } = watcher({
      live: () => live,
      now: () => clock,
      // each report takes 10 ms of the clock; workers come up after 200 reports
      onApply: async () => {
        clock += 10;
        if (applied.length >= 200) live = [beat("docs")];
        await Promise.resolve();
      },
    });
    for (let index = 0; index < 2000; index++) w.track(`f${index}`, "executing", waiting(`f${index}`));
    await w.check(); // the watcher reads the live workers again every second of its clock
    expect(maxInFlight()).toBeLessThanOrEqual(16);
    expect(applied.length).toBeGreaterThanOrEqual(200);
    expect(applied.length).toBeLessThan(400); // not the 2,000: the workers that came up stopped the reports
  });
});
