// Templates (data files that expand a short request into a task DAG) and the plan a planner returns. Both are
// checked by shared/planning (expansion, DAG, roles, gates, artifacts before their readers, selection rules).
import * as z from "zod";
import { Id, Json, Role, ValidationIssue } from "./common.ts";
import { FailurePolicy, TaskSpec, WorkspacePath } from "./feature.ts";
import { GateName } from "./gates.ts";
import { ChangeKind, ParamName, ParamValue, SelectionRule, StreamName, StreamSpec, TemplateName } from "./planning.ts";

/** A template parameter: what it means, its default, and whether it is a list (`forEach` steps run once per item). */
export const TemplateParam = z.strictObject({
  description: z.string().min(1).max(500),
  default: ParamValue.optional(),
  list: z.boolean().optional(),
  /** The request must give it (no default). */
  required: z.boolean().optional(),
});
export type TemplateParam = z.infer<typeof TemplateParam>;

/**
 * One step of a template: a task, with `{{param}}`, `{{goal}}` and (in a `forEach` step) `{{item}}` replaced in its
 * title and instructions. Its role: `role`, else the selection rule of its `kind`.
 */
export const TemplateStep = z.strictObject({
  id: Id,
  kind: ChangeKind.optional(),
  role: Role.optional(),
  title: z.string().min(1).max(500),
  instructions: z.string().max(20_000).optional(),
  dependsOn: z.array(Id).max(100).optional(),
  /** A list parameter: the step becomes one task per item (`<id>-1`, `<id>-2`, …); a dependency on `<id>` means all of them. */
  forEach: ParamName.optional(),
  /** With `forEach`: each item's task depends on the one before (module by module, one query at a time). */
  chain: z.boolean().optional(),
  /** Gates (config names); one the operator has not configured is left out, and the expansion says so. */
  gates: z.array(GateName).max(20).optional(),
  files: z.array(z.string().min(1).max(500)).max(100).optional(),
  expectChanges: z.boolean().optional(),
  produces: z.array(WorkspacePath).max(50).optional(),
  reads: z.array(WorkspacePath).max(50).optional(),
  stream: StreamName.optional(),
  milestone: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).optional(),
  timeoutSeconds: z.int().min(1).max(7 * 24 * 3600).optional(),
  tdd: z.strictObject({ gate: GateName, refactorGates: z.array(GateName).max(20).optional() }).optional(),
});
export type TemplateStep = z.infer<typeof TemplateStep>;

/** A template file (templates/<name>.yaml; users copy and change them, docs/planning.md). */
export const Template = z.strictObject({
  name: TemplateName,
  description: z.string().min(1).max(2000),
  /** Kinds of work it suits, in words (the planner reads them). */
  when: z.string().max(2000).optional(),
  parameters: z.record(ParamName, TemplateParam).optional(),
  steps: z.array(TemplateStep).min(1).max(200),
  /** The feature's gates (configured ones only, as for steps). */
  gates: z.array(GateName).max(20).optional(),
  streams: z.record(StreamName, StreamSpec).optional(),
  onFailure: FailurePolicy.optional(),
});
export type Template = z.infer<typeof Template>;

/**
 * What a planner returns (its result file's, or its final message's fenced json block's, `plan` field): tasks, or a
 * template with its parameters and overrides plus extra tasks; the feature's gates and streams. Checked by the
 * coordinator; an invalid plan goes back to the planner with every error.
 */
export const Plan = z.strictObject({
  /** The plan in a few sentences, shown with it for approval. */
  summary: z.string().max(4000).optional(),
  template: TemplateName.optional(),
  parameters: z.record(ParamName, ParamValue).optional(),
  skip: z.array(Id).max(100).optional(),
  stepRoles: z.record(Id, Role).optional(),
  tasks: z.array(TaskSpec).max(1000).optional(),
  gates: z.array(GateName).max(20).optional(),
  streams: z.record(StreamName, StreamSpec).optional(),
});
export type Plan = z.infer<typeof Plan>;

/**
 * What a planner run is given (`planning` on its task message): the goal, what it may use (templates, selection
 * rules, the roles and gates the operator configured), and — on a second attempt — the plan it returned and every
 * error found in it. The worker adds the role catalogue and a summary of the workspace.
 */
export const PlanningBrief = z.object({
  goal: z.string(),
  attempt: z.int().min(1),
  maxAttempts: z.int().min(1),
  templates: z.array(Template),
  rules: z.array(SelectionRule),
  /** Roles a plan may name (undefined: any well-formed role). */
  roles: z.array(Role).optional(),
  gates: z.array(GateName),
  previous: z.object({ plan: Json, errors: z.array(ValidationIssue) }).optional(),
});
export type PlanningBrief = z.infer<typeof PlanningBrief>;
