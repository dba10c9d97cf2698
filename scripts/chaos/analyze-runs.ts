// The executions' side of the chaos analysis: which tasks ran more than once and why (a kill of the worker running
// them, the NATS restart, a rollback that undid their work, or something else), and the recovery times. Pure.
import { rolledBackBetween, taskKey } from "./analyze-history.ts";
import type { KillRecord, Stats } from "./analyze.ts";
import { ranUnder, type Execution } from "./ledger.ts";
import { TERMINAL_KINDS, type SeenEvent } from "./observer.ts";

export function stats(values: number[]): Stats {
  if (!values.length) return { n: 0, medianMs: null, p95Ms: null, maxMs: null };
  const sorted = [...values].sort((left, right) => left - right);
  const quantile = (share: number) => sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!;
  const mid = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  return { n: sorted.length, medianMs: Math.round(mid), p95Ms: Math.round(quantile(0.95)), maxMs: Math.round(sorted.at(-1)!) };
}

/** Executions by task (feature/task), in start order. */
export function runsByTask(ledger: readonly Execution[]): Map<string, Execution[]> {
  const runs = new Map<string, Execution[]>();
  for (const run of ledger) runs.set(taskKey(run.featureId, run.taskId), [...(runs.get(taskKey(run.featureId, run.taskId)) ?? []), run]);
  return runs;
}

export interface RepeatFigures {
  repeated: number;
  extraExecutions: number;
  repeatedAfterWorkerKill: number;
  repeatedAfterNatsRestart: number;
  repeatedAfterRollback: number;
  /** Run again as a new attempt by design: after asking a question, failing into an escalation, or returning an invalid plan. */
  repeatedAfterQuestion: number;
  repeatedOther: number;
  repeats: { task: string; cause: string; runs: string[] }[];
}

/** Why each task that ran more than once ran again, and the counts by cause. */
export function repeatsOf(input: {
  runs: Map<string, Execution[]>;
  kills: readonly KillRecord[];
  grouped: Map<string, SeenEvent[]>;
  chaosStart: number;
  pidNames?: Map<number, string> | undefined;
}): RepeatFigures {
  const workerKills = input.kills.filter((kill) => kill.kind === "worker");
  const natsKills = input.kills.filter((kill) => kill.kind === "nats");
  // The worker that ran `run` was SIGKILLed before `to`: while the agent ran, after it ended but before the result
  // or ack went out, or even just before the agent's first line (the worker died while its guard started it).
  // An agent whose ancestry names no process of the run was started by a helper its worker left behind when it was
  // killed (the helper was re-parented before the agent read its ancestors): a kill of a worker of its role just before.
  const orphaned = (run: Execution) => !!input.pidNames && ![run.ppid, ...(run.ancestors ?? [])].some((pid) => input.pidNames!.has(pid));
  const killOfWorker = (run: Execution, to: number) => workerKills.find((kill) =>
    (ranUnder(run, kill.pid) || (orphaned(run) && kill.slot.startsWith(`${run.role}-`) && kill.at <= run.start)) && kill.at >= run.start - 5000 && kill.at <= to);
  // A rollback made the task pending again between the two starts (its stream time lies between them).
  const rollbackOf = (run: Execution, prev: Execution) => {
    const events = input.grouped.get(run.featureId) ?? [];
    return events.some((event) => event.kind === "feature.rolled_back" && event.ts > prev.start && event.ts < run.start && rolledBackBetween([event], run.taskId, 0, Infinity));
  };
  const workerName = (run: Execution) => {
    for (const pid of [run.ppid, ...(run.ancestors ?? [])]) {
      const name = input.pidNames?.get(pid);
      if (name) return `${name} (pid ${pid})`;
    }
    return `? (parent pid ${run.ppid})`;
  };
  const seconds = (at: number | undefined) => (at === undefined ? "?" : ((at - input.chaosStart) / 1000).toFixed(2));
  const figures: RepeatFigures = { repeated: 0, extraExecutions: 0, repeatedAfterWorkerKill: 0, repeatedAfterNatsRestart: 0, repeatedAfterRollback: 0, repeatedAfterQuestion: 0, repeatedOther: 0, repeats: [] };
  for (const [task, list] of input.runs) {
    if (list.length < 2) continue;
    figures.repeated++;
    figures.extraExecutions += list.length - 1;
    const causes = list.slice(1).map((run, index) => {
      const prev = list[index]!;
      if (rollbackOf(run, prev)) return "rollback";
      if ((prev.asked || prev.failed || prev.invalidPlan) && run.attempt > prev.attempt) return "question";
      if (killOfWorker(prev, run.start)) return "worker";
      // The outage (kill → ready again) overlapped the time between the two starts: the previous run's
      // result or ack was lost with the server, or never got out while it was down.
      if (natsKills.some((kill) => kill.at <= run.start && (kill.readyAt ?? kill.at + 10_000) >= prev.start)) return "nats";
      return "other";
    });
    const named = { worker: "worker kill", nats: "nats restart", rollback: "rollback", question: "question, escalation or replan" } as const;
    const first = (["worker", "nats", "rollback", "question"] as const).find((kind) => causes.includes(kind));
    const cause = first ? named[first] : "other";
    if (first === "worker") figures.repeatedAfterWorkerKill++;
    else if (first === "nats") figures.repeatedAfterNatsRestart++;
    else if (first === "rollback") figures.repeatedAfterRollback++;
    else if (first === "question") figures.repeatedAfterQuestion++;
    else figures.repeatedOther++;
    const end = (run: Execution) => (run.end !== undefined ? seconds(run.end) : run.killed !== undefined ? `${seconds(run.killed)} killed` : "?");
    figures.repeats.push({ task, cause, runs: list.map((run) => `attempt ${run.attempt} on ${workerName(run)} ${seconds(run.start)}–${end(run)}`) });
  }
  return figures;
}

