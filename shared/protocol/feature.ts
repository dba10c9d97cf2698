// Feature requests: what a client publishes on `baton.feature.submit` or sends to `baton.api.submit`.
import { createHash } from "node:crypto";
import * as z from "zod";
import { Id, Role, ValidationIssue, formatPath } from "./common.ts";
import { Budget } from "./budget.ts";
import { GateName } from "./gates.ts";
import { graphIssues } from "./graph.ts";
import { looseRoleRequest, roleIssues, type RoleRequest } from "./request-roles.ts";
import { BranchName, Isolation } from "./workspace.ts";
import { didYouMean } from "./suggest.ts";
import { gateIssues } from "./request-gates.ts";
import { fieldsAt } from "./fields.ts";
import { ChangeKind, ParamName, ParamValue, PLANNER_ROLE, StreamName, StreamSpec, TemplateName } from "./planning.ts";

export const FEATURE_REQUEST = "baton.v1.feature_request" as const;

/**
 * What happens when a task fails (its work, its deadline, or one of its gates): `fix` rounds first for a
 * failed gate (a task for the fix role, given the gate's output, then the gate again), then `retry` (the
 * task's work again as a new attempt, after a growing backoff), then `then`.
 */
export const FailurePolicy = z.strictObject({
  retry: z.strictObject({
    /** Attempts in all, the first included (2 = one retry). */
    maxAttempts: z.int().min(1).max(20),
    /** Wait before the first retry; doubled for each further one (at most 1 h). */
    backoffSeconds: z.number().min(0).max(3600).default(5),
  }).optional(),
  fix: z.strictObject({
    maxRounds: z.int().min(1).max(10),
    role: Role.default("bugfix"),
  }).optional(),
  /**
   * When nothing above is left: `fail`; `escalate`; or
   * `rollback`: the integration branch goes back to the checkpoint before `rollbackTo` (a task; default: the feature's
   * start), the tasks after it are cancelled, and the feature fails with nothing half-done left on its branch.
   * `escalate` asks a person (question.asked): retry, skip, fail, or an instruction for another round (docs/planning.md).
   */
  then: z.enum(["fail", "escalate", "rollback"]).default("fail"),
  rollbackTo: Id.optional(),
});
export type FailurePolicy = z.infer<typeof FailurePolicy>;

/** A path relative to the workspace, inside it. */
export const WorkspacePath = z.string().min(1).max(500).refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), "must be a path inside the workspace");

export const TaskSpec = z.strictObject({
  id: Id,
  role: Role,
  title: z.string().min(1).max(500),
  instructions: z.string().max(100_000).optional(),
  dependsOn: z.array(Id).max(1000).optional(),
  /** Deadline from the moment a worker starts the task; past it the coordinator fails the task. */
  timeoutSeconds: z.int().min(1).max(7 * 24 * 3600).optional(),
  /** Gates (names from the operator's config) run in order after the task's work; all must pass before it counts as completed. */
  gates: z.array(GateName).max(20).optional(),
  /** Files the task is expected to change (globs, relative to the workspace): if none of them changed, it fails "no changes". */
  files: z.array(z.string().min(1).max(500)).max(100).optional(),
  /** The task must change something in the workspace, else it fails "no changes" (implied by `files`). */
  expectChanges: z.boolean().optional(),
  /** Overrides the feature's `onFailure` for this task. */
  onFailure: FailurePolicy.optional(),
  /**
   * Test-driven: the task runs as red (the qa role writes tests; `gate` must FAIL), green (this task's role
   * implements; `gate` must PASS), refactor (this role again; `gate` and `refactorGates` — default: the
   * task's `gates` — must PASS). Each phase is a task of its own: `<id>-red`, `<id>`, `<id>-refactor`.
   */
  tdd: z.strictObject({ gate: GateName, refactorGates: z.array(GateName).max(20).optional() }).optional(),
  /** The task may remove tests: its test gates then do not fail when fewer tests run than at the feature's start or their last pass. */
  allowTestRemoval: z.boolean().optional(),
  /** This task's own limits (docs/budgets.md); crossing one stops the task and pauses the feature. */
  budget: Budget.optional(),
  /** Overrides the feature's `isolation` for this task (docs/workspaces.md). */
  isolation: Isolation.optional(),
  /**
   * Artifacts the task must leave (paths relative to the workspace, e.g. `docs/openapi.yaml`): before its dependents
   * start they must exist on the integration branch and parse (OpenAPI 3, JSON Schema, JSON, YAML; others non-empty).
   */
  produces: z.array(WorkspacePath).max(50).optional(),
  /** A milestone this task belongs to: once every task naming it is integrated, the integration branch is tagged `baton/<feature>/<milestone>`. */
  milestone: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit").optional(),
  /** The stream it belongs to (`streams` may give a stream gates of its own, run when its last task completes). */
  stream: StreamName.optional(),
  /** Files it reads that another task produces: a plan is invalid unless their producer comes before it. */
  reads: z.array(WorkspacePath).max(50).optional(),
  /** The kind of change it makes (a selection rule's `kind`): plans are checked against the rules. */
  kind: ChangeKind.optional(),
});
export type TaskSpec = z.infer<typeof TaskSpec>;

