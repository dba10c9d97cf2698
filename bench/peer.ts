// The peer column: BullMQ on Redis on the same machine, in the same run, shaped like Baton's scenarios.
// Chain: a nested FlowProducer flow (each job has the previous step as its only child, so they run in order) on one
// worker process of concurrency 1. Throughput: Queue.addBulk of independent jobs on as many worker processes, with
// the same concurrency, as Baton's workers. Workers are separate processes, like Baton's.
import { join } from "node:path";
import { FlowProducer, Queue, QueueEvents, type FlowJob, type Job } from "bullmq";
import { Redis } from "ioredis";
import type { Slot } from "../scripts/chaos/processes.ts";
import { gaps, perSecond, summarize, type Summary } from "./stats.ts";
import type { RedisTarget } from "./redis.ts";
import { ROOT, type World } from "./world.ts";

export interface PeerCtx {
  world: World;
  redis: RedisTarget;
  say: (line: string) => void;
  timeLeft: (capMs: number) => number;
}

export interface PeerChainResult {
  steps: number;
  /** Gaps between consecutive jobs' processor end times (high-resolution, one worker process), ms. */
  step: Summary;
  /** From FlowProducer.add to the last job's finishedOn, divided by the steps (ms). */
  perStepTotalMs: number;
  totalMs: number;
}

export interface PeerThroughputResult {
  workers: number;
  concurrency: number;
  jobs: number;
  /** From the start of addBulk to the last job's finishedOn (ms). */
  elapsedMs: number;
  jobsPerSecond: number;
}

const WORKER_SCRIPT = join(ROOT, "bench", "bullmq-worker.ts");
/** tsx's loader as a file URL: `--import tsx` would be resolved from the work directory, where it is not installed. */
const TSX = import.meta.resolve("tsx");
let seq = 0;

