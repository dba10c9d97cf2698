// Checks a planner's plan (docs/planning.md) before anything runs: its schema, its expansion (template,
// parameters, skip, stepRoles), the task graph, roles, gates, the planner's reserved task id, artifacts before their
// readers, and the selection rules. Every error at once, each at a path inside the plan (`plan.tasks[2].dependsOn`)
// and saying what to change, so the planner can fix them all in its next attempt. Pure.
import { formatPath, type ValidationIssue } from "../protocol/common.ts";
import type { FeatureRequest, TaskSpec } from "../protocol/feature.ts";
import { REVIEW_GATE } from "../protocol/gates.ts";
import { graphIssues } from "../protocol/graph.ts";
import { Plan } from "../protocol/plan.ts";
import { PLANNER_TASK_ID } from "../protocol/planning.ts";
import { looseRoleRequest, roleIssues } from "../protocol/request-roles.ts";
import { didYouMean } from "../protocol/suggest.ts";
import { artifactIssues } from "./artifacts.ts";
import { expandAll, goalOf, locateIssue, planToRequest, type ExpandContext, type TaskOrigin } from "./expand.ts";
import { ruleIssues } from "./rules.ts";
import { schemaIssues } from "./schema-issues.ts";

export interface PlanCheckContext extends ExpandContext {
  /** Roles a plan may name (undefined: any well-formed role). */
  roles?: readonly string[] | undefined;
  /** The feature's request the plan's tasks go into (its goal is the template's `{{goal}}`). */
  base: FeatureRequest;
}

export type PlanCheck = { ok: true; request: FeatureRequest; notes: string[]; summary?: string } | { ok: false; errors: ValidationIssue[] };

/** `plan.<path>` (the whole plan: `plan`). */
function inPlan(issue: ValidationIssue): ValidationIssue {
  return { path: issue.path === "(root)" ? "plan" : `plan.${issue.path}`, message: issue.message };
}

/**
 * Checks `raw` (a planner's `plan` field) against everything a plan must satisfy. Valid: the feature's request with
 * the plan's tasks (template expanded, `template` kept), the expansion's notes and the plan's summary. Invalid:
 * every error found, none left for a later attempt to discover. Never throws; deterministic.
 */
export function checkPlan(raw: unknown, ctx: PlanCheckContext): PlanCheck {
  const parsed = Plan.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: looseIssues(raw, parsed.error.issues, ctx) };
  const plan = parsed.data;
  const errors = sourceIssues(plan);
  const expansion = expandAll(planToRequest(plan, ctx.base), ctx, goalOf(ctx.base));
  errors.push(...expansion.errors.map(inPlan));
  const request = expansion.request;
  if (!request) return { ok: false, errors };
  const tasks = request.tasks ?? [];
  const found: ValidationIssue[] = plan.template ? [] : graphIssues(tasks);
  if (ctx.roles) found.push(...roleIssues(ctx.roles, tasks.map((task) => task.role), { tasks, gates: request.gates, onFailure: request.onFailure }));
  if (ctx.gates) found.push(...gateIssues(request, ctx.gates));
  tasks.forEach((task, index) => {
    if (task.id === PLANNER_TASK_ID) found.push(reservedIssue(index));
  });
  found.push(...artifactIssues(tasks, ctx.roleDefaults));
  // An empty plan has already been told to add tasks; the rules would only repeat it.
  if (tasks.length) found.push(...ruleIssues(tasks, ctx.catalogue.rules));
  errors.push(...found.map((issue) => placeIssue(issue, plan, expansion.origins, tasks)));
  if (errors.length) return { ok: false, errors };
  return { ok: true, request, notes: expansion.notes, ...(plan.summary ? { summary: plan.summary } : {}) };
}

/** A plan needs tasks or a template; template options need a template. */
function sourceIssues(plan: Plan): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!plan.template && !plan.tasks?.length) issues.push({ path: "plan", message: 'a plan needs at least one task: give "tasks", or a "template" (with its "parameters")' });
  for (const field of ["parameters", "skip", "stepRoles"] as const) {
    if (plan[field] !== undefined && !plan.template) issues.push({ path: `plan.${field}`, message: `${field} applies to a template: add "template" or leave ${field} out` });
  }
  return issues;
}

