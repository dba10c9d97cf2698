// Renders the chaos report (markdown tables, easy to read and to paste) and describes the machine.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release, totalmem, type as osType } from "node:os";
import { join } from "node:path";
import type { Analysis, KillRecord, Stats } from "./analyze.ts";
import type { PlanningFigures } from "./analyze-planning.ts";
import type { GitFigures } from "./git-checks.ts";

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  natsServer: string;
  baton: string;
  commit: string;
  packages: Record<string, string>;
}

const tryRun = (cmd: string, args: string[], cwd?: string): string => {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
};

export function describeMachine(root: string): Machine {
  const version = (p: string) => {
    try {
      return (JSON.parse(readFileSync(join(root, p, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      return "unknown";
    }
  };
  let os = `${osType()} ${release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1];
    if (pretty) os = `${pretty} (${osType()} ${release()})`;
  } catch {
    // not Linux, or no os-release
  }
  const dirty = tryRun("git", ["status", "--porcelain", "--untracked-files=no"], root);
  const commit = tryRun("git", ["rev-parse", "--short", "HEAD"], root);
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os,
    node: process.version,
    natsServer: tryRun("nats-server", ["--version"]).replace(/^nats-server:\s*/, ""),
    baton: version("."),
    commit: commit + (dirty && dirty !== "unknown" ? " (with uncommitted changes)" : ""),
    packages: Object.fromEntries(
      ["@nats-io/jetstream", "@nats-io/transport-node", "@nats-io/kv", "xstate", "zod", "pino", "tsx"].map((p) => [p, version(join("node_modules", p))]),
    ),
  };
}

const ms = (x: number | null) => (x === null ? "–" : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x} ms`);
const recovery = (x: { open: number; ms: number | null } | undefined) =>
  !x ? "" : !x.open ? "recovery n/a (no feature was open)" : x.ms === null ? `NO event after the kill (${x.open} open)` : `recovery ${ms(x.ms)} (${x.open} open)`;
const st = (s: Stats) => (s.n ? `median ${ms(s.medianMs)}, max ${ms(s.maxMs)} (n=${s.n})` : "no samples");

/** The summary table: one figure per row. */
export function renderTable(analysis: Analysis, timing: { setupMs: number; chaosMs: number; drainMs: number; totalMs: number }): string {
  const { recovery: rec, tasks, gates, git } = analysis;
  const rows: [string, string | number][] = [
    ["features submitted", analysis.features.submitted],
    ["features completed", analysis.features.completed],
    ["features failed", analysis.features.failed + analysis.features.rejected + analysis.features.cancelled],
    ["features still running (stuck)", analysis.features.stuck],
    ["features lost (never accepted)", analysis.features.lost],
    ["tasks in submitted features", tasks.total],
    ["tasks executed (ledger starts)", tasks.executions],
    ["executions cut short (agent got SIGTERM / vanished)", `${tasks.interrupted.killed} / ${tasks.interrupted.unfinished}`],
    ["tasks executed more than once", `${tasks.repeated} (${tasks.extraExecutions} extra runs)`],
    ["… of which after a kill of the worker running them", tasks.repeatedAfterWorkerKill],
    ["… of which after the nats-server restart", tasks.repeatedAfterNatsRestart],
    ["… of which after a rollback undid their work", tasks.repeatedAfterRollback],
    ["… of which a new attempt after a question, an escalation or an invalid plan", tasks.repeatedAfterQuestion],
    ["… other", tasks.repeatedOther],
    ["tasks completed twice", tasks.completedTwice],
    ["tasks completed again after a rollback undid them", tasks.completedAgainAfterRollback],
    ["gate runs passed / failed", `${gates.passed} / ${gates.failed}`],
    ["features measuring a test baseline before their first task", `${gates.baselined - gates.tasksBeforeBaseline.length} of ${gates.baselined}`],
    ["handoffs (~6 KiB each, stored by reference) that reached their dependents intact", `${analysis.handoffs.checked - analysis.handoffs.bad.length} of ${analysis.handoffs.checked}`],
    ["gated tasks / features completed (each only after its gate passed)", `${gates.gatedTasks} / ${gates.gatedFeatures}${gates.completedUngated.length ? `; ${gates.completedUngated.length} WITHOUT` : ""}`],
    ...gitRows(git),
    ...planningRows(analysis.planning),
    ["features with exactly 1 terminal event", `${analysis.terminalEvents.exactlyOne} of ${analysis.features.submitted}`],
    ["status events read / gaps / conflicting seqs", `${analysis.history.events} / ${analysis.history.gaps.length} / ${analysis.history.conflicts.length}`],
    ["kills: coordinator / worker / nats", `${analysis.kills.coordinator} / ${analysis.kills.worker} / ${analysis.kills.nats}`],
    ["… worker kills that hit an integrator", analysis.kills.integrator],
    ["recovery after a coordinator kill", st(rec.coordinatorKill)],
    ["killed worker's task started again", st(rec.taskRerunAfterWorkerKill)],
    ["restart → ready: coordinator", st(rec.restartToReady.coordinator)],
    ["restart → ready: worker", st(rec.restartToReady.worker)],
    ["restart → ready: nats-server", st(rec.restartToReady.nats)],
    ["task end → task.completed stored", `${st(rec.resultToEvent)}; over 5 s: ${rec.resultToEvent.over5s}`],
    ["git features: task end → checkpoint and task.completed stored (commit, gates, merge queue, merge)", `${st(rec.resultToCheckpoint)}; over 5 s: ${rec.resultToCheckpoint.over5s}`],
    ["run time: setup / chaos / drain / total", `${ms(timing.setupMs)} / ${ms(timing.chaosMs)} / ${ms(timing.drainMs)} / ${ms(timing.totalMs)}`],
  ];
  return ["| figure | value |", "|---|---|", ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join("\n");
}

/** The git features' rows of the summary table. */
function gitRows(git: GitFigures): [string, string | number][] {
  const rollbacks = git.rollbacks;
  return [
    ["git features completed (own repository, worktrees, maxParallel 2–3)", `${git.completed} of ${git.features}`],
    ["git tasks completed with exactly one checkpoint on baton/<id> and their file in its tree", `${git.tasksOnBranch} of ${git.tasksCompleted}`],
    ["tasks completed whose work is not on the integration branch", git.notOnBranch.length],
    ["checkpoints appearing twice on an integration branch", git.duplicateCheckpoints.length],
    ["merge conflicts / conflict fix tasks made / completed", `${git.conflicts} / ${git.fixTasks.made} / ${git.fixTasks.completed}`],
    ["rollbacks planned / done / skipped (feature ended first) / refused or unanswered", `${rollbacks.planned} / ${rollbacks.done} / ${rollbacks.skipped.length} / ${rollbacks.failed.length}`],
    ["tasks undone by a rollback / integrated again after it", `${rollbacks.tasksUndone} / ${rollbacks.reintegrated}`],
    ["git features finished with no worktree or task branch left", `${git.finished} of ${git.features}`],
  ];
}

/** The planning rows of the summary table. */
function planningRows(planning: PlanningFigures): [string, string | number][] {
  const { approvals, questions, streams } = planning;
  return [
    ["planned features (plan: auto) completed", `${planning.plannedCompleted} of ${planning.planned}`],
    ["invalid plans sent back / replans given the errors", `${planning.invalidPlans} / ${planning.replans - planning.replansWithoutErrors.length} of ${planning.replans}`],
    ["features approved exactly once / needing approval (repeated approvals sent)", `${approvals.required - approvals.notApprovedOnce.length} / ${approvals.required} (${approvals.repeated})`],
    ["features that dispatched a task before their plan was approved", approvals.dispatchedBeforeApproval.length],
    ["questions asked / answered exactly once (escalated failures among them)", `${questions.asked} / ${questions.asked - questions.notAnsweredOnce.length} (${questions.escalations})`],
    ["answers repeated / changed late (refusals of answers)", `${questions.repeated} / ${questions.changedLate} (${questions.refused})`],
    ["asking tasks whose next run did not get the answer", questions.answerNotReceived.length],
    ["streamed features / stream gate tasks completed", `${streams.features} / ${streams.gateTasksCompleted} of ${streams.gateTasks}`],
    ["task dispatches before a dependency completed", planning.dispatchedEarly.length],
  ];
}

/** One row per kill, with the coordinator recovery sample or the killed worker's running tasks. */
export function renderKills(kills: KillRecord[], analysis: Analysis, chaosStart: number): string {
  let coordinators = 0;
  const rows = kills.map((kill, index) => {
    const integrating = analysis.integratorKills.find((sample) => sample.slot === kill.slot && sample.at === kill.at)?.integrating;
    const what =
      integrating ? (integrating.length ? `integrating ${integrating.join(", ")}` : "no task integrating")
      : kill.kind === "worker" ? (kill.running.length ? `running ${kill.running.map((ref) => `${ref.featureId}/${ref.taskId}#${ref.attempt}`).join(", ")}` : "idle")
      : kill.kind === "coordinator" ? recovery(analysis.recovery.coordinatorKill.samples[coordinators++])
      : "";
    const ready = kill.readyAt !== undefined ? ms(kill.readyAt - kill.at) : "–";
    return `| ${index + 1} | ${((kill.at - chaosStart) / 1000).toFixed(1)} | ${kill.kind} | ${kill.slot} | ${kill.pid} | ${ready} | ${what} |`;
  });
  return ["| # | t (s) | kind | process | pid | kill → ready | notes |", "|---|---|---|---|---|---|---|", ...rows].join("\n");
}

export function renderMachine(machine: Machine): string {
  const pk = Object.entries(machine.packages).map(([name, version]) => `${name} ${version}`).join(", ");
  return `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}\nnode ${machine.node}, nats-server ${machine.natsServer}, baton ${machine.baton} (commit ${machine.commit})\npackages: ${pk}`;
}
