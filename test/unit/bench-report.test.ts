import { describe, expect, it } from "vitest";
import { designFloorVariants, type DesignFloorResult } from "../../bench/design-floor.ts";
import { designFloorRatios, judge, renderReport, type Results } from "../../bench/report.ts";
import { makeFeature } from "../../bench/scenarios.ts";
import { summarize } from "../../bench/stats.ts";
import { checkFeatureRequest } from "../../shared/protocol/index.ts";
import { sleepDuration } from "../../services/worker/runners/builtin.ts";

const s = (x: number) => summarize([x]);
const cpu = { wallMs: 1000, perUnitMs: { coordinator: 1 }, pctOfCore: { coordinator: 50 } };

function results(o: { stepMs?: number; pubUs?: number; casUs?: number; baton?: number; bull?: number; eff4?: number; eff8?: number; held?: number; rss?: number }): Results {
  return {
    startedAt: "2025-01-01T00:00:00.000Z", finishedAt: "", durationSeconds: 1, mode: "full", only: null,
    sizes: {
      chainSteps: 200, throughputTasks: 2000, throughputFeatures: 20, throughputWorkers: [1], concurrency: 8, scalingTasks: 400, scalingTaskMs: 50,
      scalingFeatures: 8, scalingSlots: [4, 8], stateFeatures: 10_000, drainWorkers: 2, drainConcurrency: 8, floorSamples: 10, rounds: 1,
    },
    machine: { host: "h", cpuModel: "cpu", cores: 2, memoryGiB: 1, os: "linux", loadAtStart: [0, 0, 0], node: "v20", natsServer: "2.9", redisServer: "7", commit: "abc", uncommittedRuntime: [], packages: {} },
    ...(o.pubUs !== undefined ? { floor: { payloadBytes: 256, requestReply: s(200), jsPublish: s(o.pubUs), kvCas: s(o.casUs ?? o.pubUs) } } : {}),
    ...(o.stepMs !== undefined
      ? {
          step: {
            steps: 200, rounds: 1, step: s(o.stepMs), perStepTotal: s(o.stepMs),
            segments: { workerSide: s(1), coordinatorApply: s(1), completedToNextDispatched: s(0.1) }, snapshotBytes: 1000, cpu, writes: { events: 3 },
          },
        }
      : {}),
    throughput: o.baton !== undefined ? [{ workers: 1, concurrency: 8, tasks: 2000, features: 20, rounds: 1, tasksPerSecond: s(o.baton), latency: s(5), cpu, writes: {} }] : [],
    scaling: [
      ...(o.eff4 !== undefined ? [{ slots: 4, tasks: 400, taskMs: 50, idealMs: 5000, actualMs: 5000 / o.eff4, speedup: 4 * o.eff4, efficiency: o.eff4, cpu, writes: {} }] : []),
      ...(o.eff8 !== undefined ? [{ slots: 8, tasks: 400, taskMs: 50, idealMs: 2500, actualMs: 2500 / o.eff8, speedup: 8 * o.eff8, efficiency: o.eff8, cpu, writes: {} }] : []),
    ],
    ...(o.held !== undefined
      ? {
          state: {
            features: o.held, publishMs: 1, publishPerSecond: 1, acceptMs: 1, acceptedPerSecond: 1, heldMs: 1, rssAtReadyMiB: 100, rssHeldMiB: o.rss ?? 100, peakHeldMiB: o.rss ?? 100,
            rssDrainedMiB: 100, drainWorkers: 2, drainConcurrency: 8, drainMs: 1, drainPerSecond: 1, drainFromSpawnMs: 1, cpuSubmit: cpu, cpuDrain: cpu,
          },
        }
      : {}),
    peer: { throughput: o.bull !== undefined ? [{ workers: 1, concurrency: 8, jobs: 2000, rounds: 1, jobsPerSecond: s(o.bull), cpu }] : [] },
    errors: [],
    targets: [],
  };
}

const metOf = (r: Results, prefix: string) => judge(r).find((t) => t.target.startsWith(prefix))?.met;

