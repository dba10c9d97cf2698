// A template's steps as tasks: parameters and the goal filled in, `forEach` steps once per list item (chained if
// asked), skipped steps' dependents waiting for what those waited for, roles from the step or its kind's rule, and
// gates the operator has not configured left out (with a note). Pure and deterministic.
import type { ValidationIssue } from "../protocol/common.ts";
import type { TaskSpec } from "../protocol/feature.ts";
import { REVIEW_GATE } from "../protocol/gates.ts";
import type { Template, TemplateStep } from "../protocol/plan.ts";
import type { ParamValue, SelectionRule } from "../protocol/planning.ts";
import { ruleOf } from "./rules.ts";
import { PLACEHOLDER } from "./template-check.ts";

/** A role file's defaults (Baton's keys in its front matter). */
export interface RoleDefaults {
  gates?: readonly string[] | undefined;
  produces?: readonly string[] | undefined;
  reads?: readonly string[] | undefined;
}

/** What the step expansion needs; `notes` and `errors` are appended to. */
export interface StepScope {
  template: Template;
  params: Readonly<Record<string, ParamValue>>;
  goal: string;
  skip: ReadonlySet<string>;
  stepRoles: Readonly<Record<string, string>>;
  /** Ids of the request's own tasks: one with a skipped step's id takes that step's place. */
  extraIds: ReadonlySet<string>;
  rules: readonly SelectionRule[];
  gates?: readonly string[] | undefined;
  roleDefaults?: Readonly<Record<string, RoleDefaults>> | undefined;
  notes: string[];
  errors: ValidationIssue[];
}

/** The step tasks in template order, the step each came from, and what a dependency on a step id means. */
export interface StepTasks {
  tasks: TaskSpec[];
  steps: string[];
  targets: (stepId: string) => string[];
}

const TITLE_MAX = 500;
const INSTRUCTIONS_MAX = 100_000;

/** Adds `note` once (notes keep their first-seen order). */
export function addNote(notes: string[], note: string): void {
  if (!notes.includes(note)) notes.push(note);
}

/** `gates` without the ones the operator has not configured (`review` needs no config), each dropped one noted. */
export function keepGates(gates: readonly string[], where: string, scope: Pick<StepScope, "gates" | "notes">): string[] {
  return gates.filter((gate) => {
    const known = scope.gates === undefined || gate === REVIEW_GATE || scope.gates.includes(gate);
    if (!known) addNote(scope.notes, `gate ${gate} is not configured: ${where} runs without it`);
    return known;
  });
}

/** Expands every step of `scope.template` (see the module comment). */
export function expandSteps(scope: StepScope): StepTasks {
  const { template, skip } = scope;
  const byId = new Map(template.steps.map((step) => [step.id, step]));
  const own = new Map<string, string[]>();
  for (const step of template.steps) {
    const items = itemsOf(step, scope);
    own.set(step.id, skip.has(step.id) ? [] : items === undefined ? [step.id] : items.map((_item, index) => `${step.id}-${index + 1}`));
  }
  const memo = new Map<string, string[]>();
  const targets = (stepId: string, seen: ReadonlySet<string> = new Set()): string[] => {
    const known = memo.get(stepId);
    if (known) return known;
    const ids = own.get(stepId);
    const step = byId.get(stepId);
    let result: string[];
    if (!ids || !step) result = [stepId];
    else if (ids.length) result = step.chain ? [ids[ids.length - 1]!] : ids;
    else if (skip.has(stepId) && scope.extraIds.has(stepId)) result = [stepId];
    else result = unique((step.dependsOn ?? []).filter((dep) => !seen.has(dep)).flatMap((dep) => targets(dep, new Set([...seen, stepId]))));
    memo.set(stepId, result);
    return result;
  };
  const tasks: TaskSpec[] = [];
  const steps: string[] = [];
  for (const step of template.steps) {
    if (skip.has(step.id)) continue;
    const items = itemsOf(step, scope);
    if (items && !items.length) {
      addNote(scope.notes, `step ${step.id} has no items (parameter ${step.forEach} is an empty list): what depends on it waits for what it waits for`);
      continue;
    }
    const made = stepItems(step, items, unique((step.dependsOn ?? []).flatMap((dep) => targets(dep))), scope);
    tasks.push(...made);
    steps.push(...made.map(() => step.id));
  }
  return { tasks, steps, targets: (stepId) => targets(stepId) };
}

