// Baton's scenarios: step overhead (a chain of dependent noop tasks), throughput (independent noop tasks over
// several features), scaling (sleep tasks over 1..k slots) and scale of state (many held features, then a drain).
// Each runs on its own Stack (fresh prefix, fresh processes), warms up first, and reads every figure from the
// JetStream stored time of status events.
import { Kvm } from "@nats-io/kv";
import { efficiency, gaps, idealMs, perSecond, speedup, summarize, type Summary } from "./stats.ts";
import type { Group } from "./observer.ts";
import { cpuFigures, type CpuFigures } from "./cpu.ts";
import { memoryOf, Stack, type ConfigSettings, type FeatureRequest, type RoleConfig, type World } from "./world.ts";

export interface Ctx {
  world: World;
  say: (line: string) => void;
  /** Milliseconds left for a wait within the run's time budget (and never more than `capMs`). */
  timeLeft: (capMs: number) => number;
}

export const ROLE = "bench";
const pad = (i: number, width: number) => String(i).padStart(width, "0");
const wall = () => performance.timeOrigin + performance.now();

/** A feature of `n` tasks for `role`; `chain` makes each depend on the one before. */
export function makeFeature(id: string, n: number, o: { role?: string; chain?: boolean; maxParallel?: number; instructions?: string } = {}): FeatureRequest {
  const w = String(n - 1).length;
  const tasks = Array.from({ length: n }, (_, i) => ({
    id: `t${pad(i, w)}`, role: o.role ?? ROLE, title: `benchmark task ${i}`,
    ...(o.instructions !== undefined ? { instructions: o.instructions } : {}),
    ...(o.chain && i > 0 ? { dependsOn: [`t${pad(i - 1, w)}`] } : {}),
  }));
  return { id, title: `benchmark ${id}`, maxParallel: o.maxParallel ?? 1, tasks };
}

/** Waits until every feature of the group ended; throws if one ended other than completed. */
async function untilCompleted(ctx: Ctx, s: Stack, what: string, g: Group, capMs: number): Promise<void> {
  const crashed = s.crashed;
  await s.observer.until(`${s.name}: ${what}`, () => g.ended === g.size, {
    timeoutMs: ctx.timeLeft(capMs),
    abortIf: () => (crashed() ? `a process exited by itself: ${crashed()}` : undefined),
    progress: () => `${g.tasksCompleted} tasks completed, ${g.ended}/${g.size} features ended`,
    onTick: (line) => ctx.say(`  … ${s.name} ${what}: ${line}`),
  });
  if (g.completedFeatures !== g.size) {
    const bad = g.ids.find((id) => s.observer.features.get(id)?.terminal?.kind !== "feature.completed")!;
    throw new Error(`${s.name}: ${g.size - g.completedFeatures} feature(s) did not complete, e.g. ${bad}: ${s.observer.features.get(bad)?.terminal?.kind}`);
  }
}

/** Submits the features and waits until all completed. */
export async function run(ctx: Ctx, s: Stack, what: string, fs: FeatureRequest[], capMs: number): Promise<Group> {
  const g = s.observer.group(fs.map((f) => f.id));
  await s.submit(fs);
  await untilCompleted(ctx, s, what, g, capMs);
  return g;
}

async function warmUp(ctx: Ctx, s: Stack, f: FeatureRequest): Promise<void> {
  await run(ctx, s, "warm-up", [f], 60_000);
}

/** Runs `body` on a fresh stack and always stops the stack (and deletes its streams) afterwards. */
export async function withStack<T>(ctx: Ctx, name: string, roles: Record<string, RoleConfig>, body: (s: Stack) => Promise<T>, settings: ConfigSettings = {}): Promise<T> {
  const s = await Stack.start(ctx.world, name, roles, settings);
  try {
    return await body(s);
  } finally {
    await s.stop().catch((e) => ctx.say(`  ! ${name}: cleanup failed: ${(e as Error).message}`));
  }
}

const ms = (x: number) => `${x.toFixed(2)} ms`;
const maxOf = (xs: Iterable<number>) => {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
};
const minOf = (xs: Iterable<number>) => -maxOf([...xs].map((x) => -x));

