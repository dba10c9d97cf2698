// `baton roles [--json] [--workspace DIR]`: the role catalogue as a worker and a planner would load it for a workspace
// (Baton's roles/, the config's planning.roles, the workspace's .claude/agents/ and .baton/roles/): each role, where
// it came from and what it overrides, then every file that did not load, by file, line and field. No NATS needed.
import { resolve } from "node:path";
import { loadConfig } from "../../../shared/config.ts";
import { loadRoleCatalogue, type RoleCatalogue, type RoleFile, type RoleProblem } from "../../../shared/roles/index.ts";
import type { CliArgs } from "../args.ts";
import { bold, dim, red, yellow } from "../colors.ts";

/** One role as `--json` prints it: the file as loaded, plus the files of the same name it replaced (lowest first). */
export type ListedRole = RoleFile & { overrides: string[] };

/** The catalogue as a list sorted by name, each role with what it overrides. Pure. */
export function listRoles(catalogue: RoleCatalogue): ListedRole[] {
  return Object.values(catalogue.roles)
    .sort((left, right) => left.name.localeCompare(right.name))
    .map((role) => ({ ...role, overrides: overriddenBy(catalogue, role) }));
}

/** Every file of the same name that a later one replaced (the winning file replaced the last of them). */
function overriddenBy(catalogue: RoleCatalogue, role: RoleFile): string[] {
  return catalogue.overridden.filter((entry) => entry.name === role.name).map((entry) => entry.source);
}

/** `file:line: field: message`, leaving out what is not known. Pure. */
export function formatProblem(problem: RoleProblem): string {
  const where = problem.line !== undefined ? `${problem.file}:${problem.line}` : problem.file;
  return `${where}: ${problem.field ? `${problem.field}: ` : ""}${problem.message}`;
}

/** The human listing: a block per role, then the problems. Pure. */
export function renderRoles(workspace: string, roles: readonly ListedRole[], problems: readonly RoleProblem[]): string[] {
  const lines = [bold(`roles for ${workspace}`) + dim(` (${roles.length} loaded)`)];
  for (const role of roles) {
    lines.push("", `${bold(role.name)}  ${dim(role.origin)}  ${role.source}`);
    if (role.description) lines.push(`  ${role.description.length > 200 ? `${role.description.slice(0, 199)}…` : role.description}`);
    const facts = [
      role.agent ? `agent ${role.agent} ${dim("(shown only: the worker's config chooses the agent)")}` : undefined,
      role.model ? `model ${role.model}` : undefined,
      role.tools?.length ? `tools ${role.tools.join(", ")}` : undefined,
      role.gates?.length ? `gates ${role.gates.join(", ")}` : undefined,
      role.maxConcurrency !== undefined ? `maxConcurrency ${role.maxConcurrency} ${dim("(shown only)")}` : undefined,
      role.produces?.length ? `produces ${role.produces.join(", ")}` : undefined,
      role.reads?.length ? `reads ${role.reads.join(", ")}` : undefined,
      role.prompt ? undefined : yellow("empty prompt"),
    ].filter((fact): fact is string => fact !== undefined);
    for (const fact of facts) lines.push(`  ${fact}`);
    for (const source of role.overrides) lines.push(`  ${dim("overrides")} ${source}`);
  }
  if (problems.length) {
    lines.push("", red(bold(`${problems.length} problem(s); these files were not loaded (the others were):`)));
    for (const problem of problems) lines.push(`  ${formatProblem(problem)}`);
  }
  return lines;
}

/** Lists the catalogue; 0 even when some files have problems, 1 only when it cannot run (an invalid config). */
export async function run(args: CliArgs): Promise<number> {
  const cfg = loadConfig({ file: args.values.config });
  const workspace = resolve(args.values.workspace ?? cfg.workspace ?? process.cwd());
  const catalogue = loadRoleCatalogue({ dirs: cfg.planning.roles, workspace });
  const roles = listRoles(catalogue);
  if (args.values.json) console.log(JSON.stringify({ workspace, roles, problems: catalogue.problems }, null, 2));
  else console.log(renderRoles(workspace, roles, catalogue.problems).join("\n"));
  return 0;
}
