// What git features cost per task (issue 12), on a generated repository of 10,000 files and, for contrast, one of 10:
// 1. in-process, the git work of one task with Baton's own functions (bench/worktree-git.ts): fresh worktree, commit,
//    the integrator's merge — and bare `git worktree add` beside it;
// 2. end to end through Baton, one run: the same feature of N independent one-file tasks (an exec role running `sh`)
//    as a scratch feature (no workspace) and as a git feature in worktree mode, alternating, with an integrator worker.
// Nothing is deleted until part 2's first git feature has run: on ext4, creating files within about a minute of a mass
// deletion costs several times more, so the first git round runs without one and the second right after a finish.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BareGit, costsOf, countGitProcesses, diskKiB, GitFeatureRun, gitSpawn, makeRepo, type GitTaskCosts } from "./worktree-git.ts";
import type { FeatureEvents } from "./observer.ts";
import { makeFeature, run, withStack, type Ctx } from "./scenarios.ts";
import { gaps, summarize, type Summary } from "./stats.ts";
import type { FeatureRequest, Stack } from "./world.ts";

export interface WorktreeSizes {
  /** Measured tasks per repository in part 1 (after 2 warm-up tasks). */
  gitTasks: number;
  /** Tasks per feature in part 2, and rounds (each a scratch feature then a git feature). */
  featureTasks: number;
  rounds: number;
}

/** Part 2's figures of one kind of feature (ms). */
export interface FeatureFigures {
  /** Per task: task.dispatched stored → task.completed stored (for a git feature: its merge included). */
  latency: Summary;
  /** Gaps between consecutive task.completed stored times (maxParallel 1: the time each task adds to the feature). */
  gap: Summary;
  /** task.dispatched → the exec's first line; the exec's last line → task.completed (scratch) or task.integrating (git). */
  beforeExec: Summary;
  afterExec: Summary;
  /** Per round: (first publish → last task.completed stored) / tasks; median of the rounds. */
  perTask: Summary;
}

export interface GitFeatureFigures extends FeatureFigures {
  /** task.dispatched → task.integrating: checkout, the exec, commit, result, the coordinator's apply. */
  workerSide: Summary;
  /** Of which: task.dispatched → the exec's first line (the worker takes the task, its checkout, the exec's start). */
  beforeExec: Summary;
  /** And: the exec's last line → task.integrating (the exec's exit, the commit, the result, the coordinator's apply). */
  afterExec: Summary;
  /** task.integrating → task.completed: the integrate op sent to the integrator, the merge, its result, apply. */
  integrateSide: Summary;
  /** The feature's feature.accepted → workspace.prepared, and feature.completed → feature.integrated (the finish op), ms. */
  prepare: number;
  finish: number;
}

export interface WorktreeResult {
  gitVersion: string;
  sizes: WorktreeSizes;
  /** Part 1: the small repository, then the 10k one (tasks interleaved). */
  inProcess: GitTaskCosts[];
  /** `git rev-parse HEAD` in a child process: the least each git command costs. */
  gitSpawn: Summary;
  /**
   * Bare git on the 10k repository, sampled between part 1's tasks: `git worktree add --detach` (every file), its
   * removal, `--no-checkout`, and `git checkout --detach` of the next head in a worktree kept between samples.
   */
  bare: { full: Summary; remove: Summary; noCheckout: Summary; recycle: Summary };
  /** Part 2 on the 10k repository. */
  files: number;
  scratch: FeatureFigures;
  /** Per round: the first with no mass deletion before it, the next ones seconds after the previous git feature's finish. */
  git: GitRound[];
}

export interface GitRound extends GitFeatureFigures {
  /** Bare `git worktree add --detach` (every file) just before the feature: how fast the machine created files then (ms). */
  bareAddBefore: number;
}

const WRITER = "writer";
/**
 * The exec role's work: read the task, write one file named after it in its folder (the worktree, or the scratch
 * workspace), and log its own start and end (wall clock, ns) to $BENCH_EXEC_LOG.
 */
const WRITE_ONE_FILE = [
  'started=$(date +%s%N); cat > /dev/null; mkdir -p bench; echo "$BATON_TASK_ID" > "bench/$BATON_FEATURE_ID-$BATON_TASK_ID.txt"',
  'echo "$BATON_FEATURE_ID $BATON_TASK_ID $started $(date +%s%N)" >> "$BENCH_EXEC_LOG"',
].join("; ");
const BIG = { folders: 100, perFolder: 100 };
const SMALL = { folders: 2, perFolder: 5 };
/** Part 1 takes a sample of bare git after every this many iterations. */
const BARE_EVERY = 3;
const f1 = (x: number) => x.toFixed(1);

