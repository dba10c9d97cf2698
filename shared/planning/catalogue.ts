// The planning catalogue: the templates (templates/*.yaml, then the operator's folders, a later one's template of the
// same name winning) and the selection rules (rules/selection.yaml, or the operator's file) a coordinator expands
// requests with and hands to planners. An invalid file is a problem (file, line, field) and never stops the others.
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod";
import { Template } from "../protocol/plan.ts";
import { SelectionRule } from "../protocol/planning.ts";
import { graphIssues } from "../protocol/graph.ts";
import { didYouMean } from "../protocol/suggest.ts";
import { parsePath, schemaIssues, type PathIssue } from "./schema-issues.ts";
import { templateIssues } from "./template-check.ts";
import { readYamlFile, type CatalogueProblem } from "./yaml-file.ts";

export type { CatalogueProblem } from "./yaml-file.ts";

/** A loaded template and the file it came from. */
export type LoadedTemplate = Template & { source: string };

export interface PlanningCatalogue {
  templates: Record<string, LoadedTemplate>;
  rules: SelectionRule[];
  rulesSource: string;
  problems: CatalogueProblem[];
}

export interface CatalogueOptions {
  /** Folders of `<name>.yaml` templates loaded over the shipped ones, in order (config `planning.templates`). */
  templateDirs?: readonly string[] | undefined;
  /** The selection rules file (config `planning.rules`); default the shipped rules/selection.yaml. */
  rulesFile?: string | undefined;
  /** The shipped templates folder and rules file; default: found above this module (see shippedRoot). */
  shippedTemplates?: string | undefined;
  shippedRules?: string | undefined;
}

/** The rules file: a `rules:` list. */
const RulesFile = z.strictObject({ rules: z.array(z.unknown()).min(1) });

/**
 * The folder Baton ships its data files in: the nearest one above `from` (default: this module, in shared/planning/
 * or dist/shared/planning/ or beside the CLI bundle) holding package.json and templates/. Undefined when none does.
 */
export function shippedRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "templates"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Loads the templates and rules. Never throws: every unreadable folder, malformed file, invalid template or rule is
 * a problem, and everything valid is still loaded. Deterministic for the same files (folders read in name order).
 */
export function loadPlanningCatalogue(opts: CatalogueOptions = {}): PlanningCatalogue {
  const problems: CatalogueProblem[] = [];
  const root = opts.shippedTemplates && opts.shippedRules ? undefined : shippedRoot();
  const shippedTemplates = opts.shippedTemplates ?? (root ? join(root, "templates") : undefined);
  const shippedRules = opts.shippedRules ?? (root ? join(root, "rules", "selection.yaml") : undefined);
  if (!shippedTemplates || (!shippedRules && !opts.rulesFile)) {
    problems.push({ file: dirname(fileURLToPath(import.meta.url)), message: "cannot find Baton's shipped templates/ and rules/ (a folder with package.json and templates/) above this module" });
  }
  const rulesSource = opts.rulesFile ?? shippedRules ?? "(none)";
  const rules = rulesSource === "(none)" ? [] : loadRules(rulesSource, problems);
  const templates: Record<string, LoadedTemplate> = {};
  for (const dir of [...(shippedTemplates ? [shippedTemplates] : []), ...(opts.templateDirs ?? [])]) {
    for (const template of loadTemplateDir(dir, rules, problems)) templates[template.name] = template;
  }
  return { templates, rules, rulesSource, problems };
}

/** A catalogue of templates and rules already in hand (a feature's planner kit), without files. */
export function catalogueFrom(templates: readonly Template[], rules: readonly SelectionRule[], source = "(given)"): PlanningCatalogue {
  return { templates: Object.fromEntries(templates.map((template) => [template.name, { ...template, source }])), rules: [...rules], rulesSource: source, problems: [] };
}

/** The catalogue's templates as the wire has them (without `source`), in name order: for a PlanningBrief. */
export function catalogueTemplates(catalogue: PlanningCatalogue): Template[] {
  return Object.keys(catalogue.templates).sort().map((name) => {
    const { source: _source, ...template } = catalogue.templates[name]!;
    return template;
  });
}