export interface Recovery {
  coordinatorKill: Stats & { samples: { open: number; ms: number | null }[] };
  taskRerunAfterWorkerKill: Stats;
  /** Plain features: a run's end → task.completed stored (the result's way through the coordinator). */
  resultToEvent: Latencies;
  /** Git features: a run's end → task.completed stored, which comes after the commit, the gates and the merge (checkpoint). */
  resultToCheckpoint: Latencies;
}

type Latencies = Stats & { over5s: number; worst: { featureId: string; taskId: string; ms: number }[] };

function latencyStats(latencies: { featureId: string; taskId: string; ms: number }[]): Latencies {
  const sorted = [...latencies].sort((left, right) => right.ms - left.ms);
  return { ...stats(sorted.map((latency) => latency.ms)), over5s: sorted.filter((latency) => latency.ms > 5000).length, worst: sorted.slice(0, 5) };
}

/** Kill → the next status event of an open feature; a killed worker's task → its next start; a run's end → task.completed stored. */
export function recoveryOf(input: {
  events: readonly SeenEvent[];
  submitted: readonly { featureId: string; ackedAt?: number | undefined }[];
  kills: readonly KillRecord[];
  runs: Map<string, Execution[]>;
  gitFeatureIds: ReadonlySet<string>;
}): Recovery {
  const terminalAt = new Map<string, number>();
  for (const event of input.events) if (event.seq > 0 && TERMINAL_KINDS.has(event.kind) && !terminalAt.has(event.featureId)) terminalAt.set(event.featureId, event.ts);
  const sortedEvents = input.events.filter((event) => event.seq > 0).sort((left, right) => left.ts - right.ts);
  const coordSamples = input.kills.filter((kill) => kill.kind === "coordinator").map((kill) => {
    const open = new Set(input.submitted.filter((sub) => sub.ackedAt! <= kill.at && (terminalAt.get(sub.featureId) ?? Infinity) > kill.at).map((sub) => sub.featureId));
    const next = sortedEvents.find((event) => event.ts > kill.at && open.has(event.featureId));
    return { open: open.size, ms: next ? next.ts - kill.at : null };
  });
  const workerKills = input.kills.filter((kill) => kill.kind === "worker");
  const rerun: number[] = [];
  for (const kill of workerKills) {
    for (const ref of kill.running) {
      const next = (input.runs.get(taskKey(ref.featureId, ref.taskId)) ?? []).find((run) => run.start > kill.at);
      if (next) rerun.push(next.start - kill.at);
    }
  }
  // Result handling: end of the producing execution → task.completed stored (an orphan's end does not count).
  const orphan = (run: Execution) => run.end !== undefined && workerKills.some((kill) => ranUnder(run, kill.pid) && kill.at >= run.start && kill.at < run.end!);
  const latencies: { featureId: string; taskId: string; ms: number }[] = [];
  const firstCompleted = new Map<string, SeenEvent>();
  for (const event of sortedEvents) {
    if (event.kind === "task.completed" && event.taskId && !firstCompleted.has(taskKey(event.featureId, event.taskId))) firstCompleted.set(taskKey(event.featureId, event.taskId), event);
  }
  for (const [key, event] of firstCompleted) {
    const producer = (input.runs.get(key) ?? []).filter((run) => run.end !== undefined && run.end <= event.ts && !orphan(run)).at(-1);
    if (producer) latencies.push({ featureId: event.featureId, taskId: event.taskId!, ms: event.ts - producer.end! });
  }
  return {
    coordinatorKill: { ...stats(coordSamples.flatMap((sample) => (sample.ms === null ? [] : [sample.ms]))), samples: coordSamples },
    taskRerunAfterWorkerKill: stats(rerun),
    resultToEvent: latencyStats(latencies.filter((latency) => !input.gitFeatureIds.has(latency.featureId))),
    resultToCheckpoint: latencyStats(latencies.filter((latency) => input.gitFeatureIds.has(latency.featureId))),
  };
}
