// `npm run chaos -- [--features N] [--seconds S] [--seed X] [--json FILE] [--wait-seconds W] [--keep]`
// Runs a real Baton (its own nats-server, 3 coordinators, 2 workers for each of 4 roles plus 2 qa workers that run the quality gates some tasks and features name) while it kills
// coordinators, workers and once nats-server itself, then checks that every submitted feature completed,
// exactly once. Exit code: 0 all good, 1 a problem was found (the reasons are printed), 2 the run itself failed,
// 130 interrupted. See docs/reliability.md for what each figure means.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { names } from "../shared/subjects.ts";
import { analyze, type KillRecord, type Submission } from "./chaos/analyze.ts";
import { readLedger, runningUnder } from "./chaos/ledger.ts";
import { checkReadModel } from "./chaos/read-model.ts";
import { EventObserver } from "./chaos/observer.ts";
import { coordinatorSlots, makePlan, workerSlots, type PlannedKill } from "./chaos/plan.ts";
import { freePort, Supervisor, type Slot } from "./chaos/processes.ts";
import { describeMachine, renderKills, renderMachine, renderTable } from "./chaos/report.ts";
import { createWorkDir, type WorkDir } from "./chaos/workdir.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BATON_BIN = join(ROOT, "bin", "baton.mjs");
const SETUP_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 5000;

interface Options {
  features: number;
  seconds: number;
  seed: string;
  waitSeconds: number;
  json?: string | undefined;
  keep: boolean;
}

