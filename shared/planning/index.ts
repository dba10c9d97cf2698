// Planning (docs/planning.md): templates and selection rules loaded from data files, requests expanded from a
// template, and planners' plans checked before anything runs. Pure logic and file loading; no NATS.
export { catalogueFrom, catalogueTemplates, loadPlanningCatalogue, loadTemplateFile, shippedRoot, type CatalogueOptions, type CatalogueProblem, type LoadedTemplate, type PlanningCatalogue } from "./catalogue.ts";
export { templateIssues, PLACEHOLDER } from "./template-check.ts";
export { expandAll, expandRequest, goalOf, planToRequest, type ExpandContext, type ExpandResult, type Expansion, type RoleDefaults, type TaskOrigin } from "./expand.ts";
export { checkPlan, type PlanCheck, type PlanCheckContext } from "./check-plan.ts";
export { kindOf, matchKinds, ruleIssues, ruleOf, type RuleTask } from "./rules.ts";
export { artifactIssues, type ArtifactTask } from "./artifacts.ts";
export { ancestorSets } from "./dag.ts";
