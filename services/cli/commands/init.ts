// `baton init [DIR] [--roles a,b,…] [--force]`: scaffolds Baton into a project — a config, one example agent per
// role, an example feature request and a git workspace — so that `baton up` and `baton submit` run on it at once.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Role } from "../../../shared/protocol/common.ts";
import { UsageError, type CliArgs } from "../args.ts";
import { BATON_GITIGNORE, CONFIG_FILE, configYaml, DEFAULT_INIT_ROLES, detectProject, EXAMPLE_ID, FEATURE_FILE, featureYaml, projectGitignore, type Project } from "../init/project.ts";
import { bold, dim, green, yellow } from "../render.ts";

interface Scaffold {
  /** Relative to the project folder. */
  path: string;
  content: string;
  executable?: boolean;
}

/** The folder of the agent templates (services/cli/init/templates), found above this module wherever it runs from. */
function templatesDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    for (const candidate of [join(dir, "templates"), join(dir, "init", "templates"), join(dir, "services", "cli", "init", "templates")]) {
      if (existsSync(join(candidate, "reviewer.mjs"))) return candidate;
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the agent templates (services/cli/init/templates) above ${from}`);
  }
}

/** `--roles a,b`: role names, deduplicated in order; a UsageError names a bad one. */
export function parseRoles(spec: string | undefined): string[] {
  if (spec === undefined) return [...DEFAULT_INIT_ROLES];
  const roles = [...new Set(spec.split(",").map((role) => role.trim()).filter(Boolean))];
  if (roles.length === 0) throw new UsageError("--roles needs at least one role name, e.g. --roles backend,qa,reviewer");
  for (const role of roles) {
    if (!Role.safeParse(role).success) throw new UsageError(`--roles: "${role}" is not a role name ([A-Za-z0-9_-]{1,64})`);
  }
  return roles;
}

/** The agent for `role`: the qa and reviewer templates for those roles, the general one (named for the role) for any other. */
function agentFor(role: string, templates: string): Scaffold {
  const template = role === "qa" || role === "reviewer" ? role : "agent";
  const text = readFileSync(join(templates, `${template}.mjs`), "utf8").replaceAll("__ROLE__", role);
  return { path: `.baton/agents/${role}.mjs`, content: text, executable: true };
}

/** Every file `baton init` writes, in the order it writes them. */
export function plan(project: Project, roles: readonly string[], templates: string): Scaffold[] {
  return [
    { path: CONFIG_FILE, content: configYaml(project, roles) },
    ...roles.map((role) => agentFor(role, templates)),
    { path: FEATURE_FILE, content: featureYaml(project, roles) },
    { path: ".baton/.gitignore", content: BATON_GITIGNORE },
  ];
}

/** Writes each file that does not exist (or every one with `force`); returns what was written and what skipped. */
function writeAll(dir: string, files: readonly Scaffold[], force: boolean): { written: string[]; skipped: string[] } {
  const written: string[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const path = join(dir, file.path);
    if (existsSync(path) && !force) {
      skipped.push(file.path);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
    if (file.executable) chmodSync(path, 0o755);
    written.push(file.path);
  }
  return { written, skipped };
}

function git(dir: string, args: string[]): { ok: boolean; out: string } {
  const run = spawnSync("git", args, { cwd: dir, encoding: "utf8" });
  return { ok: !run.error && run.status === 0, out: `${run.stdout ?? ""}${run.stderr ?? run.error?.message ?? ""}`.trim() };
}

/**
 * Makes `dir` a git repository with a first commit when it is not in one (a .gitignore for the stack first, if it
 * has none; an existing .gitignore is kept even with --force). An existing repository is left as it is: nothing is staged or committed there. Returns a line to print.
 */
function ensureRepository(dir: string, project: Project): string {
  if (git(dir, ["rev-parse", "--is-inside-work-tree"]).ok) {
    return `git: ${dir} is in a git repository already; commit the new files when you like (\`git add -A && git commit -m "baton init"\`)`;
  }
  if (spawnSync("git", ["--version"]).error) return yellow("git is not installed: the reviewer will see no diff until the workspace is a git repository");
  const ignore = projectGitignore(project);
  if (ignore) writeAll(dir, [{ path: ".gitignore", content: ignore }], false);
  const init = git(dir, ["init", "-q"]);
  if (!init.ok) return yellow(`git init failed: ${init.out}`);
  git(dir, ["add", "-A"]);
  // A machine without a git identity still gets its first commit, under Baton's name.
  const identity = git(dir, ["config", "user.email"]).ok ? [] : ["-c", "user.name=baton init", "-c", "user.email=baton@localhost"];
  const commit = git(dir, [...identity, "commit", "-q", "-m", "baton init"]);
  return commit.ok ? `git: created a repository in ${dir} with a first commit (features are compared against it)` : yellow(`git commit failed: ${commit.out}`);
}

/** The commands to run next, from the folder `baton init` ran in. */
function nextSteps(dir: string): string[] {
  const into = relative(process.cwd(), dir);
  return [
    ...(into ? [`cd ${into.includes(" ") ? JSON.stringify(into) : into}`] : []),
    `baton up                                          ${dim(`# in another terminal, in this folder (it reads ${CONFIG_FILE}): nats-server if none answers, coordinator, workers`)}`,
    `baton submit ${FEATURE_FILE} --watch   ${dim("# follows the feature to its end")}`,
    `baton status ${EXAMPLE_ID}                              ${dim("# its tasks, states and timings")}`,
  ];
}

export async function run(args: CliArgs): Promise<number> {
  if (args.positionals.length > 1) throw new UsageError("init takes one folder: baton init [DIR] [--roles a,b] [--force]");
  const dir = resolve(args.positionals[0] ?? ".");
  const roles = parseRoles(args.values.roles);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  mkdirSync(dir, { recursive: true });
  const project = detectProject(dir);
  const templates = templatesDir(dirname(fileURLToPath(import.meta.url)));
  const { written, skipped } = writeAll(dir, plan(project, roles, templates), args.values.force);
  console.log(`baton init: ${project.name}${project.preset ? ` (${project.preset} project: gatePresets [${project.preset}])` : ""}, roles ${roles.join(", ")}`);
  for (const path of written) console.log(`  ${green("wrote")}   ${path}`);
  for (const path of skipped) console.log(`  ${yellow("skipped")} ${path} ${dim("(exists; --force overwrites it)")}`);
  console.log(ensureRepository(dir, project));
  console.log(`\nthe agents in .baton/agents/ are examples: plug your coding agent in there (see the comment at the top of each)`);
  console.log(`${bold("next:")}\n${nextSteps(dir).map((line) => `  ${line}`).join("\n")}`);
  return 0;
}