export interface StepResult {
  steps: number;
  rounds: number;
  /** Gaps between consecutive task.completed stored times (ms): rounds × (steps − 1) samples, pooled. */
  step: Summary;
  /** Per round: from the submission's publish to the last task.completed stored, divided by the steps (ms). */
  perStepTotal: Summary;
  /**
   * Each gap split in three (ms): the next task's task.dispatched stored → the coordinator received its result (the
   * task.completed event's `at`: the worker's side, NATS both ways included) → its task.completed stored (the
   * coordinator's apply) → the next task.dispatched stored. `at` has millisecond resolution (truncated), so the
   * first part reads up to 1 ms low and the second up to 1 ms high; their sum is exact.
   */
  segments: { workerSide: Summary; coordinatorApply: Summary; completedToNextDispatched: Summary };
  /** Size of the chain feature's KV snapshot at the end (bytes). */
  snapshotBytes: number | null;
  /** CPU per step over all rounds. */
  cpu: CpuFigures;
  /** Messages written per step to each stream and bucket. */
  writes: Record<string, number>;
}

export async function stepScenario(ctx: Ctx, steps: number, rounds: number): Promise<StepResult> {
  return withStack(ctx, "step", { [ROLE]: { executor: "noop" } }, async (s) => {
    await s.addWorkers([{ role: ROLE, concurrency: 1 }]);
    await warmUp(ctx, s, makeFeature("warm", 20, { chain: true }));
    ctx.say(`  step: warmed up; ${rounds} round(s) of a chain of ${steps} dependent noop tasks`);
    const pooled: number[] = [];
    const totals: number[] = [];
    const seg = { worker: [] as number[], apply: [] as number[], next: [] as number[] };
    let last = "";
    const writes = await s.writes();
    const meter = s.cpu();
    for (let r = 1; r <= rounds; r++) {
      const f = makeFeature(`chain-${r}`, steps, { chain: true });
      const t0 = wall();
      await run(ctx, s, `chain of ${steps} (round ${r})`, [f], 300_000);
      const ev = s.observer.features.get(f.id)!;
      const ids = f.tasks.map((t) => t.id);
      const completed = ids.map((id) => ev.completed.get(id)!);
      pooled.push(...gaps(completed));
      totals.push((completed.at(-1)! - t0) / steps);
      for (let i = 1; i < ids.length; i++) {
        const [prev, id] = [ids[i - 1]!, ids[i]!];
        const received = ev.completedAt.get(id);
        if (received === undefined) continue;
        seg.next.push(ev.dispatched.get(id)! - ev.completed.get(prev)!);
        seg.worker.push(received - ev.dispatched.get(id)!);
        seg.apply.push(ev.completed.get(id)! - received);
      }
      last = f.id;
    }
    const cpu = cpuFigures(meter.stop(), rounds * steps);
    const perStep = await writes.stop(rounds * steps);
    const entry = await (await new Kvm(ctx.world.nc).open(s.n.buckets.features)).get(last).catch(() => null);
    const r: StepResult = {
      steps, rounds,
      step: summarize(pooled),
      perStepTotal: summarize(totals),
      segments: { workerSide: summarize(seg.worker), coordinatorApply: summarize(seg.apply), completedToNextDispatched: summarize(seg.next) },
      snapshotBytes: entry?.length ?? null,
      cpu,
      writes: perStep,
    };
    ctx.say(`  step: p50 ${ms(r.step.p50)}, p99 ${ms(r.step.p99)}, total/${steps} ${ms(r.perStepTotal.p50)} (median of ${rounds}); coordinator CPU ${ms(cpu.perUnitMs.coordinator!)} per step`);
    return r;
  });
}

export interface ThroughputResult {
  workers: number;
  concurrency: number;
  tasks: number;
  features: number;
  rounds: number;
  /** Per round: tasks / (first submission's publish → last task.completed stored). */
  tasksPerSecond: Summary;
  /** task.dispatched → task.completed per task, all rounds pooled (ms). */
  latency: Summary;
  /** CPU per task and % of one core, over all rounds. */
  cpu: CpuFigures;
  writes: Record<string, number>;
}

