// What a coordinator plans with (docs/planning.md), loaded once at start from the operator's configuration: the
// templates and selection rules, the role files' defaults (Baton's and the operator's folders, never a workspace's:
// the coordinator touches no workspace), the roles and gates a plan may name. Problems are logged, never fatal.
import type { BatonConfig } from "../../../shared/config.ts";
import type { Logger } from "../../../shared/logging.ts";
import { catalogueTemplates, expandRequest, loadPlanningCatalogue, type PlanningCatalogue, type RoleDefaults } from "../../../shared/planning/index.ts";
import type { FeatureRequest, ValidationIssue } from "../../../shared/protocol/index.ts";
import { loadRoleCatalogue } from "../../../shared/roles/index.ts";
import type { PlannerKit } from "../domain/planning-state.ts";

export interface PlanningKit {
  catalogue: PlanningCatalogue;
  roleDefaults: Record<string, RoleDefaults>;
  /** What a `plan: auto` feature keeps while its planner plans. */
  planner: PlannerKit;
  /** Expands a template request, keeping the notes of the last expansion for the caller (ingress.ts). */
  expand(request: FeatureRequest, notes: string[]): { ok: true; value: FeatureRequest } | { ok: false; errors: ValidationIssue[] };
}

/** Loads the kit from `config` (shipped templates/, rules/selection.yaml and roles/ plus the `planning:` folders). */
export function loadPlanningKit(config: Readonly<BatonConfig>, log: Logger): PlanningKit {
  const catalogue = loadPlanningCatalogue({ templateDirs: config.planning.templates, rulesFile: config.planning.rules });
  for (const problem of catalogue.problems) log.warn({ file: problem.file, line: problem.line, field: problem.field }, `planning file problem: ${problem.message}`);
  const roles = loadRoleCatalogue({ dirs: config.planning.roles });
  for (const problem of roles.problems) log.warn({ file: problem.file, line: problem.line, field: problem.field }, `role file problem: ${problem.message}`);
  const roleDefaults: Record<string, RoleDefaults> = {};
  for (const [name, role] of Object.entries(roles.roles)) {
    if (role.gates?.length || role.produces?.length || role.reads?.length) roleDefaults[name] = { gates: role.gates, produces: role.produces, reads: role.reads };
  }
  const gates = Object.keys(config.gates);
  const planner: PlannerKit = {
    templates: catalogueTemplates(catalogue), rules: catalogue.rules, gates, maxAttempts: config.planning.maxAttempts,
    ...(config.knownRoles ? { roles: config.knownRoles } : {}),
    ...(Object.keys(roleDefaults).length ? { roleDefaults: roleDefaults as PlannerKit["roleDefaults"] } : {}),
    testGates: Object.entries(config.gates).flatMap(([name, gate]) => (gate.tests || gate.junit ? [name] : [])),
  };
  return {
    catalogue, roleDefaults, planner,
    expand(request, notes) {
      const result = expandRequest(request, { catalogue, gates, roleDefaults });
      if (!result.ok) return result;
      notes.push(...result.notes);
      return { ok: true, value: result.value };
    },
  };
}
