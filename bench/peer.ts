// The peer column: BullMQ on Redis on the same machine, in the same run, shaped like Baton's scenarios.
// Chain: a nested FlowProducer flow (each job has the previous step as its only child, so they run in order) on one
// worker process of concurrency 1. Throughput: Queue.addBulk of independent jobs on as many worker processes, with
// the same concurrency, as Baton's workers. Workers are separate processes, like Baton's.
import { join } from "node:path";
import { FlowProducer, Queue, type FlowJob, type Job } from "bullmq";
import { Redis } from "ioredis";
import type { Slot } from "../scripts/chaos/processes.ts";
import { gaps, perSecond, summarize, type Summary } from "./stats.ts";
import type { RedisTarget } from "./redis.ts";
import { cpuFigures, cpuMeter, type CpuFigures, type CpuUse } from "./cpu.ts";
import { ROOT, type World } from "./world.ts";

export interface PeerCtx {
  world: World;
  redis: RedisTarget;
  say: (line: string) => void;
  timeLeft: (capMs: number) => number;
}

export interface PeerChainResult {
  steps: number;
  rounds: number;
  /** Gaps between consecutive jobs' processor end times (high-resolution, one worker process), ms, rounds pooled. */
  step: Summary;
  /** Per round: from FlowProducer.add to the last job's finishedOn, divided by the steps (ms). */
  perStepTotal: Summary;
  cpu: CpuFigures;
}

export interface PeerThroughputResult {
  workers: number;
  concurrency: number;
  jobs: number;
  rounds: number;
  /** Per round: jobs / (start of addBulk → the last job's finishedOn). */
  jobsPerSecond: Summary;
  cpu: CpuFigures;
}

const WORKER_SCRIPT = join(ROOT, "bench", "bullmq-worker.ts");
/** tsx's loader as a file URL: `--import tsx` would be resolved from the work directory, where it is not installed. */
const TSX = import.meta.resolve("tsx");
let seq = 0;

/** One queue with its own prefix, its worker processes and a Queue; `close()` removes every key it made. */
class PeerQueue {
  readonly prefix: string;
  readonly name = "bench";
  readonly connection: Redis;
  readonly queue: Queue;
  private workers: Slot[] = [];
  private readonly crashed: () => string | undefined;

  constructor(
    private readonly ctx: PeerCtx,
    readonly tag: string,
  ) {
    this.prefix = `batonbench-${process.pid}-${++seq}-${tag}`;
    this.crashed = ctx.world.crashWatch();
    this.connection = new Redis({ host: ctx.redis.host, port: ctx.redis.port, maxRetriesPerRequest: null });
    this.queue = new Queue(this.name, { connection: this.connection, prefix: this.prefix });
  }

  async start(workers: number, concurrency: number): Promise<void> {
    await this.queue.waitUntilReady();
    const args = JSON.stringify({ host: this.ctx.redis.host, port: this.ctx.redis.port, prefix: this.prefix, queue: this.name, concurrency });
    this.workers = await Promise.all(Array.from({ length: workers }, (_, i) =>
      this.ctx.world.spawn({
        name: `bullmq-${this.tag}-worker-${i + 1}`, kind: "worker", command: process.execPath,
        args: ["--import", TSX, WORKER_SCRIPT, args], env: process.env, ready: /bullmq worker ready/,
      })));
  }

