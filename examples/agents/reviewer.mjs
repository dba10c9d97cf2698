// Demo "reviewer" agent, in two modes.
// - As the `review` gate of a task (the task message has `gate` and `review` with the git diff Baton
//   computed): a code review of that task's change, answered as a verdict in the result file. Its house
//   rule: every handler in src/todos.js is tagged with the OpenAPI operationId it implements.
// - As the feature's review task: checks that every expected piece of the feature is in the workspace (a
//   git work tree: the task's worktree on the feature's integration branch, or a repo whose HEAD is the state
//   before the feature), writes docs/review.md and approves (exit 0) or rejects with reasons (exit 1).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { AgentError, runAgent, sleep, workspace, writeFile } from "./lib.mjs";

const REVIEW = "docs/review.md";

/** What the api-first feature must leave behind: path, who writes it, and a content check. */
const EXPECTED = [
  { path: "migrations/001_create_todos.sql", by: "database", check: (s) => /CREATE TABLE[^;]*todos/i.test(s) || "has no CREATE TABLE todos" },
  { path: "docs/openapi.yaml", by: "api", check: (s) => (/^openapi: 3\./m.test(s) && s.includes("/todos/{id}:")) || "is not an OpenAPI 3 document with /todos/{id}" },
  { path: "src/todos.js", by: "backend", check: (s) => s.includes("export function createTodosHandler") || "does not export createTodosHandler" },
  { path: "src/app.js", by: "backend", check: (s) => s.includes(`from "./todos.js"`) || "does not route /todos to src/todos.js" },
  { path: "web/todos.js", by: "frontend", check: (s) => (s.includes("listTodos") && s.includes("createTodo")) || "lacks listTodos/createTodo" },
  { path: "web/index.html", by: "frontend", check: (s) => s.includes("./todos.js") || "does not use web/todos.js" },
  { path: "test/todos.test.js", by: "qa", check: (s) => s.includes("/todos") || "does not test /todos" },
];

function git(args) {
  const r = spawnSync("git", args, { cwd: workspace(), encoding: "utf8" });
  if (r.error) throw new AgentError(`cannot run git: ${r.error.message}`);
  if (r.status !== 0) throw new AgentError(`git ${args.join(" ")} failed: ${r.stderr.trim().split("\n")[0] || `exit ${r.status}`}`);
  return r.stdout;
}

/** The review compares against HEAD, so the workspace must be a git repository with a commit. */
function requireRepo() {
  const top = spawnSync("git", ["rev-parse", "--show-toplevel"], { cwd: workspace(), encoding: "utf8" });
  if (top.error) throw new AgentError(`cannot run git: ${top.error.message}`);
  const head = spawnSync("git", ["rev-parse", "--verify", "--quiet", "HEAD"], { cwd: workspace(), encoding: "utf8" });
  // A folder inside some other repository (e.g. .baton/workspaces/<id> in a checkout) is not one.
  if (top.status !== 0 || realpathSync(top.stdout.trim()) !== realpathSync(workspace()) || head.status !== 0) {
    throw new AgentError(`${workspace()} is not a git repository with a commit; the review compares the feature's changes against HEAD (npm run demo commits the sample app first)`);
  }
}

/**
 * The commit the feature started from. In a git feature (the task names `checkout.repo`, the user's checkout, which
 * Baton leaves alone) that is where the integration branch left it: `git merge-base HEAD <repo's HEAD>`, since the
 * worktree's HEAD already holds the integrated tasks' checkpoints. Otherwise HEAD (`npm run demo` commits the app first).
 */
function featureBase(task) {
  const repo = task.checkout?.repo;
  if (!repo) return "HEAD";
  const start = spawnSync("git", ["-C", repo, "rev-parse", "--verify", "--quiet", "HEAD"], { encoding: "utf8" });
  if (start.error || start.status !== 0) throw new AgentError(`cannot read HEAD of the feature's workspace ${repo}`);
  return git(["merge-base", "HEAD", start.stdout.trim()]).trim();
}

/** Paths changed since `base` (committed, staged, in the work tree, untracked), minus our own review. */
function changedPaths(base) {
  const tracked = git(["diff", "--name-status", "-M", base])
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t"))
    .map(([status, ...paths]) => ({ status: status.slice(0, 1), path: paths.at(-1) }));
  const untracked = git(["ls-files", "--others", "--exclude-standard"])
    .split("\n")
    .filter(Boolean)
    .map((path) => ({ status: "??", path }));
  return [...tracked, ...untracked].filter((c) => c.path !== REVIEW);
}