export const FeatureRequest = z.strictObject({
  type: z.literal(FEATURE_REQUEST).optional().describe("optional version tag"),
  id: Id.optional().describe("client-chosen id; makes submission idempotent"),
  title: z.string().min(1).max(500),
  description: z.string().max(100_000).optional(),
  workspace: z
    .string()
    .refine((p) => p.startsWith("/"), "must be an absolute path")
    .optional(),
  maxParallel: z.int().min(1).max(1000).optional().describe("tasks of this feature running at once; default 1"),
  /** A task dispatched and not started by a worker within this long fails (no worker of its role took it). Default: the coordinator's `dispatchTimeoutSeconds`, else no limit. */
  dispatchTimeoutSeconds: z.int().min(1).max(7 * 24 * 3600).optional(),
  /** The tasks; with a `template`, tasks added to its steps (they may depend on step ids). */
  tasks: z.array(TaskSpec).min(1, "a feature needs at least one task").max(1000).optional(),
  /** A template (docs/planning.md) that expands into the tasks: its `parameters`, steps to `skip`, and other roles for steps (`stepRoles`). */
  template: TemplateName.optional(),
  parameters: z.record(ParamName, ParamValue).optional(),
  skip: z.array(Id).max(100).optional(),
  stepRoles: z.record(Id, Role).optional(),
  /** `auto`: the planner role plans the tasks from `goal` (default: the title and description), checked before anything runs. */
  plan: z.literal("auto").optional(),
  goal: z.string().min(1).max(20_000).optional(),
  /** `required`: nothing runs until a person approves the plan (`baton approve`); default: the coordinator's `planning.approval`. */
  approval: z.enum(["required", "none"]).optional(),
  /** Named streams of tasks (a task's `stream`) and their own gates. */
  streams: z.record(StreamName, StreamSpec).optional(),
  /** Gates run in order once every task is completed; all must pass before the feature completes. */
  gates: z.array(GateName).max(20).optional(),
  /** Default failure policy of its tasks; its `fix` also applies to the feature's own gates. Default: fail. */
  onFailure: FailurePolicy.optional(),
  /** Limits on what the whole feature may use (docs/budgets.md); crossing one pauses it (reason `budget`). */
  budget: Budget.optional(),
  /**
   * With a `workspace` (a git repository): `worktree` runs each task attempt in its own worktree, integrated into
   * `baton/<id>` in dependency order; `shared` runs tasks in the feature's one worktree, kept apart by file-scope
   * locks. Default: `worktree` when maxParallel > 1, else `shared` (docs/workspaces.md).
   */
  isolation: Isolation.optional(),
  /** `strict`: tasks whose `files` may overlap never run at once in worktree mode either (prevent conflicts rather than resolve them). */
  locks: z.enum(["resolve", "strict"]).optional(),
  /** `strict`: a task that changed files outside its `files` fails (SCOPE_VIOLATION); default `report`: a scope.violation event only. */
  scope: z.enum(["report", "strict"]).optional(),
  /** When the feature completes, fast-forward this branch to the integration branch (if it can be). */
  integrateInto: BranchName.optional(),
  /** Keep the branches of failed or cancelled tasks (their worktrees are removed) for a person to look at. */
  keepBranches: z.boolean().optional(),
});
export type FeatureRequest = z.infer<typeof FeatureRequest>;