/** The valid templates of one folder's `*.yaml` / `*.yml` files, in file name order; problems for the rest. */
function loadTemplateDir(dir: string, rules: readonly SelectionRule[], problems: CatalogueProblem[]): LoadedTemplate[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).sort();
  } catch (err) {
    problems.push({ file: dir, message: `cannot read the templates folder: ${(err as Error).message}` });
    return [];
  }
  return names.flatMap((name) => {
    const template = loadTemplateFile(join(dir, name), rules, problems);
    return template ? [template] : [];
  });
}

/** One template file: the template when it is valid and consistent, else undefined (and its problems recorded). */
export function loadTemplateFile(file: string, rules: readonly SelectionRule[], problems: CatalogueProblem[]): LoadedTemplate | undefined {
  const read = readYamlFile(file);
  if (!read.ok) {
    problems.push(...read.problems);
    return undefined;
  }
  const parsed = Template.safeParse(read.yaml.value);
  if (!parsed.success) {
    problems.push(...read.yaml.problems(parsed.error.issues.flatMap((issue) => schemaIssues(Template, issue))));
    return undefined;
  }
  const issues: PathIssue[] = templateIssues(parsed.data, rules).map((issue) => ({ path: parsePath(issue.path), message: issue.message }));
  const stem = basename(file, extname(file));
  if (parsed.data.name !== stem) issues.unshift({ path: ["name"], message: `the template's name "${parsed.data.name}" differs from its file name: call the file ${parsed.data.name}.yaml or the template "${stem}"` });
  if (issues.length) {
    problems.push(...read.yaml.problems(issues));
    return undefined;
  }
  return { ...parsed.data, source: file };
}

/** The rules of a rules file: every valid rule (problems for the others and for contradictions between them). */
function loadRules(file: string, problems: CatalogueProblem[]): SelectionRule[] {
  const read = readYamlFile(file);
  if (!read.ok) {
    problems.push(...read.problems);
    return [];
  }
  const parsed = RulesFile.safeParse(read.yaml.value);
  if (!parsed.success) {
    problems.push(...read.yaml.problems(parsed.error.issues.flatMap((issue) => schemaIssues(RulesFile, issue))));
    return [];
  }
  const rules: SelectionRule[] = [];
  const positions: number[] = [];
  parsed.data.rules.forEach((raw, index) => {
    const rule = SelectionRule.safeParse(raw);
    if (!rule.success) {
      problems.push(...read.yaml.problems(rule.error.issues.flatMap((issue) => schemaIssues(SelectionRule, issue)).map((issue) => ({ ...issue, path: ["rules", index, ...issue.path] }))));
    } else if (rules.some((other) => other.kind === rule.data.kind)) {
      problems.push(...read.yaml.problems([{ path: ["rules", index, "kind"], message: `a second rule for kind "${rule.data.kind}" (the first one counts)` }]));
    } else {
      rules.push(rule.data);
      positions.push(index);
    }
  });
  problems.push(...read.yaml.problems(ruleSetIssues(rules, positions)));
  return rules;
}

/** Rules that contradict or miss each other: `before` naming a kind no rule has, two `last` kinds, a cycle of `before`s. */
function ruleSetIssues(rules: readonly SelectionRule[], positions: readonly number[]): PathIssue[] {
  const kinds = rules.map((rule) => rule.kind);
  const issues: PathIssue[] = [];
  rules.forEach((rule, index) => {
    (rule.before ?? []).forEach((kind, at) => {
      if (!kinds.includes(kind)) issues.push({ path: ["rules", positions[index]!, "before", at], message: `no rule has kind "${kind}"${didYouMean(kind, kinds)}` });
    });
  });
  const last = rules.flatMap((rule, index) => (rule.last ? [index] : []));
  if (last.length > 1) issues.push({ path: ["rules", positions[last[1]!]!, "last"], message: `only one kind can come last (${last.map((index) => rules[index]!.kind).join(", ")} are all last)` });
  // A kind waits for the kinds whose rule puts them before it: a cycle there makes plans with all of them impossible.
  const order = rules.map((rule) => ({ id: rule.kind, dependsOn: rules.filter((other) => other.before?.includes(rule.kind)).map((other) => other.kind) }));
  for (const issue of graphIssues(order)) {
    if (issue.message.includes("cycle")) issues.push({ path: ["rules"], message: `the rules' before orders contradict each other (${issue.message.replaceAll(" dependsOn ", " after ")})` });
  }
  return issues;
}
