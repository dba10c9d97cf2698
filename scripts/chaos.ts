// `npm run chaos -- [--features N] [--seconds S] [--seed X] [--json FILE] [--wait-seconds W] [--keep]`
// Runs a real Baton (its own nats-server, 3 coordinators, 2 workers for each of 4 roles, 2 planners, 2 qa workers that
// run the quality gates, 2 integrators that run the git features' workspace operations) while it kills coordinators,
// workers and once nats-server itself, rolls some git features back midway, and approves plans and answers questions
// as people would; then checks that every submitted feature completed, exactly once, with every completed git task's
// work on its integration branch, every plan approved before any work and every question answered exactly once. Exit code: 0 all good,
// 1 a problem was found (the reasons are printed), 2 the run itself failed, 130 interrupted. See docs/reliability.md.
import { readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { names } from "../shared/subjects.ts";
import { analyze, type KillRecord, type Submission } from "./chaos/analyze.ts";
import type { GitFeature } from "./chaos/git-checks.ts";
import { createRepo, inspectRepo, type RepoSnapshot } from "./chaos/git-repos.ts";
import { readLedger } from "./chaos/ledger.ts";
import { killAll, submitAll, type RunContext } from "./chaos/load.ts";
import { EventObserver } from "./chaos/observer.ts";
import { People } from "./chaos/people.ts";
import { parseOptions, type Options } from "./chaos/options.ts";
import { printReport, writeSummary, type RunRecord } from "./chaos/output.ts";
import { coordinatorSlots, makePlan, workerSlots, type Plan } from "./chaos/plan.ts";
import { freePort, Supervisor, type Slot } from "./chaos/processes.ts";
import { checkReadModel } from "./chaos/read-model.ts";
import { describeMachine, renderMachine } from "./chaos/report.ts";
import { createWorkDir, type WorkDir } from "./chaos/workdir.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BATON_BIN = join(ROOT, "bin", "baton.mjs");
const SETUP_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 5000;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, Math.max(0, ms)));