export const SubmitReply = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), featureId: Id, duplicate: z.boolean().optional() }),
  z.object({ ok: z.literal(false), errors: z.array(ValidationIssue).min(1) }),
]);
export type SubmitReply = z.infer<typeof SubmitReply>;

/** Formats a zod issue path (defined in common.ts, which the codec uses without loading this module). */
export { formatPath };
/** The graph checks (graph.ts) and role checks (request-roles.ts) that checkFeatureValue runs. */
export { graphIssues, MAX_CYCLES_LISTED } from "./graph.ts";
export { IMPLICIT_ROLES, implicitRoles, roleIssues } from "./request-roles.ts";

export interface RequestLimits {
  /** Largest accepted request, in bytes of its JSON encoding. */
  maxBytes: number;
  /** Roles a task may name; undefined = any well-formed role. */
  roles?: readonly string[] | undefined;
  /** Gates a request may name (the operator's config); undefined = any well-formed name. */
  gates?: readonly string[] | undefined;
  /**
   * Expands a request naming a `template` into its tasks (shared/planning: the coordinator's templates and rules);
   * the checks then run on the expanded request. Without it, a template request is refused.
   */
  expand?: ((request: FeatureRequest) => { ok: true; value: FeatureRequest } | { ok: false; errors: ValidationIssue[] }) | undefined;
}

export type RequestCheck = { ok: true; value: FeatureRequest } | { ok: false; errors: ValidationIssue[]; id?: string };

/**
 * Validates raw bytes (or text) as a feature request: size, JSON syntax, schema, roles and graph.
 * Never throws. On failure it also returns the request's `id` when one could be read, so the
 * rejection can be reported on that feature's status subject.
 */
export function checkFeatureRequest(raw: Uint8Array | string, limits: RequestLimits): RequestCheck {
  const size = typeof raw === "string" ? Buffer.byteLength(raw) : raw.byteLength;
  if (size > limits.maxBytes) {
    return { ok: false, errors: [{ path: "(root)", message: `request is ${size} bytes; the limit is ${limits.maxBytes} bytes` }] };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8"));
  } catch (err) {
    return { ok: false, errors: [{ path: "(root)", message: `malformed JSON: ${(err as Error).message}` }] };
  }
  return checkFeatureValue(json, limits);
}