const USAGE = "usage: npm run chaos -- [--features N (50)] [--seconds S (90)] [--seed X (1)] [--wait-seconds W (180)] [--json FILE] [--keep]";

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      features: { type: "string", default: "50" },
      seconds: { type: "string", default: "90" },
      seed: { type: "string", default: "1" },
      "wait-seconds": { type: "string", default: "180" },
      json: { type: "string" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, v: string, lo: number, hi: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`--${name} must be an integer from ${lo} to ${hi}; got ${v}\n${USAGE}`);
    return n;
  };
  return {
    features: int("features", values.features, 1, 1000),
    seconds: int("seconds", values.seconds, 10, 3600),
    seed: values.seed,
    waitSeconds: int("wait-seconds", values["wait-seconds"], 10, 3600),
    json: values.json ? resolve(values.json) : undefined,
    keep: values.keep,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** SIGKILLs agents of this run that are still running (orphans of killed workers): only pids whose command line names our agent. */
function killStrayAgents(wd: WorkDir): void {
  let ledger;
  try {
    ledger = readLedger(wd.ledger);
  } catch {
    return;
  }
  for (const x of ledger) {
    if (x.end !== undefined || x.killed !== undefined) continue;
    try {
      if (readFileSync(`/proc/${x.pid}/cmdline`, "utf8").includes(wd.agent)) process.kill(x.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  const t0 = Date.now();
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const stamp = (t = Date.now()) => `[${chaosStart ? `${((t - chaosStart) / 1000).toFixed(1).padStart(6)}s` : "  setup"}]`;
  let chaosStart = 0;

  const plan = makePlan(o.seed, o.features, o.seconds);
  const machine = describeMachine(ROOT);
  const wd = createWorkDir(o.seed);
  const prefix = `chaos${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const n = names(prefix);
  const port = await freePort();
  const natsUrl = `nats://127.0.0.1:${port}`;
  say(`baton chaos: ${o.features} features, ${o.seconds} s of kills, seed ${JSON.stringify(o.seed)} (repeat with --seed ${o.seed})`);
  say(`work dir ${wd.dir}; prefix ${prefix}; nats-server on 127.0.0.1:${port}`);
  say(`config: worker ${JSON.stringify(wd.settings.worker)}${Object.keys(wd.settings.coordinator).length ? `, coordinator ${JSON.stringify(wd.settings.coordinator)}` : ""}` +
    (wd.settings.unsupported.length ? `; not in this Baton's config schema (left out): ${wd.settings.unsupported.join(", ")}` : ""));
  say(renderMachine(machine));

  // Everything started from here is a tracked child; cleanup kills exactly those (and our agents' orphans).
  const sup = new Supervisor(wd.logs, { restartDelayMs: 1000, onEvent: (line) => say(`${stamp()} ${line}`) });
  let nc: NatsConnection | undefined;
  let observer: EventObserver | undefined;
  let cleaned: Promise<void> | undefined;
  let keepDir = o.keep;
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
    // Nothing Baton-specific is inherited (a stray BATON_CONFIG or BATON_FAULTS would change the run).
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("BATON_")));
    const env: NodeJS.ProcessEnv = { ...inherited, NATS_URL: natsUrl, BATON_PREFIX: prefix, BATON_LOG_LEVEL: "info", TMPDIR: wd.tmp };
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
    for (const c of coordinators) c.start();
    await sup.waitReady(coordinators.map((c) => c.name), SETUP_TIMEOUT_MS);
    for (const w of workers) w.start();
    await sup.waitReady(workers.map((w) => w.name), SETUP_TIMEOUT_MS);
    nc = await connect({ servers: natsUrl, name: "baton-chaos", maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    observer = new EventObserver(nc, n);
    observer.start();
    const js = jetstream(nc);
    const obs = observer;

    chaosStart = Date.now();
    say(`${stamp()} ${coordinators.length} coordinators and ${workers.length} workers ready after ${((chaosStart - t0) / 1000).toFixed(1)} s; chaos starts`);
    const chaosEndAt = chaosStart + o.seconds * 1000;

    // Submissions through the public subject, each at its planned time, retried until stored.
    const submissions: Submission[] = plan.submissions.map((s) => ({ featureId: s.feature.id, tasks: s.feature.tasks.length }));
    const submitting = Promise.all(plan.submissions.map(async (s, i) => {
      await sleep(chaosStart + s.atMs - Date.now());
      const rec = submissions[i]!;
      const data = new TextEncoder().encode(JSON.stringify(s.feature));
      while (!interrupted) {
        try {
          await js.publish(n.featureSubmit(), data, { msgID: s.feature.id, timeout: 5000 });
          rec.ackedAt = Date.now();
          rec.error = undefined;
          return;
        } catch (e) {
          rec.error = (e as Error).message;
          if (Date.now() > chaosEndAt + 30_000) return;
          await sleep(500);
        }
      }
    }));

    // Kills, at their planned times; each victim restarts after its planned delay.
    const kills: KillRecord[] = [];
    const kill = async (k: PlannedKill) => {
      const at = Date.now();
      const ledger = k.kind === "worker" ? readLedger(wd.ledger) : [];
      const busy = workers.filter((w) => w.current && runningUnder(ledger, w.current.pid, at).length > 0);
      const slot = k.busyPick !== undefined && busy.length ? busy[Math.floor(k.busyPick * busy.length)]! : sup.get(k.target);
      const inst = slot.current;
      if (!inst) return say(`${stamp()} ${slot.name} is down already; kill skipped`);
      const running = runningUnder(ledger, inst.pid, at).map((x) => ({ featureId: x.featureId, taskId: x.taskId, attempt: x.attempt }));
      await slot.kill("SIGKILL");
      const rec: KillRecord = { at, kind: slot.kind, slot: slot.name, pid: inst.pid, running };
      kills.push(rec);
      const tasks = running.length ? ` while running ${running.map((x) => `${x.featureId}/${x.taskId}`).join(", ")}` : "";
      say(`${stamp(at)} SIGKILL ${slot.name} (pid ${inst.pid})${tasks}; restart in ${(k.restartAfterMs / 1000).toFixed(1)} s`);
      sup.later(k.restartAfterMs, () => {
        if (slot.current || !sup.autoRestart) return;
        const next = slot.start();
        rec.restartedAt = next.startedAt;
        rec.restartedPid = next.pid;
      });
    };
    const killing = (async () => {
      for (const k of plan.kills) {
        await sleep(chaosStart + k.atMs - Date.now());
        if (interrupted) return;
        await kill(k);
      }
    })();

    // Readiness of restarted processes, a progress line every 10 s, and a nudge for a stalled observer.
    let lastProgress = Date.now();
    let behindSince: number | undefined;
    const status = () => {
      const done = [...obs.terminal.values()];
      const acked = submissions.filter((s) => s.ackedAt !== undefined).length;
      const completed = done.filter((k) => k === "feature.completed").length;
      const byKind = (kind: string) => kills.filter((k) => k.kind === kind).length;
      return `features ${acked} submitted, ${completed} completed, ${done.length - completed} failed, ${acked - done.length} open | ` +
        `${obs.events.length} events | kills ${byKind("coordinator")} coordinator, ${byKind("worker")} worker, ${byKind("nats")} nats`;
    };
    const tick = async () => {
      for (const s of sup.slots.values()) s.pollReady();
      if (Date.now() - lastProgress >= 10_000) {
        lastProgress = Date.now();
        say(`${stamp()} ${status()}`);
      }
      const caught = await obs.caughtUp().catch(() => true);
      if (caught) behindSince = undefined;
      else if ((behindSince ??= Date.now()) < Date.now() - 10_000) {
        obs.kick();
        behindSince = undefined;
      }
    };
    const ticker = setInterval(() => void tick(), 250);

    await killing;
    await sleep(chaosEndAt - Date.now());
    const chaosEnd = Date.now();
    say(`${stamp()} chaos over; waiting up to ${o.waitSeconds} s for every feature to end`);
    for (let i = 0; i < 50 && sup.pendingRestarts > 0; i++) await sleep(100);
    await submitting;

    // Drain: every submitted feature ends, or the deadline passes.
    const deadline = chaosEnd + o.waitSeconds * 1000;
    const open = () => submissions.filter((s) => s.ackedAt !== undefined && !obs.terminal.has(s.featureId)).length;
    while (!interrupted && open() > 0 && Date.now() < deadline) await sleep(250);
    const drainEnd = Date.now();
    say(`${stamp()} ${open() ? `deadline reached with ${open()} feature(s) open` : "every feature ended"}; settling`);
    // Settle: agents still running finish, late (duplicate) events arrive, the observer reads all.
    const settleUntil = Date.now() + 10_000;
    while (Date.now() < settleUntil && readLedger(wd.ledger).some((x) => x.end === undefined && x.killed === undefined && runningPid(x.pid))) await sleep(200);
    await sleep(3000);
    for (let i = 0; i < 40 && !(await obs.caughtUp().catch(() => false)); i++) await sleep(250);
    clearInterval(ticker);
    for (const s of sup.slots.values()) s.pollReady();
    say(`${stamp()} ${status()}`);

    // Everything recorded; now the figures.
    const restarts = [...sup.slots.values()].flatMap((s: Slot) => s.instances.slice(1).map((i) => ({ kind: s.kind, startedAt: i.startedAt, readyAt: i.readyAt })));
    for (const k of kills) {
      // The first instance after the kill that came up (a restart during the nats outage may exit and be restarted again).
      k.readyAt = sup.get(k.slot).instances.find((i) => i.startedAt > k.at && i.readyAt !== undefined)?.readyAt;
    }
    const pidNames = new Map([...sup.slots.values()].flatMap((s) => s.instances.map((i) => [i.pid, s.name] as const)));
    const analysis = analyze({ plannedFeatures: o.features, submissions, events: obs.events, ledger: readLedger(wd.ledger), kills, restarts, chaosStart, pidNames });
    // The read model (what `baton status` shows) must agree with the history of every feature.
    const readModel = await checkReadModel(nc!, n, submissions.filter((s) => s.ackedAt !== undefined).map((s) => s.featureId));
    if (readModel.mismatches.length) analysis.reasons.push(`${readModel.mismatches.length} feature(s) whose read model disagrees with their history: ${readModel.mismatches.slice(0, 5).join("; ")}`);
    const timing = { setupMs: chaosStart - t0, chaosMs: chaosEnd - chaosStart, drainMs: drainEnd - chaosEnd, totalMs: Date.now() - t0 };
    const ok = analysis.reasons.length === 0;
    if (!ok) keepDir = true;

    say("");
    say(`## Chaos run ${new Date(t0).toISOString()} — seed ${o.seed}, ${o.features} features, ${o.seconds} s`);
    say("");
    say(renderTable(analysis, timing));
    say(`\nread model (api.features.get) agrees with the status history: ${readModel.checked - readModel.mismatches.length}/${readModel.checked} features`);
    say("");
    say(renderKills(kills, analysis, chaosStart));
    say("");
    say(renderMachine(machine));
    if (sup.unexpectedExits.length) {
      say(`\nprocesses that exited by themselves (restarted after 1 s): ${sup.unexpectedExits.length}`);
      for (const e of sup.unexpectedExits) say(`  ${stamp(e.at)} ${e.slot} pid ${e.pid}: code ${e.code} signal ${e.signal}; last output: ${e.logTail.trim().split("\n").slice(-2).join(" ⏎ ").slice(0, 400)}`);
    }
    if (analysis.repeats.length) {
      say(`\ntasks executed more than once (times in s from the chaos start):`);
      for (const r of analysis.repeats) say(`  ${r.task} [${r.cause}]: ${r.runs.join("; ")}`);
    }
    if (Object.keys(analysis.history.notices).length) say(`\nnotices (seq 0): ${JSON.stringify(analysis.history.notices)}`);
    for (const p of analysis.problems) {
      say(`\n${p.featureId}: ${p.state}; unfinished tasks: ${p.unfinishedTasks.join("; ") || "none"}`);
      for (const l of p.lastEvents) say(`    ${l}`);
    }
    say("");
    if (ok) say("RESULT: OK — every submitted feature completed, each exactly once, no task completed twice");
    else {
      say("RESULT: FAILED");
      for (const r of analysis.reasons) say(`  - ${r}`);
      say(`logs, ledger and nats store kept in ${wd.dir}`);
    }

    if (o.json) {
      const rel = (t: number | undefined) => (t === undefined ? null : Math.round(t - chaosStart));
      writeFileSync(o.json, `${JSON.stringify({
        ok, startedAt: new Date(t0).toISOString(),
        params: { features: o.features, seconds: o.seconds, seed: o.seed, waitSeconds: o.waitSeconds },
        machine, prefix, workDir: keepDir ? wd.dir : null, config: wd.settings, timing,
        ...analysis, readModel,
        killLog: kills.map((k) => ({ ...k, at: rel(k.at), restartedAt: rel(k.restartedAt), readyAt: rel(k.readyAt) })),
        unexpectedExits: sup.unexpectedExits.map((e) => ({ ...e, at: rel(e.at) })),
        observer: { restarts: obs.restarts, invalid: obs.invalid },
      }, null, 2)}\n`);
    }
    await cleanup("done");
    return ok ? 0 : 1;
  } catch (e) {
    if (interrupted) return 130;
    say(`chaos run failed: ${(e as Error).stack ?? String(e)}`);
    keepDir = true;
    await cleanup("error");
    return 2;
  }
}

function runningPid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  },
);
