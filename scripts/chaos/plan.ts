// The chaos run's plan, drawn up front from the seed: the features (random DAGs), when each is
// submitted, and every kill. Nothing in it depends on timing, so one seed always gives one plan.
import { Rng } from "./random.ts";

export const ROLES = ["database", "api", "backend", "frontend"] as const;
/** Quality gates run on qa workers (docs/gates.md): they get killed like the others. */
export const GATE_ROLE = "qa";
/** The gate some tasks and features name: a short real command (chaos/workdir.ts). */
export const GATE = "check";
export const WORKERS_PER_ROLE = 2;
export const COORDINATORS = 3;

export type ProcessKind = "coordinator" | "worker" | "nats";

/** A feature request as any client publishes it on `<prefix>.feature.submit`. */
export interface ChaosFeature {
  id: string;
  title: string;
  maxParallel: number;
  tasks: { id: string; role: string; title: string; dependsOn: string[]; gates?: string[] }[];
  gates?: string[];
}

export interface PlannedSubmission {
  /** Milliseconds after the chaos phase starts. */
  atMs: number;
  feature: ChaosFeature;
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

export const coordinatorSlots = (): string[] => Array.from({ length: COORDINATORS }, (_, i) => `coordinator-${i + 1}`);
export const workerSlots = (): { slot: string; role: string }[] =>
  [...ROLES, GATE_ROLE].flatMap((role) => Array.from({ length: WORKERS_PER_ROLE }, (_, i) => ({ slot: `${role}-${i + 1}`, role })));

/**
 * `features` random DAGs of 6–10 tasks over the four roles (a task depends only on earlier ones; about a
 * third of the tasks, and of the features, name the gate `check`, which qa workers run),
 * maxParallel 1–3, submitted at random times within the first 60% of the run (so work is in flight when nats-server is killed); a kill of a random
 * coordinator or worker every 2–5 s (each restarted 0.5–2 s later; a worker kill hits a worker that is running a
 * task when there is one, so that kills exercise redelivery rather than idle processes); nats-server killed once at half time
 * and restarted 2 s later.
 */
export function makePlan(seed: string, features: number, seconds: number): Plan {
  const fr = new Rng(`${seed}:features`);
  const windowMs = seconds * 1000 * 0.6;
  const times = Array.from({ length: features }, () => Math.round(fr.float(0, windowMs))).sort((a, b) => a - b);
  const width = String(features).length;
  const submissions = times.map((atMs, i) => ({ atMs, feature: randomFeature(fr, `f${String(i + 1).padStart(width, "0")}`) }));

  const kr = new Rng(`${seed}:kills`);
  const kills: PlannedKill[] = [];
  const endMs = seconds * 1000;
  const coordinators = coordinatorSlots();
  const workers = workerSlots().map((w) => w.slot);
  for (let t = kr.float(2000, 5000); t < endMs; t += kr.float(2000, 5000)) {
    // Coordinator or worker with even odds (not by head count), so both kinds are hit in a short run.
    const kind = kr.next() < 0.5 ? "coordinator" : "worker";
    const target = kr.pick(kind === "coordinator" ? coordinators : workers);
    const busyPick = kr.next();
    // A qa worker is killed whatever it does (its gate runs are not in the agents' ledger, so it never looks busy).
    const pickBusy = kind === "worker" && !target.startsWith(`${GATE_ROLE}-`);
    kills.push({ atMs: Math.round(t), kind, target, restartAfterMs: kr.int(500, 2000), ...(pickBusy ? { busyPick } : {}) });
  }
  kills.push({ atMs: Math.round(endMs / 2), kind: "nats", target: "nats", restartAfterMs: 2000 });
  kills.sort((a, b) => a.atMs - b.atMs);
  return { submissions, kills };
}

function randomFeature(r: Rng, id: string): ChaosFeature {
  const n = r.int(6, 10);
  const tasks: ChaosFeature["tasks"] = [];
  for (let i = 0; i < n; i++) {
    const earlier = tasks.map((t) => t.id);
    const deps = i === 0 ? [] : r.sample(earlier, r.int(0, Math.min(3, i)));
    const role = r.pick(ROLES);
    const gated = r.next() < 0.3;
    tasks.push({ id: `t${i + 1}`, role, title: `${role} step ${i + 1} of ${id}`, dependsOn: deps, ...(gated ? { gates: [GATE] } : {}) });
  }
  return { id, title: `chaos feature ${id}`, maxParallel: r.int(1, 3), tasks, ...(r.next() < 0.3 ? { gates: [GATE] } : {}) };
}