function runningPid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs agents of this run that are still running (orphans of killed workers): only pids whose command line names our agent. */
function killStrayAgents(wd: WorkDir): void {
  let ledger;
  try {
    ledger = readLedger(wd.ledger);
  } catch {
    return;
  }
  for (const run of ledger) {
    if (run.end !== undefined || run.killed !== undefined) continue;
    try {
      if (readFileSync(`/proc/${run.pid}/cmdline`, "utf8").includes(wd.agent)) process.kill(run.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** The config line of the header: the short timings, and wanted settings this Baton does not have. */
function describeSettings(wd: WorkDir): string {
  const { worker, coordinator, unsupported } = wd.settings;
  return `config: worker ${JSON.stringify(worker)}${Object.keys(coordinator).length ? `, coordinator ${JSON.stringify(coordinator)}` : ""}` +
    (unsupported.length ? `; not in this Baton's config schema (left out): ${unsupported.join(", ")}` : "");
}

/** Makes each git feature's repository (under the work dir's ws/repos), before anything runs. */
function makeRepos(plan: Plan, wd: WorkDir): Map<string, GitFeature> {
  const made = new Map<string, GitFeature>();
  for (const { feature, git } of plan.submissions) {
    if (!git) continue;
    const repo = createRepo(join(wd.repos, feature.id), git.files);
    made.set(feature.id, { featureId: feature.id, repo, tasks: feature.tasks.map((task) => task.id), pairs: git.pairs, rollback: git.rollback });
  }
  return made;
}

/** Adds nats-server, the coordinators and the workers to `sup` and starts them, each group once the one before is ready. */
async function startProcesses(sup: Supervisor, wd: WorkDir, env: NodeJS.ProcessEnv, port: number): Promise<Slot[]> {
  const nats = sup.add({
    name: "nats", kind: "nats", command: "nats-server", cwd: wd.dir, env: process.env,
    args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", wd.store], ready: /Server is ready/,
  });
  const coordinators = coordinatorSlots().map((name) =>
    sup.add({ name, kind: "coordinator", command: process.execPath, args: [BATON_BIN, "coordinator", "--config", wd.config], cwd: wd.dir, env, ready: /coordinator ready/ }));
  const workers = workerSlots().map(({ slot, role }) =>
    sup.add({ name: slot, kind: "worker", command: process.execPath, args: [BATON_BIN, "worker", "--role", role, "--config", wd.config, "--id", slot], cwd: wd.dir, env, ready: /worker ready/ }));
  nats.start();
  await sup.waitReady(["nats"], 20_000);
  for (const slot of coordinators) slot.start();
  await sup.waitReady(coordinators.map((slot) => slot.name), SETUP_TIMEOUT_MS);
  for (const slot of workers) slot.start();
  await sup.waitReady(workers.map((slot) => slot.name), SETUP_TIMEOUT_MS);
  return workers;
}

/** Every 250 ms: readiness of restarted processes, a progress line every 10 s, and a nudge for a stalled observer. */
function startTicker(ctx: RunContext, submissions: Submission[], kills: KillRecord[]): { stop: () => void; status: () => string } {
  const obs = ctx.observer;
  let lastProgress = Date.now();
  let behindSince: number | undefined;
  const status = () => {
    const done = [...obs.terminal.values()];
    const acked = submissions.filter((sub) => sub.ackedAt !== undefined).length;
    const completed = done.filter((kind) => kind === "feature.completed").length;
    const byKind = (kind: string) => kills.filter((kill) => kill.kind === kind).length;
    return `features ${acked} submitted, ${completed} completed, ${done.length - completed} failed, ${acked - done.length} open | ` +
      `${obs.events.length} events | kills ${byKind("coordinator")} coordinator, ${byKind("worker")} worker, ${byKind("nats")} nats`;
  };
  const tick = async () => {
    for (const slot of ctx.sup.slots.values()) slot.pollReady();
    if (Date.now() - lastProgress >= 10_000) {
      lastProgress = Date.now();
      ctx.say(`${ctx.stamp()} ${status()}`);
    }
    const caught = await obs.caughtUp().catch(() => true);
    if (caught) behindSince = undefined;
    else if ((behindSince ??= Date.now()) < Date.now() - 10_000) {
      obs.kick();
      behindSince = undefined;
    }
  };
  const ticker = setInterval(() => void tick(), 250);
  return { stop: () => clearInterval(ticker), status };
}

/**
 * After the kills: waits until every submitted feature ended (a git feature also had its workspace finished,
 * feature.integrated) or the deadline passed; then lets running agents finish, waits 3 s for late duplicates and lets
 * the observer read everything. Returns when the drain ended.
 */
async function drain(ctx: RunContext, submissions: Submission[]): Promise<number> {
  const obs = ctx.observer;
  const open = () => submissions.filter((sub) => sub.ackedAt !== undefined &&
    (!obs.terminal.has(sub.featureId) || (ctx.gitFeatures.has(sub.featureId) && !obs.integrated.has(sub.featureId)))).length;
  while (!ctx.interrupted() && open() > 0 && Date.now() < ctx.deadline) await sleep(250);
  const drainEnd = Date.now();
  ctx.say(`${ctx.stamp()} ${open() ? `deadline reached with ${open()} feature(s) open` : "every feature ended"}; settling`);
  const settleUntil = Date.now() + 10_000;
  while (Date.now() < settleUntil && readLedger(ctx.wd.ledger).some((run) => run.end === undefined && run.killed === undefined && runningPid(run.pid))) await sleep(200);
  await sleep(3000);
  for (let tries = 0; tries < 40 && !(await obs.caughtUp().catch(() => false)); tries++) await sleep(250);
  return drainEnd;
}

/** The chaos phase, the drain and the verdict, once every process is up. */
async function runChaos(ctx: RunContext, options: Options, base: Omit<RunRecord, "analysis" | "readModel" | "kills" | "rollbacks" | "unexpectedExits" | "timing">): Promise<RunRecord> {
  const { submissions, done: submitted, rollbacks } = submitAll(ctx);
  const { kills, done: killed } = killAll(ctx);
  // the people who approve plans and answer questions, as they show up in the history
  const people = new People({ nc: ctx.nc, names: ctx.names, observer: ctx.observer, seed: options.seed, deadline: ctx.deadline, stopped: ctx.interrupted, say: (line) => ctx.say(`${ctx.stamp()} ${line}`) });
  people.start();
  const ticker = startTicker(ctx, submissions, kills);
  await killed;
  await sleep(ctx.chaosEndAt - Date.now());
  const chaosEnd = Date.now();
  ctx.say(`${ctx.stamp()} chaos over; waiting up to ${options.waitSeconds} s for every feature to end`);
  for (let tries = 0; tries < 50 && ctx.sup.pendingRestarts > 0; tries++) await sleep(100);
  await submitted;
  const drainEnd = await drain(ctx, submissions);
  const records = await rollbacks;
  await people.stop();
  ticker.stop();
  for (const slot of ctx.sup.slots.values()) slot.pollReady();
  ctx.say(`${ctx.stamp()} ${ticker.status()}`);

  // Everything recorded; now the figures.
  const restarts = [...ctx.sup.slots.values()].flatMap((slot) => slot.instances.slice(1).map((inst) => ({ kind: slot.kind, startedAt: inst.startedAt, readyAt: inst.readyAt })));
  for (const kill of kills) {
    // The first instance after the kill that came up (a restart during the nats outage may exit and be restarted again).
    kill.readyAt = ctx.sup.get(kill.slot).instances.find((inst) => inst.startedAt > kill.at && inst.readyAt !== undefined)?.readyAt;
  }
  const pidNames = new Map([...ctx.sup.slots.values()].flatMap((slot) => slot.instances.map((inst) => [inst.pid, slot.name] as const)));
  const acked = submissions.filter((sub) => sub.ackedAt !== undefined).map((sub) => sub.featureId);
  const snapshots = new Map<string, RepoSnapshot>();
  for (const feature of ctx.gitFeatures.values()) if (acked.includes(feature.featureId)) snapshots.set(feature.featureId, inspectRepo(feature.repo, feature.featureId, ctx.wd.worktrees));
  const analysis = analyze({
    plannedFeatures: options.features, submissions, events: ctx.observer.events, ledger: readLedger(ctx.wd.ledger), kills, restarts,
    chaosStart: ctx.chaosStart, pidNames, gitFeatures: [...ctx.gitFeatures.values()], snapshots, rollbacks: records,
    decor: new Map(ctx.plan.submissions.flatMap((planned) => (planned.planning ? [[planned.feature.id, planned.planning] as const] : []))), actions: people.actions,
  });
  // The read model (what `baton status` shows) must agree with the history of every feature.
  const readModel = await checkReadModel(ctx.nc, ctx.names, acked);
  if (readModel.mismatches.length) analysis.reasons.push(`${readModel.mismatches.length} feature(s) whose read model disagrees with their history: ${readModel.mismatches.slice(0, 5).join("; ")}`);
  const timing = { setupMs: ctx.chaosStart - base.t0, chaosMs: chaosEnd - ctx.chaosStart, drainMs: drainEnd - chaosEnd, totalMs: Date.now() - base.t0 };
  return { ...base, analysis, readModel, kills, rollbacks: records, unexpectedExits: ctx.sup.unexpectedExits, timing };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const t0 = Date.now();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  let chaosStart = 0;
  const stamp = (at = Date.now()) => `[${chaosStart ? `${((at - chaosStart) / 1000).toFixed(1).padStart(6)}s` : "  setup"}]`;
  const plan = makePlan(options.seed, options.features, options.seconds);
  const machine = describeMachine(ROOT);
  const wd = createWorkDir(options.seed);
  const prefix = `chaos${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const port = await freePort();
  const natsUrl = `nats://127.0.0.1:${port}`;
  say(`baton chaos: ${options.features} features, ${options.seconds} s of kills, seed ${JSON.stringify(options.seed)} (repeat with --seed ${options.seed})`);
  say(`work dir ${wd.dir}; prefix ${prefix}; nats-server on 127.0.0.1:${port}`);
  say(describeSettings(wd));
  say(renderMachine(machine));

  // Everything started from here is a tracked child; cleanup kills exactly those (and our agents' orphans).
  const sup = new Supervisor(wd.logs, { restartDelayMs: 1000, onEvent: (line) => say(`${stamp()} ${line}`) });
  let nc: NatsConnection | undefined;
  let observer: EventObserver | undefined;
  let cleaned: Promise<void> | undefined;
  let keepDir = options.keep;
  const cleanup = (why: string) =>
    (cleaned ??= (async () => {
      sup.autoRestart = false;
      await observer?.stop().catch(() => {});
      await nc?.close().catch(() => {});
      await sup.stopAll([["worker"], ["coordinator"], ["nats"]], STOP_GRACE_MS).catch(() => sup.killAllNow());
      killStrayAgents(wd);
      if (keepDir) say(`${why}: processes stopped; work dir kept: ${wd.dir}`);
      else rmSync(wd.dir, { recursive: true, force: true });
    })());
  process.once("exit", () => {
    sup.killAllNow();
    killStrayAgents(wd);
  });
  let interrupted = false;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      say(`\n${sig}: stopping everything this run started…`);
      void cleanup("interrupted").finally(() => process.exit(130));
    });
  }

  try {
    const gitFeatures = makeRepos(plan, wd);
    // Nothing Baton-specific is inherited (a stray BATON_CONFIG or BATON_FAULTS would change the run).
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("BATON_")));
    // XDG_CACHE_HOME: the workers make the git features' worktrees in the work dir, never in the user's ~/.cache.
    const env: NodeJS.ProcessEnv = { ...inherited, NATS_URL: natsUrl, BATON_PREFIX: prefix, BATON_LOG_LEVEL: "info", TMPDIR: wd.tmp, XDG_CACHE_HOME: wd.cache };
    const workers = await startProcesses(sup, wd, env, port);
    nc = await connect({ servers: natsUrl, name: "baton-chaos", maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    observer = new EventObserver(nc, names(prefix));
    observer.start();
    chaosStart = Date.now();
    say(`${stamp()} ${coordinatorSlots().length} coordinators and ${workers.length} workers ready after ${((chaosStart - t0) / 1000).toFixed(1)} s; ` +
      `${gitFeatures.size} of the ${options.features} features are git features; chaos starts`);
    const chaosEndAt = chaosStart + options.seconds * 1000;
    const ctx: RunContext = {
      plan, wd, sup, workers, nc, js: jetstream(nc), names: names(prefix), observer, gitFeatures, chaosStart, chaosEndAt,
      deadline: chaosEndAt + options.waitSeconds * 1000, interrupted: () => interrupted, say, stamp,
    };
    const run = await runChaos(ctx, options, { options, t0, chaosStart, machine, prefix, wd });
    const ok = run.analysis.reasons.length === 0;
    if (!ok) keepDir = true;
    printReport(run, say, stamp);
    if (options.json) writeSummary(options.json, run, { workDir: keepDir ? wd.dir : null, observer });
    await cleanup("done");
    return ok ? 0 : 1;
  } catch (error) {
    if (interrupted) return 130;
    say(`chaos run failed: ${(error as Error).stack ?? String(error)}`);
    keepDir = true;
    await cleanup("error");
    return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  },
);
