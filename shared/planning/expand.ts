// Expands a request naming a template into its tasks (docs/planning.md): parameters, skipped steps, roles per
// step, forEach steps, extra tasks; the template's gates, streams and failure policy unless the request sets them.
// Pure and deterministic: the same request and catalogue give the same tasks, notes and errors.
import type { ValidationIssue } from "../protocol/common.ts";
import { FeatureRequest, type TaskSpec } from "../protocol/feature.ts";
import { graphIssues } from "../protocol/graph.ts";
import type { Plan, Template } from "../protocol/plan.ts";
import type { ParamValue, StreamSpec } from "../protocol/planning.ts";
import { formatPath } from "../protocol/common.ts";
import { didYouMean } from "../protocol/suggest.ts";
import type { PlanningCatalogue } from "./catalogue.ts";
import { ancestorSets, waitsFor } from "./dag.ts";
import { addNote, expandSteps, keepGates, unique, type RoleDefaults, type StepScope } from "./expand-steps.ts";
import { kindOf, ruleOf } from "./rules.ts";

export type { RoleDefaults } from "./expand-steps.ts";

export interface ExpandContext {
  catalogue: PlanningCatalogue;
  /** The operator's configured gates; undefined: any gate counts as configured. */
  gates?: readonly string[] | undefined;
  /** Role files' defaults per role: `gates` for template steps that name none; `reads`/`produces` for plan checks. */
  roleDefaults?: Readonly<Record<string, RoleDefaults>> | undefined;
}

/** Where an expanded task came from: a template step, or the request's own `tasks[extra]`. */
export type TaskOrigin = { step: string } | { extra: number };

/** An expansion with everything found on the way: the request when its tasks could be built, and its errors. */
export interface Expansion {
  request?: FeatureRequest | undefined;
  notes: string[];
  origins: TaskOrigin[];
  errors: ValidationIssue[];
}

export type ExpandResult = { ok: true; value: FeatureRequest; notes: string[] } | { ok: false; errors: ValidationIssue[] };

/** What `{{goal}}` stands for: the request's goal, else its title and description. */
export function goalOf(request: FeatureRequest): string {
  return request.goal ?? [request.title, request.description].filter((part) => part).join("\n\n");
}

/**
 * The request with `tasks` filled from its template (template, parameters etc. kept on it), ready for
 * checkFeatureValue's checks; a request without a template comes back as it is. Every error at once, each at the
 * request field to change. Deterministic. Do not expand the result again: its tasks already hold the steps.
 */
export function expandRequest(request: FeatureRequest, ctx: ExpandContext): ExpandResult {
  const expansion = expandAll(request, ctx);
  if (expansion.errors.length || !expansion.request) return { ok: false, errors: expansion.errors };
  return { ok: true, value: expansion.request, notes: expansion.notes };
}

