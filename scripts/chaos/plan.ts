// The chaos run's plan, drawn up front from the seed: the features (random DAGs, every third one a git feature, the
// others partly planned, approved, asking: planning-plan.ts), when each is submitted, and every kill. Nothing in it
// depends on timing, so one seed always gives one plan.
import { PLANNER_ROLE } from "../../shared/protocol/planning.ts";
import { INTEGRATOR_ROLE } from "../../shared/protocol/workspace.ts";
import { makeGitFeature, type GitPlan } from "./git-plan.ts";
import { decorate, type PlanningDecor } from "./planning-plan.ts";
import { Rng } from "./random.ts";

export const ROLES = ["database", "api", "backend", "frontend"] as const;
/** Quality gates run on qa workers (docs/gates.md): they get killed like the others. */
export const GATE_ROLE = "qa";
/** The gate some tasks and features name: a short real command (chaos/workdir.ts). */
export const GATE = "check";
/** The planner's workers run the planned features' planner runs (the chaos agent plays the planner too). */
export const PLANNER = PLANNER_ROLE;
export const WORKERS_PER_ROLE = 2;
export const COORDINATORS = 3;
/** Every GIT_EVERY-th feature is a git feature; every ROLLBACK_EVERY-th of those is rolled back midway. */
export const GIT_EVERY = 3;
export const ROLLBACK_EVERY = 2;

export type ProcessKind = "coordinator" | "worker" | "nats";

/** One task of a feature request. */
export interface ChaosTask {
  id: string;
  role: string;
  title: string;
  dependsOn: string[];
  gates?: string[];
  /** What the agent does (JSON, planning-plan.ts AgentInstructions): the files a git task writes, whether it asks or fails first. */
  instructions?: string;
  stream?: string;
  onFailure?: { then: "escalate" };
}

/** A feature request as any client publishes it on `<prefix>.feature.submit` (git features get their `workspace` at submission). */
export interface ChaosFeature {
  id: string;
  title: string;
  maxParallel: number;
  tasks: ChaosTask[];
  gates?: string[];
  isolation?: "worktree";
}

export interface PlannedSubmission {
  /** Milliseconds after the chaos phase starts. */
  atMs: number;
  feature: ChaosFeature;
  /** A git feature: its repository's files, conflict pairs, and whether the harness rolls it back midway. */
  git?: GitPlan;
  /** Planned, approved, asking, escalating or streamed (planning-plan.ts); the git features are none of these. */
  planning?: PlanningDecor;
}

export interface PlannedKill {
  atMs: number;
  kind: ProcessKind;
  /** Process slot name: `coordinator-2`, `api-1`, `nats`. */
  target: string;
  /** Workers: a draw in [0, 1) that picks among the workers busy at the kill, if any (then `target` is not used). */
  busyPick?: number;
  restartAfterMs: number;
}

export interface Plan {
  submissions: PlannedSubmission[];
  kills: PlannedKill[];
}

/** Roles whose workers run no agent (gates, workspace operations): never in the ledger, so they never look busy. */
const AGENTLESS = new Set<string>([GATE_ROLE, INTEGRATOR_ROLE]);

export const coordinatorSlots = (): string[] => Array.from({ length: COORDINATORS }, (_, index) => `coordinator-${index + 1}`);
export const workerSlots = (): { slot: string; role: string }[] =>
  [...ROLES, PLANNER, GATE_ROLE, INTEGRATOR_ROLE].flatMap((role) => Array.from({ length: WORKERS_PER_ROLE }, (_, index) => ({ slot: `${role}-${index + 1}`, role })));

/**
 * `features` random DAGs of 6–10 tasks over the four roles (a task depends only on earlier ones; about a
 * third of the tasks, and of the features, name the gate `check`, which qa workers run),
 * maxParallel 1–3, submitted at random times within the first 60% of the run (so work is in flight when nats-server
 * is killed). Every third feature is a git feature (git-plan.ts: its own repository, worktrees, maxParallel 2–3, pairs
 * of tasks editing one line), and every second of those is rolled back midway. A kill of a random coordinator or
 * worker every 2–5 s (each restarted 0.5–2 s later; a worker kill hits a worker that is running a task when there is
 * one, so that kills exercise redelivery rather than idle processes); nats-server killed once at half time and
 * restarted 2 s later. The git and planning decorations draw from their own streams: the DAGs are those of the plain
 * plan (a planned or streamed feature's roles reordered, planning-plan.ts `ranked`).
 */
export function makePlan(seed: string, features: number, seconds: number): Plan {
  const featureRng = new Rng(`${seed}:features`);
  const gitRng = new Rng(`${seed}:git`);
  const planningRng = new Rng(`${seed}:planning`);
  const windowMs = seconds * 1000 * 0.6;
  const times = Array.from({ length: features }, () => Math.round(featureRng.float(0, windowMs))).sort((left, right) => left - right);
  const width = String(features).length;
  let gitFeatures = 0;
  const submissions = times.map((atMs, index): PlannedSubmission => {
    const feature = randomFeature(featureRng, `f${String(index + 1).padStart(width, "0")}`);
    if (index % GIT_EVERY !== GIT_EVERY - 1) return { atMs, ...decorate(planningRng, feature, index - Math.floor(index / GIT_EVERY), GATE) };
    const rollback = gitFeatures++ % ROLLBACK_EVERY === 0;
    return { atMs, ...makeGitFeature(gitRng, feature, rollback) };
  });
  return { submissions, kills: makeKills(seed, seconds) };
}

function makeKills(seed: string, seconds: number): PlannedKill[] {
  const killRng = new Rng(`${seed}:kills`);
  const kills: PlannedKill[] = [];
  const endMs = seconds * 1000;
  const coordinators = coordinatorSlots();
  const workers = workerSlots();
  for (let at = killRng.float(2000, 5000); at < endMs; at += killRng.float(2000, 5000)) {
    // Coordinator or worker with even odds (not by head count), so both kinds are hit in a short run.
    const kind = killRng.next() < 0.5 ? "coordinator" : "worker";
    const target = killRng.pick(kind === "coordinator" ? coordinators : workers.map((worker) => worker.slot));
    const busyPick = killRng.next();
    // A qa or integrator worker is killed whatever it does (its runs are not in the agents' ledger, so it never looks busy).
    const pickBusy = kind === "worker" && !AGENTLESS.has(workers.find((worker) => worker.slot === target)?.role ?? "");
    kills.push({ atMs: Math.round(at), kind, target, restartAfterMs: killRng.int(500, 2000), ...(pickBusy ? { busyPick } : {}) });
  }
  kills.push({ atMs: Math.round(endMs / 2), kind: "nats", target: "nats", restartAfterMs: 2000 });
  kills.sort((left, right) => left.atMs - right.atMs);
  return kills;
}

function randomFeature(rng: Rng, id: string): ChaosFeature {
  const count = rng.int(6, 10);
  const tasks: ChaosTask[] = [];
  for (let index = 0; index < count; index++) {
    const earlier = tasks.map((task) => task.id);
    const deps = index === 0 ? [] : rng.sample(earlier, rng.int(0, Math.min(3, index)));
    const role = rng.pick(ROLES);
    const gated = rng.next() < 0.3;
    tasks.push({ id: `t${index + 1}`, role, title: `${role} step ${index + 1} of ${id}`, dependsOn: deps, ...(gated ? { gates: [GATE] } : {}) });
  }
  return { id, title: `chaos feature ${id}`, maxParallel: rng.int(1, 3), tasks, ...(rng.next() < 0.3 ? { gates: [GATE] } : {}) };
}
