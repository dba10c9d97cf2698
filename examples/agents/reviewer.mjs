// Demo "reviewer" agent: reviews what the feature changed in the workspace (a git repo whose HEAD
// is the state before the feature), checks that every expected piece is there, writes
// docs/review.md and approves (exit 0) or rejects with reasons (exit 1).
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

/** Paths changed since HEAD (the feature's starting point), tracked and untracked, minus our own review. */
function changedPaths() {
  return git(["status", "--porcelain", "--untracked-files=all"])
    .split("\n")
    .filter(Boolean)
    .map((l) => ({ status: l.slice(0, 2).trim(), path: l.slice(3).replace(/^.* -> /, "") }))
    .filter((c) => c.path !== REVIEW);
}

function review({ approved, problems, changes, diffStat, handoffs }) {
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
    "## Changes since the feature started",
    "",
    "```",
    ...changes.map((c) => `${c.status.padEnd(2)} ${c.path}`),
    "```",
    "",
    "Tracked files (`git diff --stat HEAD`):",
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

await runAgent("reviewer", async (task, say) => {
  requireRepo();
  say("reading the changes since the feature started");
  const diffStat = git(["diff", "--stat", "HEAD"]);
  const changes = changedPaths();
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
  say(`${writeFile(REVIEW, review({ approved, problems, changes, diffStat, handoffs: task.handoffs }))} ${REVIEW}`);
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
