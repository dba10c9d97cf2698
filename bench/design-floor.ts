// The design floor: the cheapest dependent step that Baton's durable design allows, built from the same primitives
// with no Baton logic, measured in the same run. Two small processes (bench/design-floor-worker.ts and
// bench/design-floor-coordinator.ts, started like Baton's, through tsx) on the bench's nats-server, with streams, consumers
// and a KV bucket of their own (file storage, work-queue streams, as Baton's), deleted afterwards. A step is three hops:
//   worker: task delivered (pull consumer) → result published, ack awaited → task acked
//   coordinator: result delivered → KV compare-and-swap with the revision it holds → next task published, ack awaited
//                (optionally with status events in parallel) → result acked
// A step = the gap between the JetStream stored times of consecutive results of a chain, as Baton's step is the gap
// between consecutive task.completed events.
import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { nanos } from "@nats-io/nats-core";
import { join } from "node:path";
import type { Slot } from "../scripts/chaos/processes.ts";
import type { RunReply, RunRequest } from "./design-floor-coordinator.ts";
import { cpuFigures, cpuMeter, type CpuFigures } from "./cpu.ts";
import type { Ctx } from "./scenarios.ts";
import { chainFigures, type ChainRound, type Summary } from "./stats.ts";
import { NODE_ARGS, ROOT } from "./world.ts";

/** One way of running the chain: the CAS value's size and the status events published with each task. */
export interface DesignFloorVariant {
  /** A subject token: a-z, 0-9. */
  name: string;
  label: string;
  valueBytes: number;
  events: number;
}

export interface DesignFloorRun extends DesignFloorVariant {
  /** Gaps between consecutive results' stored times (ms), rounds × (steps − 1), pooled. */
  step: Summary;
  /** Per round: from the bench's request to the last result stored, divided by the steps (ms). */
  perStepTotal: Summary;
  /** CPU per step of the two processes (`coordinator`, `workers`), nats-server and the bench, over the measured rounds. */
  cpu: CpuFigures;
}

export interface DesignFloorResult {
  steps: number;
  rounds: number;
  /** Steps of warm-up before each variant, and once on the fresh processes before the first. */
  warmupSteps: number;
  processWarmupSteps: number;
  /** Size of every task, result and status-event message. */
  payloadBytes: number;
  runs: DesignFloorRun[];
  /** Why a variant was not run, if one was not. */
  notes: string[];
}

/** Steps of warm-up before each variant. */
export const DESIGN_FLOOR_WARMUP = 20;
/**
 * Steps run once on the fresh processes before any variant (about 1 s). With only 20, the first variant measured
 * 1.5–2 × slower, and with 1.4–2 × the CPU per step, than the same variant measured again right after: JIT warm-up
 * of two small processes, not the design. After 2,000 steps the first and a repeated pass agree.
 */
export const DESIGN_FLOOR_PROCESS_WARMUP = 2000;
const PAYLOAD_BYTES = 256;
const STATUS_EVENTS = 3;
/** tsx's loader as a file URL (as for the BullMQ worker): `--import tsx` would be resolved from the work directory. */
const TSX = import.meta.resolve("tsx");
const script = (name: string) => join(ROOT, "bench", name);
const wall = () => performance.timeOrigin + performance.now();

/**
 * The variants, cheapest first: the minimum (a 256-byte CAS), then with the 3 status events published in parallel
 * with the task — Baton's writes per step: a small compare-and-set commit (its journal entry), the task, 3 events —
 * then a CAS of the snapshot's size, and both (what Baton wrote per step before the journal: the whole snapshot).
 * The snapshot-sized ones need `snapshotBytes` (measured by the step scenario).
 */
export function designFloorVariants(snapshotBytes: number | null | undefined): DesignFloorVariant[] {
  const v: DesignFloorVariant[] = [
    { name: "min", label: `minimal (${PAYLOAD_BYTES}-byte CAS)`, valueBytes: PAYLOAD_BYTES, events: 0 },
    { name: "ev", label: `+ ${STATUS_EVENTS} status events in parallel with the task (Baton's writes)`, valueBytes: PAYLOAD_BYTES, events: STATUS_EVENTS },
  ];
  if (snapshotBytes) {
    v.push(
      { name: "snap", label: `${snapshotBytes.toLocaleString("en-US")}-byte CAS (the chain feature's snapshot)`, valueBytes: snapshotBytes, events: 0 },
      { name: "all", label: `${snapshotBytes.toLocaleString("en-US")}-byte CAS + ${STATUS_EVENTS} status events (Baton's writes before the journal)`, valueBytes: snapshotBytes, events: STATUS_EVENTS },
    );
  }
  return v;
}