/** expandRequest with the origins of the tasks and, when tasks could be built, the request even if it has errors. */
export function expandAll(request: FeatureRequest, ctx: ExpandContext, goal: string = goalOf(request)): Expansion {
  if (!request.template) return { request, notes: [], origins: (request.tasks ?? []).map((_task, extra) => ({ extra })), errors: [] };
  const template = ctx.catalogue.templates[request.template];
  if (!template) {
    const names = Object.keys(ctx.catalogue.templates).sort();
    return { notes: [], origins: [], errors: [{ path: "template", message: `unknown template "${request.template}"${didYouMean(request.template, names)} (${names.length ? `templates: ${names.join(", ")}` : "no templates are loaded"})` }] };
  }
  const errors: ValidationIssue[] = [];
  const params = resolveParameters(template, request.parameters ?? {}, errors);
  const stepIds = template.steps.map((step) => step.id);
  const stepList = `steps of ${template.name}: ${stepIds.join(", ")}`;
  (request.skip ?? []).forEach((id, index) => {
    if (!stepIds.includes(id)) errors.push({ path: `skip[${index}]`, message: `unknown step "${id}"${didYouMean(id, stepIds)} (${stepList})` });
  });
  for (const id of Object.keys(request.stepRoles ?? {})) {
    if (!stepIds.includes(id)) errors.push({ path: `stepRoles.${id}`, message: `unknown step "${id}"${didYouMean(id, stepIds)} (${stepList})` });
  }
  if (errors.length) return { notes: [], origins: [], errors };
  const extras = request.tasks ?? [];
  const scope: StepScope = {
    template, params, goal, skip: new Set(request.skip ?? []), stepRoles: request.stepRoles ?? {}, extraIds: new Set(extras.map((task) => task.id)),
    rules: ctx.catalogue.rules, gates: ctx.gates, roleDefaults: ctx.roleDefaults, notes: [], errors,
  };
  const steps = expandSteps(scope);
  const known = new Set([...steps.tasks.map((task) => task.id), ...scope.extraIds]);
  const extraTasks = extras.map((task, index) => mapExtra(task, index, steps.targets, stepIds, known, errors));
  const tasks = [...steps.tasks, ...extraTasks];
  const origins: TaskOrigin[] = [...steps.steps.map((step) => ({ step })), ...extras.map((_task, extra) => ({ extra }))];
  waitForExtras(tasks, steps.tasks.length, origins, scope);
  const value = withTemplateFields({ ...request, tasks }, template, scope);
  return finish(value, origins, scope.notes, errors);
}

/** Parameter values: given ones (known names, the right shape), else defaults; required ones missing are errors. */
function resolveParameters(template: Template, given: Readonly<Record<string, ParamValue>>, errors: ValidationIssue[]): Record<string, ParamValue> {
  const declared = template.parameters ?? {};
  const names = Object.keys(declared);
  const values: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(given)) {
    const param = declared[name];
    if (!param) errors.push({ path: `parameters.${name}`, message: `unknown parameter "${name}" of template ${template.name}${didYouMean(name, names)} (${names.length ? `parameters: ${names.join(", ")}` : "it has no parameters"})` });
    else if (Boolean(param.list) !== Array.isArray(value)) errors.push({ path: `parameters.${name}`, message: param.list ? `parameter "${name}" is a list: give a list of strings` : `parameter "${name}" is not a list: give one value` });
  }
  for (const [name, param] of Object.entries(declared)) {
    const value = given[name] ?? param.default;
    if (value !== undefined) values[name] = value;
    else if (param.required) errors.push({ path: `parameters.${name}`, message: `template ${template.name} needs parameter "${name}": ${param.description}` });
    else values[name] = param.list ? [] : "";
  }
  return values;
}

/** A request task added to the steps: a dependency on a step id becomes that step's tasks; unknown ones are errors. */
function mapExtra(task: TaskSpec, index: number, targets: (stepId: string) => string[], stepIds: readonly string[], known: ReadonlySet<string>, errors: ValidationIssue[]): TaskSpec {
  const deps = (task.dependsOn ?? []).flatMap((dep, depIndex) => {
    if (stepIds.includes(dep)) return targets(dep);
    if (known.has(dep)) return [dep];
    errors.push({ path: `tasks[${index}].dependsOn[${depIndex}]`, message: `unknown task or step "${dep}" in dependsOn of "${task.id}"${didYouMean(dep, [...stepIds, ...known])}` });
    return [];
  });
  const { dependsOn: _deps, ...rest } = task;
  return { ...rest, ...(deps.length ? { dependsOn: unique(deps) } : {}) };
}