export async function throughputScenario(ctx: Ctx, o: { workers: number; concurrency: number; features: number; tasksPerFeature: number; rounds: number }): Promise<ThroughputResult> {
  const name = `tp${o.workers}`;
  return withStack(ctx, name, { [ROLE]: { executor: "noop" } }, async (s) => {
    await s.addWorkers(Array.from({ length: o.workers }, () => ({ role: ROLE, concurrency: o.concurrency })));
    await warmUp(ctx, s, makeFeature("warm", 10 * o.workers * o.concurrency, { maxParallel: 1000 }));
    const total = o.features * o.tasksPerFeature;
    const round = (r: number | string) =>
      Array.from({ length: o.features }, (_, i) => makeFeature(`r${r}-tp-${pad(i + 1, 2)}`, o.tasksPerFeature, { maxParallel: o.tasksPerFeature }));
    // The first full-size round was always the slowest (for BullMQ too): one such round warms up, unmeasured.
    await run(ctx, s, `${total} tasks (warm-up round)`, round("w"), 300_000);
    ctx.say(`  ${name}: warmed up; ${o.rounds} round(s) of ${total} noop tasks in ${o.features} features, ${o.workers} worker(s) × ${o.concurrency} slots`);
    const rates: number[] = [];
    const latency: number[] = [];
    const writes = await s.writes();
    const meter = s.cpu();
    for (let r = 1; r <= o.rounds; r++) {
      const fs = round(r);
      const t0 = wall();
      await run(ctx, s, `${total} tasks (round ${r})`, fs, 300_000);
      const evs = fs.map((f) => s.observer.features.get(f.id)!);
      rates.push(perSecond(total, maxOf(evs.flatMap((e) => [...e.completed.values()])) - t0));
      for (const e of evs) for (const [id, t] of e.completed) latency.push(t - e.dispatched.get(id)!);
    }
    const r: ThroughputResult = {
      workers: o.workers, concurrency: o.concurrency, tasks: total, features: o.features, rounds: o.rounds,
      tasksPerSecond: summarize(rates), latency: summarize(latency), cpu: cpuFigures(meter.stop(), o.rounds * total),
      writes: await writes.stop(o.rounds * total),
    };
    ctx.say(`  ${name}: ${r.tasksPerSecond.p50.toFixed(0)} tasks/s (median of ${o.rounds}: ${rates.map((x) => x.toFixed(0)).join(", ")}); coordinator CPU ${r.cpu.pctOfCore.coordinator!.toFixed(0)}% of a core`);
    return r;
  });
}

export interface ScalingResult {
  slots: number;
  tasks: number;
  taskMs: number;
  idealMs: number;
  actualMs: number;
  /** Ideal single-slot time / actual. */
  speedup: number;
  efficiency: number;
  cpu: CpuFigures;
  writes: Record<string, number>;
}

export async function scalingScenario(ctx: Ctx, o: { slots: number; tasks: number; taskMs: number; features: number }): Promise<ScalingResult> {
  const name = `scale${o.slots}`;
  return withStack(ctx, name, { [ROLE]: { executor: "sleep", sleepMs: o.taskMs } }, async (s) => {
    await s.addWorkers([{ role: ROLE, concurrency: o.slots }]);
    await warmUp(ctx, s, makeFeature("warm", 4 * o.slots, { maxParallel: 1000, instructions: "5" }));
    const per = Math.ceil(o.tasks / o.features);
    const fs = Array.from({ length: o.features }, (_, i) => makeFeature(`sc-${pad(i + 1, 2)}`, per, { maxParallel: per, instructions: String(o.taskMs) }));
    const tasks = per * o.features;
    const writes = await s.writes();
    const meter = s.cpu();
    const t0 = wall();
    await run(ctx, s, `${tasks} sleep tasks`, fs, 300_000);
    const cpu = cpuFigures(meter.stop(), tasks);
    const actualMs = maxOf(fs.flatMap((f) => [...s.observer.features.get(f.id)!.completed.values()])) - t0;
    const ideal = idealMs(tasks, o.taskMs, o.slots);
    const r: ScalingResult = {
      slots: o.slots, tasks, taskMs: o.taskMs, idealMs: ideal, actualMs, speedup: speedup(idealMs(tasks, o.taskMs, 1), actualMs), efficiency: efficiency(ideal, actualMs),
      cpu, writes: await writes.stop(tasks),
    };
    ctx.say(`  ${name}: ${(actualMs / 1000).toFixed(2)} s for ideal ${(ideal / 1000).toFixed(2)} s: efficiency ${r.efficiency.toFixed(3)}`);
    return r;
  });
}