export async function designFloor(ctx: Ctx, o: { steps: number; rounds: number; snapshotBytes: number | null | undefined }): Promise<DesignFloorResult> {
  const { world } = ctx;
  const prefix = world.prefix("dfloor");
  const P = prefix.toUpperCase();
  const s = { tasks: `${P}_TASKS`, results: `${P}_RESULTS`, events: `${P}_EVENTS` };
  const bucket = `${prefix}-state`;
  const jsm = await jetstreamManager(world.nc);
  const slots: Slot[] = [];
  const crashed = world.crashWatch();
  try {
    // Like Baton's topology (shared/nats.ts): file storage, work-queue streams with a 10-minute duplicate window,
    // explicit acks, a KV bucket with history 1.
    const wq = (name: string, subject: string) => ({
      name, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: nanos(600_000), num_replicas: 1,
    });
    await jsm.streams.add(wq(s.tasks, `${prefix}.task.>`));
    await jsm.streams.add(wq(s.results, `${prefix}.result.>`));
    await jsm.streams.add({ name: s.events, subjects: [`${prefix}.status.>`], retention: RetentionPolicy.Limits, storage: StorageType.File, duplicate_window: nanos(600_000), num_replicas: 1 });
    const durable = (name: string, maxAckPending: number) => ({
      durable_name: name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: nanos(30_000), max_deliver: -1, max_ack_pending: maxAckPending,
    });
    await jsm.consumers.add(s.tasks, { ...durable("worker", 100_000), filter_subject: `${prefix}.task.>` });
    await jsm.consumers.add(s.results, durable("coordinator", 10_000));
    await new Kvm(world.nc).create(bucket, { history: 1, storage: StorageType.File });

    const ctl = `${prefix}.ctl`;
    const spawn = (name: string, kind: "coordinator" | "worker", file: string, args: object, ready: RegExp) =>
      world.spawn({ name, kind, command: process.execPath, args: [...NODE_ARGS, "--import", TSX, script(file), JSON.stringify(args)], env: process.env, ready });
    const [coordinator, worker] = await Promise.all([
      spawn("design-floor-coordinator", "coordinator", "design-floor-coordinator.ts", {
        url: world.natsUrl, ctl, stream: s.results, consumer: "coordinator", bucket, taskPrefix: `${prefix}.task`, eventPrefix: `${prefix}.status`, payloadBytes: PAYLOAD_BYTES,
      }, /design-floor coordinator ready/),
      spawn("design-floor-worker", "worker", "design-floor-worker.ts", {
        url: world.natsUrl, stream: s.tasks, consumer: "worker", resultPrefix: `${prefix}.result`, payloadBytes: PAYLOAD_BYTES,
      }, /design-floor worker ready/),
    ]);
    slots.push(coordinator, worker);
    const pid = (x: Slot | undefined) => (x?.current ? [x.current.pid] : []);

    /** One chain on the two processes: the bench's start time and the results' stored times. */
    const chain = async (run: string, steps: number, v: DesignFloorVariant): Promise<ChainRound> => {
      const req: RunRequest = { run, steps, valueBytes: v.valueBytes, events: v.events };
      const t0 = wall();
      let reply: RunReply;
      let poll: NodeJS.Timeout | undefined;
      try {
        const exited = new Promise<never>((_, reject) => {
          poll = setInterval(() => crashed() && reject(new Error(`a process exited by itself: ${crashed()}`)), 200);
        });
        const answer = world.nc.request(ctl, JSON.stringify(req), { timeout: ctx.timeLeft(120_000) });
        answer.catch(() => {}); // when a crash wins the race, the request's own timeout must not go unhandled
        reply = JSON.parse((await Promise.race([answer, exited])).string()) as RunReply;
      } catch (e) {
        const why = (e as Error).message;
        throw new Error(`design floor ${run}: ${why}${crashed() && !why.includes("exited by itself") ? `; a process exited by itself: ${crashed()}` : ""}`);
      } finally {
        clearInterval(poll);
      }
      if ("error" in reply) throw new Error(`design floor ${run}: ${reply.error}`);
      return { t0, stored: reply.stored };
    };

    const runs: DesignFloorRun[] = [];
    const variants = designFloorVariants(o.snapshotBytes);
    await chain("jit", DESIGN_FLOOR_PROCESS_WARMUP, variants[0]!);
    for (const v of variants) {
      await chain(`${v.name}-w`, DESIGN_FLOOR_WARMUP, v);
      const meter = cpuMeter({ coordinator: pid(coordinator), workers: pid(worker), nats: pid(world.sup.get("nats")) });
      const rounds: ChainRound[] = [];
      for (let r = 1; r <= o.rounds; r++) rounds.push(await chain(`${v.name}-r${r}`, o.steps, v));
      const cpu = cpuFigures(meter.stop(), o.rounds * o.steps);
      const run: DesignFloorRun = { ...v, ...chainFigures(rounds, o.steps), cpu };
      runs.push(run);
      ctx.say(`  design floor, ${v.label}: step p50 ${run.step.p50.toFixed(2)} ms, p99 ${run.step.p99.toFixed(2)} ms, total/${o.steps} ${run.perStepTotal.p50.toFixed(2)} ms; ` +
        `CPU per step ${(cpu.perUnitMs.coordinator! + cpu.perUnitMs.workers! + cpu.perUnitMs.nats!).toFixed(2)} ms (its 2 processes + nats-server)`);
    }
    const notes = o.snapshotBytes ? [] : ["the snapshot-sized variants need the step scenario's snapshot size: not run"];
    return { steps: o.steps, rounds: o.rounds, warmupSteps: DESIGN_FLOOR_WARMUP, processWarmupSteps: DESIGN_FLOOR_PROCESS_WARMUP, payloadBytes: PAYLOAD_BYTES, runs, notes };
  } finally {
    await world.stop(slots);
    for (const name of [...Object.values(s), `KV_${bucket}`]) await jsm.streams.delete(name).catch(() => {});
  }
}
