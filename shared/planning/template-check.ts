// A template's internal consistency, beyond its schema: steps that depend on unknown steps or in a cycle, `forEach`
// over a parameter that is not a list, placeholders that name nothing, steps with no way to get a role. Pure.
import type { ValidationIssue } from "../protocol/common.ts";
import { graphIssues } from "../protocol/graph.ts";
import type { Template, TemplateStep } from "../protocol/plan.ts";
import type { SelectionRule } from "../protocol/planning.ts";
import { didYouMean } from "../protocol/suggest.ts";
import { ruleOf } from "./rules.ts";

/** `{{name}}` in a step's text (spaces inside the braces allowed). */
export const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;
/** Placeholders every step may use; `forEach` steps also have `item` (the list item) and `index` (1, 2, …). */
export const BUILTIN_PLACEHOLDERS = ["goal"] as const;
export const ITEM_PLACEHOLDERS = ["item", "index"] as const;

/**
 * Every consistency problem of `template`, each at a path inside it (`steps[2].dependsOn[0]`). `rules`: the selection
 * rules a step's kind is looked up in (when none are given, kinds are not checked).
 */
export function templateIssues(template: Template, rules: readonly SelectionRule[]): ValidationIssue[] {
  const ids = new Map<string, number>();
  const issues: ValidationIssue[] = [...parameterIssues(template)];
  template.steps.forEach((step, index) => {
    if (ids.has(step.id)) issues.push({ path: `steps[${index}].id`, message: `duplicate step id "${step.id}" (first used by steps[${ids.get(step.id)}])` });
    else ids.set(step.id, index);
  });
  template.steps.forEach((step, index) => issues.push(...stepIssues(template, step, index, ids, rules)));
  // Cycles among the known dependencies, reported as graphIssues words them, at the step's path.
  const known = template.steps.map((step) => ({ id: step.id, dependsOn: (step.dependsOn ?? []).filter((dep) => ids.has(dep) && dep !== step.id) }));
  for (const issue of graphIssues(known)) {
    if (issue.message.includes("cycle")) issues.push({ path: issue.path.replace(/^tasks/, "steps"), message: issue.message.replace(/^dependency cycle/, "dependency cycle among steps").replace("among tasks", "among steps") });
  }
  return issues;
}

function parameterIssues(template: Template): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [name, param] of Object.entries(template.parameters ?? {})) {
    const path = `parameters.${name}`;
    if (param.default !== undefined && Array.isArray(param.default) !== Boolean(param.list)) {
      issues.push({ path: `${path}.default`, message: param.list ? "a list parameter's default must be a list" : "a list as default needs `list: true`" });
    }
    if (param.required && param.default !== undefined) issues.push({ path: `${path}.required`, message: "a required parameter has no default: drop one of them" });
  }
  return issues;
}

function stepIssues(template: Template, step: TemplateStep, index: number, ids: ReadonlyMap<string, number>, rules: readonly SelectionRule[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const at = `steps[${index}]`;
  const params = template.parameters ?? {};
  (step.dependsOn ?? []).forEach((dep, depIndex) => {
    if (dep === step.id) issues.push({ path: `${at}.dependsOn[${depIndex}]`, message: `step "${step.id}" depends on itself` });
    else if (!ids.has(dep)) issues.push({ path: `${at}.dependsOn[${depIndex}]`, message: `unknown step "${dep}" in dependsOn of step "${step.id}"${didYouMean(dep, ids.keys())}` });
  });
  if (step.forEach !== undefined) {
    const param = params[step.forEach];
    const names = Object.keys(params);
    if (!param) issues.push({ path: `${at}.forEach`, message: `unknown parameter "${step.forEach}"${didYouMean(step.forEach, names)} (${names.length ? `parameters: ${names.join(", ")}` : "the template has no parameters"})` });
    else if (!param.list) issues.push({ path: `${at}.forEach`, message: `parameter "${step.forEach}" is not a list: add \`list: true\` to it` });
  } else if (step.chain) issues.push({ path: `${at}.chain`, message: "chain applies to a forEach step: add forEach or drop chain" });
  if (!step.role && !step.kind) issues.push({ path: at, message: `step "${step.id}" needs a role or a kind (whose selection rule gives the role)` });
  else if (!step.role && rules.length && !ruleOf(step.kind, rules)) {
    issues.push({ path: `${at}.kind`, message: `no selection rule has kind "${step.kind}"${didYouMean(step.kind!, rules.map((rule) => rule.kind))}: give the step a role, or add a rule for the kind` });
  }
  issues.push(...placeholderIssues(step, at, Object.keys(params)));
  return issues;
}

/** `{{name}}`s in a step's texts that name no parameter (nor goal, nor item/index in a forEach step). */
function placeholderIssues(step: TemplateStep, at: string, params: readonly string[]): ValidationIssue[] {
  const known = [...BUILTIN_PLACEHOLDERS, ...(step.forEach !== undefined ? ITEM_PLACEHOLDERS : []), ...params];
  const texts: [string, string | undefined][] = [
    [`${at}.title`, step.title],
    [`${at}.instructions`, step.instructions],
    ...(["files", "produces", "reads"] as const).flatMap((field) => (step[field] ?? []).map((text, index): [string, string] => [`${at}.${field}[${index}]`, text])),
  ];
  const issues: ValidationIssue[] = [];
  for (const [path, text] of texts) {
    for (const match of (text ?? "").matchAll(PLACEHOLDER)) {
      const name = match[1]!;
      if (known.includes(name)) continue;
      const hint = (ITEM_PLACEHOLDERS as readonly string[]).includes(name) ? " ({{item}} and {{index}} are for forEach steps)" : didYouMean(name, known);
      issues.push({ path, message: `unknown placeholder {{${name}}}${hint} (known: ${known.join(", ")})` });
    }
  }
  return issues;
}
