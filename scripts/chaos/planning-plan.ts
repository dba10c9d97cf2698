// Planning in the chaos run (docs/planning.md): which plain features get planned by the planner (`plan: auto`, its
// first plan sometimes invalid), wait for approval, ask questions, have a failure escalated to a question, or group
// their tasks into streams with gates. Drawn from the seed, by position among the non-git features, so that even a
// short run has each kind. The chaos agent (workdir.ts) reads its part from each task's `instructions` (JSON).
import type { ChaosFeature, ChaosTask } from "./plan.ts";
import type { Rng } from "./random.ts";

/** What the planning decorations of one feature are. */
export interface PlanningDecor {
  /** `plan: auto`: the planner returns the feature's tasks (they travel in the goal); its first plan may be invalid. */
  auto?: { invalidFirst: boolean } | undefined;
  /** `approval: required`: the driver (people.ts) approves the plan after a while. */
  approval?: boolean | undefined;
  /** Tasks whose first run asks a question (no `answers` in the task yet). */
  asks: string[];
  /** Tasks that fail their first attempt, with `onFailure.then: "escalate"` (the driver answers "retry"). */
  escalates: string[];
  /** Streams (one per role) and the ones with gates. */
  streams?: Record<string, { gates?: string[] }> | undefined;
}

/** The prefix of a chaos goal; the planner reads the plan after it. */
export const GOAL_PREFIX = "chaos plan ";
/** The role of the shipped rules' `tests` kind, which every plan must have (a qa worker runs the chaos agent for it). */
const TESTS_ROLE = "qa";
/** Features with an escalated failure in a run ("one or two": they fail a task on purpose). */
const ESCALATIONS = 2;
/** Role order in planned and streamed features: producers before readers, as the shipped rules and role files ask. */
const RANK: Record<string, number> = { database: 0, api: 1, backend: 2, frontend: 3 };
/** Roles whose tasks must wait for a task of these roles, when the feature has one. */
const NEEDS: Record<string, string[]> = { api: ["database"], backend: ["database", "api"], frontend: ["database", "api"] };

/** The instructions of a chaos task as JSON (the agent parses them): what it writes (git), whether it asks or fails first. */
export interface AgentInstructions {
  write?: Record<string, string>;
  ask?: boolean;
  failFirst?: boolean;
}

/**
 * Reassigns the drawn roles in rank order (the DAG's shape kept: a task depends only on earlier ones) and adds, for
 * each task, a dependency on the latest earlier task of each role it needs (unless it already waits for one). The
 * result satisfies the shipped selection rules' order and the role files' artifacts (api reads the database's, backend and frontend the
 * API's), and a stream per role has no task outside it between two of its tasks (a stream with gates needs that).
 */
export function ranked(feature: ChaosFeature): ChaosFeature {
  const roles = feature.tasks.map((task) => task.role).sort((left, right) => RANK[left]! - RANK[right]!);
  const above = new Map<string, Set<string>>();
  const tasks: ChaosTask[] = [];
  feature.tasks.forEach((task, index) => {
    const role = roles[index]!;
    const deps = [...task.dependsOn];
    const waits = new Set(deps.flatMap((dep) => [dep, ...above.get(dep)!]));
    for (const needed of NEEDS[role] ?? []) {
      const producers = tasks.filter((earlier) => earlier.role === needed);
      if (producers.length && !producers.some((producer) => waits.has(producer.id))) {
        const last = producers.at(-1)!;
        deps.push(last.id);
        for (const id of [last.id, ...above.get(last.id)!]) waits.add(id);
      }
    }
    above.set(task.id, waits);
    tasks.push({ ...task, role, title: `${role} step ${index + 1} of ${feature.id}`, dependsOn: deps });
  });
  return { ...feature, tasks };
}

/** A task's instructions with `extra` merged in (git tasks already carry `write`). */
function withInstructions(task: ChaosTask, extra: AgentInstructions): ChaosTask {
  const own = task.instructions ? (JSON.parse(task.instructions) as AgentInstructions) : {};
  return { ...task, instructions: JSON.stringify({ ...own, ...extra }) };
}

