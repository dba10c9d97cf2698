// The selection rules applied to a plan (docs/planning.md): each task's kind of change, and the order the rules
// ask for — `before` (a kind's tasks come after another kind's), `always` (a kind is present), `last` (a kind's
// task comes after everything else). Pure; messages say exactly what to change.
import type { ValidationIssue } from "../protocol/common.ts";
import type { SelectionRule } from "../protocol/planning.ts";
import { ancestorSets, quoteList, waitsFor } from "./dag.ts";

/** A task as the rules see it. */
export interface RuleTask {
  id: string;
  role: string;
  kind?: string | undefined;
  dependsOn?: readonly string[] | undefined;
}

/** A task's kind: its own `kind`, else the kind of the first rule whose role is its role; undefined when neither. */
export function kindOf(task: { role: string; kind?: string | undefined }, rules: readonly SelectionRule[]): string | undefined {
  return task.kind ?? rules.find((rule) => rule.role === task.role)?.kind;
}

/** The rule of `kind` (the first, if a file had two). */
export function ruleOf(kind: string | undefined, rules: readonly SelectionRule[]): SelectionRule | undefined {
  return kind === undefined ? undefined : rules.find((rule) => rule.kind === kind);
}

/** Kinds whose `match` words occur in `text` as whole words (case-insensitive), in rule order: hints for a planner. */
export function matchKinds(text: string, rules: readonly SelectionRule[]): string[] {
  const lower = text.toLowerCase();
  const escape = (word: string) => word.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return rules
    .filter((rule) => (rule.match ?? []).some((word) => new RegExp(`(^|[^a-z0-9])${escape(word)}($|[^a-z0-9])`).test(lower)))
    .map((rule) => rule.kind);
}

/** What the rule checks share: the tasks, their kinds, and who waits for whom. */
interface RuleScope {
  tasks: readonly RuleTask[];
  kinds: readonly (string | undefined)[];
  ancestors: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Every way `tasks` break `rules`, in rule order, each at `tasks[i].dependsOn` (or `tasks` for a missing kind) with
 * the change that fixes it. A `last` rule applies when a task of its kind is present. Tolerates unknown dependencies
 * and cycles (graphIssues reports those). Deterministic.
 */
export function ruleIssues(tasks: readonly RuleTask[], rules: readonly SelectionRule[]): ValidationIssue[] {
  const scope: RuleScope = { tasks, kinds: tasks.map((task) => kindOf(task, rules)), ancestors: ancestorSets(tasks) };
  return rules.flatMap((rule) => [...beforeIssues(rule, scope), ...alwaysIssues(rule, scope), ...lastIssues(rule, scope)]);
}

function indicesOf(kind: string, scope: RuleScope): number[] {
  return scope.kinds.flatMap((each, index) => (each === kind ? [index] : []));
}

/** `before`: each task of a later kind must wait for some task of the rule's kind. */
function beforeIssues(rule: SelectionRule, scope: RuleScope): ValidationIssue[] {
  const earlier = indicesOf(rule.kind, scope).map((index) => scope.tasks[index]!.id);
  if (!earlier.length) return [];
  const issues: ValidationIssue[] = [];
  for (const later of rule.before ?? []) {
    if (later === rule.kind) continue;
    for (const index of indicesOf(later, scope)) {
      const task = scope.tasks[index]!;
      if (earlier.some((id) => waitsFor(scope.ancestors, task.id, id))) continue;
      const free = earlier.filter((id) => id !== task.id && !waitsFor(scope.ancestors, id, task.id));
      const what = earlier.length === 1 ? `task ${earlier[0]} (kind ${rule.kind})` : `a task of kind ${rule.kind} (${earlier.join(", ")})`;
      const fix = free.length
        ? `add "${free[0]}" to its dependsOn`
        : `but ${earlier.length === 1 ? `${earlier[0]} depends` : "each of them depends"} on it (directly or not): reverse that dependency`;
      issues.push({ path: `tasks[${index}].dependsOn`, message: `task ${task.id} (kind ${later}) must come after ${what}: ${fix} (rule: ${rule.kind} before ${later})` });
    }
  }
  return issues;
}

/** `always`: a task of the kind exists. */
function alwaysIssues(rule: SelectionRule, scope: RuleScope): ValidationIssue[] {
  if (!rule.always || scope.kinds.includes(rule.kind)) return [];
  return [{ path: "tasks", message: `the plan has no task of kind ${rule.kind}: add one (role "${rule.role}", kind "${rule.kind}") (rule: ${rule.kind} always — ${rule.description})` }];
}

/** `last`: some task of the kind waits for every other task. */
function lastIssues(rule: SelectionRule, scope: RuleScope): ValidationIssue[] {
  const { tasks, ancestors } = scope;
  const candidates = indicesOf(rule.kind, scope);
  if (!rule.last || !candidates.length) return [];
  const missingOf = (index: number) => tasks.flatMap((task, other) => (other !== index && task.id !== tasks[index]!.id && !waitsFor(ancestors, tasks[index]!.id, task.id) ? [other] : []));
  if (candidates.some((index) => missingOf(index).length === 0)) return [];
  // The candidate nearest to done: the fewest tasks left to wait for (ties: the later one).
  const chosen = candidates.reduce((best, index) => (missingOf(index).length <= missingOf(best).length ? index : best));
  const id = tasks[chosen]!.id;
  const missing = missingOf(chosen).map((index) => tasks[index]!.id);
  const after = missing.filter((other) => waitsFor(ancestors, other, id));
  const addable = missing.filter((other) => !after.includes(other));
  // Waiting for the sinks among them is enough: the rest come before those (tasks in a cycle are all named).
  const add = addable.filter((other) => !addable.some((third) => third !== other && waitsFor(ancestors, third, other) && !waitsFor(ancestors, other, third)));
  const parts = [
    ...(add.length ? [`add ${quoteList(add)} to its dependsOn`] : []),
    ...(after.length ? [`${after.join(", ")} ${after.length === 1 ? "comes" : "come"} after it (depending on it, directly or not): make ${after.length === 1 ? "it" : "them"} not depend on ${id}`] : []),
  ];
  return [{ path: `tasks[${chosen}].dependsOn`, message: `task ${id} (kind ${rule.kind}) must come after every other task: ${parts.join("; ")} (rule: ${rule.kind} last)` }];
}
