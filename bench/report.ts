// The benchmark's results: one object (written as JSON), the targets judged from it, and the markdown report
// (printed at the end and written beside the JSON). Only rendering here; every figure is measured elsewhere.
import type { DesignFloorResult } from "./design-floor.ts";
import type { FloorResult } from "./floor.ts";
import type { MachineInfo } from "./machine.ts";
import type { PeerChainResult, PeerThroughputResult } from "./peer.ts";
import type { ScalingResult, StateResult, StepResult, ThroughputResult } from "./scenarios.ts";
import type { AgentResult } from "./agent.ts";
import { COLD_START_TARGET_MS, type ColdStartResult } from "./coldstart.ts";
import type { CpuFigures } from "./cpu.ts";
import { table } from "./markdown.ts";
import type { WorktreeResult } from "./worktree.ts";
import { renderWorktree } from "./worktree-report.ts";
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
  /** Repetitions of the chain and of each throughput configuration, on the same processes. */
  rounds: number;
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
  /** The cheapest 3-hop durable step built from the same primitives, with no Baton logic (bench/design-floor.ts). */
  designFloor?: DesignFloorResult;
  /** Ratios of the design floor to the floor and of Baton's step to the design floor (see designFloorRatios). */
  designFloorRatios?: DesignFloorRatios;
  throughput: ThroughputResult[];
  scaling: ScalingResult[];
  state?: StateResult;
  /** The build of dist/ at the start of the run (bin/build.mjs: tsc transpile-only, copies, swap), ms. */
  build?: { ms: number };
  /** `baton --help` and `baton status <id>` as fresh processes, compiled and through tsx. */
  coldStart?: ColdStartResult;
  /** Baton's overhead per agent task: `claude -p` against the scripted model server, direct vs through Baton (bench/agent.ts). */
  agent?: AgentResult;
  /** Git features' cost per task on a 10,000-file repository: in-process parts and through Baton (bench/worktree.ts). */
  worktree?: WorktreeResult;
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
/** "median (min–max)" of a summary of rounds, or just the value when there was one round. */
const span = (s: Summary | undefined, f: (x: number) => string) => (!s ? "–" : s.n > 1 ? `${f(s.p50)} (${f(s.min)}–${f(s.max)})` : f(s.p50));
const us = (x: number) => Math.round(x).toLocaleString("en-US");

/** Step p50 ratios around the design floor; null where a figure is missing. */
export interface DesignFloorRatios {
  /** The design floor's minimal step p50 / the JetStream publish p50: what the design itself costs in single publishes. */
  minimalOverJsPublish: number | null;
  /** The same / the KV CAS p50. */
  minimalOverKvCas: number | null;
  /** Baton's step p50 / the design floor's minimal step p50: what Baton adds to the cheapest step of its design. */
  batonOverMinimal: number | null;
  /** Baton's step p50 / the design floor's step p50 with Baton's writes (a small CAS commit + the task + 3 status events). */
  batonOverSameWrites: number | null;
}

/** The ratios between Baton's step, the design floor and the single-operation floor of one run. */
export function designFloorRatios(r: Pick<Results, "floor" | "step" | "designFloor">): DesignFloorRatios {
  const runs = r.designFloor?.runs ?? [];
  const min = runs.find((x) => x.name === "min")?.step.p50;
  const same = runs.find((x) => x.name === "ev")?.step.p50;
  const pub = r.floor ? r.floor.jsPublish.p50 / 1000 : undefined;
  const cas = r.floor ? r.floor.kvCas.p50 / 1000 : undefined;
  return {
    minimalOverJsPublish: ratio(min, pub),
    minimalOverKvCas: ratio(min, cas),
    batonOverMinimal: ratio(r.step?.step.p50, min),
    batonOverSameWrites: ratio(r.step?.step.p50, same),
  };
}