export interface StateResult {
  features: number;
  /** Publishing all requests (JetStream acks), ms, and rate. */
  publishMs: number;
  publishPerSecond: number;
  /** From the first publish to the last feature.accepted stored (ms), and accepted per second. */
  acceptMs: number;
  acceptedPerSecond: number;
  /** From the first publish to the last task.dispatched stored: every feature held, its task queued (ms). */
  heldMs: number;
  rssAtReadyMiB: number | null;
  rssHeldMiB: number | null;
  peakHeldMiB: number | null;
  rssDrainedMiB: number | null;
  drainWorkers: number;
  drainConcurrency: number;
  /** First task.started → last task.completed (stored), ms; and tasks per second. */
  drainMs: number;
  drainPerSecond: number;
  /** From spawning the drain workers to the last feature.completed (includes their start-up), ms. */
  drainFromSpawnMs: number;
  /** CPU per feature while submitting (until all held) and per task while draining. */
  cpuSubmit: CpuFigures;
  cpuDrain: CpuFigures;
}

export async function stateScenario(ctx: Ctx, o: { features: number; drainWorkers: number; drainConcurrency: number }): Promise<StateResult> {
  const HELD = "held";
  return withStack(ctx, "state", { [HELD]: { executor: "noop" }, warm: { executor: "noop" } }, async (s) => {
    const pid = s.coordinator.current!.pid;
    const rssAtReady = memoryOf(pid)?.rssMiB ?? null;
    const [warmWorker] = await s.addWorkers([{ role: "warm", concurrency: 1 }]);
    await warmUp(ctx, s, makeFeature("warm", 20, { role: "warm", maxParallel: 20 }));
    await ctx.world.stop([warmWorker!]);
    s.workers.length = 0;
    const w = String(o.features).length;
    const fs = Array.from({ length: o.features }, (_, i) => makeFeature(`h${pad(i + 1, w)}`, 1, { role: HELD }));
    const ids = fs.map((f) => f.id);
    ctx.say(`  state: warmed up; submitting ${o.features} features, each one task for a role with no worker`);
    const obs = s.observer;
    const g = obs.group(ids);
    const submitMeter = s.cpu();
    const t0 = wall();
    await s.submit(fs);
    const publishMs = wall() - t0;
    await obs.until("state: all held", () => g.held === g.size, {
      timeoutMs: ctx.timeLeft(600_000),
      abortIf: () => (s.crashed() ? `a process exited by itself: ${s.crashed()}` : undefined),
      progress: () => `${g.accepted}/${g.size} accepted, ${g.held}/${g.size} tasks queued`,
      onTick: (line) => ctx.say(`  … state: ${line}`),
    });
    const cpuSubmit = cpuFigures(submitMeter.stop(), o.features);
    const mem = memoryOf(pid);
    const evs = ids.map((id) => obs.features.get(id)!);
    const acceptMs = maxOf(evs.map((e) => e.accepted!)) - t0;
    const heldMs = maxOf(evs.flatMap((e) => [...e.dispatched.values()])) - t0;
    ctx.say(`  state: ${o.features} held; ${perSecond(o.features, acceptMs).toFixed(0)} accepted/s; coordinator RSS ${mem?.rssMiB.toFixed(0)} MiB; draining with ${o.drainWorkers} worker(s) × ${o.drainConcurrency}`);
    const spawned = wall();
    await s.addWorkers(Array.from({ length: o.drainWorkers }, () => ({ role: HELD, concurrency: o.drainConcurrency })));
    const drainMeter = s.cpu();
    await untilCompleted(ctx, s, "drain", g, 600_000);
    const cpuDrain = cpuFigures(drainMeter.stop(), o.features);
    const firstStart = minOf(evs.flatMap((e) => [...e.started.values()]));
    const lastDone = maxOf(evs.flatMap((e) => [...e.completed.values()]));
    const lastEnd = maxOf(evs.map((e) => e.terminal!.at));
    const drainMs = lastDone - firstStart;
    const r: StateResult = {
      features: o.features,
      publishMs, publishPerSecond: perSecond(o.features, publishMs),
      acceptMs, acceptedPerSecond: perSecond(o.features, acceptMs), heldMs,
      rssAtReadyMiB: rssAtReady, rssHeldMiB: mem?.rssMiB ?? null, peakHeldMiB: mem?.peakMiB ?? null, rssDrainedMiB: memoryOf(pid)?.rssMiB ?? null,
      drainWorkers: o.drainWorkers, drainConcurrency: o.drainConcurrency,
      drainMs, drainPerSecond: perSecond(o.features, drainMs), drainFromSpawnMs: lastEnd - spawned,
      cpuSubmit, cpuDrain,
    };
    ctx.say(`  state: drained in ${(drainMs / 1000).toFixed(2)} s (${r.drainPerSecond.toFixed(0)} tasks/s)`);
    return r;
  });
}