  /**
   * Resolves once `total` jobs are completed (counting from the queue's start); failed jobs stop it. It asks Redis
   * for the count every 20 ms rather than following QueueEvents: the figures come from the jobs' own timestamps, so
   * when this notices does not change them, and reading every event of 2,000 jobs cost the bench process more CPU
   * (on a 2-core machine it shares with the workers) than 50 small requests a second.
   */
  async untilCompleted(total: number, what: string, capMs: number): Promise<void> {
    const deadline = Date.now() + this.ctx.timeLeft(capMs);
    let lastSay = Date.now();
    for (;;) {
      const c = await this.queue.getJobCounts("completed", "failed");
      if (c.failed) throw new Error(`${what}: ${c.failed} BullMQ job(s) failed`);
      if ((c.completed ?? 0) >= total) return;
      if (Date.now() - lastSay > 3000) {
        lastSay = Date.now();
        this.ctx.say(`  … bullmq ${this.tag} ${what}: ${c.completed}/${total} jobs completed`);
      }
      if (this.crashed()) throw new Error(`${what}: a process exited by itself: ${this.crashed()}`);
      if (Date.now() > deadline) throw new Error(`${what}: not done in time`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** CPU of its worker processes and of redis-server (when its pid is known), and of the bench process. */
  cpu(): { stop(): CpuUse } {
    return cpuMeter({ workers: this.workers.flatMap((w) => (w.current ? [w.current.pid] : [])), redis: this.ctx.redis.pid ? [this.ctx.redis.pid] : [] });
  }

  async completedJobs(): Promise<Job[]> {
    return this.queue.getJobs(["completed"], 0, -1);
  }

  async close(): Promise<void> {
    await this.ctx.world.stop(this.workers);
    await this.queue.obliterate({ force: true }).catch(() => {});
    await this.queue.close().catch(() => {});
    this.connection.disconnect();
  }
}

/** A flow of `n` jobs nested so that job i is the parent of job i − 1: the leaf (step 1) runs first. */
function chainFlow(queueName: string, n: number, tag: string): FlowJob {
  let flow: FlowJob = { name: `${tag}-1`, queueName, data: { step: 1 } };
  for (let i = 2; i <= n; i++) flow = { name: `${tag}-${i}`, queueName, data: { step: i }, children: [flow] };
  return flow;
}

async function withQueue<T>(ctx: PeerCtx, tag: string, body: (q: PeerQueue) => Promise<T>): Promise<T> {
  const q = new PeerQueue(ctx, tag);
  try {
    return await body(q);
  } finally {
    await q.close().catch((e) => ctx.say(`  ! bullmq ${tag}: cleanup failed: ${(e as Error).message}`));
  }
}

const wall = () => performance.timeOrigin + performance.now();

export async function peerChain(ctx: PeerCtx, steps: number, rounds: number): Promise<PeerChainResult> {
  return withQueue(ctx, "chain", async (q) => {
    await q.start(1, 1);
    const flows = new FlowProducer({ connection: q.connection, prefix: q.prefix });
    const starts: number[] = [];
    let done = 20;
    let cpu: CpuFigures;
    try {
      await flows.add(chainFlow(q.name, 20, "warm"));
      await q.untilCompleted(done, "warm-up", 60_000);
      const meter = q.cpu();
      for (let r = 1; r <= rounds; r++) {
        starts.push(wall());
        await flows.add(chainFlow(q.name, steps, `r${r}`));
        await q.untilCompleted((done += steps), `chain of ${steps} (round ${r})`, 300_000);
      }
      cpu = cpuFigures(meter.stop(), rounds * steps);
    } finally {
      await flows.close().catch(() => {});
    }
    const all = await q.completedJobs();
    const step = (j: Job) => (j.data as { step: number }).step;
    const pooled: number[] = [];
    const totals: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      const jobs = all.filter((j) => j.name.startsWith(`r${r}-`)).sort((a, b) => step(a) - step(b));
      if (jobs.length !== steps) throw new Error(`bullmq chain round ${r}: ${jobs.length} of ${steps} steps found completed`);
      pooled.push(...gaps(jobs.map((j) => (j.returnvalue as { t: number }).t)));
      totals.push((Math.max(...jobs.map((j) => j.finishedOn ?? 0)) - starts[r - 1]!) / steps);
    }
    const r: PeerChainResult = { steps, rounds, step: summarize(pooled), perStepTotal: summarize(totals), cpu };
    ctx.say(`  bullmq chain: p50 ${r.step.p50.toFixed(2)} ms, p99 ${r.step.p99.toFixed(2)} ms, total/${steps} ${r.perStepTotal.p50.toFixed(2)} ms (median of ${rounds})`);
    return r;
  });
}

export async function peerThroughput(ctx: PeerCtx, o: { workers: number; concurrency: number; jobs: number; rounds: number }): Promise<PeerThroughputResult> {
  return withQueue(ctx, `tp${o.workers}`, async (q) => {
    await q.start(o.workers, o.concurrency);
    let done = 10 * o.workers * o.concurrency;
    await q.queue.addBulk(Array.from({ length: done }, (_, i) => ({ name: "warm", data: { i } })));
    await q.untilCompleted(done, "warm-up", 60_000);
    // One unmeasured full-size round, as for Baton.
    await q.queue.addBulk(Array.from({ length: o.jobs }, (_, i) => ({ name: "warm", data: { i } })));
    await q.untilCompleted((done += o.jobs), `${o.jobs} jobs (warm-up round)`, 300_000);
    const rates: number[] = [];
    const meter = q.cpu();
    for (let r = 1; r <= o.rounds; r++) {
      const t0 = wall();
      await q.queue.addBulk(Array.from({ length: o.jobs }, (_, i) => ({ name: `r${r}`, data: { i } })));
      await q.untilCompleted((done += o.jobs), `${o.jobs} jobs (round ${r})`, 300_000);
      const jobs = (await q.completedJobs()).filter((j) => j.name === `r${r}`);
      if (jobs.length !== o.jobs) throw new Error(`bullmq throughput round ${r}: ${jobs.length} of ${o.jobs} jobs found completed`);
      rates.push(perSecond(o.jobs, Math.max(...jobs.map((j) => j.finishedOn ?? 0)) - t0));
    }
    const r: PeerThroughputResult = { workers: o.workers, concurrency: o.concurrency, jobs: o.jobs, rounds: o.rounds, jobsPerSecond: summarize(rates), cpu: cpuFigures(meter.stop(), o.rounds * o.jobs) };
    ctx.say(`  bullmq tp${o.workers}: ${r.jobsPerSecond.p50.toFixed(0)} jobs/s (median of ${o.rounds}: ${rates.map((x) => x.toFixed(0)).join(", ")})`);
    return r;
  });
}

/** Redis PING round trips (µs), the peer's own floor. */
export async function redisFloor(ctx: PeerCtx, o: { samples: number; warmup: number }): Promise<Summary> {
  const r = new Redis({ host: ctx.redis.host, port: ctx.redis.port, maxRetriesPerRequest: null });
  try {
    for (let i = 0; i < o.warmup; i++) await r.ping();
    const out: number[] = [];
    for (let i = 0; i < o.samples; i++) {
      const t0 = process.hrtime.bigint();
      await r.ping();
      out.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    return summarize(out);
  } finally {
    r.disconnect();
  }
}
