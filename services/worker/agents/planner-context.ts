// What the worker adds to a planner run's brief (docs/planning.md): the role catalogue (shipped roles/, the
// operator's `planning.roles` folders, the workspace's .claude/agents/ and .baton/roles/) and a summary of the
// workspace. Agents get it in their prompt (planner-prompt.ts); exec planners in `plannerContext` on stdin.
import { loadRoleCatalogue } from "../../../shared/roles/index.ts";
import type { Logger } from "../../../shared/logging.ts";
import type { PlanningBrief, TaskAssigned } from "../../../shared/protocol/index.ts";
import type { ExecutorDeps } from "../runners/types.ts";
import { renderWorkspaceSummary, summarizeWorkspace, type WorkspaceSummary } from "../workspace-summary.ts";
import { buildPlannerPrompt, type RoleSummary } from "./planner-prompt.ts";

export interface PlannerContext {
  /** The roles a plan may name (only `planning.roles` when the brief lists them), with what they produce and read. */
  roles: RoleSummary[];
  workspace: WorkspaceSummary;
  /** Role files that did not load, as `file:line field: message` (the others load anyway). */
  problems: string[];
}

/**
 * Reads the catalogue and summarises `dir` (the run's workspace). Never rejects: a catalogue that cannot be read
 * gives no roles and a problem.
 */
export async function plannerContext(task: Pick<TaskAssigned, "planning">, dir: string, deps: Pick<ExecutorDeps, "roleDirs">): Promise<PlannerContext> {
  const workspace = await summarizeWorkspace(dir);
  let loaded: ReturnType<typeof loadRoleCatalogue>;
  try {
    loaded = loadRoleCatalogue({ dirs: deps.roleDirs ?? [], workspace: dir });
  } catch (err) {
    return { roles: [], workspace, problems: [`the role files could not be read: ${(err as Error).message}`] };
  }
  const allowed = task.planning?.roles ? new Set(task.planning.roles) : undefined;
  const roles = Object.values(loaded.roles)
    .filter((role) => !allowed || allowed.has(role.name))
    .sort((left, right) => left.name.localeCompare(right.name))
    .map((role): RoleSummary => ({
      name: role.name,
      ...(role.description ? { description: role.description } : {}),
      ...(role.produces?.length ? { produces: role.produces } : {}),
      ...(role.reads?.length ? { reads: role.reads } : {}),
      ...(role.gates?.length ? { gates: role.gates } : {}),
    }));
  const problems = loaded.problems.map((problem) => `${problem.file}${problem.line ? `:${problem.line}` : ""}${problem.field ? ` ${problem.field}` : ""}: ${problem.message}`);
  return { roles, workspace, problems };
}

/**
 * The whole prompt of a planner run in `dir`, after the role's own prompt (role-prompt.ts: the config's prompt file,
 * else the planner role file's body); role files that did not load are logged. Never rejects.
 */
export async function plannerPromptFor(
  task: TaskAssigned & { planning: PlanningBrief }, dir: string, deps: Pick<ExecutorDeps, "roleDirs">,
  options: { rolePrompt: string | undefined; answer: "fenced" | "field"; log: Logger },
): Promise<string> {
  const context = await plannerContext(task, dir, deps);
  if (context.problems.length) options.log.warn({ problems: context.problems.slice(0, 20) }, "some role files did not load; the planner is shown the others");
  return buildPlannerPrompt({
    rolePrompt: options.rolePrompt, task, roles: context.roles, workspace: renderWorkspaceSummary(context.workspace), answer: options.answer,
  });
}