/** One queue with its own prefix, worker processes, a Queue and QueueEvents; `close()` removes every key it made. */
class PeerQueue {
  readonly prefix: string;
  readonly name = "bench";
  readonly connection: Redis;
  readonly queue: Queue;
  readonly events: QueueEvents;
  private completedSeen = 0;
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
    this.events = new QueueEvents(this.name, { connection: { host: ctx.redis.host, port: ctx.redis.port, maxRetriesPerRequest: null }, prefix: this.prefix });
    this.events.on("completed", () => this.completedSeen++);
  }

  async start(workers: number, concurrency: number): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    const args = JSON.stringify({ host: this.ctx.redis.host, port: this.ctx.redis.port, prefix: this.prefix, queue: this.name, concurrency });
    this.workers = await Promise.all(Array.from({ length: workers }, (_, i) =>
      this.ctx.world.spawn({
        name: `bullmq-${this.tag}-worker-${i + 1}`, kind: "worker", command: process.execPath,
        args: ["--import", TSX, WORKER_SCRIPT, args], env: process.env, ready: /bullmq worker ready/,
      })));
  }

  /**
   * Resolves once `total` jobs are completed (counting from the queue's start): the real count is checked when the
   * `completed` events (QueueEvents, a Redis stream) reach `total`, and every 250 ms in case that stream was trimmed.
   * The figures come from the jobs' own timestamps, so when this notices does not change them. Failed jobs stop it.
   */
  async untilCompleted(total: number, what: string, capMs: number): Promise<void> {
    const deadline = Date.now() + this.ctx.timeLeft(capMs);
    let lastSeen = -1;
    let lastCheck = 0;
    let lastSay = Date.now();
    for (;;) {
      // The count is asked only when the events say all are done, or every 250 ms: asking on every event would load Redis.
      if ((this.completedSeen !== lastSeen && this.completedSeen >= total) || Date.now() - lastCheck >= 250) {
        lastSeen = this.completedSeen;
        lastCheck = Date.now();
        const c = await this.queue.getJobCounts("completed", "failed");
        if (c.failed) throw new Error(`${what}: ${c.failed} BullMQ job(s) failed`);
        if ((c.completed ?? 0) >= total) return;
        if (Date.now() - lastSay > 3000) {
          lastSay = Date.now();
          this.ctx.say(`  … bullmq ${this.tag} ${what}: ${c.completed}/${total} jobs completed`);
        }
      }
      if (this.crashed()) throw new Error(`${what}: a process exited by itself: ${this.crashed()}`);
      if (Date.now() > deadline) throw new Error(`${what}: not done in time`);
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(t);
          this.events.off("completed", done);
          r();
        };
        const t = setTimeout(done, 50);
        this.events.on("completed", done);
      });
    }
  }

  async completedJobs(): Promise<Job[]> {
    return this.queue.getJobs(["completed"], 0, -1);
  }

  async close(): Promise<void> {
    await this.ctx.world.stop(this.workers);
    await this.events.close().catch(() => {});
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

export async function peerChain(ctx: PeerCtx, steps: number): Promise<PeerChainResult> {
  return withQueue(ctx, "chain", async (q) => {
    await q.start(1, 1);
    const flows = new FlowProducer({ connection: q.connection, prefix: q.prefix });
    let t0 = 0;
    try {
      await flows.add(chainFlow(q.name, 20, "warm"));
      await q.untilCompleted(20, "warm-up", 60_000);
      t0 = wall();
      await flows.add(chainFlow(q.name, steps, "step"));
      await q.untilCompleted(20 + steps, `chain of ${steps}`, 300_000);
    } finally {
      await flows.close().catch(() => {});
    }
    const step = (j: Job) => (j.data as { step: number }).step;
    const jobs = (await q.completedJobs()).filter((j) => j.name.startsWith("step-")).sort((a, b) => step(a) - step(b));
    if (jobs.length !== steps) throw new Error(`bullmq chain: ${jobs.length} of ${steps} steps found completed`);
    const ran = jobs.map((j) => (j.returnvalue as { t: number }).t);
    const totalMs = Math.max(...jobs.map((j) => j.finishedOn ?? 0)) - t0;
    const r = { steps, step: summarize(gaps(ran)), perStepTotalMs: totalMs / steps, totalMs };
    ctx.say(`  bullmq chain: p50 ${r.step.p50.toFixed(2)} ms, p99 ${r.step.p99.toFixed(2)} ms, total/${steps} ${r.perStepTotalMs.toFixed(2)} ms`);
    return r;
  });
}

export async function peerThroughput(ctx: PeerCtx, o: { workers: number; concurrency: number; jobs: number }): Promise<PeerThroughputResult> {
  return withQueue(ctx, `tp${o.workers}`, async (q) => {
    await q.start(o.workers, o.concurrency);
    const warm = 10 * o.workers * o.concurrency;
    await q.queue.addBulk(Array.from({ length: warm }, (_, i) => ({ name: "warm", data: { i } })));
    await q.untilCompleted(warm, "warm-up", 60_000);
    const t0 = wall();
    await q.queue.addBulk(Array.from({ length: o.jobs }, (_, i) => ({ name: "job", data: { i } })));
    await q.untilCompleted(warm + o.jobs, `${o.jobs} jobs`, 300_000);
    const jobs = (await q.completedJobs()).filter((j) => j.name === "job");
    if (jobs.length !== o.jobs) throw new Error(`bullmq throughput: ${jobs.length} of ${o.jobs} jobs found completed`);
    const elapsedMs = Math.max(...jobs.map((j) => j.finishedOn ?? 0)) - t0;
    const r = { workers: o.workers, concurrency: o.concurrency, jobs: o.jobs, elapsedMs, jobsPerSecond: perSecond(o.jobs, elapsedMs) };
    ctx.say(`  bullmq tp${o.workers}: ${r.jobsPerSecond.toFixed(0)} jobs/s (${(elapsedMs / 1000).toFixed(2)} s)`);
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
