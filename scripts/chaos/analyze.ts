// Turns what the run recorded (submissions, status events, the agents' ledger, kills, the git features' repositories)
// into the figures of the chaos report and the reasons, if any, why the run failed. Pure: no I/O.
import { byFeature, completions, historyIntegrity, outcomes, terminalCounts, type HistoryIntegrity } from "./analyze-history.ts";
import { gatesOf, handoffsOf, type GateFigures } from "./analyze-gates.ts";
import { planningOf, planningReasons, type PlanningFigures } from "./analyze-planning.ts";
import { recoveryOf, repeatsOf, runsByTask, stats, type Recovery } from "./analyze-runs.ts";
import { analyzeGit, type GitFeature, type GitFigures } from "./git-checks.ts";
import type { RepoSnapshot } from "./git-repos.ts";
import type { Execution } from "./ledger.ts";
import type { SeenEvent } from "./observer.ts";
import type { PersonAction } from "./people.ts";
import type { ProcessKind } from "./plan.ts";
import type { PlanningDecor } from "./planning-plan.ts";
import type { RollbackRecord } from "./rollbacks.ts";

export { stats };

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
    /** Tasks run again because a rollback undid their work (they are meant to run again). */
    repeatedAfterRollback: number;
    /** Tasks run again as a new attempt after a question, an escalated failure or an invalid plan (by design). */
    repeatedAfterQuestion: number;
    repeatedOther: number;
    completedTwice: number;
    /** Completions of a task after a rollback undid its earlier completion (not "completed twice"). */
    completedAgainAfterRollback: number;
  };
  terminalEvents: { exactlyOne: number; notOne: { featureId: string; count: number; kinds: string[] }[] };
  history: { events: number } & HistoryIntegrity;
  /** Quality gates: gate runs by verdict, and the tasks/features that had gates (each must complete only after its gate passed). */
  gates: GateFigures;
  /** Handoffs the agents checked (each dependency's ~6 KiB document, stored by reference), and those that were not intact. */
  handoffs: { checked: number; bad: string[] };
  /** Git features: checkpoints on the integration branch, conflicts, rollbacks, what the finish left. */
  git: GitFigures;
  /** Plans, approvals, questions, escalations, streams (analyze-planning.ts). */
  planning: PlanningFigures;
  kills: Record<ProcessKind, number> & { integrator: number };
  /** Per kill of an integrator (in kill order): the tasks that were integrating at that moment (a merge sent or queued). */
  integratorKills: { slot: string; at: number; integrating: string[] }[];
  recovery: Recovery & {
    /** Per restarted process: spawn → its ready line, by kind. */
    restartToReady: Record<ProcessKind, Stats>;
  };
  /** Every task run more than once: its executions (times in s from the chaos start) and why it ran again. */
  repeats: { task: string; cause: string; runs: string[] }[];
  problems: { featureId: string; state: string; lastEvents: string[]; unfinishedTasks: string[] }[];
  reasons: string[];
}

export interface AnalysisInput {
  plannedFeatures: number;
  submissions: Submission[];
  events: SeenEvent[];
  ledger: Execution[];
  kills: KillRecord[];
  restarts: { kind: ProcessKind; startedAt: number; readyAt?: number | undefined }[];
  chaosStart: number;
  /** Process names by pid, to show which worker ran what. */
  pidNames?: Map<number, string>;
  /** The git features submitted, what git showed of each after the run, and the rollbacks the harness drove (default: none). */
  gitFeatures?: GitFeature[] | undefined;
  snapshots?: Map<string, RepoSnapshot> | undefined;
  rollbacks?: RollbackRecord[] | undefined;
  /** The planning decorations of the features (by id), and what the chaos people did (default: none). */
  decor?: Map<string, PlanningDecor> | undefined;
  actions?: PersonAction[] | undefined;
}

const list = (ids: string[]) => (ids.length > 8 ? `${ids.slice(0, 8).join(", ")} …` : ids.join(", "));

