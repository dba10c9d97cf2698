// `baton init`'s view of a project (its stack, its test command) and the text of the files it writes there:
// baton.config.yaml, the example feature request, and the .gitignore entries for Baton's own run-time files.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { CONFIG_FILE_NAMES } from "../../../shared/config.ts";
import type { GatePresetName } from "../../../shared/gates/presets.ts";

export const DEFAULT_INIT_ROLES = ["backend", "qa", "reviewer"] as const;
/** The first name every command looks for in its working folder (shared/config.ts), so no --config is needed there. */
export const CONFIG_FILE = CONFIG_FILE_NAMES[0];
export const FEATURE_FILE = ".baton/features/example.yaml";
export const EXAMPLE_ID = "example";
/** The example request's `workspace`: the project folder, relative to FEATURE_FILE (`baton submit` resolves it so). */
export const WORKSPACE_FROM_FEATURE = "../..";

export interface Project {
  name: string;
  /** The gate preset for the stack found (package.json → node, …), if any. */
  preset?: GatePresetName | undefined;
  /** Whether that preset's `test` gate can pass here: the project has a test command of its own. */
  testGate: boolean;
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Looks at the files in `dir` (never runs the project's code; `pytest --version` at most). */
export function detectProject(dir: string): Project {
  const has = (name: string) => existsSync(join(dir, name));
  if (has("package.json")) {
    const pkg = readJson(join(dir, "package.json"));
    const test = (pkg?.scripts as Record<string, unknown> | undefined)?.test;
    const name = typeof pkg?.name === "string" ? pkg.name : basename(dir);
    return { name, preset: "node", testGate: typeof test === "string" && !/no test specified/.test(test) };
  }
  if (["pyproject.toml", "setup.py", "setup.cfg", "requirements.txt"].some(has)) {
    const pytestConfig = ["pytest.ini", "conftest.py", "tests"].some(has);
    return { name: basename(dir), preset: "python", testGate: pytestConfig && !spawnSync("pytest", ["--version"]).error };
  }
  if (has("mix.exs")) return { name: basename(dir), preset: "elixir", testGate: has("test") };
  return { name: basename(dir), testGate: false };
}

const yamlString = (text: string) => JSON.stringify(text);

/** baton.config.yaml: one exec role per name, running its agent in .baton/agents/, the stack's gate preset. */
export function configYaml(project: Project, roles: readonly string[]): string {
  const lines = [
    `# Baton configuration for ${project.name}, written by \`baton init\`. Start the stack with`,
    `#   baton up      (in this folder: every baton command reads ${CONFIG_FILE} from the folder it runs in, unless`,
    `#                  --config FILE or BATON_CONFIG names another)`,
    "# Each role maps to the program that does its work: here the example agents in .baton/agents/ — the place to",
    "# plug in your coding agent (see the comment at the top of each). `exec` is an argv, run without a shell;",
    "# ./ paths resolve against this file's folder. JSON Schema of this file: docs/schemas/config-file.json in Baton.",
    "",
    "# Features run in this folder (a git repository: the reviewer sees the change since a feature started).",
    "workspace: .",
    "",
    "roles:",
  ];
  for (const role of roles) {
    lines.push(`  ${role}:`, `    exec: ["node", "./.baton/agents/${role}.mjs"]`, "    timeoutSeconds: 1800");
    lines.push(`    # env: { AGENT_CMD: "your-agent-cli --its-flags" }   # a command that reads the prompt on stdin`);
  }
  lines.push(
    "# `baton up` also starts one worker of the built-in role `integrator`: it prepares each feature's integration branch",
    "# baton/<feature>, merges finished tasks into it (one checkpoint commit each) and rolls back; each task runs in a git",
    "# worktree of its own, made by the worker that runs it.",
    "# It needs no entry here (docs/workspaces.md in Baton).",
  );
  lines.push("");
  if (project.preset) {
    lines.push(`# Named quality gates a feature may ask for (\`gates: [test]\`), run by qa workers: the ${project.preset} preset`);
    lines.push("# gives test, coverage, lint, format and types, each with this stack's usual tool (docs/gates.md in Baton).");
    lines.push(`gatePresets: [${project.preset}]`);
  } else {
    lines.push("# Named quality gates a feature may ask for (`gates: [test]`), run by qa workers (docs/gates.md in Baton):");
    lines.push("# gates:");
    lines.push('#   test: { run: ["make", "test"], timeoutSeconds: 900 }');
  }
  return `${lines.join("\n")}\n`;
}

/** The example request: a note per author role (each reviewed when a reviewer is named), the tests as a gate. */
export function featureYaml(project: Project, roles: readonly string[]): string {
  const authors = roles.filter((role) => role !== "qa" && role !== "reviewer");
  const review = roles.includes("reviewer");
  const testGate = project.testGate && roles.includes("qa");
  const lines = [
    `# An example feature request for ${project.name}, written by \`baton init\`. Submit it with`,
    `#   baton submit ${FEATURE_FILE} --watch`,
    "# Each task goes to a worker of its role; `dependsOn` orders them, `files` is what a task must change, and",
    "# `gates` must pass before a task (or, at the end, the feature) counts as done. A request runs once per id:",
    "# give a new request its own id, or leave `id` out to have one generated.",
    `id: ${EXAMPLE_ID}`,
    `title: ${yamlString(`Baton's first feature on ${project.name}`)}`,
    "# The project folder (relative to this file), a git repository: each task works in a worktree of its own and is",
    `# merged into the branch baton/${EXAMPLE_ID}; \`git log baton/${EXAMPLE_ID}\` shows one checkpoint commit per task.`,
    `workspace: ${WORKSPACE_FROM_FEATURE}`,
    "maxParallel: 2",
    "tasks:",
  ];
  let previous: string | undefined;
  for (const role of authors) {
    lines.push(`  - id: ${role}`, `    role: ${role}`, `    title: ${yamlString(`Write down what the ${role} role would do in ${project.name}`)}`);
    lines.push(`    instructions: ${yamlString(`Describe, in docs/baton/${role}.md, the first change the ${role} role would make to this project.`)}`);
    if (previous) lines.push(`    dependsOn: [${previous}]`);
    lines.push(`    files: ["docs/baton/**"]`);
    if (review) lines.push("    gates: [review]        # the reviewer approves the change, or asks for a fix round");
    previous = role;
  }
  const extra = (id: string, role: string, title: string) => {
    lines.push(`  - id: ${id}`, `    role: ${role}`, `    title: ${yamlString(title)}`);
    if (previous) lines.push(`    dependsOn: [${previous}]`);
  };
  if (roles.includes("qa") && (!testGate || authors.length === 0)) extra("tests", "qa", `Run ${project.name}'s tests`);
  if (review && authors.length === 0) extra("review", "reviewer", `Look over the changes in ${project.name}`);
  if (testGate) lines.push(`gates: [test]              # the project's own tests (the ${project.preset} preset's \`test\` gate) must pass at the end`);
  return `${lines.join("\n")}\n`;
}

/** .baton/.gitignore: what `baton up` and the workers write at run time, kept out of the workspace's diffs. */
export const BATON_GITIGNORE = "# Written by `baton init`: run-time files of `baton up` and the workers, never part of a change.\nlogs/\nnats/\nworkspaces/\n";

/** A .gitignore for a repository `baton init` creates, so that its first commit leaves out installed dependencies. */
export function projectGitignore(project: Project): string {
  const byPreset: Record<GatePresetName, string[]> = {
    node: ["node_modules/", "coverage/"],
    python: ["__pycache__/", ".venv/", ".pytest_cache/", "coverage.xml"],
    elixir: ["_build/", "deps/", "cover/"],
  };
  return `${(project.preset ? byPreset[project.preset] : []).join("\n")}\n`.trimStart();
}
