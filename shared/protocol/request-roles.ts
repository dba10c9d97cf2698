// Which roles a feature request needs a worker for — its tasks' own and the implicit ones (gate runs, review
// verdicts, fix tasks, test-driven red phases) — and the problems when the configuration defines none of them.
import type { ValidationIssue } from "./common.ts";
import { REVIEW_GATE } from "./gates.ts";
import { didYouMean } from "./suggest.ts";

/** Roles the coordinator gives work to on its own (they mirror services/coordinator/domain/dispatch.ts; a test keeps them equal). */
export const IMPLICIT_ROLES = {
  /** Every gate but `review` runs on a qa worker; so does a test-driven task's red phase. */
  gate: "qa",
  /** The `review` gate is the reviewer role's verdict. */
  review: "reviewer",
  /** Fix tasks (`onFailure.fix`), and a feature review's requested changes, default to this role. */
  fix: "bugfix",
} as const;

/** The parts of a (schema-valid) request the role checks read. */
interface FixPolicy {
  fix?: { role?: string | undefined } | undefined;
}
interface RoleTask {
  role: string;
  gates?: readonly string[] | undefined;
  tdd?: { gate: string; refactorGates?: readonly string[] | undefined } | undefined;
  onFailure?: FixPolicy | undefined;
}
export interface RoleRequest {
  tasks: readonly RoleTask[];
  gates?: readonly string[] | undefined;
  onFailure?: FixPolicy | undefined;
}

/** One role the request needs: where (a JSON path) and why, in words. */
interface Need {
  role: string;
  path: string;
  why: string;
}

/** The implicit roles of a request, each with the first place that needs it. Pure. */
export function implicitRoles(req: RoleRequest): Need[] {
  const needs: Need[] = [];
  const gate = (name: string, path: string) =>
    name === REVIEW_GATE
      ? needs.push({ role: IMPLICIT_ROLES.review, path, why: `gate "${REVIEW_GATE}" is a verdict of role "${IMPLICIT_ROLES.review}"` })
      : needs.push({ role: IMPLICIT_ROLES.gate, path, why: `gate "${name}" runs on role "${IMPLICIT_ROLES.gate}"` });
  const fix = (policy: FixPolicy | undefined, path: string) => {
    if (policy?.fix) needs.push({ role: policy.fix.role ?? IMPLICIT_ROLES.fix, path: `${path}.fix.role`, why: `fix tasks (${path}.fix) run on role "${policy.fix.role ?? IMPLICIT_ROLES.fix}"` });
  };
  fix(req.onFailure, "onFailure");
  (req.gates ?? []).forEach((name, index) => {
    gate(name, `gates[${index}]`);
    if (name === REVIEW_GATE && !req.onFailure?.fix) {
      needs.push({ role: IMPLICIT_ROLES.fix, path: `gates[${index}]`, why: `the feature's "${REVIEW_GATE}" gate sends requested changes to role "${IMPLICIT_ROLES.fix}" (onFailure.fix.role)` });
    }
  });
  req.tasks.forEach((task, index) => {
    (task.gates ?? []).forEach((name, gateIndex) => gate(name, `tasks[${index}].gates[${gateIndex}]`));
    if (task.tdd) {
      needs.push({ role: IMPLICIT_ROLES.gate, path: `tasks[${index}].tdd`, why: `the red phase of a test-driven task runs on role "${IMPLICIT_ROLES.gate}"` });
      gate(task.tdd.gate, `tasks[${index}].tdd.gate`);
      (task.tdd.refactorGates ?? []).forEach((name, gateIndex) => gate(name, `tasks[${index}].tdd.refactorGates[${gateIndex}]`));
    }
    fix(task.onFailure, `tasks[${index}].onFailure`);
  });
  return needs;
}

/**
 * Problems with the roles of a request when the configuration names which roles exist: each task whose role
 * is unknown (with a "did you mean"), and each implicit role nobody defines, once, at the first place that needs it.
 * `looseRoles`: the tasks' own roles (undefined where not well-formed); `req`: the request (looseRoleRequest if invalid).
 */
export function roleIssues(known: readonly string[], looseRoles: readonly (string | undefined)[], req: RoleRequest): ValidationIssue[] {
  const knownSet = new Set(known);
  const list = known.length ? `known roles: ${known.join(", ")}` : "the configuration defines no roles";
  const issues: ValidationIssue[] = [];
  looseRoles.forEach((role, index) => {
    if (role !== undefined && !knownSet.has(role)) issues.push({ path: `tasks[${index}].role`, message: `unknown role "${role}"${didYouMean(role, known)} (${list})` });
  });
  const reported = new Set<string>();
  for (const need of implicitRoles(req)) {
    if (knownSet.has(need.role) || reported.has(need.role)) continue;
    reported.add(need.role);
    issues.push({ path: need.path, message: `${need.why}, which the configuration does not define (${list}); add it under \`roles:\` or \`knownRoles:\`` });
  }
  return issues;
}

/** The role-relevant parts of a request that failed its schema, keeping what is well-formed (positions kept). */
export function looseRoleRequest(json: unknown): RoleRequest {
  const record = (value: unknown): Record<string, unknown> => (value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
  const names = (value: unknown): string[] | undefined => (Array.isArray(value) ? value.map((name) => (typeof name === "string" ? name : "")) : undefined);
  const policy = (value: unknown): FixPolicy | undefined => {
    const fix = record(value).fix;
    if (!fix || typeof fix !== "object") return undefined;
    const role = record(fix).role;
    return { fix: { role: typeof role === "string" ? role : undefined } };
  };
  const root = record(json);
  const tasks = Array.isArray(root.tasks) ? root.tasks.map(record) : [];
  return {
    gates: names(root.gates), onFailure: policy(root.onFailure),
    tasks: tasks.map((task) => {
      const tdd = record(task.tdd);
      return {
        role: typeof task.role === "string" ? task.role : "", gates: names(task.gates), onFailure: policy(task.onFailure),
        ...(typeof tdd.gate === "string" ? { tdd: { gate: tdd.gate, refactorGates: names(tdd.refactorGates) } } : {}),
      };
    }),
  };
}
