// The chaos phase's drivers following the plan: submissions through the public subject (a git feature names its
// repository; a planned one its goal: planning-plan.ts), SIGKILLs of coordinators, workers and nats-server (each
// restarted after its planned delay), and the planned rollbacks (rollbacks.ts), started as their features are submitted.
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Names } from "../../shared/subjects.ts";
import type { KillRecord, Submission } from "./analyze.ts";
import type { GitFeature } from "./git-checks.ts";
import { readLedger, runningUnder } from "./ledger.ts";
import type { EventObserver } from "./observer.ts";
import type { Plan, PlannedKill } from "./plan.ts";
import { agentTasks, requestOf } from "./planning-plan.ts";
import type { Slot, Supervisor } from "./processes.ts";
import { driveRollback, type RollbackRecord } from "./rollbacks.ts";
import type { WorkDir } from "./workdir.ts";

export interface RunContext {
  plan: Plan;
  wd: WorkDir;
  sup: Supervisor;
  workers: Slot[];
  nc: NatsConnection;
  js: JetStreamClient;
  names: Names;
  observer: EventObserver;
  /** The git features, by id, with their repositories (made before the chaos phase). */
  gitFeatures: Map<string, GitFeature>;
  chaosStart: number;
  chaosEndAt: number;
  /** When the drain gives up: nothing waits longer. */
  deadline: number;
  interrupted: () => boolean;
  say: (line: string) => void;
  stamp: (at?: number) => string;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, Math.max(0, ms)));

/**
 * Publishes each planned feature at its time (a JetStream publish with `Nats-Msg-Id` = feature id, retried until
 * stored or 30 s after the chaos phase) and starts the rollback of each feature planned for one. `submissions` fills
 * in as they are acknowledged; `done` resolves when every publish ended, `rollbacks` once every rollback has.
 */
export function submitAll(ctx: RunContext): { submissions: Submission[]; done: Promise<void>; rollbacks: Promise<RollbackRecord[]> } {
  const submissions: Submission[] = ctx.plan.submissions.map((planned) => ({ featureId: planned.feature.id, tasks: agentTasks(planned.feature, planned.planning) }));
  const drivers: Promise<RollbackRecord>[] = [];
  const deps = { nc: ctx.nc, names: ctx.names, observer: ctx.observer, deadline: ctx.deadline, stopped: ctx.interrupted, say: (line: string) => ctx.say(`${ctx.stamp()} ${line}`) };
  const done = Promise.all(ctx.plan.submissions.map(async (planned, index) => {
    await sleep(ctx.chaosStart + planned.atMs - Date.now());
    const rec = submissions[index]!;
    const repo = ctx.gitFeatures.get(planned.feature.id)?.repo;
    const request = requestOf(planned.feature, planned.planning);
    const data = new TextEncoder().encode(JSON.stringify(repo ? { ...request, workspace: repo } : request));
    while (!ctx.interrupted()) {
      try {
        await ctx.js.publish(ctx.names.featureSubmit(), data, { msgID: planned.feature.id, timeout: 5000 });
        rec.ackedAt = Date.now();
        rec.error = undefined;
        if (planned.git?.rollback) drivers.push(driveRollback(deps, planned.feature.id));
        return;
      } catch (error) {
        rec.error = (error as Error).message;
        if (Date.now() > ctx.chaosEndAt + 30_000) return;
        await sleep(500);
      }
    }
  })).then(() => undefined);
  return { submissions, done, rollbacks: done.then(() => Promise.all(drivers)) };
}

/** One planned kill: a worker kill hits a busy worker when `busyPick` says so; the victim restarts after its delay. */
async function killOne(ctx: RunContext, planned: PlannedKill, kills: KillRecord[]): Promise<void> {
  const at = Date.now();
  const ledger = planned.kind === "worker" ? readLedger(ctx.wd.ledger) : [];
  const busy = ctx.workers.filter((worker) => worker.current && runningUnder(ledger, worker.current.pid, at).length > 0);
  const slot = planned.busyPick !== undefined && busy.length ? busy[Math.floor(planned.busyPick * busy.length)]! : ctx.sup.get(planned.target);
  const inst = slot.current;
  if (!inst) return ctx.say(`${ctx.stamp()} ${slot.name} is down already; kill skipped`);
  const running = runningUnder(ledger, inst.pid, at).map((run) => ({ featureId: run.featureId, taskId: run.taskId, attempt: run.attempt }));
  await slot.kill("SIGKILL");
  const rec: KillRecord = { at, kind: slot.kind, slot: slot.name, pid: inst.pid, running };
  kills.push(rec);
  const tasks = running.length ? ` while running ${running.map((run) => `${run.featureId}/${run.taskId}`).join(", ")}` : "";
  ctx.say(`${ctx.stamp(at)} SIGKILL ${slot.name} (pid ${inst.pid})${tasks}; restart in ${(planned.restartAfterMs / 1000).toFixed(1)} s`);
  ctx.sup.later(planned.restartAfterMs, () => {
    if (slot.current || !ctx.sup.autoRestart) return;
    const next = slot.start();
    rec.restartedAt = next.startedAt;
    rec.restartedPid = next.pid;
  });
}

/** Every planned kill at its time; `kills` fills in as they happen, `done` resolves after the last. */
export function killAll(ctx: RunContext): { kills: KillRecord[]; done: Promise<void> } {
  const kills: KillRecord[] = [];
  const done = (async () => {
    for (const planned of ctx.plan.kills) {
      await sleep(ctx.chaosStart + planned.atMs - Date.now());
      if (ctx.interrupted()) return;
      await killOne(ctx, planned, kills);
    }
  })();
  return { kills, done };
}