describe("bench targets", () => {
  it("step overhead: ≤ 1 ms, and ≤ 4 × each floor of the same run", () => {
    expect(metOf(results({ stepMs: 0.9, pubUs: 300, casUs: 250 }), "step overhead p50 ≤ 1 ms")).toBe(true);
    expect(metOf(results({ stepMs: 1.1, pubUs: 300 }), "step overhead p50 ≤ 1 ms")).toBe(false);
    expect(metOf(results({ stepMs: 0.9, pubUs: 300, casUs: 200 }), "step p50 ≤ 4 × JetStream publish")).toBe(true);
    expect(metOf(results({ stepMs: 0.9, pubUs: 300, casUs: 200 }), "step p50 ≤ 4 × KV CAS")).toBe(false);
    expect(metOf(results({ stepMs: 0.9 }), "step p50 ≤ 4 × KV CAS")).toBeNull();
  });

  it("throughput is judged against BullMQ with the same workers, and not at all without it", () => {
    expect(metOf(results({ baton: 5000, bull: 4000 }), "throughput")).toBe(true);
    expect(metOf(results({ baton: 1000, bull: 4000 }), "throughput")).toBe(false);
    expect(metOf(results({ baton: 1000 }), "throughput")).toBeNull();
  });

  it("scaling: 0.9 at 4 slots, 0.8 at 8; exactly the goal is met", () => {
    expect(metOf(results({ eff4: 0.9, eff8: 0.8 }), "scaling efficiency ≥ 0.9 at 4")).toBe(true);
    expect(metOf(results({ eff4: 0.899, eff8: 0.79 }), "scaling efficiency ≥ 0.9 at 4")).toBe(false);
    expect(metOf(results({ eff4: 0.899, eff8: 0.79 }), "scaling efficiency ≥ 0.8 at 8")).toBe(false);
    expect(metOf(results({}), "scaling efficiency ≥ 0.8 at 8")).toBeNull();
  });

  it("held features: judged only with 10,000 of them, against 512 MiB", () => {
    expect(metOf(results({ held: 10_000, rss: 300 }), "10,000 held")).toBe(true);
    expect(metOf(results({ held: 10_000, rss: 600 }), "10,000 held")).toBe(false);
    expect(metOf(results({ held: 1000, rss: 100 }), "10,000 held")).toBeNull();
  });

  it("the report names every missed target as missed", () => {
    const r = results({ stepMs: 5, pubUs: 100, baton: 1000, bull: 4000, eff4: 0.95, eff8: 0.85, held: 10_000, rss: 200 });
    r.targets = judge(r);
    const md = renderReport(r);
    expect(md.match(/\*\*missed\*\*/g)).toHaveLength(4);
    expect(md).toContain("| scaling efficiency ≥ 0.9 at 4 slots | 0.950 | met |");
  });
});

describe("bench features", () => {
  const limits = { maxBytes: 256 * 1024, roles: ["bench", "held"] };

  it("a chain of 200 is a valid request in which each task depends on the one before", () => {
    const f = makeFeature("chain-1", 200, { chain: true });
    const check = checkFeatureRequest(JSON.stringify(f), limits);
    expect(check.ok).toBe(true);
    expect(f.maxParallel).toBe(1);
    expect(f.tasks[0]!.dependsOn).toBeUndefined();
    expect(f.tasks.slice(1).every((t, i) => t.dependsOn?.[0] === f.tasks[i]!.id)).toBe(true);
    expect(new Set(f.tasks.map((t) => t.id)).size).toBe(200);
  });

  it("independent sleep tasks carry their duration where the sleep executor reads it", () => {
    const f = makeFeature("sc-01", 50, { maxParallel: 50, instructions: "50" });
    expect(checkFeatureRequest(JSON.stringify(f), limits).ok).toBe(true);
    expect(f.tasks.every((t) => !t.dependsOn && sleepDuration(t, 100) === 50)).toBe(true);
  });
});

