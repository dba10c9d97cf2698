// The benchmark's results: one object (written as JSON), the targets judged from it, and the markdown report
// (printed at the end and written beside the JSON). Only rendering here; every figure is measured elsewhere.
import type { FloorResult } from "./floor.ts";
import type { MachineInfo } from "./machine.ts";
import type { PeerChainResult, PeerThroughputResult } from "./peer.ts";
import type { ScalingResult, StateResult, StepResult, ThroughputResult } from "./scenarios.ts";
import { ratio, type Summary } from "./stats.ts";

export interface Sizes {
  chainSteps: number;
  throughputTasks: number;
  throughputFeatures: number;
  throughputWorkers: number[];
  concurrency: number;
  scalingTasks: number;
  scalingTaskMs: number;
  scalingFeatures: number;
  scalingSlots: number[];
  stateFeatures: number;
  drainWorkers: number;
  drainConcurrency: number;
  floorSamples: number;
}

export interface Target {
  target: string;
  value: string;
  /** null: not measured in this run (skipped, failed, or a quick run's smaller size). */
  met: boolean | null;
}

export interface Results {
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  mode: "full" | "quick";
  only: string[] | null;
  sizes: Sizes;
  machine: MachineInfo;
  floor?: FloorResult;
  /** KV CAS with a value as large as the chain feature's snapshot (µs). */
  snapshotCas?: Summary & { bytes: number };
  step?: StepResult;
  throughput: ThroughputResult[];
  scaling: ScalingResult[];
  state?: StateResult;
  peer: {
    redis?: { host: string; port: number; ownServer: boolean; version: string; persistence: string };
    skipped?: string;
    redisPing?: Summary;
    chain?: PeerChainResult;
    throughput: PeerThroughputResult[];
  };
  errors: { scenario: string; message: string }[];
  targets: Target[];
}

const f2 = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toFixed(2));
const f0 = (x: number | null | undefined) => (x === null || x === undefined ? "–" : Math.round(x).toLocaleString("en-US"));
const f3 = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toFixed(3));
const us = (x: number) => Math.round(x).toLocaleString("en-US");

/** Judges every target from the figures of this run. */
export function judge(r: Results): Target[] {
  const t: Target[] = [];
  const step = r.step?.step.p50;
  const pub = r.floor ? r.floor.jsPublish.p50 / 1000 : undefined;
  const cas = r.floor ? r.floor.kvCas.p50 / 1000 : undefined;
  t.push({ target: "step overhead p50 ≤ 1 ms", value: step === undefined ? "not measured" : `${f2(step)} ms`, met: step === undefined ? null : step <= 1 });
  for (const [name, floor] of [["JetStream publish", pub], ["KV CAS", cas]] as const) {
    const x = ratio(step, floor);
    t.push({ target: `step p50 ≤ 4 × ${name} p50 (same run)`, value: x === null ? "not measured" : `${f2(x)} × (${f2(step)} ms / ${f2(floor)} ms)`, met: x === null ? null : x <= 4 });
  }
  for (const b of r.throughput) {
    const p = r.peer.throughput.find((x) => x.workers === b.workers);
    const x = ratio(b.tasksPerSecond, p?.jobsPerSecond);
    t.push({
      target: `throughput ≥ BullMQ's, ${b.workers} worker(s) × ${b.concurrency}`,
      value: x === null ? `${f0(b.tasksPerSecond)} tasks/s; BullMQ not measured` : `${f0(b.tasksPerSecond)} vs ${f0(p!.jobsPerSecond)} /s (${f2(x)} ×)`,
      met: x === null ? null : x >= 1,
    });
  }
  for (const [slots, goal] of [[4, 0.9], [8, 0.8]] as const) {
    const s = r.scaling.find((x) => x.slots === slots);
    t.push({ target: `scaling efficiency ≥ ${goal} at ${slots} slots`, value: s ? f3(s.efficiency) : "not measured", met: s ? s.efficiency >= goal : null });
  }
  const st = r.state;
  const full = st !== undefined && st.features >= 10_000;
  t.push({
    target: "10,000 held features under 512 MiB coordinator RSS",
    value: !st ? "not measured" : `${f0(st.rssHeldMiB)} MiB with ${f0(st.features)} features${full ? "" : " (fewer than 10,000: not judged)"}`,
    met: !st || !full || st.rssHeldMiB === null ? null : st.rssHeldMiB < 512,
  });
  return t;
}

