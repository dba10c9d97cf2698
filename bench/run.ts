// `npm run bench -- [--quick] [--only floor,step,throughput,scaling,state,peer,coldstart,agent,worktree] [--budget-seconds S] [--out DIR] [--keep]`
// Measures Baton against its own floor (NATS round trips), the design floor (the cheapest 3-hop durable step with no
// Baton logic, bench/design-floor.ts) and a peer (BullMQ on Redis) on this machine, in one run:
// its own nats-server, real `baton coordinator` / `baton worker` processes with a fresh prefix per scenario, every
// figure read from JetStream stored times; and the cold start of `baton` itself (bench/coldstart.ts). It first builds
// dist/ (bin/build.mjs), so that every process runs the compiled JavaScript that users run.
// Prints progress and a table, writes bench/results/<date>-<host>.{md,json}.
// Stops by itself within the time budget and stops exactly the processes it started. See docs/performance.md.
// Exit codes: 0 every selected scenario ran (targets may be missed: that is a result), 1 a scenario failed, 2 setup failed, 130 interrupted.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "../bin/build.mjs";
import { agentScenario } from "./agent.ts";
import { coldStartScenario } from "./coldstart.ts";
import { designFloor } from "./design-floor.ts";
import { measureFloor, measureKvCas } from "./floor.ts";
import { machineInfo } from "./machine.ts";
import { peerChain, peerThroughput, redisFloor, type PeerCtx } from "./peer.ts";
import { findRedis, type RedisTarget } from "./redis.ts";
import { designFloorRatios, judge, renderReport, type Results, type Sizes } from "./report.ts";
import { scalingScenario, stateScenario, stepScenario, throughputScenario, type Ctx } from "./scenarios.ts";
import { ROOT, World } from "./world.ts";
import { worktreeScenario } from "./worktree.ts";

const SCENARIOS = ["floor", "step", "throughput", "scaling", "state", "peer", "coldstart", "agent", "worktree"] as const;
type Scenario = (typeof SCENARIOS)[number];
const USAGE = `usage: npm run bench -- [--quick] [--only ${SCENARIOS.join(",")}] [--budget-seconds S] [--out DIR] [--keep]`;
/** Time kept back from the budget for stopping processes and writing results. */
const RESERVE_MS = 25_000;