/** Judges every target from the figures of this run. */
/** Baton's added time per agent task, the issue's target. */
export const AGENT_OVERHEAD_TARGET_MS = 100;

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
    const x = ratio(b.tasksPerSecond.p50, p?.jobsPerSecond.p50);
    t.push({
      target: `throughput ≥ BullMQ's, ${b.workers} worker(s) × ${b.concurrency}`,
      value: x === null ? `${f0(b.tasksPerSecond.p50)} tasks/s; BullMQ not measured` : `${f0(b.tasksPerSecond.p50)} vs ${f0(p!.jobsPerSecond.p50)} /s (${f2(x)} ×)`,
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
  t.push({
    target: `agent task overhead ≤ ${AGENT_OVERHEAD_TARGET_MS} ms (claude -p, through Baton − direct, p50)`,
    value: r.agent ? `${f0(r.agent.overheadMs)} ms (${f0(r.agent.baton.p50)} − ${f0(r.agent.direct.p50)})` : "not measured",
    met: r.agent ? r.agent.overheadMs <= AGENT_OVERHEAD_TARGET_MS : null,
  });
  for (const command of ["baton --help", "baton status <id>"]) {
    const c = r.coldStart?.commands.find((x) => x.command === command)?.compiled;
    t.push({
      target: `${command} cold start p50 ≤ ${COLD_START_TARGET_MS} ms`,
      value: c ? `${f0(c.p50)} ms (p90 ${f0(c.p90)} ms)` : "not measured",
      met: c ? c.p50 <= COLD_START_TARGET_MS : null,
    });
  }
  return t;
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
  const df = r.designFloor;
  const dfr = designFloorRatios(r);
  if (df) {
    const pub = r.floor ? r.floor.jsPublish.p50 / 1000 : undefined;
    const cpuSum = (c: CpuFigures) => (c.perUnitMs.coordinator ?? 0) + (c.perUnitMs.workers ?? 0) + (c.perUnitMs.nats ?? 0);
    const rows = df.runs.map((x) => [x.label, f2(x.step.p50), f2(x.step.p99), span(x.perStepTotal, f2), f2(ratio(x.step.p50, pub)), f2(ratio(r.step?.step.p50, x.step.p50)), f2(cpuSum(x.cpu))]);
    out.push(`#### Design floor: a 3-hop durable step with no Baton logic (chains of ${df.steps}, ${df.rounds} round(s) after ${f0(df.processWarmupSteps)} steps of warm-up on the fresh processes and ${df.warmupSteps} before each variant, ${df.payloadBytes}-byte messages)`, "",
      table(["variant", "step p50 ms", "step p99 ms", `total / ${df.steps} ms`, "÷ JS publish p50", "Baton step p50 ÷ this", "CPU ms per step (its 2 processes + nats-server)"], rows), "",
      "Two processes of their own: a worker (pull consumer → result published, ack awaited → task acked) and a coordinator (result → KV CAS with the revision it holds → next task " +
        "published, ack awaited, status events in parallel with it → result acked), file storage and work-queue streams like Baton's. A step is the gap between the stored times of consecutive results.",
      "");
    if (dfr.minimalOverJsPublish !== null) out.push(`The design's own minimal step is **${f2(dfr.minimalOverJsPublish)} ×** the JetStream publish p50 and **${f2(dfr.minimalOverKvCas)} ×** the KV CAS p50 of this run.`, "");
    for (const n of df.notes) out.push(`Design floor: ${n}.`, "");
  }
  if (r.step || r.peer.chain) {
    const s = r.step;
    const p = r.peer.chain;
    const rows: (string | number)[][] = [
      ["step p50 (ms)", f2(s?.step.p50), f2(p?.step.p50), f2(ratio(s?.step.p50, p?.step.p50))],
      ["step p99 (ms)", f2(s?.step.p99), f2(p?.step.p99), f2(ratio(s?.step.p99, p?.step.p99))],
      [`total / ${sz.chainSteps}, median of rounds (ms)`, span(s?.perStepTotal, f2), span(p?.perStepTotal, f2), f2(ratio(s?.perStepTotal.p50, p?.perStepTotal.p50))],
    ];
    out.push(`### 2. Step overhead: a chain of ${sz.chainSteps} dependent no-op tasks, ${sz.rounds} round(s) (1 coordinator, 1 worker × 1)`, "", table(["figure", "Baton", "BullMQ", "Baton / BullMQ"], rows), "",
      "p50 and p99 are over the gaps of all rounds pooled; the total per step is the median of the rounds (min–max in brackets).", "");
    if (s && r.floor) {
      out.push(`Baton step p50 = **${f2(ratio(s.step.p50, r.floor.jsPublish.p50 / 1000))} ×** the JetStream publish p50 and **${f2(ratio(s.step.p50, r.floor.kvCas.p50 / 1000))} ×** the KV CAS p50 of this run.`, "");
    }
    if (s && dfr.batonOverMinimal !== null) {
      out.push(`Baton step p50 = **${f2(dfr.batonOverMinimal)} ×** the design floor's minimal step p50` +
        (dfr.batonOverSameWrites !== null ? ` and **${f2(dfr.batonOverSameWrites)} ×** the design floor with Baton's writes (a small commit + the task + 3 status events)` : "") +
        (dfr.minimalOverJsPublish !== null ? `; the design floor itself is ${f2(dfr.minimalOverJsPublish)} × the JetStream publish p50` : "") + ".", "");
    }
    if (s) {
      const seg = s.segments;
      const row = (what: string, x: Summary) => [what, f2(x.p50), f2(x.p99), f2(x.mean)];
      out.push(
        "Baton's step split in three (ms), from the stored times of the next task's task.dispatched and task.completed and that event's `at` (when the coordinator received the worker's result):",
        "",
        table(["part of a step", "p50", "p99", "mean"], [
          row("task.dispatched stored → result received by the coordinator (worker side, NATS both ways)", seg.workerSide),
          row("result received → task.completed stored (coordinator apply)", seg.coordinatorApply),
          row("task.completed stored → next task.dispatched stored", seg.completedToNextDispatched),
        ]),
        "",
        `The chain feature's snapshot in KV at the end: ${s.snapshotBytes === null ? "unknown" : `${f0(s.snapshotBytes)} bytes`}. ` +
          "`at` has millisecond resolution (truncated): the first row reads up to 1 ms low and the second up to 1 ms high; the sum is exact.",
        "",
      );
    }
  }
  if (r.throughput.length || r.peer.throughput.length) {
    const ws = [...new Set([...r.throughput.map((x) => x.workers), ...r.peer.throughput.map((x) => x.workers)])].sort((a, b) => a - b);
    const rows = ws.map((w) => {
      const b = r.throughput.find((x) => x.workers === w);
      const p = r.peer.throughput.find((x) => x.workers === w);
      return [`${w} × ${sz.concurrency}`, span(b?.tasksPerSecond, f0), b ? `${f0(b.latency.p50)} / ${f0(b.latency.p99)}` : "–", span(p?.jobsPerSecond, f0), f2(ratio(b?.tasksPerSecond.p50, p?.jobsPerSecond.p50))];
    });
    out.push(`### 3. Throughput: ${f0(sz.throughputTasks)} independent no-op tasks (${sz.throughputFeatures} features × ${sz.throughputTasks / sz.throughputFeatures}, maxParallel ${sz.throughputTasks / sz.throughputFeatures}), ${sz.rounds} round(s)`, "",
      table(["workers × slots", "Baton tasks/s", "Baton dispatched→completed p50 / p99 ms", "BullMQ jobs/s", "Baton / BullMQ"], rows), "",
      "Rates are the median of the rounds (min–max in brackets); each round starts at the first publish (addBulk) and ends at the last completion.", "");
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
  const cpuRows: (string | number)[][] = [];
  const cpuRow = (what: string, c: CpuFigures | undefined, unit: string) => {
    if (!c) return;
    const g = (k: string) => (c.perUnitMs[k] === undefined ? "–" : `${f2(c.perUnitMs[k])} (${f0(c.pctOfCore[k])}%)`);
    cpuRows.push([what, unit, g("coordinator"), g("workers"), c.perUnitMs.nats !== undefined ? g("nats") : g("redis"), g("bench")]);
  };
  cpuRow("Baton step (chain)", r.step?.cpu, "step");
  cpuRow("BullMQ step (chain)", r.peer.chain?.cpu, "step");
  for (const x of r.designFloor?.runs ?? []) cpuRow(`Design floor step, ${x.label}`, x.cpu, "step");
  for (const w of [...new Set([...r.throughput, ...r.peer.throughput].map((x) => x.workers))].sort((a, b) => a - b)) {
    cpuRow(`Baton throughput ${w} × ${sz.concurrency}`, r.throughput.find((x) => x.workers === w)?.cpu, "task");
    cpuRow(`BullMQ throughput ${w} × ${sz.concurrency}`, r.peer.throughput.find((x) => x.workers === w)?.cpu, "job");
  }
  for (const s of r.scaling) cpuRow(`Baton scaling, ${s.slots} slot(s)`, s.cpu, "task");
  cpuRow("Baton state: submit until all held", r.state?.cpuSubmit, "feature");
  cpuRow("Baton state: drain", r.state?.cpuDrain, "task");
  if (cpuRows.length) {
    out.push("### CPU per unit of work: ms (and % of one core over the measured time)", "",
      table(["scenario", "unit", "coordinator", "workers (all)", "nats-server / redis-server", "bench process"], cpuRows), "",
      "From /proc/<pid>/stat (10 ms ticks) over the measured rounds. 100% = one core busy all the time; the machine has " +
        `${r.machine.cores}. Redis's CPU is counted when its pid is known (INFO process_id on this machine).`, "");
  }
  const wRows: [string, Record<string, number>][] = [];
  if (r.step) wRows.push(["Baton step (chain), per step", r.step.writes]);
  for (const b of r.throughput) wRows.push([`Baton throughput ${b.workers} × ${b.concurrency}, per task`, b.writes]);
  for (const s of r.scaling) wRows.push([`Baton scaling, ${s.slots} slot(s), per task`, s.writes]);
  if (wRows.length) {
    const kinds = Object.keys(wRows[0]![1]);
    out.push("### NATS messages written per unit of work", "", table(["scenario", ...kinds], wRows.map(([k, w]) => [k, ...kinds.map((x) => f2(w[x]))])), "",
      "Last-sequence deltas of each stream and KV bucket over the measured rounds (a KV write is one message; heartbeats are the workers' KV entries).", "");
  }
  if (r.peer.skipped) out.push(`### 6. Peer: BullMQ — skipped: ${r.peer.skipped}`, "");
  const cs = r.coldStart;
  if (cs) {
    const rows: (string | number)[][] = cs.commands.map((c) => [`\`${c.command}\``, f0(c.compiled.p50), f0(c.compiled.p90), f0(c.tsx.p50), f0(c.tsx.p90), f2(ratio(c.tsx.p50, c.compiled.p50))]);
    rows.push(["`node -e 0` (node's own start)", f0(cs.node.p50), f0(cs.node.p90), "–", "–", "–"]);
    out.push(`### 7. Cold start: a fresh \`node bin/baton.mjs\` per run, spawn → exit, ${cs.runs} runs each after ${cs.warmups} warm-up(s), interleaved`, "",
      table(["command", "compiled p50 ms", "compiled p90 ms", "tsx p50 ms", "tsx p90 ms", "tsx ÷ compiled (p50)"], rows), "",
      `Compiled: dist/, built by \`npm ci\` (bin/build.mjs${r.build ? `; ${f2(r.build.ms / 1000)} s in this run` : ""}); tsx: the sources through tsx (BATON_TSX=1), as before the build existed. ` +
        `\`status\` asks this run's coordinator about a completed 3-task feature. The bin's freshness check (read dist/'s stamp, stat the ${cs.sourceFiles} source files it lists) ` +
        `took p50 ${f2(cs.freshnessCheck.p50)} ms (p90 ${f2(cs.freshnessCheck.p90)} ms) in a fresh process${cs.rebuilds ? `; dist/ was rebuilt ${cs.rebuilds} time(s) during the scenario because sources changed` : ""}. Target: p50 ≤ ${COLD_START_TARGET_MS} ms for both commands, compiled.`, "");
  }
  const ag = r.agent;
  if (ag) {
    out.push(`### 8. Agent task overhead: \`claude -p\` (${ag.cliVersion}) against the scripted model server, ${ag.rounds} round(s) of ${ag.tasks} direct runs then a chain of ${ag.tasks} tasks through Baton`, "",
      table(["how", "p50 ms", "p90 ms", "min ms", "max ms"], [
        ["direct: spawn → exit, same argv, prompt and config home", f0(ag.direct.p50), f0(ag.direct.p90), f0(ag.direct.min), f0(ag.direct.max)],
        ["through Baton: consecutive task.completed (dispatch, worker, guard, CLI, result, apply)", f0(ag.baton.p50), f0(ag.baton.p90), f0(ag.baton.min), f0(ag.baton.max)],
      ]), "", `Overhead per agent task (p50 through Baton − p50 direct): ${f0(ag.overheadMs)} ms. Target: ≤ ${AGENT_OVERHEAD_TARGET_MS} ms.`, "");
  }
  if (r.worktree) out.push(...renderWorktree(r.worktree, r.step?.step.p50));
  out.push("### Targets", "", table(["target", "this run", "met?"], r.targets.map((t) => [t.target, t.value, t.met === null ? "n/a" : t.met ? "met" : "**missed**"]), true), "");
  if (r.errors.length) out.push("### Errors", "", ...r.errors.map((e) => `- ${e.scenario}: ${e.message.split("\n")[0]}`), "");
  return out.join("\n");
}
