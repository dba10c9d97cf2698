// Turns what the run recorded (submissions, status events, the agents' ledger, kills) into the figures of
// the chaos report and the reasons, if any, why the run failed. Pure: no I/O.
import { ranUnder, type Execution } from "./ledger.ts";
import { TERMINAL_KINDS, type SeenEvent } from "./observer.ts";
import type { ProcessKind } from "./plan.ts";

export interface Submission {
  featureId: string;
  tasks: number;
  /** When JetStream acknowledged the publish; undefined if it never did. */
  ackedAt?: number | undefined;
  error?: string | undefined;
}

export interface TaskRef {
  featureId: string;
  taskId: string;
  attempt: number;
}

export interface KillRecord {
  at: number;
  kind: ProcessKind;
  slot: string;
  pid: number;
  /** Workers: the executions their agents were running at the kill (from the ledger). */
  running: TaskRef[];
  restartedAt?: number | undefined;
  restartedPid?: number | undefined;
  readyAt?: number | undefined;
}

export interface Stats {
  n: number;
  medianMs: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

export interface Analysis {
  features: { submitted: number; accepted: number; completed: number; failed: number; rejected: number; cancelled: number; stuck: number; lost: number; notSubmitted: number };
  tasks: {
    total: number;
    executed: number;
    executions: number;
    /** Executions with no end line: stopped by SIGTERM (killed) or gone without a trace (unfinished). */
    interrupted: { killed: number; unfinished: number };
    repeated: number;
    extraExecutions: number;
    repeatedAfterWorkerKill: number;
    repeatedAfterNatsRestart: number;
    repeatedOther: number;
    completedTwice: number;
  };
  terminalEvents: { exactlyOne: number; notOne: { featureId: string; count: number; kinds: string[] }[] };
  history: { events: number; gaps: string[]; conflicts: string[]; duplicateEvents: number; notices: Record<string, number> };
  /** Quality gates: gate runs by verdict, and the tasks/features that had gates (each must complete only after its gate passed). */
  gates: { passed: number; failed: number; gatedTasks: number; gatedFeatures: number; completedUngated: string[]; baselined: number; tasksBeforeBaseline: string[] };
  /** Handoffs the agents checked (each dependency's ~6 KiB document, stored by reference), and those that were not intact. */
  handoffs: { checked: number; bad: string[] };
  kills: Record<ProcessKind, number>;
  recovery: {
    /** Per coordinator kill: kill → first status event stored afterwards for a feature that was unfinished at the kill. */
    coordinatorKill: Stats & { samples: { open: number; ms: number | null }[] };
    /** Per task running on a killed worker: kill → the next start of that task (by any worker). */
    taskRerunAfterWorkerKill: Stats;
    /** Per restarted process: spawn → its ready line, by kind. */
    restartToReady: Record<ProcessKind, Stats>;
    /** Per completed task: end of the execution that produced it (agent clock) → task.completed stored. */
    resultToEvent: Stats & { over5s: number; worst: { featureId: string; taskId: string; ms: number }[] };
  };
  /** Every task run more than once: its executions (times in s from the chaos start) and why it ran again. */
  repeats: { task: string; cause: string; runs: string[] }[];
  problems: { featureId: string; state: string; lastEvents: string[]; unfinishedTasks: string[] }[];
  reasons: string[];
}

export function stats(xs: number[]): Stats {
  if (!xs.length) return { n: 0, medianMs: null, p95Ms: null, maxMs: null };
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { n: s.length, medianMs: Math.round(mid), p95Ms: Math.round(q(0.95)), maxMs: Math.round(s.at(-1)!) };
}

const key = (f: string, t: string) => `${f}/${t}`;

export function analyze(input: {
  plannedFeatures: number;
  submissions: Submission[];
  events: SeenEvent[];
  ledger: Execution[];
  kills: KillRecord[];
  restarts: { kind: ProcessKind; startedAt: number; readyAt?: number | undefined }[];
  chaosStart: number;
  /** Process names by pid, to show which worker ran what. */
  pidNames?: Map<number, string>;
}): Analysis {
  const { submissions, events, ledger, kills } = input;
  const rel = (t: number) => `${((t - input.chaosStart) / 1000).toFixed(1)}s`;
  const reasons: string[] = [];
  const submitted = submissions.filter((s) => s.ackedAt !== undefined);
  const submittedIds = new Set(submitted.map((s) => s.featureId));
  const byFeature = new Map<string, SeenEvent[]>();
  for (const e of events) {
    if (e.seq === 0) continue;
    const list = byFeature.get(e.featureId) ?? [];
    list.push(e);
    byFeature.set(e.featureId, list);
  }

  // Features: the first terminal event decides the outcome; the terminal count is checked separately.
  const outcome = new Map<string, string>();
  for (const s of submitted) {
    const evs = byFeature.get(s.featureId) ?? [];
    const term = [...evs].sort((a, b) => a.seq - b.seq).find((e) => TERMINAL_KINDS.has(e.kind));
    outcome.set(s.featureId, term ? term.kind.slice("feature.".length) : evs.some((e) => e.kind === "feature.accepted") ? "stuck" : "lost");
  }
  const count = (o: string) => [...outcome.values()].filter((v) => v === o).length;
  const features = {
    submitted: submitted.length,
    accepted: submitted.filter((s) => (byFeature.get(s.featureId) ?? []).some((e) => e.kind === "feature.accepted")).length,
    completed: count("completed"), failed: count("failed"), rejected: count("rejected"), cancelled: count("cancelled"),
    stuck: count("stuck"), lost: count("lost"),
    notSubmitted: input.plannedFeatures - submitted.length,
  };

  // History integrity: seq 1..max without gaps; one content per seq.
  const gaps: string[] = [];
  const conflicts: string[] = [];
  let duplicateEvents = 0;
  for (const [fid, evs] of byFeature) {
    const bySeq = new Map<number, SeenEvent>();
    for (const e of evs) {
      const seen = bySeq.get(e.seq);
      if (!seen) bySeq.set(e.seq, e);
      else if (seen.kind === e.kind && seen.taskId === e.taskId && seen.attempt === e.attempt) duplicateEvents++;
      else conflicts.push(`${fid} seq ${e.seq}: ${seen.kind} ${seen.taskId ?? ""} vs ${e.kind} ${e.taskId ?? ""}`);
    }
    const max = Math.max(...bySeq.keys());
    const missing = [];
    for (let i = 1; i <= max; i++) if (!bySeq.has(i)) missing.push(i);
    if (missing.length) gaps.push(`${fid}: seq ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? " …" : ""} missing of 1..${max}`);
  }
  const notices: Record<string, number> = {};
  for (const e of events) if (e.seq === 0) notices[`${e.kind} ${e.detail?.split(" ")[0] ?? ""}`.trim()] = (notices[`${e.kind} ${e.detail?.split(" ")[0] ?? ""}`.trim()] ?? 0) + 1;

  // Terminal events per feature (distinct seq).
  const notOne: Analysis["terminalEvents"]["notOne"] = [];
  for (const s of submitted) {
    const seqs = new Map<number, string>();
    for (const e of byFeature.get(s.featureId) ?? []) if (TERMINAL_KINDS.has(e.kind)) seqs.set(e.seq, e.kind);
    if (seqs.size !== 1) notOne.push({ featureId: s.featureId, count: seqs.size, kinds: [...seqs.values()] });
  }

  // Tasks completed twice: more than one task.completed with distinct seq for one feature+task.
  const completedSeqs = new Map<string, Set<number>>();
  for (const e of events) {
    if (e.kind !== "task.completed" || e.seq === 0 || !e.taskId) continue;
    const k = key(e.featureId, e.taskId);
    completedSeqs.set(k, (completedSeqs.get(k) ?? new Set()).add(e.seq));
  }
  const twice = [...completedSeqs].filter(([, s]) => s.size > 1).map(([k, s]) => `${k} (seq ${[...s].join(", ")})`);

  // Executions from the ledger; why each repeat happened.
  const runs = new Map<string, Execution[]>();
  for (const x of ledger) runs.set(key(x.featureId, x.taskId), [...(runs.get(key(x.featureId, x.taskId)) ?? []), x]);
  const workerKills = kills.filter((k) => k.kind === "worker");
  const natsKills = kills.filter((k) => k.kind === "nats");
  // The worker that ran `x` was SIGKILLed before `to`: while the agent ran, after it ended but before the result
  // or ack went out, or even just before the agent's first line (the worker died while its guard started it).
  const killOfWorker = (x: Execution, to: number) => workerKills.find((k) => ranUnder(x, k.pid) && k.at >= x.start - 5000 && k.at <= to);
  const workerName = (x: Execution) => {
    for (const p of [x.ppid, ...(x.ancestors ?? [])]) {
      const name = input.pidNames?.get(p);
      if (name) return `${name} (pid ${p})`;
    }
    return `? (parent pid ${x.ppid})`;
  };
  let repeated = 0, extra = 0, afterWorkerKill = 0, afterNats = 0, other = 0;
  const repeats: Analysis["repeats"] = [];
  for (const [k, xs] of runs) {
    if (xs.length < 2) continue;
    repeated++;
    extra += xs.length - 1;
    const causes = xs.slice(1).map((x, i) => {
      const prev = xs[i]!;
      if (killOfWorker(prev, x.start)) return "worker";
      // The outage (kill → ready again) overlapped the time between the two starts: the previous run's
      // result or ack was lost with the server, or never got out while it was down.
      if (natsKills.some((nk) => nk.at <= x.start && (nk.readyAt ?? nk.at + 10_000) >= prev.start)) return "nats";
      return "other";
    });
    const cause = causes.includes("worker") ? "worker kill" : causes.includes("nats") ? "nats restart" : "other";
    if (cause === "worker kill") afterWorkerKill++;
    else if (cause === "nats restart") afterNats++;
    else other++;
    const s = (t: number | undefined) => (t === undefined ? "?" : ((t - input.chaosStart) / 1000).toFixed(2));
    repeats.push({
      task: k, cause,
      runs: xs.map((x) => `attempt ${x.attempt} on ${workerName(x)} ${s(x.start)}–${x.end !== undefined ? s(x.end) : x.killed !== undefined ? `${s(x.killed)} killed` : "?"}`),
    });
  }
  const tasks = {
    total: submitted.reduce((a, s) => a + s.tasks, 0),
    executed: runs.size,
    executions: ledger.length,
    interrupted: {
      killed: ledger.filter((x) => x.end === undefined && x.killed !== undefined).length,
      unfinished: ledger.filter((x) => x.end === undefined && x.killed === undefined).length,
    },
    repeated, extraExecutions: extra,
    repeatedAfterWorkerKill: afterWorkerKill, repeatedAfterNatsRestart: afterNats, repeatedOther: other,
    completedTwice: twice.length,
  };

  // Recovery after a coordinator kill: kill → first event stored afterwards for any feature unfinished at the kill.
  const terminalAt = new Map<string, number>();
  for (const e of events) if (e.seq > 0 && TERMINAL_KINDS.has(e.kind) && !terminalAt.has(e.featureId)) terminalAt.set(e.featureId, e.ts);
  const sortedEvents = events.filter((e) => e.seq > 0).sort((a, b) => a.ts - b.ts);
  const coordSamples = kills.filter((k) => k.kind === "coordinator").map((k) => {
    const active = new Set(submitted.filter((s) => s.ackedAt! <= k.at && (terminalAt.get(s.featureId) ?? Infinity) > k.at).map((s) => s.featureId));
    const next = sortedEvents.find((e) => e.ts > k.at && active.has(e.featureId));
    return { open: active.size, ms: next ? next.ts - k.at : null };
  });

  // A killed worker's tasks: kill → next start of the same task anywhere.
  const rerun: number[] = [];
  for (const k of workerKills) {
    for (const r of k.running) {
      const next = (runs.get(key(r.featureId, r.taskId)) ?? []).find((x) => x.start > k.at);
      if (next) rerun.push(next.start - k.at);
    }
  }

  // Result handling: end of the producing execution → task.completed stored.
  const orphan = (x: Execution) => x.end !== undefined && workerKills.some((k) => ranUnder(x, k.pid) && k.at >= x.start && k.at < x.end!);
  const latencies: { featureId: string; taskId: string; ms: number }[] = [];
  const firstCompleted = new Map<string, SeenEvent>();
  for (const e of sortedEvents) if (e.kind === "task.completed" && e.taskId && !firstCompleted.has(key(e.featureId, e.taskId))) firstCompleted.set(key(e.featureId, e.taskId), e);
  for (const [k, e] of firstCompleted) {
    const producer = (runs.get(k) ?? []).filter((x) => x.end !== undefined && x.end <= e.ts && !orphan(x)).at(-1);
    if (producer) latencies.push({ featureId: e.featureId, taskId: e.taskId!, ms: e.ts - producer.end! });
  }
  latencies.sort((a, b) => b.ms - a.ms);

  const byKind = (kind: ProcessKind) => stats(input.restarts.filter((r) => r.kind === kind && r.readyAt !== undefined).map((r) => r.readyAt! - r.startedAt));

  // Problem features: what their history says.
  const problems: Analysis["problems"] = [];
  const problemIds = new Set([
    ...[...outcome].filter(([, o]) => o !== "completed").map(([id]) => id),
    ...notOne.map((x) => x.featureId),
    ...twice.map((t) => t.split("/")[0]!),
  ]);
  for (const fid of problemIds) {
    const evs = [...(byFeature.get(fid) ?? [])].sort((a, b) => a.seq - b.seq);
    const lastKind = new Map<string, string>();
    for (const e of evs) if (e.taskId) lastKind.set(e.taskId, `${e.kind}#${e.attempt ?? "?"}`);
    problems.push({
      featureId: fid,
      state: outcome.get(fid) ?? "?",
      lastEvents: evs.slice(-8).map((e) => `seq ${e.seq} ${e.kind}${e.taskId ? ` ${e.taskId}#${e.attempt}` : ""} at ${rel(e.ts)}${e.detail ? ` (${e.detail.slice(0, 160)})` : ""}`),
      unfinishedTasks: [...lastKind].filter(([, k]) => !k.startsWith("task.completed")).map(([t, k]) => `${t}: ${k}`),
    });
  }

  const list = (ids: string[]) => (ids.length > 8 ? `${ids.slice(0, 8).join(", ")} …` : ids.join(", "));
  const ids = (o: string) => [...outcome].filter(([, v]) => v === o).map(([id]) => id);
  if (features.notSubmitted) reasons.push(`${features.notSubmitted} feature(s) could not be submitted: ${list(submissions.filter((s) => s.ackedAt === undefined).map((s) => `${s.featureId} (${s.error ?? "?"})`))}`);
  if (features.lost) reasons.push(`${features.lost} feature(s) lost (submitted, never accepted): ${list(ids("lost"))}`);
  if (features.stuck) reasons.push(`${features.stuck} feature(s) stuck (accepted, never ended): ${list(ids("stuck"))}`);
  for (const o of ["failed", "rejected", "cancelled"]) if (count(o)) reasons.push(`${count(o)} feature(s) ${o}: ${list(ids(o))}`);
  if (twice.length) reasons.push(`${twice.length} task(s) completed twice: ${list(twice)}`);
  if (notOne.length) reasons.push(`${notOne.length} feature(s) without exactly one terminal event: ${list(notOne.map((x) => `${x.featureId} (${x.count}: ${x.kinds.join(", ")})`))}`);
  if (gaps.length) reasons.push(`${gaps.length} feature history(ies) with missing events: ${list(gaps)}`);
  if (conflicts.length) reasons.push(`${conflicts.length} event sequence number(s) used twice for different events: ${list(conflicts)}`);

  // Gates: a gated task (it had task.verifying) completes only after a gate.passed of that task and attempt;
  // a gated feature (feature.verifying) only after a feature gate.passed.
  const completedUngated: string[] = [];
  let gatedTasks = 0;
  let gatedFeatures = 0;
  let baselined = 0;
  const tasksBeforeBaseline: string[] = [];
  for (const [featureId, evs] of byFeature) {
    const sorted = [...evs].sort((a, b) => a.seq - b.seq);
    for (const c of sorted.filter((e) => e.kind === "task.completed")) {
      const verifying = sorted.some((e) => e.kind === "task.verifying" && e.taskId === c.taskId && e.attempt === c.attempt && e.seq < c.seq);
      if (!verifying) continue;
      gatedTasks++;
      if (!sorted.some((e) => e.kind === "gate.passed" && e.taskId === c.taskId && e.attempt === c.attempt && e.seq < c.seq)) completedUngated.push(`${featureId}/${c.taskId}`);
    }
    const done = sorted.find((e) => e.kind === "feature.completed");
    if (done && sorted.some((e) => e.kind === "feature.verifying")) {
      gatedFeatures++;
      if (!sorted.some((e) => e.kind === "gate.passed" && e.scope === "feature" && e.seq < done.seq)) completedUngated.push(featureId);
    }
    // A feature naming the test gate measures its baseline before any task is dispatched.
    const gated = sorted.find((e) => e.kind === "feature.accepted")?.gated;
    const firstDispatch = sorted.find((e) => e.kind === "task.dispatched");
    if (gated && firstDispatch) {
      baselined++;
      const baseline = sorted.find((e) => (e.kind === "gate.passed" || e.kind === "gate.failed") && e.scope === "baseline");
      if (!baseline || baseline.seq > firstDispatch.seq) tasksBeforeBaseline.push(featureId);
    }
  }
  // Handoffs: every dependency's ~6 KiB document (stored by reference) reached each run of its dependents intact.
  const badHandoffs = ledger.flatMap((x) => (x.badHandoffs ?? []).map((bad) => `${x.featureId}/${x.taskId} got ${bad}`));
  if (badHandoffs.length) reasons.push(`${badHandoffs.length} handoff(s) did not arrive intact: ${list(badHandoffs)}`);
  if (tasksBeforeBaseline.length) reasons.push(`${tasksBeforeBaseline.length} feature(s) dispatched a task before their test gate's baseline: ${list(tasksBeforeBaseline)}`);
  if (completedUngated.length) reasons.push(`${completedUngated.length} task(s)/feature(s) completed without their gate passing: ${list(completedUngated)}`);
  const gates = {
    passed: events.filter((e) => e.seq > 0 && e.kind === "gate.passed").length,
    failed: events.filter((e) => e.seq > 0 && e.kind === "gate.failed").length,
    gatedTasks, gatedFeatures, completedUngated, baselined, tasksBeforeBaseline,
  };
  const handoffs = { checked: ledger.reduce((sum, x) => sum + (x.handoffsChecked ?? 0), 0), bad: badHandoffs };

  return {
    features, tasks, gates, handoffs,
    terminalEvents: { exactlyOne: submitted.length - notOne.length, notOne },
    history: { events: events.length, gaps, conflicts, duplicateEvents, notices },
    kills: { coordinator: kills.filter((k) => k.kind === "coordinator").length, worker: workerKills.length, nats: natsKills.length },
    recovery: {
      coordinatorKill: { ...stats(coordSamples.flatMap((x) => (x.ms === null ? [] : [x.ms]))), samples: coordSamples },
      taskRerunAfterWorkerKill: stats(rerun),
      restartToReady: { coordinator: byKind("coordinator"), worker: byKind("worker"), nats: byKind("nats") },
      resultToEvent: { ...stats(latencies.map((l) => l.ms)), over5s: latencies.filter((l) => l.ms > 5000).length, worst: latencies.slice(0, 5) },
    },
    repeats,
    problems,
    reasons,
  };
}