/** The history of each feature that did not complete cleanly: its last events and unfinished tasks. */
function problemsOf(ids: Set<string>, grouped: Map<string, SeenEvent[]>, outcome: Map<string, string>, chaosStart: number): Analysis["problems"] {
  const rel = (at: number) => `${((at - chaosStart) / 1000).toFixed(1)}s`;
  return [...ids].map((featureId) => {
    const events = grouped.get(featureId) ?? [];
    const lastKind = new Map<string, string>();
    for (const event of events) if (event.taskId) lastKind.set(event.taskId, `${event.kind}#${event.attempt ?? "?"}`);
    return {
      featureId,
      state: outcome.get(featureId) ?? "?",
      lastEvents: events.slice(-8).map((event) => `seq ${event.seq} ${event.kind}${event.taskId ? ` ${event.taskId}#${event.attempt}` : ""} at ${rel(event.ts)}${event.detail ? ` (${event.detail.slice(0, 160)})` : ""}`),
      unfinishedTasks: [...lastKind].filter(([, kind]) => !kind.startsWith("task.completed")).map(([taskId, kind]) => `${taskId}: ${kind}`),
    };
  });
}

/** For each kill of an integrator: the tasks whose last event stored before it was task.integrating. */
function integratingAtKills(kills: readonly KillRecord[], grouped: Map<string, SeenEvent[]>): Analysis["integratorKills"] {
  return kills.filter((kill) => kill.slot.startsWith("integrator-")).map((kill) => {
    const integrating: string[] = [];
    for (const [featureId, events] of grouped) {
      const last = new Map<string, string>();
      for (const event of events) if (event.taskId && event.ts <= kill.at) last.set(event.taskId, event.kind);
      for (const [taskId, kind] of last) if (kind === "task.integrating") integrating.push(`${featureId}/${taskId}`);
    }
    return { slot: kill.slot, at: kill.at, integrating };
  });
}

/** Why the run failed, from the figures (empty: it passed). */
function reasonsOf(input: AnalysisInput, analysis: Omit<Analysis, "reasons" | "problems">, outcome: Map<string, string>, twice: string[]): string[] {
  const { features, gates, handoffs, history, terminalEvents } = analysis;
  const reasons: string[] = [];
  const ids = (state: string) => [...outcome].filter(([, value]) => value === state).map(([id]) => id);
  if (features.notSubmitted) reasons.push(`${features.notSubmitted} feature(s) could not be submitted: ${list(input.submissions.filter((sub) => sub.ackedAt === undefined).map((sub) => `${sub.featureId} (${sub.error ?? "?"})`))}`);
  if (features.lost) reasons.push(`${features.lost} feature(s) lost (submitted, never accepted): ${list(ids("lost"))}`);
  if (features.stuck) reasons.push(`${features.stuck} feature(s) stuck (accepted, never ended): ${list(ids("stuck"))}`);
  for (const state of ["failed", "rejected", "cancelled"]) if (ids(state).length) reasons.push(`${ids(state).length} feature(s) ${state}: ${list(ids(state))}`);
  if (twice.length) reasons.push(`${twice.length} task(s) completed twice: ${list(twice)}`);
  if (terminalEvents.notOne.length) reasons.push(`${terminalEvents.notOne.length} feature(s) without exactly one terminal event: ${list(terminalEvents.notOne.map((one) => `${one.featureId} (${one.count}: ${one.kinds.join(", ")})`))}`);
  if (history.gaps.length) reasons.push(`${history.gaps.length} feature history(ies) with missing events: ${list(history.gaps)}`);
  if (history.conflicts.length) reasons.push(`${history.conflicts.length} event sequence number(s) used twice for different events: ${list(history.conflicts)}`);
  if (handoffs.bad.length) reasons.push(`${handoffs.bad.length} handoff(s) did not arrive intact: ${list(handoffs.bad)}`);
  if (gates.tasksBeforeBaseline.length) reasons.push(`${gates.tasksBeforeBaseline.length} feature(s) dispatched a task before their test gate's baseline: ${list(gates.tasksBeforeBaseline)}`);
  if (gates.completedUngated.length) reasons.push(`${gates.completedUngated.length} task(s)/feature(s) completed without their gate passing: ${list(gates.completedUngated)}`);
  return reasons;
}

export function analyze(input: AnalysisInput): Analysis {
  const { submissions, events, ledger, kills } = input;
  const submitted = submissions.filter((sub) => sub.ackedAt !== undefined);
  const submittedIds = submitted.map((sub) => sub.featureId);
  const grouped = byFeature(events);
  const outcome = outcomes(submittedIds, grouped);
  const count = (state: string) => [...outcome.values()].filter((value) => value === state).length;
  const features = {
    submitted: submitted.length,
    accepted: submittedIds.filter((id) => (grouped.get(id) ?? []).some((event) => event.kind === "feature.accepted")).length,
    completed: count("completed"), failed: count("failed"), rejected: count("rejected"), cancelled: count("cancelled"),
    stuck: count("stuck"), lost: count("lost"),
    notSubmitted: input.plannedFeatures - submitted.length,
  };
  const notOne = terminalCounts(submittedIds, grouped);
  const { twice, againAfterRollback } = completions(grouped);
  const runs = runsByTask(ledger);
  const { repeats, ...repeated } = repeatsOf({ runs, kills, grouped, chaosStart: input.chaosStart, pidNames: input.pidNames });
  const tasks = {
    total: submitted.reduce((sum, sub) => sum + sub.tasks, 0),
    executed: runs.size,
    executions: ledger.length,
    interrupted: {
      killed: ledger.filter((run) => run.end === undefined && run.killed !== undefined).length,
      unfinished: ledger.filter((run) => run.end === undefined && run.killed === undefined).length,
    },
    ...repeated,
    completedTwice: twice.length,
    completedAgainAfterRollback: againAfterRollback,
  };
  const byKind = (kind: ProcessKind) => stats(input.restarts.filter((restart) => restart.kind === kind && restart.readyAt !== undefined).map((restart) => restart.readyAt! - restart.startedAt));
  const gitFeatures = (input.gitFeatures ?? []).filter((feature) => submittedIds.includes(feature.featureId));
  const git = analyzeGit({ features: gitFeatures, grouped, outcome, snapshots: input.snapshots ?? new Map(), rollbacks: input.rollbacks ?? [] });
  const decor = new Map([...(input.decor ?? [])].filter(([featureId]) => submittedIds.includes(featureId)));
  const planning = planningOf({ grouped, ledger, actions: input.actions ?? [], decor, outcome });
  const figures = {
    features, tasks, gates: gatesOf(events, grouped), handoffs: handoffsOf(ledger), git: git.git, planning,
    terminalEvents: { exactlyOne: submitted.length - notOne.length, notOne },
    history: { events: events.length, ...historyIntegrity(events, grouped) },
    kills: {
      coordinator: kills.filter((kill) => kill.kind === "coordinator").length, worker: kills.filter((kill) => kill.kind === "worker").length,
      nats: kills.filter((kill) => kill.kind === "nats").length, integrator: kills.filter((kill) => kill.slot.startsWith("integrator-")).length,
    },
    integratorKills: integratingAtKills(kills, grouped),
    recovery: { ...recoveryOf({ events, submitted, kills, runs, gitFeatureIds: new Set(gitFeatures.map((feature) => feature.featureId)) }), restartToReady: { coordinator: byKind("coordinator"), worker: byKind("worker"), nats: byKind("nats") } },
    repeats,
  };
  const problemIds = new Set([
    ...[...outcome].filter(([, state]) => state !== "completed").map(([id]) => id),
    ...notOne.map((one) => one.featureId),
    ...twice.map((task) => task.split("/")[0]!),
  ]);
  const problems = problemsOf(problemIds, grouped, outcome, input.chaosStart);
  return { ...figures, problems, reasons: [...reasonsOf(input, figures, outcome, twice), ...git.reasons, ...planningReasons(planning)] };
}