/** Runs both parts; the repositories live in the run's work directory. */
export async function worktreeScenario(ctx: Ctx, sizes: WorktreeSizes): Promise<WorktreeResult> {
  const wsRoot = join(ctx.world.dir, "ws");
  const big = join(wsRoot, "repo-10k");
  const small = join(wsRoot, "repo-small");
  const made = performance.now();
  const files = makeRepo(big, BIG.folders, BIG.perFolder);
  const smallFiles = makeRepo(small, SMALL.folders, SMALL.perFolder);
  const gitVersion = execFileSync("git", ["--version"], { encoding: "utf8" }).trim();
  ctx.say(`  worktree: ${gitVersion}; repositories of ${files} and ${smallFiles} files made in ${f1(performance.now() - made)} ms (git fast-import)`);
  // The worktrees in the run's work directory (not the default under ~/.cache), as a workspace root like the default one.
  const worktreesDir = join(ctx.world.dir, "worktrees");
  const options = { cwd: ctx.world.dir, workspaceRoots: [wsRoot, worktreesDir], worktrees: { dir: worktreesDir, link: ["node_modules"] } };

  const runs = [new GitFeatureRun(small, "inproc-small", options), new GitFeatureRun(big, "inproc-10k", options)];
  for (const gitRun of runs) await gitRun.prepare();
  const lastWorktree: string[] = [];
  const bareGit = new BareGit(big, join(ctx.world.dir, "bare-git"));
  const baseHead = execFileSync("git", ["rev-parse", "HEAD"], { cwd: big, encoding: "utf8" }).trim();
  for (let index = 0; index < sizes.gitTasks + 2; index++) {
    ctx.timeLeft(1);
    for (const [which, gitRun] of runs.entries()) lastWorktree[which] = await gitRun.task(index >= 2);
    if (index % BARE_EVERY === 1) await bareGit.sample(baseHead, runs[1]!.head);
  }
  const spawns: number[] = [];
  for (let index = 0; index < 30; index++) spawns.push(await gitSpawn(big));
  const countsAndDisk: Pick<GitTaskCosts, "gitProcesses" | "worktreeKiB">[] = [];
  for (const [which, gitRun] of runs.entries()) {
    // One at a time: the count shims git on this process's PATH.
    countsAndDisk.push({ worktreeKiB: diskKiB(lastWorktree[which]!), gitProcesses: await countGitProcesses(gitRun, join(ctx.world.dir, `git-shim-${which}`)) });
  }
  const probe = new BareGit(big, join(ctx.world.dir, "bare-git-2"));
  const baton = await throughBaton(ctx, { repo: big, wsRoot, worktreesDir, baseHead, probe }, sizes);
  // The deletions, last: part 1's bare trees and its features' worktrees (timed), part 2's probes.
  await bareGit.removeAll();
  const inProcess: GitTaskCosts[] = [];
  for (const [which, gitRun] of runs.entries()) {
    const finishMs = await gitRun.finish();
    inProcess.push(costsOf(which ? `${files.toLocaleString("en-US")} files` : `${smallFiles} files`, which ? files : smallFiles, gitRun, finishMs, countsAndDisk[which]!));
  }
  await probe.removeAll();
  for (const costs of inProcess) {
    ctx.say(`  worktree, in-process, ${costs.label}: per task p50 checkout ${f1(costs.checkout.p50)} + commit ${f1(costs.commit.p50)} + integrate ${f1(costs.integrate.p50)} = ${f1(costs.total.p50)} ms (${costs.tasks} tasks); finish ${f1(costs.finishPerTaskMs)} ms per worktree`);
  }
  const { full, remove, noCheckout, recycle } = bareGit.samples;
  const bare = { full: summarize(full), remove: summarize(remove), noCheckout: summarize(noCheckout), recycle: summarize(recycle) };
  ctx.say(`  worktree, bare git on ${files} files p50: worktree add ${f1(bare.full.p50)} ms, --no-checkout ${f1(bare.noCheckout.p50)} ms, checkout of the next head in a kept worktree ${f1(bare.recycle.p50)} ms`);
  return { gitVersion, sizes, inProcess, gitSpawn: summarize(spawns), bare, files, ...baton };
}

/** Where part 2 runs: the repository (and its root for the config), its first commit, and a bare-git probe. */
interface Part2 {
  repo: string;
  wsRoot: string;
  worktreesDir: string;
  baseHead: string;
  probe: BareGit;
}

/**
 * Part 2: scratch and git features of the same tasks, alternating on one stack. The warm-up is a scratch feature
 * only (a git warm-up's finish would delete worktrees just before the first measured git round).
 */