function review({ approved, problems, changes, base, diffStat, handoffs }) {
  const lines = [
    "# Review: todos API",
    "",
    `Verdict: **${approved ? "approved" : "changes requested"}**`,
    "",
    "## Checklist",
    "",
    ...EXPECTED.map((e) => {
      const p = problems.find((x) => x.path === e.path);
      return `- [${p ? " " : "x"}] \`${e.path}\` (${e.by})${p ? `: ${p.reason}` : ""}`;
    }),
    "",
    `## Changes since the feature started (${base === "HEAD" ? "HEAD" : base.slice(0, 10)})`,
    "",
    "```",
    ...changes.map((c) => `${c.status.padEnd(2)} ${c.path}`),
    "```",
    "",
    `Tracked files (\`git diff --stat ${base === "HEAD" ? "HEAD" : base.slice(0, 10)}\`):`,
    "",
    "```",
    diffStat.trimEnd() || "(none)",
    "```",
  ];
  if (handoffs.length) {
    lines.push("", "## What the tasks reported", "");
    for (const h of handoffs) lines.push(`- ${h.taskId} (${h.role}): ${h.summary ?? "no summary"}`);
  }
  return lines.join("\n") + "\n";
}

/** The review gate: a verdict on the reviewed task's change, from the diff Baton handed over. */
function reviewGate(task, say) {
  const r = task.review ?? {};
  say(`reviewing ${task.title}: diff since ${String(r.base ?? "?").slice(0, 7)} (${(r.diff ?? "").length} characters${r.truncated ? ", truncated" : ""}), ${(r.untracked ?? []).length} new files`);
  const comments = [];
  const touched = (r.diff ?? "").includes("src/todos.js");
  const path = join(workspace(), "src/todos.js");
  if (touched && existsSync(path)) {
    const source = readFileSync(path, "utf8");
    const ops = [...source.matchAll(/"operationId": "(\w+)"/g)].map((m) => m[1]);
    const untagged = ops.filter((op) => !source.includes(`@operationId ${op}`));
    if (untagged.length) {
      const line = source.split("\n").findIndex((l) => l.includes("const operations")) + 1;
      comments.push({ file: "src/todos.js", line: line || undefined, message: `tag each handler with the OpenAPI operationId it implements (/** @operationId listTodos */) so that the code can be traced to docs/openapi.yaml; untagged: ${untagged.join(", ")}` });
    }
  }
  for (const c of comments) say(`✗ ${c.file}:${c.line ?? ""} ${c.message}`);
  const verdict = comments.length ? "changes_requested" : "approve";
  say(verdict === "approve" ? "✓ approve" : `changes requested (${comments.length})`);
  return { summary: `review of ${task.title}: ${verdict}`, review: { verdict, comments } };
}

await runAgent("reviewer", async (task, say) => {
  if (task.gate?.name === "review") return reviewGate(task, say);
  requireRepo();
  const base = featureBase(task);
  say(`reading the changes since the feature started (${base === "HEAD" ? "HEAD" : base.slice(0, 10)})`);
  const diffStat = git(["diff", "--stat", base]);
  const changes = changedPaths(base);
  await sleep(400);
  const changed = new Set(changes.map((c) => c.path));
  const problems = [];
  for (const e of EXPECTED) {
    const abs = join(workspace(), e.path);
    if (!existsSync(abs)) problems.push({ path: e.path, reason: "missing" });
    else if (!changed.has(e.path)) problems.push({ path: e.path, reason: "not changed by this feature" });
    else {
      const ok = e.check(readFileSync(abs, "utf8"));
      if (ok !== true) problems.push({ path: e.path, reason: ok });
    }
    say(`${problems.some((p) => p.path === e.path) ? "✗" : "✓"} ${e.path}`);
  }
  const qa = task.handoffs.find((h) => h.role === "qa");
  if (qa && qa.handoff?.passed !== true) problems.push({ path: "(tests)", reason: `the ${qa.taskId} task did not report passing tests` });
  const approved = problems.length === 0;
  say(`${writeFile(REVIEW, review({ approved, problems, changes, base, diffStat, handoffs: task.handoffs }))} ${REVIEW}`);
  await sleep(300);
  if (!approved) {
    for (const p of problems) console.error(`[reviewer] ${p.path}: ${p.reason}`);
    console.error(`[reviewer] changes requested: ${problems.length} problem(s); see ${REVIEW}`);
    return 1;
  }
  return {
    summary: `approved: ${changes.length} files changed, all ${EXPECTED.length} expected pieces present`,
    handoff: { approved: true, review: REVIEW, changed: changes.map((c) => c.path) },
  };
});
