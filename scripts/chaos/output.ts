// The end of a chaos run: the printed report (tables, the processes that exited by themselves, repeated executions,
// rollbacks, problem features, the verdict) and the JSON summary (--json).
import { writeFileSync } from "node:fs";
import type { Analysis, KillRecord } from "./analyze.ts";
import type { EventObserver } from "./observer.ts";
import type { Options } from "./options.ts";
import type { UnexpectedExit } from "./processes.ts";
import type { ReadModelCheck } from "./read-model.ts";
import { renderKills, renderMachine, renderTable, type Machine } from "./report.ts";
import type { RollbackRecord } from "./rollbacks.ts";
import type { WorkDir } from "./workdir.ts";

export interface RunRecord {
  options: Options;
  t0: number;
  chaosStart: number;
  machine: Machine;
  prefix: string;
  wd: WorkDir;
  analysis: Analysis;
  readModel: ReadModelCheck;
  kills: KillRecord[];
  rollbacks: RollbackRecord[];
  unexpectedExits: UnexpectedExit[];
  timing: { setupMs: number; chaosMs: number; drainMs: number; totalMs: number };
}

/** Prints the report; `stamp` formats a time as the progress lines do. */
export function printReport(run: RunRecord, say: (line: string) => void, stamp: (at?: number) => string): void {
  const { analysis, readModel, options } = run;
  const rel = (at: number | undefined) => (at === undefined ? "–" : `${((at - run.chaosStart) / 1000).toFixed(1)}s`);
  say("");
  say(`## Chaos run ${new Date(run.t0).toISOString()} — seed ${options.seed}, ${options.features} features, ${options.seconds} s`);
  say("");
  say(renderTable(analysis, run.timing));
  say(`\nread model (api.features.get) agrees with the status history: ${readModel.checked - readModel.mismatches.length}/${readModel.checked} features`);
  say("");
  say(renderKills(run.kills, analysis, run.chaosStart));
  say("");
  say(renderMachine(run.machine));
  if (run.unexpectedExits.length) {
    say(`\nprocesses that exited by themselves (restarted after 1 s): ${run.unexpectedExits.length}`);
    for (const exit of run.unexpectedExits) say(`  ${stamp(exit.at)} ${exit.slot} pid ${exit.pid}: code ${exit.code} signal ${exit.signal}; last output: ${exit.logTail.trim().split("\n").slice(-2).join(" ⏎ ").slice(0, 400)}`);
  }
  if (run.rollbacks.length) {
    say(`\nrollbacks (pause → nothing under way → rollback → resume; times from the chaos start):`);
    for (const rec of run.rollbacks) {
      const times = `first checkpoint ${rel(rec.checkpointAt)} (seen ${rel(rec.sawCheckpointAt)}), paused ${rel(rec.pausedAt)}, quiet ${rel(rec.quietAt)}, rolled back ${rel(rec.rolledBackAt)}, resumed ${rel(rec.resumedAt)}`;
      say(`  ${rec.featureId} to ${rec.toTask ?? "?"}'s checkpoint: ${rec.outcome}${rec.detail ? ` (${rec.detail})` : ""}; ${times}; undone: ${(rec.tasks ?? []).join(", ") || "–"}`);
    }
  }
  if (analysis.repeats.length) {
    say(`\ntasks executed more than once (times in s from the chaos start):`);
    for (const repeat of analysis.repeats) say(`  ${repeat.task} [${repeat.cause}]: ${repeat.runs.join("; ")}`);
  }
  if (Object.keys(analysis.history.notices).length) say(`\nnotices (seq 0): ${JSON.stringify(analysis.history.notices)}`);
  for (const problem of analysis.problems) {
    say(`\n${problem.featureId}: ${problem.state}; unfinished tasks: ${problem.unfinishedTasks.join("; ") || "none"}`);
    for (const line of problem.lastEvents) say(`    ${line}`);
  }
  say("");
  if (!analysis.reasons.length) {
    say("RESULT: OK — every submitted feature completed, each exactly once, no task completed twice, every completed git task's work on its integration branch, " +
      "every plan approved before any work, every question answered exactly once and its answer in the asking task's next run");
  }
  else {
    say("RESULT: FAILED");
    for (const reason of analysis.reasons) say(`  - ${reason}`);
    say(`logs, ledger, repositories and nats store kept in ${run.wd.dir}`);
  }
}

/** Writes the JSON summary: the analysis (every figure above) and the logs of kills, rollbacks and exits, times relative to the chaos start. */
export function writeSummary(file: string, run: RunRecord, extra: { workDir: string | null; observer: EventObserver }): void {
  const rel = (at: number | undefined) => (at === undefined ? null : Math.round(at - run.chaosStart));
  const { options } = run;
  writeFileSync(file, `${JSON.stringify({
    ok: run.analysis.reasons.length === 0, startedAt: new Date(run.t0).toISOString(),
    params: { features: options.features, seconds: options.seconds, seed: options.seed, waitSeconds: options.waitSeconds },
    machine: run.machine, prefix: run.prefix, workDir: extra.workDir, config: run.wd.settings, timing: run.timing,
    ...run.analysis, readModel: run.readModel,
    killLog: run.kills.map((kill) => ({ ...kill, at: rel(kill.at), restartedAt: rel(kill.restartedAt), readyAt: rel(kill.readyAt) })),
    rollbackLog: run.rollbacks.map((rec) => ({ ...rec, checkpointAt: rel(rec.checkpointAt), sawCheckpointAt: rel(rec.sawCheckpointAt), pausedAt: rel(rec.pausedAt), quietAt: rel(rec.quietAt), rolledBackAt: rel(rec.rolledBackAt), resumedAt: rel(rec.resumedAt) })),
    unexpectedExits: run.unexpectedExits.map((exit) => ({ ...exit, at: rel(exit.at) })),
    observer: { restarts: extra.observer.restarts, invalid: extra.observer.invalid },
  }, null, 2)}\n`);
}