/** A forEach step's list items; undefined for other steps. */
function itemsOf(step: TemplateStep, scope: StepScope): string[] | undefined {
  if (step.forEach === undefined) return undefined;
  const value = scope.params[step.forEach];
  return Array.isArray(value) ? value : [];
}

/** One step's tasks: one, or one per item (`<id>-1`, …), each chained to the one before when the step says so. */
function stepItems(step: TemplateStep, items: readonly string[] | undefined, deps: readonly string[], scope: StepScope): TaskSpec[] {
  const role = scope.stepRoles[step.id] ?? step.role ?? ruleOf(step.kind, scope.rules)?.role;
  if (!role) {
    scope.errors.push({ path: `stepRoles.${step.id}`, message: `step "${step.id}" has no role${step.kind ? ` and no selection rule has its kind "${step.kind}"` : ""}: give it one in stepRoles` });
    return [];
  }
  const gates = stepGates(step, role, scope);
  const tdd = stepTdd(step, scope);
  const base: Record<string, string> = { goal: scope.goal, ...Object.fromEntries(Object.entries(scope.params).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : String(value)])) };
  const made = (items ?? [undefined]).map((item, index): TaskSpec => {
    const values = item === undefined ? base : { ...base, item, index: String(index + 1) };
    const fill = (text: string) => text.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
    const id = item === undefined ? step.id : `${step.id}-${index + 1}`;
    const dependsOn = item !== undefined && step.chain && index > 0 ? [`${step.id}-${index}`] : [...deps];
    return {
      id, role, title: clip(fill(step.title), TITLE_MAX),
      ...(step.instructions !== undefined ? { instructions: clip(fill(step.instructions), INSTRUCTIONS_MAX) } : {}),
      ...(dependsOn.length ? { dependsOn } : {}),
      ...(step.kind ? { kind: step.kind } : {}),
      ...(gates.length ? { gates: [...gates] } : {}),
      ...(tdd ? { tdd } : {}),
      ...(step.files ? { files: step.files.map(fill) } : {}),
      ...(step.expectChanges !== undefined ? { expectChanges: step.expectChanges } : {}),
      ...(step.produces ? { produces: step.produces.map(fill) } : {}),
      ...(step.reads ? { reads: step.reads.map(fill) } : {}),
      ...(step.stream ? { stream: step.stream } : {}),
      ...(step.milestone ? { milestone: step.milestone } : {}),
      ...(step.timeoutSeconds ? { timeoutSeconds: step.timeoutSeconds } : {}),
    };
  });
  return made;
}

/** The step's own gates (configured ones); if it names none (or none of its are configured), its role's default gates. */
function stepGates(step: TemplateStep, role: string, scope: StepScope): string[] {
  const own = step.gates === undefined ? undefined : keepGates(step.gates, `step ${step.id}`, scope);
  if (own?.length || step.gates?.length === 0) return own ?? [];
  const defaults = scope.roleDefaults?.[role]?.gates;
  return defaults ? keepGates(defaults, `step ${step.id} (a default gate of role ${role})`, scope) : [];
}

/** The step's test-driven settings, without them if their gate is not configured. */
function stepTdd(step: TemplateStep, scope: StepScope): TaskSpec["tdd"] {
  if (!step.tdd) return undefined;
  const gate = step.tdd.gate;
  if (scope.gates !== undefined && gate !== REVIEW_GATE && !scope.gates.includes(gate)) {
    addNote(scope.notes, `gate ${gate} is not configured: step ${step.id} runs without its test-driven phases`);
    return undefined;
  }
  const refactorGates = step.tdd.refactorGates && keepGates(step.tdd.refactorGates, `the refactor phase of step ${step.id}`, scope);
  return { gate, ...(refactorGates ? { refactorGates } : {}) };
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
