// Checks on a request's task graph that a schema cannot express: duplicate ids, unknown and self
// dependencies, and dependency cycles — every one of them, each named in `dependsOn` direction. Pure.
import type { ValidationIssue } from "./common.ts";

/** A task as the graph checks see it: entries the schema found invalid are undefined, keeping positions. */
export interface GraphTask {
  id?: string | undefined;
  dependsOn?: readonly (string | undefined)[] | undefined;
}

/** Cycles listed per request at most; a graph with more says so instead of listing them all. */
export const MAX_CYCLES_LISTED = 20;
/** Search steps spent looking for cycles before giving up on listing them all (a dense graph has very many). */
const MAX_CYCLE_STEPS = 200_000;

/**
 * Every graph problem at once: duplicate ids, unknown dependencies, self-dependencies and each elementary
 * cycle (`dependency cycle: a dependsOn b dependsOn a`, i.e. a waits for b, which waits for a). Cycles are
 * searched among the known dependencies even when others are unknown. Never throws.
 */
export function graphIssues(tasks: readonly GraphTask[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const index = new Map<string, number>();
  tasks.forEach((task, position) => {
    if (task.id === undefined) return;
    if (index.has(task.id)) issues.push({ path: `tasks[${position}].id`, message: `duplicate task id "${task.id}" (first used by tasks[${index.get(task.id)}])` });
    else index.set(task.id, position);
  });
  const deps = new Map<string, string[]>();
  tasks.forEach((task, position) => {
    if (task.id === undefined || index.get(task.id) !== position) return;
    const known: string[] = [];
    (task.dependsOn ?? []).forEach((dep, depIndex) => {
      if (dep === undefined) return;
      if (dep === task.id) issues.push({ path: `tasks[${position}].dependsOn[${depIndex}]`, message: `task "${task.id}" depends on itself` });
      else if (!index.has(dep)) issues.push({ path: `tasks[${position}].dependsOn[${depIndex}]`, message: `unknown task id "${dep}" in dependsOn of "${task.id}"` });
      else if (!known.includes(dep)) known.push(dep);
    });
    deps.set(task.id, known);
  });
  return [...issues, ...cycleIssues(deps, index)];
}

/** One issue per elementary cycle, in request order of the task each starts from. */
function cycleIssues(deps: ReadonlyMap<string, string[]>, index: ReadonlyMap<string, number>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const budget = { steps: MAX_CYCLE_STEPS, left: MAX_CYCLES_LISTED };
  for (const component of cyclicComponents(deps)) {
    const { cycles, complete } = elementaryCycles(component, deps, index, budget);
    for (const cycle of cycles) {
      issues.push({ path: `tasks[${index.get(cycle[0]!)}].dependsOn`, message: `dependency cycle: ${[...cycle, cycle[0]].join(" dependsOn ")}` });
    }
    if (!complete) {
      issues.push({ path: `tasks[${index.get(component[0]!)}].dependsOn`, message: `more dependency cycles among tasks ${component.join(", ")} (not all listed)` });
    }
  }
  return issues;
}

/** Strongly connected components with more than one task (Tarjan), each in request order. */
function cyclicComponents(deps: ReadonlyMap<string, string[]>): string[][] {
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const visit = (id: string): void => {
    order.set(id, counter);
    low.set(id, counter++);
    stack.push(id);
    onStack.add(id);
    for (const dep of deps.get(id) ?? []) {
      if (!order.has(dep)) {
        visit(dep);
        low.set(id, Math.min(low.get(id)!, low.get(dep)!));
      } else if (onStack.has(dep)) low.set(id, Math.min(low.get(id)!, order.get(dep)!));
    }
    if (low.get(id) !== order.get(id)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== id);
    if (component.length > 1) components.push(component);
  };
  for (const id of deps.keys()) if (!order.has(id)) visit(id);
  const rank = [...deps.keys()];
  for (const component of components) component.sort((first, second) => rank.indexOf(first) - rank.indexOf(second));
  return components.sort((first, second) => rank.indexOf(first[0]!) - rank.indexOf(second[0]!));
}

/**
 * The elementary cycles of one component, each found once: from every task, the cycles through it whose
 * other tasks come later in request order. Stops when the budget of cycles or steps runs out (`complete: false`).
 */
function elementaryCycles(component: readonly string[], deps: ReadonlyMap<string, string[]>, index: ReadonlyMap<string, number>, budget: { steps: number; left: number }): { cycles: string[][]; complete: boolean } {
  const members = new Set(component);
  const cycles: string[][] = [];
  for (const start of component) {
    const path = [start];
    const onPath = new Set(path);
    const cursor = [0];
    while (path.length) {
      if (--budget.steps < 0) return { cycles, complete: false };
      const top = path[path.length - 1]!;
      const next = (deps.get(top) ?? [])[cursor[cursor.length - 1]!++];
      if (next === undefined) {
        onPath.delete(path.pop()!);
        cursor.pop();
      } else if (next === start) {
        if (budget.left-- <= 0) return { cycles, complete: false };
        cycles.push([...path]);
      } else if (members.has(next) && !onPath.has(next) && index.get(next)! > index.get(start)!) {
        path.push(next);
        onPath.add(next);
        cursor.push(0);
      }
    }
  }
  return { cycles, complete: true };
}
