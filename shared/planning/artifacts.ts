// Artifacts before their readers: a task that reads a file another task of the plan produces must wait for that
// producer (directly or not). A role file's `reads` and `produces` count as its tasks'. Pure.
import type { ValidationIssue } from "../protocol/common.ts";
import { ancestorSets, waitsFor } from "./dag.ts";
import type { RoleDefaults } from "./expand-steps.ts";

/** A task as the artifact check sees it. */
export interface ArtifactTask {
  id: string;
  role: string;
  dependsOn?: readonly string[] | undefined;
  produces?: readonly string[] | undefined;
  reads?: readonly string[] | undefined;
}

/**
 * Every read of a file some other task produces that does not wait for one of its producers, at the task's
 * `reads[i]` (or `dependsOn` for a role's default read), saying which task to depend on. A task that produces the
 * file itself is not checked for it (it updates it). Deterministic.
 */
export function artifactIssues(tasks: readonly ArtifactTask[], roleDefaults?: Readonly<Record<string, RoleDefaults>>): ValidationIssue[] {
  const producersOf = new Map<string, string[]>();
  const produced = tasks.map((task) => new Set([...(task.produces ?? []), ...(roleDefaults?.[task.role]?.produces ?? [])]));
  tasks.forEach((task, index) => {
    for (const path of produced[index]!) producersOf.set(path, [...(producersOf.get(path) ?? []), task.id]);
  });
  const ancestors = ancestorSets(tasks);
  const issues: ValidationIssue[] = [];
  tasks.forEach((task, index) => {
    const own = (task.reads ?? []).map((path, at) => ({ path, where: `tasks[${index}].reads[${at}]`, why: "" }));
    const byRole = (roleDefaults?.[task.role]?.reads ?? []).map((path) => ({ path, where: `tasks[${index}].dependsOn`, why: ` (role ${task.role} reads it)` }));
    const seen = new Set<string>();
    for (const read of [...own, ...byRole]) {
      if (seen.has(read.path) || produced[index]!.has(read.path)) continue;
      seen.add(read.path);
      const producers = (producersOf.get(read.path) ?? []).filter((id) => id !== task.id);
      if (!producers.length || producers.some((id) => waitsFor(ancestors, task.id, id))) continue;
      const free = producers.filter((id) => !waitsFor(ancestors, id, task.id));
      const by = producers.length === 1 ? `task ${producers[0]} produces` : `tasks ${producers.join(", ")} produce`;
      const fix = free.length
        ? `add "${free[0]}" to its dependsOn`
        : `but ${producers.length === 1 ? "it comes" : "they come"} after task ${task.id} (depending on it, directly or not): reverse that dependency`;
      issues.push({ path: read.where, message: `task ${task.id} reads ${read.path}${read.why}, which ${by}: ${fix} (artifacts before their readers)` });
    }
  });
  return issues;
}