function reservedIssue(index: number): ValidationIssue {
  return { path: `tasks[${index}].id`, message: `task id "${PLANNER_TASK_ID}" is the planner's own task: give this task another id` };
}

/**
 * An issue found on the expanded request, at the place in the plan to change: a task's at its step (or, for a
 * role, `stepRoles.<step>`) or its `tasks[j]`; a feature field at `plan.<field>` when the plan gave it, else at
 * the template (or the request) it came from.
 */
function placeIssue(issue: ValidationIssue, plan: Plan, origins: readonly TaskOrigin[], tasks: readonly TaskSpec[]): ValidationIssue {
  // A plan of tasks is the request's tasks, position for position; a template's tasks are located at their step.
  if (issue.path.startsWith("tasks[") && !plan.template) return inPlan(issue);
  if (issue.path.startsWith("tasks[")) return inPlan(locateIssue(issue, origins, tasks, (step, rest) => (rest === ".role" ? `stepRoles.${step}` : undefined)));
  const field = /^[A-Za-z]+/.exec(issue.path)?.[0] ?? "";
  if (field === "tasks" || (field in plan && plan[field as keyof Plan] !== undefined)) return inPlan(issue);
  if (plan.template) return { path: "plan.template", message: `${issue.path} (from template ${plan.template}): ${issue.message}` };
  return issue;
}

/** Gate names the operator's config does not define (nor `review`): the feature's, the tasks', the streams'. */
function gateIssues(request: FeatureRequest, gates: readonly string[]): ValidationIssue[] {
  const known = new Set([...gates, REVIEW_GATE]);
  const hint = gates.length
    ? `configured gates: ${gates.join(", ")}; and "${REVIEW_GATE}", the reviewer's verdict`
    : `no gates are configured; only "${REVIEW_GATE}", the reviewer's verdict, needs none`;
  const issues: ValidationIssue[] = [];
  const check = (names: readonly string[] | undefined, path: string) => (names ?? []).forEach((gate, index) => {
    if (!known.has(gate)) issues.push({ path: `${path}[${index}]`, message: `unknown gate "${gate}"${didYouMean(gate, known)} (${hint})` });
  });
  check(request.gates, "gates");
  (request.tasks ?? []).forEach((task, index) => {
    check(task.gates, `tasks[${index}].gates`);
    if (task.tdd) {
      check([task.tdd.gate], `tasks[${index}].tdd.gate`);
      check(task.tdd.refactorGates, `tasks[${index}].tdd.refactorGates`);
    }
  });
  for (const [name, stream] of Object.entries(request.streams ?? {})) check(stream.gates, `streams.${name}.gates`);
  return issues;
}

/** A plan that failed its schema: the schema's issues, plus the graph, role and reserved-id checks on what is well-formed. */
function looseIssues(raw: unknown, zodIssues: Parameters<typeof schemaIssues>[1][], ctx: PlanCheckContext): ValidationIssue[] {
  const issues: ValidationIssue[] = zodIssues.flatMap((issue) => schemaIssues(Plan, issue)).map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
  const rawTasks = raw && typeof raw === "object" && Array.isArray((raw as { tasks?: unknown }).tasks) ? ((raw as { tasks: unknown[] }).tasks) : [];
  const text = (value: unknown) => (typeof value === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined);
  const loose = rawTasks.map((task) => {
    const fields = task && typeof task === "object" ? (task as Record<string, unknown>) : {};
    return { id: text(fields.id), role: text(fields.role), ...(Array.isArray(fields.dependsOn) ? { dependsOn: fields.dependsOn.map(text) } : {}) };
  });
  issues.push(...graphIssues(loose));
  if (ctx.roles) issues.push(...roleIssues(ctx.roles, loose.map((task) => task.role), looseRoleRequest(raw)));
  loose.forEach((task, index) => {
    if (task.id === PLANNER_TASK_ID) issues.push(reservedIssue(index));
  });
  return issues.map(inPlan);
}