describe("bench design floor", () => {
  const dcpu = { wallMs: 1000, perUnitMs: { coordinator: 0.4, workers: 0.3, nats: 0.5, bench: 0 }, pctOfCore: { coordinator: 40, workers: 30, nats: 50, bench: 0 } };
  const designFloor = (p50: Record<string, number>): DesignFloorResult => ({
    steps: 200, rounds: 3, warmupSteps: 20, processWarmupSteps: 2000, payloadBytes: 256, notes: [],
    runs: designFloorVariants(64_000).filter((v) => p50[v.name] !== undefined).map((v) => ({ ...v, step: s(p50[v.name]!), perStepTotal: s(p50[v.name]!), cpu: dcpu })),
  });

  it("variants: the minimum and + 3 status events always; the snapshot-sized ones only with a snapshot size", () => {
    expect(designFloorVariants(null).map((v) => [v.name, v.valueBytes, v.events])).toEqual([["min", 256, 0], ["ev", 256, 3]]);
    expect(designFloorVariants(64_000).map((v) => [v.name, v.valueBytes, v.events])).toEqual([["min", 256, 0], ["ev", 256, 3], ["snap", 64_000, 0], ["all", 64_000, 3]]);
    for (const v of designFloorVariants(64_000)) expect(v.name).toMatch(/^[a-z0-9]+$/); // a subject token and a KV key
  });

  it("ratios: Baton's step over the minimal and over the same-writes design floor; the minimal over the single-operation floor", () => {
    const r = { ...results({ stepMs: 3, pubUs: 100, casUs: 120 }), designFloor: designFloor({ min: 0.5, ev: 0.6, snap: 0.7, all: 1.2 }) };
    const x = designFloorRatios(r);
    expect(x.batonOverMinimal).toBeCloseTo(6, 12);
    expect(x.batonOverSameWrites).toBeCloseTo(5, 12); // over "ev": Baton's writes are a small commit, the task and 3 events
    expect(x.minimalOverJsPublish).toBeCloseTo(5, 12);
    expect(x.minimalOverKvCas).toBeCloseTo(0.5 / 0.12, 12);
    const partial = designFloorRatios({ designFloor: designFloor({ min: 0.5, ev: 0.6 }) });
    expect(partial).toEqual({ minimalOverJsPublish: null, minimalOverKvCas: null, batonOverMinimal: null, batonOverSameWrites: null });
    expect(designFloorRatios({ ...results({ stepMs: 3 }), designFloor: designFloor({ min: 0.5 }) }).batonOverSameWrites).toBeNull();
  });

  it("the report shows the design floor in the floor, step and CPU sections", () => {
    const r = { ...results({ stepMs: 3, pubUs: 100, casUs: 120 }), designFloor: designFloor({ min: 0.5, ev: 0.6, snap: 0.7, all: 1.2 }) };
    r.targets = judge(r);
    const md = renderReport(r);
    expect(md).toContain("#### Design floor: a 3-hop durable step with no Baton logic");
    expect(md).toContain("| minimal (256-byte CAS) | 0.50 | 0.50 | 0.50 | 5.00 | 6.00 | 1.20 |");
    expect(md).toContain("The design's own minimal step is **5.00 ×** the JetStream publish p50");
    expect(md).toContain("Baton step p50 = **6.00 ×** the design floor's minimal step p50 and **5.00 ×** the design floor with Baton's writes");
    expect(md).toContain("| Design floor step, minimal (256-byte CAS) | step | 0.40 (40%) | 0.30 (30%) | 0.50 (50%) | 0.00 (0%) |");
    expect(md.match(/\*\*missed\*\*/g)).toHaveLength(3); // the design floor is a yardstick, not a target
  });
  it("the report shows the worktree scenario: parts by repository size, and git's cost per task beside the scratch feature's", () => {
    const costs = (label: string, files: number, ms: number) => ({
      label, files, tasks: 20, checkout: s(ms), commit: s(ms / 2), integrate: s(ms / 4), total: s(ms * 1.75), prepareMs: ms, finishMs: 20 * ms, finishPerTaskMs: ms,
      gitProcesses: { checkout: 6, commit: 11, integrate: 17 }, worktreeKiB: 40_960,
    });
    const feature = (latency: number) => ({ latency: s(latency), gap: s(latency), perTask: s(latency), beforeExec: s(latency / 2), afterExec: s(latency / 4) });
    const worktree = {
      gitVersion: "git version 2.39.5", sizes: { gitTasks: 20, featureTasks: 8, rounds: 1 }, files: 10_001,
      inProcess: [costs("11 files", 11, 40), costs("10,001 files", 10_001, 200)], gitSpawn: s(3),
      bare: { full: s(150), remove: s(90), noCheckout: s(10), recycle: s(20) },
      scratch: feature(40),
      git: [640, 1040].map((latency, index) => ({ ...feature(latency), workerSide: s(500), integrateSide: s(140), prepare: 300, finish: 1000, bareAddBefore: 150 + 1000 * index })),
    };
    const md = renderReport({ ...results({ stepMs: 3 }), worktree });
    expect(md).toContain("### 9. Git features: worktree and integration per task (git version 2.39.5; repositories of 10,001 and 11 files)");
    expect(md).toContain("| checkout: ensureCheckout of a fresh task worktree (node_modules linked) | 40.0 / 40.0 | 200.0 / 200.0 | 160.0 | 6 |");
    expect(md).toContain("| **sum per task** | 70.0 / 70.0 | 350.0 / 350.0 | 280.0 | 34 |");
    expect(md).toContain("| git, round 1 (no mass deletion before it) | 640.0 / 640.0 | 640.0 | 640.0 | 16.00 | 150.0 |");
    expect(md).toContain("| git, round 2 (seconds after round 1's finish) | 1040.0 / 1040.0 | 1040.0 | 1040.0 | 26.00 | 1150.0 |");
    expect(md).toContain("Git's cost per task through Baton (latency p50, git − scratch): round 1 **600.0 ms**, round 2 **1000.0 ms**");
    expect(md).toContain("Baton's noop step p50 in this run: 3.00 ms.");
    expect(renderReport(results({ stepMs: 3 }))).not.toContain("### 9. Git features");
  });
});