async function throughBaton(ctx: Ctx, where: Part2, sizes: WorktreeSizes): Promise<Pick<WorktreeResult, "scratch" | "git">> {
  const execLog = join(ctx.world.dir, "exec-times.log");
  const roles = { [WRITER]: { exec: ["sh", "-c", WRITE_ONE_FILE], timeoutSeconds: 120, env: { BENCH_EXEC_LOG: execLog } } };
  return withStack(ctx, "worktree", roles, async (stack) => {
    await stack.addWorkers([{ role: WRITER, concurrency: 1 }, { role: "integrator", concurrency: 1 }]);
    const feature = (id: string, tasks: number, git: boolean): FeatureRequest => ({
      ...makeFeature(id, tasks, { role: WRITER, maxParallel: 1 }), ...(git ? { workspace: where.repo, isolation: "worktree" as const } : {}),
    });
    await runOne(ctx, stack, feature("warm-scratch", 10, false));
    ctx.say(`  worktree: warmed up; ${sizes.rounds} round(s) of ${sizes.featureTasks} one-file tasks as a scratch feature, then as a git feature (worktree mode, ${where.repo})`);
    const scratch: Measured[] = [];
    const git: { measured: Measured; bareAddBefore: number }[] = [];
    for (let round = 1; round <= sizes.rounds; round++) {
      scratch.push(await runOne(ctx, stack, feature(`scratch-${round}`, sizes.featureTasks, false)));
      await where.probe.sample(where.baseHead, where.baseHead, false);
      const bareAddBefore = where.probe.samples.full.at(-1)!;
      git.push({ measured: await runOne(ctx, stack, feature(`git-${round}`, sizes.featureTasks, true)), bareAddBefore });
    }
    const times = execTimes(execLog);
    const result = { scratch: figures(scratch, times, (events, id) => events.completed.get(id)), git: git.map((round) => ({ ...gitFigures(round.measured, times), bareAddBefore: round.bareAddBefore })) };
    for (const [index, round] of result.git.entries()) {
      ctx.say(`  worktree, through Baton, round ${index + 1}: per task p50 scratch ${f1(result.scratch.latency.p50)} ms, git ${f1(round.latency.p50)} ms (before the exec ${f1(round.beforeExec.p50)}, after it ${f1(round.afterExec.p50)}, integration ${f1(round.integrateSide.p50)}); bare worktree add before it ${f1(round.bareAddBefore)} ms`);
    }
    return result;
  }, { workspaceRoots: [where.wsRoot, where.worktreesDir], worktreesDir: where.worktreesDir });
}

interface Measured {
  request: FeatureRequest;
  t0: number;
  events: FeatureEvents;
}

/** Submits one feature, waits until it completed (and, for a git feature, until its finish op was done). */
async function runOne(ctx: Ctx, stack: Stack, request: FeatureRequest): Promise<Measured> {
  const t0 = performance.timeOrigin + performance.now();
  await run(ctx, stack, request.id, [request], 300_000);
  const events = stack.observer.features.get(request.id)!;
  if (request.workspace !== undefined) {
    await stack.observer.until(`${request.id}: feature.integrated`, () => events.workspace.has("feature.integrated"), {
      timeoutMs: ctx.timeLeft(120_000), progress: () => "waiting for the finish op",
    });
  }
  return { request, t0, events };
}

/** The exec's own start and end (wall clock, ms) per `<featureId>/<taskId>`, from its log. */
function execTimes(path: string): Map<string, { start: number; end: number }> {
  const times = new Map<string, { start: number; end: number }>();
  if (!existsSync(path)) return times;
  for (const line of readFileSync(path, "utf8").split("\n").filter(Boolean)) {
    const [featureId, taskId, start, end] = line.split(" ");
    times.set(`${featureId}/${taskId}`, { start: Number(start) / 1e6, end: Number(end) / 1e6 });
  }
  return times;
}

/** Per-task figures of the rounds; `handedOn` is when the worker's part ended (task.completed, or task.integrating). */
function figures(rounds: Measured[], times: Map<string, { start: number; end: number }>, handedOn: (events: FeatureEvents, id: string) => number | undefined): FeatureFigures {
  const latency: number[] = [];
  const gapped: number[] = [];
  const perTask: number[] = [];
  const before: number[] = [];
  const after: number[] = [];
  for (const { request, t0, events } of rounds) {
    const ids = request.tasks.map((task) => task.id);
    for (const id of ids) {
      const dispatched = events.dispatched.get(id)!;
      latency.push(events.completed.get(id)! - dispatched);
      const exec = times.get(`${request.id}/${id}`);
      if (!exec) throw new Error(`no exec times of ${request.id}/${id}`);
      before.push(exec.start - dispatched);
      after.push(handedOn(events, id)! - exec.end);
    }
    const done = ids.map((id) => events.completed.get(id)!).sort((a, b) => a - b);
    gapped.push(...gaps(done));
    perTask.push((done.at(-1)! - t0) / ids.length);
  }
  return { latency: summarize(latency), gap: summarize(gapped), perTask: summarize(perTask), beforeExec: summarize(before), afterExec: summarize(after) };
}

/** One git feature's figures: the per-task ones, split at task.integrating, and its prepare and finish ops. */
function gitFigures(measured: Measured, times: Map<string, { start: number; end: number }>): GitFeatureFigures {
  const { request, events } = measured;
  const worker: number[] = [];
  const integrate: number[] = [];
  for (const { id } of request.tasks) {
    const integrating = events.integrating.get(id)!;
    worker.push(integrating - events.dispatched.get(id)!);
    integrate.push(events.completed.get(id)! - integrating);
  }
  return {
    ...figures([measured], times, (featureEvents, id) => featureEvents.integrating.get(id)), workerSide: summarize(worker), integrateSide: summarize(integrate),
    prepare: events.workspace.get("workspace.prepared")! - events.accepted!,
    finish: events.workspace.get("feature.integrated")! - events.terminal!.at,
  };
}