/** A step whose kind comes last by the rules (review) also waits for the extra tasks, unless they wait for it. */
function waitForExtras(tasks: TaskSpec[], stepCount: number, origins: readonly TaskOrigin[], scope: StepScope): void {
  const ancestors = ancestorSets(tasks);
  const extras = tasks.slice(stepCount);
  tasks.slice(0, stepCount).forEach((task, index) => {
    const kind = kindOf(task, scope.rules);
    if (!ruleOf(kind, scope.rules)?.last) return;
    const add = extras.filter((extra) => extra.id !== task.id && !waitsFor(ancestors, extra.id, task.id) && !waitsFor(ancestors, task.id, extra.id)).map((extra) => extra.id);
    if (!add.length) return;
    tasks[index] = { ...task, dependsOn: unique([...(task.dependsOn ?? []), ...add]) };
    const origin = origins[index];
    addNote(scope.notes, `step ${origin && "step" in origin ? origin.step : task.id} also waits for ${add.join(", ")} (rule: ${kind} last)`);
  });
}

/** The template's feature gates, streams and failure policy where the request sets none. */
function withTemplateFields(request: FeatureRequest, template: Template, scope: StepScope): FeatureRequest {
  const gates = request.gates ?? (template.gates ? keepGates(template.gates, "the feature", scope) : undefined);
  const streams = request.streams ?? (template.streams ? templateStreams(template.streams, scope) : undefined);
  const onFailure = request.onFailure ?? template.onFailure;
  return { ...request, ...(gates?.length ? { gates } : {}), ...(streams ? { streams } : {}), ...(onFailure ? { onFailure } : {}) };
}

function templateStreams(streams: Readonly<Record<string, StreamSpec>>, scope: StepScope): Record<string, StreamSpec> {
  return Object.fromEntries(Object.entries(streams).map(([name, spec]) => {
    const gates = spec.gates && keepGates(spec.gates, `stream ${name}`, scope);
    const { gates: _gates, ...rest } = spec;
    return [name, { ...rest, ...(gates?.length ? { gates } : {}) }];
  }));
}

/** The expanded request checked as a request (schema, graph); its problems located at the step or extra task. */
function finish(value: FeatureRequest, origins: readonly TaskOrigin[], notes: string[], errors: ValidationIssue[]): Expansion {
  // After a step failed to expand, the schema would only add noise (a missing task is already explained).
  const parsed = errors.length ? undefined : FeatureRequest.safeParse(value);
  const found = !parsed || parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
  found.push(...graphIssues(value.tasks ?? []));
  const request = parsed?.success ? parsed.data : value;
  const located = found.map((issue) => locateIssue(issue, origins, request.tasks ?? []));
  return { request, notes, origins: [...origins], errors: [...errors, ...located] };
}

/**
 * An issue at `tasks[k]…` of an expanded request, moved to where the request says it: `tasks[j]…` for its own j-th
 * task (dependency positions dropped: they moved), `template` (or `stepField(step, rest)`) for a step's task.
 */
export function locateIssue(issue: ValidationIssue, origins: readonly TaskOrigin[], tasks: readonly TaskSpec[], stepField?: (step: string, rest: string) => string | undefined): ValidationIssue {
  const match = /^tasks\[(\d+)\](.*)$/.exec(issue.path);
  const origin = match ? origins[Number(match[1])] : undefined;
  if (!match || !origin) return issue;
  const rest = match[2]!;
  if ("extra" in origin) return { path: `tasks[${origin.extra}]${rest.replace(/^\.dependsOn\[\d+\]/, ".dependsOn")}`, message: issue.message };
  const id = tasks[Number(match[1])]?.id;
  return { path: stepField?.(origin.step, rest) ?? "template", message: `step "${origin.step}"${id && id !== origin.step ? ` (task ${id})` : ""}: ${issue.message}` };
}

/**
 * A plan's fields on the feature's request: its template (with parameters, skip, stepRoles) or tasks, and its gates
 * and streams where it gives them. The result is an ordinary request (no `plan: "auto"`, no goal) that
 * checkFeatureValue accepts when the plan is valid. Pure.
 */
export function planToRequest(plan: Plan, base: FeatureRequest): FeatureRequest {
  const { plan: _auto, goal: _goal, tasks: _tasks, template: _template, parameters: _parameters, skip: _skip, stepRoles: _roles, ...rest } = base;
  const { summary: _summary, ...fields } = plan;
  const given = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return { ...rest, ...given };
}
