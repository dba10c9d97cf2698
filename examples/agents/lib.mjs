// Shared helpers for the demo role agents: read the task Baton's exec executor puts on stdin,
// work inside $BATON_WORKSPACE (in a git feature: the task's worktree), resolve a merge conflict Baton
// left there, and write the result file. No dependencies beyond Node itself.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** A failure the agent reports clearly before exiting 1. */
export class AgentError extends Error {
  name = "AgentError";
}

/** Reads and checks the task JSON from stdin (fields of baton.v1.task_assigned). */
export function readTask() {
  let text;
  try {
    text = readFileSync(0, "utf8");
  } catch (e) {
    throw new AgentError(`cannot read the task from stdin: ${e.message}`);
  }
  let task;
  try {
    task = JSON.parse(text);
  } catch (e) {
    throw new AgentError(`stdin is not a JSON task: ${e.message}`);
  }
  for (const f of ["featureId", "taskId", "role", "title"]) {
    if (typeof task?.[f] !== "string") throw new AgentError(`task JSON lacks "${f}"`);
  }
  task.handoffs = Array.isArray(task.handoffs) ? task.handoffs : [];
  return task;
}

export const workspace = () => process.env.BATON_WORKSPACE || process.cwd();

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The handoff document of the dependency with `role`, or an AgentError naming what is missing. */
export function requireHandoff(task, role, what) {
  const h = task.handoffs.find((x) => x.role === role);
  if (!h || h.handoff === undefined || h.handoff === null) {
    const have = task.handoffs.map((x) => `${x.taskId}(${x.role})`).join(", ") || "none";
    throw new AgentError(`missing the ${role} handoff (${what}); handoffs received: ${have}`);
  }
  return h.handoff;
}

export const SAMPLE_APP = "the workspace must be a copy of examples/sample-app; `npm run demo` prepares one";

/** Reads a workspace file that must already be there; `why` says where it should have come from. */
export function requireFile(rel, why) {
  const path = join(workspace(), rel);
  if (!existsSync(path)) throw new AgentError(`missing ${rel} in ${workspace()} (${why})`);
  return readFileSync(path, "utf8");
}

/** Writes a workspace file; returns "created", "updated" or "unchanged" (running twice changes nothing). */
export function writeFile(rel, content) {
  const path = join(workspace(), rel);
  const before = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  if (before === content) return "unchanged";
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return before === undefined ? "created" : "updated";
}

/** Writes `{ summary, handoff }` to $BATON_RESULT_FILE (when set) for the worker to pick up. */
export function writeResult(result) {
  const file = process.env.BATON_RESULT_FILE;
  if (file) writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
}

/** `git args` in the workspace: its stdout, or an AgentError with git's message. */
function git(args, ok = [0]) {
  const r = spawnSync("git", args, { cwd: workspace(), encoding: "utf8" });
  if (r.error) throw new AgentError(`cannot run git: ${r.error.message}`);
  if (!ok.includes(r.status)) throw new AgentError(`git ${args.join(" ")} failed: ${r.stderr.trim().split("\n")[0] || `exit ${r.status}`}`);
  return r.stdout;
}

/** The task a conflict fix task resolves (Baton names them `<task>-merge-<round>[-<n>]`), or undefined. */
export const conflictOwner = (taskId) => /^(.+)-merge-\d+(-\d+)?$/.exec(taskId)?.[1];

/**
 * A conflict fix task (issue 12): Baton left the workspace mid-merge (the task's branch with the integration branch
 * merged in, conflict markers in `unmerged` files). These agents generate their files from handoffs, so they resolve
 * by taking the integration branch's side of each conflicting file and then redoing their own task's change on top
 * (their edits are idempotent and anchored, so both sides' work is kept). Returns the task to redo, or the task itself
 * when no merge is in progress. The merge is left for Baton to commit.
 */
function resolveConflicts(task, say) {
  const owner = conflictOwner(task.taskId);
  if (!owner || !git(["rev-parse", "-q", "--verify", "MERGE_HEAD"], [0, 1, 128]).trim()) return task;
  const unmerged = [...new Set(git(["diff", "--name-only", "--diff-filter=U"]).split("\n").filter(Boolean))];
  for (const path of unmerged) {
    // "theirs" in this merge is MERGE_HEAD, the integration branch; a file it deleted stays deleted
    const taken = spawnSync("git", ["checkout", "--theirs", "--", path], { cwd: workspace(), encoding: "utf8" });
    if (taken.status === 0) git(["add", "--", path]);
    else git(["rm", "-q", "--", path]);
    say(`conflict in ${path}: took the integration branch's version; redoing ${owner}'s change on top`);
  }
  const left = git(["grep", "-l", "-e", "^<<<<<<< ", "--", "."], [0, 1]).trim();
  if (left) throw new AgentError(`conflict markers are still in ${left.split("\n").join(", ")}`);
  return { ...task, taskId: owner };
}

/**
 * Runs an agent body with a uniform prefix on every progress line and a clear message on failure:
 * exit 0 = done, exit 1 = failed (reason on stderr). `body` returns { summary, handoff } or an exit code.
 * A conflict fix task runs `body` as the task it fixes, after resolveConflicts.
 */
export async function runAgent(name, body) {
  const say = (line) => console.log(`[${name}] ${line}`);
  try {
    const task = readTask();
    say(`task ${task.featureId}/${task.taskId} attempt ${task.attempt ?? 1}: ${task.title}`);
    const out = await body(resolveConflicts(task, say), say);
    if (typeof out === "number") {
      process.exitCode = out;
      return;
    }
    writeResult(out);
    say(`done: ${out.summary}`);
  } catch (e) {
    console.error(`[${name}] failed: ${e instanceof AgentError ? e.message : e?.stack ?? e}`);
    process.exitCode = 1;
  }
}
