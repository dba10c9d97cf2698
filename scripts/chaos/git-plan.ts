// Git features of the chaos run: a feature made to work on its own small git repository in worktrees (maxParallel
// 2–3), each task writing its own file, and pairs of independent tasks editing the same line of one file, so that the
// second to merge conflicts and a conflict fix task runs. What the agents write, and what the branch must hold after.
import type { ChaosFeature } from "./plan.ts";
import type { Rng } from "./random.ts";

export interface GitPlan {
  /** The harness pauses the feature after its first checkpoint, rolls it back to that checkpoint, and resumes it. */
  rollback: boolean;
  /** Pairs of tasks, neither depending on the other, that both rewrite line 1 of `pairFile(index)`. */
  pairs: [string, string][];
  /** The repository's first commit. */
  files: Record<string, string>;
}

/** The file only task `taskId` writes, and what it writes there. */
export const taskFile = (taskId: string): string => `tasks/${taskId}.txt`;
export const taskText = (featureId: string, taskId: string): string => `${featureId}/${taskId}\n`;
/** The file both tasks of pair `index` rewrite, and the line each writes. */
export const pairFile = (index: number): string => `conflict-${index + 1}.txt`;
export const pairLine = (taskId: string): string => `from ${taskId}`;
/** Lines git leaves in a file it could not merge. */
export const CONFLICT_MARKER = /^(<<<<<<<|=======|>>>>>>>|\|\|\|\|\|\|\|)/m;

/** Every task that `taskId` depends on, directly or not. */
function ancestors(feature: ChaosFeature, taskId: string, seen = new Set<string>()): Set<string> {
  for (const dep of feature.tasks.find((task) => task.id === taskId)?.dependsOn ?? []) {
    if (seen.has(dep)) continue;
    seen.add(dep);
    ancestors(feature, dep, seen);
  }
  return seen;
}

/**
 * Up to two disjoint pairs of independent tasks. First choice: two tasks with the same dependencies among the first
 * `maxParallel` of them (they are dispatched together, from the same integration head, so the second to merge
 * conflicts: with the roots, always); then any with the same dependencies (they become ready at the same moment);
 * then any independent pair.
 */
function conflictPairs(rng: Rng, feature: ChaosFeature, maxParallel: number): [string, string][] {
  const above = new Map(feature.tasks.map((task) => [task.id, ancestors(feature, task.id)]));
  const group = (taskId: string) => [...above.get(taskId)!].sort().join();
  const rank = (taskId: string) => feature.tasks.filter((task) => group(task.id) === group(taskId)).findIndex((task) => task.id === taskId);
  const candidates: { pair: [string, string]; tier: number }[] = [];
  for (const [index, left] of feature.tasks.entries()) {
    for (const right of feature.tasks.slice(index + 1)) {
      if (above.get(right.id)!.has(left.id) || above.get(left.id)!.has(right.id)) continue;
      const same = group(left.id) === group(right.id);
      const together = same && rank(left.id) < maxParallel && rank(right.id) < maxParallel;
      candidates.push({ pair: [left.id, right.id], tier: together ? 0 : same ? 1 : 2 });
    }
  }
  const pairs: [string, string][] = [];
  const wanted = rng.int(1, 2);
  for (const tier of [0, 1, 2]) {
    while (pairs.length < wanted) {
      const used = new Set(pairs.flat());
      const open = candidates.filter((candidate) => candidate.tier <= tier && !candidate.pair.some((id) => used.has(id)));
      if (!open.length) break;
      pairs.push(rng.pick(open).pair);
    }
  }
  return pairs;
}

/** Turns a planned feature into a git feature: worktrees, maxParallel 2–3, each task's files in its instructions (and conflict pairs, unless it is to be rolled back). */
export function makeGitFeature(rng: Rng, plain: ChaosFeature, rollback: boolean): { feature: ChaosFeature; git: GitPlan } {
  // No conflicts in a feature rolled back midway: a conflict's fix task is not dispatched while the feature is paused,
  // and its owner counts as under way meanwhile, so the rollback would wait forever (docs/reliability.md).
  const maxParallel = rng.int(2, 3);
  const pairs = rollback ? [] : conflictPairs(rng, plain, maxParallel);
  const tasks = plain.tasks.map((task) => {
    const write: Record<string, string> = { [taskFile(task.id)]: taskText(plain.id, task.id) };
    pairs.forEach((pair, index) => {
      if (pair.includes(task.id)) write[pairFile(index)] = `${pairLine(task.id)}\n`;
    });
    return { ...task, instructions: JSON.stringify({ write }) };
  });
  const files: Record<string, string> = { "README.md": `# ${plain.id}\n\nA git feature of the chaos run.\n` };
  pairs.forEach((_, index) => {
    files[pairFile(index)] = "original\n";
  });
  const feature: ChaosFeature = { ...plain, title: `chaos git feature ${plain.id}`, maxParallel, isolation: "worktree", tasks };
  return { feature, git: { rollback, pairs, files } };
}