/** A markdown table; the first column left-aligned, the others right-aligned unless `left`. */
function table(head: string[], rows: (string | number)[][], left = false): string {
  const align = head.map((_, i) => (i && !left ? "---:" : "---")).join("|");
  return [`| ${head.join(" | ")} |`, `|${align}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

export function renderMachine(r: Results): string {
  const m = r.machine;
  const pk = Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(", ");
  const dirty = m.uncommittedRuntime.length ? ` — **with uncommitted changes to ${m.uncommittedRuntime.length} runtime file(s)**: ${m.uncommittedRuntime.join("; ")}` : "";
  return [
    `- date: ${r.startedAt} (${r.durationSeconds.toFixed(0)} s), ${r.mode} run${r.only ? `, only ${r.only.join(", ")}` : ""}; commit ${m.commit}${dirty}`,
    `- machine: ${m.host}, ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}; load average at start ${m.loadAtStart.join(" / ")}`,
    `- node ${m.node}, nats-server ${m.natsServer}, redis-server ${r.peer.redis?.version ?? m.redisServer}${r.peer.redis ? ` (${r.peer.redis.ownServer ? "started by the run" : "already running"}: ${r.peer.redis.persistence})` : ""}`,
    `- packages: ${pk}`,
  ].join("\n");
}

export function renderReport(r: Results): string {
  const out: string[] = [];
  const sz = r.sizes;
  out.push(`## Baton benchmark — ${r.startedAt.slice(0, 10)} on ${r.machine.host}${r.mode === "quick" ? " (QUICK: smaller sizes)" : ""}`, "", renderMachine(r), "");
  if (r.floor) {
    const fl = r.floor;
    const rows: (string | number)[][] = [
      ["NATS core request/reply (in-process responder, 2nd connection)", us(fl.requestReply.p50), us(fl.requestReply.p99), fl.requestReply.n],
      ["JetStream publish with ack (file storage)", us(fl.jsPublish.p50), us(fl.jsPublish.p99), fl.jsPublish.n],
      ["KV update with last revision (CAS, file storage)", us(fl.kvCas.p50), us(fl.kvCas.p99), fl.kvCas.n],
    ];
    if (r.snapshotCas) rows.push([`KV CAS with a ${f0(r.snapshotCas.bytes)}-byte value (the chain feature's snapshot)`, us(r.snapshotCas.p50), us(r.snapshotCas.p99), r.snapshotCas.n]);
    if (r.peer.redisPing) rows.push(["Redis PING (peer's floor)", us(r.peer.redisPing.p50), us(r.peer.redisPing.p99), r.peer.redisPing.n]);
    out.push(`### 1. Floor (${fl.payloadBytes}-byte payloads, sequential, after warm-up)`, "", table(["operation", "p50 µs", "p99 µs", "n"], rows), "");
  }
  if (r.step || r.peer.chain) {
    const s = r.step;
    const p = r.peer.chain;
    const rows: (string | number)[][] = [
      ["step p50 (ms)", f2(s?.step.p50), f2(p?.step.p50), f2(ratio(s?.step.p50, p?.step.p50))],
      ["step p99 (ms)", f2(s?.step.p99), f2(p?.step.p99), f2(ratio(s?.step.p99, p?.step.p99))],
      [`total / ${sz.chainSteps} (ms)`, f2(s?.perStepTotalMs), f2(p?.perStepTotalMs), f2(ratio(s?.perStepTotalMs, p?.perStepTotalMs))],
    ];
    out.push(`### 2. Step overhead: a chain of ${sz.chainSteps} dependent no-op tasks (1 coordinator, 1 worker × 1)`, "", table(["figure", "Baton", "BullMQ", "Baton / BullMQ"], rows), "");
    if (s && r.floor) {
      out.push(`Baton step p50 = **${f2(ratio(s.step.p50, r.floor.jsPublish.p50 / 1000))} ×** the JetStream publish p50 and **${f2(ratio(s.step.p50, r.floor.kvCas.p50 / 1000))} ×** the KV CAS p50 of this run.`, "");
    }
    if (s) {
      const seg = s.segments;
      out.push(
        "Baton's step, split at the stored times of the next task's events (ms):",
        "",
        table(["segment", "p50", "p99", "mean"], [
          ["task.completed → next task.dispatched", f2(seg.completedToDispatched.p50), f2(seg.completedToDispatched.p99), f2(seg.completedToDispatched.mean)],
          ["task.dispatched → task.started", f2(seg.dispatchedToStarted.p50), f2(seg.dispatchedToStarted.p99), f2(seg.dispatchedToStarted.mean)],
          ["task.started → task.completed", f2(seg.startedToCompleted.p50), f2(seg.startedToCompleted.p99), f2(seg.startedToCompleted.mean)],
          ["coordinator: result received (`at`) → task.completed stored", f2(s.coordinatorLag.completed.p50), f2(s.coordinatorLag.completed.p99), f2(s.coordinatorLag.completed.mean)],
          ["coordinator: started received (`at`) → task.started stored", f2(s.coordinatorLag.started.p50), f2(s.coordinatorLag.started.p99), f2(s.coordinatorLag.started.mean)],
        ]),
        "",
        `The chain feature's snapshot in KV at the end: ${s.snapshotBytes === null ? "unknown" : `${f0(s.snapshotBytes)} bytes`}. ` +
          "`at` has millisecond resolution, so the last two rows read up to 1 ms high.",
        "",
      );
    }
  }
  if (r.throughput.length || r.peer.throughput.length) {
    const ws = [...new Set([...r.throughput.map((x) => x.workers), ...r.peer.throughput.map((x) => x.workers)])].sort((a, b) => a - b);
    const rows = ws.map((w) => {
      const b = r.throughput.find((x) => x.workers === w);
      const p = r.peer.throughput.find((x) => x.workers === w);
      return [`${w} × ${sz.concurrency}`, f0(b?.tasksPerSecond), f2(b ? b.elapsedMs / 1000 : null), b ? `${f2(b.latency.p50)} / ${f2(b.latency.p99)}` : "–", f0(p?.jobsPerSecond), f2(p ? p.elapsedMs / 1000 : null), f2(ratio(b?.tasksPerSecond, p?.jobsPerSecond))];
    });
    out.push(`### 3. Throughput: ${f0(sz.throughputTasks)} independent no-op tasks (${sz.throughputFeatures} features × ${sz.throughputTasks / sz.throughputFeatures}, maxParallel ${sz.throughputTasks / sz.throughputFeatures})`, "",
      table(["workers × slots", "Baton tasks/s", "Baton s", "dispatched→completed p50 / p99 ms", "BullMQ jobs/s", "BullMQ s", "Baton / BullMQ"], rows), "");
  }
  if (r.scaling.length) {
    out.push(`### 4. Scaling: ${sz.scalingTasks} sleep ${sz.scalingTaskMs} ms tasks (${sz.scalingFeatures} features), one worker process with --concurrency k`, "",
      table(["slots k", "ideal s", "actual s", "speed-up", "efficiency", "slot time per task ms"],
        r.scaling.map((s) => [s.slots, f2(s.idealMs / 1000), f2(s.actualMs / 1000), f2(s.speedup), f3(s.efficiency), f2((s.actualMs * s.slots) / s.tasks)])), "",
      `Slot time per task = actual × k / tasks: the ${sz.scalingTaskMs} ms of the task plus what each task costs its slot around it.`, "");
  }
  if (r.state) {
    const s = r.state;
    out.push(`### 5. Scale of state: ${f0(s.features)} features held (one task each, for a role with no worker), then drained`, "",
      table(["figure", "value"], [
        ["publish rate (JetStream acks)", `${f0(s.publishPerSecond)} /s (${f2(s.publishMs / 1000)} s)`],
        ["accepted rate (publish start → last feature.accepted)", `${f0(s.acceptedPerSecond)} /s (${f2(s.acceptMs / 1000)} s)`],
        ["all held (publish start → last task.dispatched)", `${f2(s.heldMs / 1000)} s`],
        ["coordinator RSS at ready / all held / peak / after drain", `${f0(s.rssAtReadyMiB)} / ${f0(s.rssHeldMiB)} / ${f0(s.peakHeldMiB)} / ${f0(s.rssDrainedMiB)} MiB`],
        [`drain with ${s.drainWorkers} worker(s) × ${s.drainConcurrency} (first task.started → last task.completed)`, `${f2(s.drainMs / 1000)} s (${f0(s.drainPerSecond)} tasks/s)`],
        ["drain from spawning the workers to the last feature.completed", `${f2(s.drainFromSpawnMs / 1000)} s`],
      ], true), "");
  }
  if (r.peer.skipped) out.push(`### 6. Peer: BullMQ — skipped: ${r.peer.skipped}`, "");
  out.push("### Targets", "", table(["target", "this run", "met?"], r.targets.map((t) => [t.target, t.value, t.met === null ? "n/a" : t.met ? "met" : "**missed**"]), true), "");
  if (r.errors.length) out.push("### Errors", "", ...r.errors.map((e) => `- ${e.scenario}: ${e.message.split("\n")[0]}`), "");
  return out.join("\n");
}
