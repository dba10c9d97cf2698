// `baton doctor`'s checks of the planning files, which need no NATS: the role files (Baton's roles/, the config's
// `planning.roles` folders, the default workspace's .claude/agents/ and .baton/roles/), the templates and the selection
// rules load without problems; and a config that plans (a `planning:` section) has a planner role.
import { existsSync } from "node:fs";
import { relative } from "node:path";
import type { BatonConfig } from "../../../shared/config.ts";
import { PlanningSettings } from "../../../shared/config-planning.ts";
import { loadPlanningCatalogue, type CatalogueProblem } from "../../../shared/planning/index.ts";
import { PLANNER_ROLE } from "../../../shared/protocol/planning.ts";
import { loadRoleCatalogue, type RoleProblem } from "../../../shared/roles/index.ts";
import type { Finding } from "./doctor.ts";
import { formatProblem } from "./roles.ts";

export interface PlanningContext {
  cfg: Pick<BatonConfig, "planning" | "roles" | "workspace">;
  /** Paths under this folder are shown relative to it. */
  cwd: string;
}

/** The defaults of `planning:`: a config whose settings differ from them plans features. */
const DEFAULTS = PlanningSettings.parse({});

/** Reports the role files, then the templates and rules (one finding per problem, as `file:line: field: message`), then the planner. Never throws. */
export function checkPlanning(ctx: PlanningContext, report: (finding: Finding) => void): void {
  checkRoleFiles(ctx, report);
  checkPlanningFiles(ctx, report);
  checkPlanner(ctx, report);
}

/** `problem` with its file relative to `cwd` when it lies under it. */
function located(problem: RoleProblem | CatalogueProblem, cwd: string): string {
  const rel = relative(cwd, problem.file);
  return formatProblem({ ...problem, file: rel && !rel.startsWith("..") ? rel : problem.file });
}

/**
 * The catalogue the coordinator and the workers load. An invalid file of Baton's or the operator's is a problem (its
 * role is left out, or keeps a lower layer's file); one in the default workspace is a warning: it is the project's.
 */
function checkRoleFiles(ctx: PlanningContext, report: (finding: Finding) => void): void {
  const workspace = ctx.cfg.workspace && existsSync(ctx.cfg.workspace) ? ctx.cfg.workspace : undefined;
  const catalogue = loadRoleCatalogue({ dirs: ctx.cfg.planning.roles, workspace });
  const inWorkspace = (file: string) => workspace !== undefined && !relative(workspace, file).startsWith("..");
  const where = ["Baton's roles/", ...ctx.cfg.planning.roles, ...(workspace ? [`${workspace}/.claude/agents/ and .baton/roles/`] : [])].join(", ");
  const names = Object.keys(catalogue.roles).sort();
  if (!catalogue.problems.length) report({ check: "role-files", verdict: "ok", message: `role files load: ${names.length} roles (${names.join(", ")}) from ${where}` });
  for (const problem of catalogue.problems) {
    report({
      check: "role-files", verdict: inWorkspace(problem.file) ? "warning" : "problem",
      message: `role file ${located(problem, ctx.cwd)}`,
      remedy: "fix the file: it is left out (the other role files load)",
    });
  }
}

/** Baton's templates and rules with the config's `planning.templates` folders and `planning.rules` file. */
function checkPlanningFiles(ctx: PlanningContext, report: (finding: Finding) => void): void {
  const catalogue = loadPlanningCatalogue({ templateDirs: ctx.cfg.planning.templates, rulesFile: ctx.cfg.planning.rules });
  const templates = Object.keys(catalogue.templates).sort();
  if (!catalogue.problems.length) {
    report({
      check: "planning-files", verdict: "ok",
      message: `templates and selection rules load: ${templates.length} templates (${templates.join(", ")}), ${catalogue.rules.length} rules from ${relative(ctx.cwd, catalogue.rulesSource).startsWith("..") ? catalogue.rulesSource : relative(ctx.cwd, catalogue.rulesSource)}`,
    });
  }
  for (const problem of catalogue.problems) {
    report({
      check: "planning-files", verdict: "problem",
      message: `planning file ${located(problem, ctx.cwd)}`,
      remedy: "fix the file: an invalid template is not loaded, an invalid rule is left out (the others load)",
    });
  }
}

/** A hint, never a problem: a config that sets up planning but has no planner role cannot plan a goal. */
function checkPlanner(ctx: PlanningContext, report: (finding: Finding) => void): void {
  const { planning } = ctx.cfg;
  const plans = planning.approval !== DEFAULTS.approval || planning.maxAttempts !== DEFAULTS.maxAttempts || planning.templates.length > 0
    || planning.roles.length > 0 || planning.rules !== undefined || planning.questionTimeoutSeconds !== undefined;
  if (!plans || ctx.cfg.roles[PLANNER_ROLE]) return;
  report({
    check: "planner", verdict: "warning",
    message: `the config sets planning: but has no ${PLANNER_ROLE} role: a feature with plan: auto (a goal in words) has nobody to plan it`,
    remedy: `add roles.${PLANNER_ROLE} (an agent CLI or the llm executor; roles/${PLANNER_ROLE}.md is its prompt) and run its worker (baton up starts one)`,
  });
}
