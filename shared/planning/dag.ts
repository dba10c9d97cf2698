// Reachability in a plan's task graph: which tasks a task waits for, directly or not. Pure; tolerates unknown ids
// and cycles (the graph checks report those), so every check can run on any plan at once.

/** A task as reachability sees it. */
export interface DagTask {
  id: string;
  dependsOn?: readonly string[] | undefined;
}

/** Every task's transitive dependencies by id (never itself unless in a cycle). Deterministic; O(tasks × edges). */
export function ancestorSets(tasks: readonly DagTask[]): Map<string, Set<string>> {
  const deps = new Map<string, readonly string[]>();
  for (const task of tasks) if (!deps.has(task.id)) deps.set(task.id, task.dependsOn ?? []);
  const result = new Map<string, Set<string>>();
  for (const id of deps.keys()) {
    const seen = new Set<string>();
    const queue = [...(deps.get(id) ?? [])];
    for (let head = 0; head < queue.length; head++) {
      const next = queue[head]!;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...(deps.get(next) ?? []));
    }
    result.set(id, seen);
  }
  return result;
}

/** Whether `later` waits for `earlier` (directly or not) in `ancestors`. */
export function waitsFor(ancestors: ReadonlyMap<string, ReadonlySet<string>>, later: string, earlier: string): boolean {
  return ancestors.get(later)?.has(earlier) ?? false;
}

/** `"a", "b" and "c"`: ids quoted, for messages. */
export function quoteList(ids: readonly string[]): string {
  const quoted = ids.map((id) => `"${id}"`);
  return quoted.length <= 1 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
}
