// What the scripted model does in the agent demo, per task of examples/features/api-first.yaml: the work is captured
// from the exec agents (examples/agents), each run on a scratch copy of the sample app in the feature's order, so the
// real CLI writes exactly the files the exec demo writes. The result is dialect-free (scripts.ts turns it into turns).
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import { loadConfig } from "../../shared/config.ts";
import { FeatureRequest, type TaskSpec } from "../../shared/protocol/index.ts";

/** One step of an agent's work, whatever its CLI calls it. */
export type Step =
  | { kind: "write"; path: string; content: string }
  | { kind: "edit"; path: string; before: string; after: string }
  | { kind: "run"; command: string };

/** One run of the agent on a task: its steps, then its final message. */
export interface Round {
  steps: Step[];
  summary: string;
}

/**
 * A conversation the model server plays: used for prompts containing `match`, its rounds one after the other (a
 * review fix continues the task's session: the same conversation, the next round).
 */
export interface DemoScript {
  match: string;
  rounds: Round[];
}

/** How the worker's prompt names the task (services/worker/agents/prompt.ts): scripts match on it. */
const TASK_HEADING = "# Your task: ";

/** What the fix round is told; the exec backend agent knows this one request (operationId tags). */
const REVIEW_COMMENT = "src/todos.js: tag each handler with the OpenAPI operationId it implements (/** @operationId listTodos */)";
const FIX_SUMMARY = "Tagged each handler in src/todos.js with the OpenAPI operationId it implements (/** @operationId … */), as the review asked.";

/** The suite the agents run after their change (tests, and each phase of a test-driven task). */
const TEST_COMMAND = "npm test";

/** One task an exec agent runs during the capture. */
export interface Work {
  key: string;
  role: string;
  title: string;
  instructions: string;
  /** Keys of the works whose results this one is handed. */
  handoffsFrom: string[];
  runs: string[];
  summary?: string;
}

/**
 * The works of the feature's tasks for `roles`, in an order that respects their dependencies (the file's order), and
 * the scripts to play: each a `match` phrase and the works whose rounds it plays, in the order the server tries them.
 * Pure.
 */
export function demoPlan(tasks: readonly TaskSpec[], roles: ReadonlySet<string>): { works: Work[]; scripts: { match: string; keys: string[] }[] } {
  const works: Work[] = [];
  const scripts: { match: string; keys: string[] }[] = [];
  for (const spec of tasks.filter((task) => roles.has(task.role))) {
    const deps = spec.dependsOn ?? [];
    const base = { role: spec.role, instructions: spec.instructions ?? "", handoffsFrom: deps };
    if (spec.tdd) {
      // the coordinator's phases (request-to-tasks.ts): red by qa, green by the task's role, refactor
      const red = { ...base, key: `${spec.id}-red`, role: "qa", title: `${spec.title} — red: write failing tests`, runs: [TEST_COMMAND] };
      const green = { ...base, key: spec.id, title: spec.title, runs: [TEST_COMMAND], handoffsFrom: [red.key] };
      const refactor = { ...base, key: `${spec.id}-refactor`, title: `${spec.title} — refactor`, runs: [TEST_COMMAND], handoffsFrom: [spec.id] };
      works.push(red, green, refactor);
      // green's title is the start of the others': the more specific scripts come first
      scripts.push({ match: `${TASK_HEADING}${spec.title} — red`, keys: [red.key] }, { match: `${TASK_HEADING}${spec.title} — refactor`, keys: [refactor.key] }, { match: `${TASK_HEADING}${spec.title}`, keys: [green.key] });
      continue;
    }
    works.push({ ...base, key: spec.id, title: spec.title, runs: spec.role === "qa" ? [TEST_COMMAND] : [] });
    if (!spec.gates?.includes("review")) {
      scripts.push({ match: `${TASK_HEADING}${spec.title}`, keys: [spec.id] });
      continue;
    }
    const fix: Work = {
      ...base, key: `${spec.id}-fix-1`, title: `Fix gate review for task ${spec.id} (round 1)`, runs: [], summary: FIX_SUMMARY,
      instructions: `The gate "review" failed for task "${spec.id}".\n\nThe reviewer's comments:\n- ${REVIEW_COMMENT}`,
    };
    works.push(fix);
    // a resumed fix round continues the task's conversation (Codex's request then holds both prompts: this one first)
    scripts.push({ match: `${TASK_HEADING}${spec.title}`, keys: [spec.id, fix.key] }, { match: `${TASK_HEADING}Fix gate review for task ${spec.id}`, keys: [fix.key] });
  }
  return { works, scripts };
}