/** Same as checkFeatureRequest for an already-parsed value (size is not checked here). */
export function checkFeatureValue(json: unknown, limits: Omit<RequestLimits, "maxBytes">): RequestCheck {
  const maybeId =
    json && typeof json === "object" && "id" in json && Id.safeParse((json as { id: unknown }).id).success
      ? ((json as { id: string }).id)
      : undefined;
  const parsed = FeatureRequest.safeParse(json);
  const errors: ValidationIssue[] = parsed.success ? [] : parsed.error.issues.flatMap((issue) => schemaIssues(issue));
  let request = parsed.success ? parsed.data : undefined;
  if (request) {
    errors.push(...sourceIssues(request));
    if (request.template && !errors.length) {
      const expanded = limits.expand?.(request) ?? { ok: false as const, errors: [{ path: "template", message: "this coordinator has no templates" }] };
      if (expanded.ok) request = expanded.value;
      else errors.push(...expanded.errors);
    }
  }
  // Graph and role checks run even when the schema failed, on whatever tasks are well-formed
  // enough, so the sender sees every problem at once.
  const tasks = request ? (request.tasks ?? []) : looseTasks(json);
  const roleRequest: RoleRequest = request ? { ...request, tasks: request.tasks ?? [] } : looseRoleRequest(json);
  if (limits.roles) errors.push(...roleIssues(limits.roles, tasks.map((task) => task.role), roleRequest));
  if (limits.roles && request?.plan === "auto" && !limits.roles.includes(PLANNER_ROLE)) {
    errors.push({ path: "plan", message: `plan: "auto" needs the ${PLANNER_ROLE} role, and the config defines none: add roles.${PLANNER_ROLE} (an agent, e.g. agent: claude-code; docs/planning.md)` });
  }
  if (limits.gates) errors.push(...gateIssues(request ?? json, limits.gates));
  errors.push(...graphIssues(tasks));
  if (!request || errors.length) return maybeId ? { ok: false, errors, id: maybeId } : { ok: false, errors };
  return { ok: true, value: request };
}

/** Where the tasks come from: `tasks`, a `template` (plus extra `tasks`), or `plan: auto`; and the fields that need one. */
function sourceIssues(request: FeatureRequest): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!request.tasks && !request.template && !request.plan) issues.push({ path: "tasks", message: 'a feature needs tasks, a template, or plan: "auto" (with a goal)' });
  if (request.plan && (request.tasks || request.template)) issues.push({ path: "plan", message: 'plan: "auto" asks the planner for the tasks: leave out tasks and template' });
  if (request.goal && !request.plan) issues.push({ path: "goal", message: 'a goal is for the planner: add plan: "auto" (or leave the goal out)' });
  for (const field of ["parameters", "skip", "stepRoles"] as const) {
    if (request[field] !== undefined && !request.template) issues.push({ path: field, message: `${field} applies to a template: add template` });
  }
  return issues;
}

/** A zod issue as validation issues: one per unknown field, each with the nearest known field ("did you mean"). */
function schemaIssues(issue: z.core.$ZodIssue): ValidationIssue[] {
  if (issue.code !== "unrecognized_keys") return [{ path: formatPath(issue.path), message: issue.message }];
  const known = fieldsAt(FeatureRequest, issue.path);
  return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: `unknown field "${key}"${didYouMean(key, known)}` }));
}

/** The tasks of an invalid request, reduced to what graph checks need (ids and string deps). */
function looseTasks(json: unknown): { id?: string | undefined; role?: string | undefined; dependsOn?: (string | undefined)[] }[] {
  const raw = json && typeof json === "object" ? (json as { tasks?: unknown }).tasks : undefined;
  if (!Array.isArray(raw)) return [];
  // Invalid values become undefined in place (the schema already reported them), so indices match the request.
  const valid = (v: unknown): string | undefined => (Id.safeParse(v).success ? (v as string) : undefined);
  return raw.map((task) => {
    if (!task || typeof task !== "object") return {};
    const { id, role, dependsOn } = task as Record<string, unknown>;
    return { id: valid(id), role: valid(role), ...(Array.isArray(dependsOn) ? { dependsOn: dependsOn.map(valid) } : {}) };
  });
}

/** JSON with every object's keys sorted (undefined fields dropped, as JSON.stringify does): one text per value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.keys(inner).sort().map((key) => [key, (inner as Record<string, unknown>)[key]]))
      : inner);
}

/**
 * The fingerprint of a request: sha256 (hex) of the canonical JSON of the normalised request — as
 * FeatureRequest parsed it, defaults filled in — without its optional `type` tag. Two submissions under one id
 * are "the same request" exactly when their hashes are equal. Pure.
 */
export function requestHash(request: FeatureRequest): string {
  const { type: _tag, ...rest } = request;
  return createHash("sha256").update(canonicalJson(rest)).digest("hex");
}