const FULL: Sizes = {
  chainSteps: 200, throughputTasks: 2000, throughputFeatures: 20, throughputWorkers: [1, 2, 4], concurrency: 8,
  scalingTasks: 400, scalingTaskMs: 50, scalingFeatures: 8, scalingSlots: [1, 2, 4, 8],
  stateFeatures: 10_000, drainWorkers: 2, drainConcurrency: 8, floorSamples: 3000, rounds: 3,
};
/** Cold-start runs of each command (compiled and through tsx) after the warm-ups: full, quick. */
const COLD_START = { full: { runs: 30, warmups: 3 }, quick: { runs: 10, warmups: 2 } };
const QUICK: Sizes = {
  ...FULL, chainSteps: 50, throughputTasks: 500, throughputFeatures: 5, scalingTasks: 100, scalingFeatures: 4, stateFeatures: 1000, floorSamples: 1000, rounds: 3,
};

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "budget-seconds": { type: "string" },
      out: { type: "string" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
  for (const s of only ?? []) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario "${s}"\n${USAGE}`);
  const budget = Number(values["budget-seconds"] ?? (values.quick ? 150 : 580));
  if (!Number.isFinite(budget) || budget < 30 || budget > 3600) throw new Error(`--budget-seconds must be from 30 to 3600\n${USAGE}`);
  return { quick: values.quick, only: only ? (only as Scenario[]) : null, budgetMs: budget * 1000, out: resolve(values.out ?? join(ROOT, "bench", "results")), keep: values.keep };
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  const t0 = Date.now();
  const deadline = t0 + o.budgetMs - RESERVE_MS;
  const say = (s: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${s}\n`);
  const want = (s: Scenario) => !o.only || o.only.includes(s) || (s === "floor" && o.only.includes("step"));
  const sizes = o.quick ? QUICK : FULL;
  const machine = machineInfo(ROOT);
  const results: Results = {
    startedAt: new Date(t0).toISOString(), finishedAt: "", durationSeconds: 0, mode: o.quick ? "quick" : "full", only: o.only,
    sizes, machine, throughput: [], scaling: [], peer: { throughput: [] }, errors: [], targets: [],
  };
  const world = new World(say);
  let interrupted = false;
  process.once("exit", () => world.sup.killAllNow());
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      say(`${sig}: stopping everything this run started…`);
      void world.cleanup(o.keep).finally(() => process.exit(130));
    });
  }
  // Last resort: whatever happens, the run ends (and kills its children) shortly after its budget.
  setTimeout(() => {
    say("time budget exceeded by far: killing every process this run started");
    world.sup.killAllNow();
    process.exit(1);
  }, o.budgetMs + 30_000).unref();

  say(`baton bench (${results.mode}${o.only ? `, only ${o.only.join(",")}` : ""}); budget ${o.budgetMs / 1000} s; work dir ${world.dir}`);
  say(`machine: ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB; load ${machine.loadAtStart.join(" ")}; node ${machine.node}, nats-server ${machine.natsServer}; commit ${machine.commit}${machine.uncommittedRuntime.length ? " + uncommitted runtime changes" : ""}`);
  const ctx: Ctx = {
    world, say,
    timeLeft: (cap) => {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("time budget used up");
      return Math.min(cap, left);
    },
  };
  let redis: RedisTarget | undefined;
  const peer = async (): Promise<PeerCtx | undefined> => {
    if (!want("peer") || results.peer.skipped) return undefined;
    if (!redis) {
      const found = await findRedis(world, say);
      if ("skipped" in found) {
        results.peer.skipped = found.skipped;
        say(`  peer: SKIPPED — ${found.skipped}`);
        return undefined;
      }
      redis = found;
      results.peer.redis = { host: redis.host, port: redis.port, ownServer: redis.ownServer, version: redis.version, persistence: redis.persistence };
    }
    return { world, redis, say, timeLeft: ctx.timeLeft };
  };
  const attempt = async (scenario: string, fn: () => Promise<void>) => {
    if (interrupted) return;
    if (Date.now() > deadline) {
      results.errors.push({ scenario, message: "skipped: the time budget was used up" });
      return say(`${scenario}: SKIPPED (time budget used up)`);
    }
    try {
      await fn();
    } catch (e) {
      if (interrupted) return;
      results.errors.push({ scenario, message: (e as Error).message });
      say(`${scenario}: FAILED — ${(e as Error).message.split("\n")[0]}`);
    }
  };

  await attempt("build", async () => {
    const ms = await build(ROOT);
    results.build = { ms };
    say(`dist/ built in ${(ms / 1000).toFixed(1)} s (bin/build.mjs): every baton process runs the compiled JavaScript`);
  });
  try {
    await world.startNats();
    say(`nats-server ready on ${world.natsUrl}`);
  } catch (e) {
    say(`setup failed: ${(e as Error).message}`);
    await world.cleanup(true);
    return 2;
  }

  if (want("floor")) {
    await attempt("floor", async () => {
      say(`floor: ${sizes.floorSamples} samples each after warm-up`);
      results.floor = await measureFloor(world, { samples: sizes.floorSamples, warmup: Math.round(sizes.floorSamples / 5), payloadBytes: 256 });
      const f = results.floor;
      say(`  floor p50: request/reply ${f.requestReply.p50.toFixed(0)} µs, JS publish ${f.jsPublish.p50.toFixed(0)} µs, KV CAS ${f.kvCas.p50.toFixed(0)} µs`);
      const p = await peer();
      if (p) results.peer.redisPing = await redisFloor(p, { samples: sizes.floorSamples, warmup: Math.round(sizes.floorSamples / 5) });
    });
  }
  if (want("step")) {
    say(`step: chain of ${sizes.chainSteps} dependent noop tasks`);
    await attempt("step", async () => {
      results.step = await stepScenario(ctx, sizes.chainSteps, sizes.rounds);
      if (results.step.snapshotBytes) {
        const cas = await measureKvCas(world, { samples: 500, warmup: 100, bytes: results.step.snapshotBytes });
        results.snapshotCas = { ...cas, bytes: results.step.snapshotBytes };
        say(`  KV CAS with a ${results.step.snapshotBytes}-byte value: p50 ${cas.p50.toFixed(0)} µs`);
      }
    });
  }
  if (want("floor")) {
    // After the step scenario, whose chain gives the snapshot size of the snapshot-sized variants.
    say(`design floor: a 3-hop durable step with no Baton logic, chains of ${sizes.chainSteps}`);
    await attempt("design floor", async () => {
      results.designFloor = await designFloor(ctx, { steps: sizes.chainSteps, rounds: sizes.rounds, snapshotBytes: results.step?.snapshotBytes });
    });
  }
  if (want("peer") && (want("step") || o.only?.length === 1)) {
    await attempt("peer chain", async () => {
      const p = await peer();
      if (p) results.peer.chain = await peerChain(p, sizes.chainSteps, sizes.rounds);
    });
  }
  for (const workers of sizes.throughputWorkers) {
    const spec = { workers, concurrency: sizes.concurrency, features: sizes.throughputFeatures, tasksPerFeature: sizes.throughputTasks / sizes.throughputFeatures, rounds: sizes.rounds };
    if (want("throughput")) {
      say(`throughput: ${sizes.throughputTasks} noop tasks, ${workers} worker(s) × ${sizes.concurrency}`);
      await attempt(`throughput ${workers}`, async () => void results.throughput.push(await throughputScenario(ctx, spec)));
    }
    if (want("peer") && (want("throughput") || o.only?.length === 1)) {
      await attempt(`peer throughput ${workers}`, async () => {
        const p = await peer();
        if (p) results.peer.throughput.push(await peerThroughput(p, { workers, concurrency: sizes.concurrency, jobs: sizes.throughputTasks, rounds: sizes.rounds }));
      });
    }
  }
  if (want("scaling")) {
    for (const slots of sizes.scalingSlots) {
      say(`scaling: ${sizes.scalingTasks} × sleep ${sizes.scalingTaskMs} ms on ${slots} slot(s)`);
      await attempt(`scaling ${slots}`, async () => {
        results.scaling.push(await scalingScenario(ctx, { slots, tasks: sizes.scalingTasks, taskMs: sizes.scalingTaskMs, features: sizes.scalingFeatures }));
      });
    }
  }
  if (want("state")) {
    say(`state: ${sizes.stateFeatures} held features, then a drain with ${sizes.drainWorkers} worker(s) × ${sizes.drainConcurrency}`);
    await attempt("state", async () => {
      results.state = await stateScenario(ctx, { features: sizes.stateFeatures, drainWorkers: sizes.drainWorkers, drainConcurrency: sizes.drainConcurrency });
    });
  }

  if (want("coldstart")) {
    const cold = o.quick ? COLD_START.quick : COLD_START.full;
    say(`cold start: baton --help and baton status <id>, ${cold.runs} runs each after ${cold.warmups} warm-up(s), compiled and through tsx`);
    await attempt("coldstart", async () => {
      results.coldStart = await coldStartScenario(ctx, cold);
    });
  }

  if (want("agent")) {
    const agentSizes = o.quick ? { tasks: 4, rounds: 1 } : { tasks: 8, rounds: 2 };
    say(`agent: claude -p against the scripted model server, ${agentSizes.rounds} round(s) of ${agentSizes.tasks} direct runs and ${agentSizes.tasks} tasks through Baton`);
    await attempt("agent", async () => {
      results.agent = await agentScenario(ctx, agentSizes);
    });
  }

  if (want("worktree")) {
    const gitSizes = o.quick ? { gitTasks: 20, featureTasks: 6, rounds: 2 } : { gitTasks: 24, featureTasks: 12, rounds: 2 };
    say(`worktree: git features on a repository of 10,000 files — ${gitSizes.gitTasks} tasks in-process, then ${gitSizes.rounds} round(s) of ${gitSizes.featureTasks} tasks as a scratch and as a git feature`);
    await attempt("worktree", async () => {
      results.worktree = await worktreeScenario(ctx, gitSizes);
    });
  }

  if (interrupted) return 130;
  say("stopping everything this run started");
  await world.cleanup(o.keep || results.errors.length > 0);
  results.finishedAt = new Date().toISOString();
  results.durationSeconds = (Date.now() - t0) / 1000;
  results.targets = judge(results);
  if (results.designFloor) results.designFloorRatios = designFloorRatios(results);
  const report = renderReport(results);
  process.stdout.write(`\n${report}\n`);
  mkdirSync(o.out, { recursive: true });
  const base = join(o.out, `${results.startedAt.slice(0, 10)}-${machine.host}${o.quick ? "-quick" : ""}${o.only ? `-${o.only.join("+")}` : ""}`);
  writeFileSync(`${base}.md`, `${report}\n`);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  say(`wrote ${base}.md and .json${results.errors.length ? `; logs kept in ${world.dir}` : ""}`);
  return results.errors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(2);
  },
);