/**
 * Runs the exec agents of `roles` for the feature's tasks on a copy of the sample app in `scratch` (removed after),
 * and returns the scripts that make an agent CLI do the same work. Rejects, with the agent's output, when one fails.
 */
export async function captureDemoScripts(opts: { root: string; config: string; feature: string; roles: readonly string[]; scratch: string }): Promise<DemoScript[]> {
  const config = loadConfig({ file: opts.config, env: {} });
  const feature = FeatureRequest.parse(parseYaml(readFileSync(opts.feature, "utf8")));
  const { works, scripts } = demoPlan(feature.tasks ?? [], new Set(opts.roles));
  const workspace = join(opts.scratch, "workspace");
  cpSync(join(opts.root, "examples/sample-app"), workspace, { recursive: true, filter: (src) => !src.includes("node_modules") });
  const rounds = new Map<string, Round>();
  const results = new Map<string, { summary?: string; handoff?: unknown }>();
  try {
    for (const work of works) {
      const argv = config.roles[work.role]?.exec;
      if (!argv) throw new Error(`${opts.config} has no exec agent for role ${work.role}`);
      const handoffs = work.handoffsFrom.flatMap((key) => {
        const from = works.find((other) => other.key === key);
        return from ? [{ taskId: key, role: from.role, ...results.get(key) }] : [];
      });
      const task = { featureId: "capture", taskId: work.key, attempt: 1, role: work.role, title: work.title, instructions: work.instructions, handoffs, feature: { title: feature.title } };
      const before = snapshot(workspace);
      const result = await runAgent(argv, task, workspace, join(opts.scratch, `${work.key}.result.json`));
      results.set(work.key, result);
      const steps: Step[] = [...changes(before, snapshot(workspace)), ...work.runs.map((command): Step => ({ kind: "run", command }))];
      rounds.set(work.key, { steps, summary: work.summary ?? result.summary ?? `${work.title}: done.` });
    }
  } finally {
    rmSync(opts.scratch, { recursive: true, force: true });
  }
  return scripts.map((script) => ({ match: script.match, rounds: script.keys.map((key) => rounds.get(key)!) }));
}

/** Runs one exec agent as Baton's exec executor does (task JSON on stdin, BATON_* variables); its result file's content. */
function runAgent(argv: readonly string[], task: { taskId: string; role: string }, cwd: string, resultFile: string): Promise<{ summary?: string; handoff?: unknown }> {
  const env = {
    PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? cwd, BATON_FEATURE_ID: "capture", BATON_TASK_ID: task.taskId,
    BATON_ROLE: task.role, BATON_ATTEMPT: "1", BATON_WORKSPACE: cwd, BATON_RESULT_FILE: resultFile,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => void (output += chunk.toString());
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.stdin.end(JSON.stringify(task));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`the exec agent for ${task.taskId} (${task.role}) exited ${code}:\n${output}`));
      resolve(existsSync(resultFile) ? (JSON.parse(readFileSync(resultFile, "utf8")) as { summary?: string }) : {});
    });
  });
}

/** Every file under `dir` (but .git and node_modules) with its content, by path relative to `dir`. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name === ".git" || entry.name === "node_modules") continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  };
  mkdirSync(dir, { recursive: true });
  walk(dir);
  return files;
}

/** The steps that turn snapshot `before` into `after`: new files written first, then edits, each by path. */
function changes(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): Step[] {
  const writes: Step[] = [];
  const edits: Step[] = [];
  for (const [path, content] of [...after].sort(([left], [right]) => left.localeCompare(right))) {
    const old = before.get(path);
    if (old === undefined) writes.push({ kind: "write", path, content });
    else if (old !== content) edits.push({ kind: "edit", path, before: old, after: content });
  }
  return [...writes, ...edits];
}