/**
 * Decorates the `position`-th non-git feature (0-based) by the cycle: 0 plain; 1 planned (streams); 2 approval +
 * questions; 3 planned + approval + questions; 4 streams + questions; 5 an escalated failure (the first ESCALATIONS
 * times, then questions). A stream with gates runs `gate`. Returns the feature to submit and its decorations.
 */
export function decorate(rng: Rng, plain: ChaosFeature, position: number, gate: string): { feature: ChaosFeature; planning?: PlanningDecor } {
  const slot = position % 6;
  if (slot === 0) return { feature: plain };
  const auto = slot === 1 || slot === 3;
  const streamed = slot === 1 || slot === 4 || (auto && rng.next() < 0.5);
  let feature = auto || streamed ? ranked(plain) : plain;
  const decor: PlanningDecor = { asks: [], escalates: [] };
  if (auto) decor.auto = { invalidFirst: rng.next() < 0.5 };
  if (slot === 2 || slot === 3) decor.approval = true;
  const escalating = slot === 5 && Math.floor(position / 6) < ESCALATIONS;
  if (escalating) decor.escalates = [rng.pick(feature.tasks).id];
  if (slot === 2 || slot === 3 || slot === 4 || (slot === 5 && !escalating)) {
    decor.asks = rng.sample(feature.tasks.map((task) => task.id), rng.int(1, 2));
  }
  if (streamed) {
    const roles = [...new Set(feature.tasks.map((task) => task.role))];
    const gated = new Set(rng.sample(roles, rng.int(1, roles.length)));
    decor.streams = Object.fromEntries(roles.map((role) => [role, gated.has(role) ? { gates: [gate] } : {}]));
    feature = { ...feature, tasks: feature.tasks.map((task) => ({ ...task, stream: task.role })) };
  }
  const tasks = feature.tasks.map((task) => {
    if (decor.escalates.includes(task.id)) return { ...withInstructions(task, { failFirst: true }), onFailure: { then: "escalate" as const } };
    return decor.asks.includes(task.id) ? withInstructions(task, { ask: true }) : task;
  });
  // the shipped rules want tests in every plan (kind tests: the qa role), after the schema: last here
  if (auto) tasks.push({ id: "tests", role: TESTS_ROLE, title: `tests of ${plain.id}`, dependsOn: tasks.map((task) => task.id) });
  return { feature: { ...feature, title: `chaos ${auto ? "planned " : ""}feature ${plain.id}`, tasks }, planning: decor };
}

/** What the planner returns for a planned feature: its tasks, gates and streams (the goal carries them). */
export function planOf(feature: ChaosFeature, decor: PlanningDecor | undefined): Record<string, unknown> {
  return {
    summary: `${feature.tasks.length} chaos tasks`, tasks: feature.tasks,
    ...(feature.gates ? { gates: feature.gates } : {}), ...(decor?.streams ? { streams: decor.streams } : {}),
  };
}

/** The request a client publishes for a planned feature (its `workspace` added for git features by the caller). */
export function requestOf(feature: ChaosFeature, decor: PlanningDecor | undefined): Record<string, unknown> {
  const approval = decor?.approval ? { approval: "required" } : {};
  if (decor?.auto) {
    const goal = `${GOAL_PREFIX}${JSON.stringify({ invalidFirst: decor.auto.invalidFirst, plan: planOf(feature, decor) })}`;
    return { id: feature.id, title: feature.title, maxParallel: feature.maxParallel, plan: "auto", goal, ...approval };
  }
  return { ...feature, ...approval, ...(decor?.streams ? { streams: decor.streams } : {}) };
}

/** Tasks an agent runs for the feature: its own, and the planner's run when it is planned. */
export const agentTasks = (feature: ChaosFeature, decor: PlanningDecor | undefined): number => feature.tasks.length + (decor?.auto ? 1 : 0);
