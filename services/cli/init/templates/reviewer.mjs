#!/usr/bin/env node
// The reviewer agent of this project, written by `baton init`: a Baton worker runs it for each `review` gate (a
// verdict on one task's change) and for each task of the reviewer role, with the task as JSON on stdin.
//
// >>> THIS IS WHERE YOUR REVIEWING AGENT GOES. <<<
// As a review gate, the task carries `review.diff`: the change since the feature started (docs/gates.md, "The
// review gate"). This example requests changes when an added line holds a merge-conflict marker or a `debugger`
// statement, and approves otherwise; replace `review()` with a call to your agent that returns the same shape:
// { verdict: "approve" | "changes_requested", comments: [{ file, line, message }] }. On changes_requested, Baton
// gives the comments to the author's role as a fix task and reviews again.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const workspace = process.env.BATON_WORKSPACE || process.cwd();
const RULES = [
  { test: /^(<<<<<<<|>>>>>>>)( |$)/, message: "a merge-conflict marker was committed" },
  { test: /^\s*debugger;?\s*$/, message: "remove the debugger statement" },
];

/** Added lines of a unified diff, with their file and line number in the new version. */
function addedLines(diff) {
  const added = [];
  let file;
  let line = 0;
  for (const text of diff.split("\n")) {
    if (text.startsWith("+++ ")) file = text.slice(4).replace(/^b\//, "");
    else if (text.startsWith("@@")) line = Number(/\+(\d+)/.exec(text)?.[1] ?? 1);
    else if (text.startsWith("+")) added.push({ file, line: line++, text: text.slice(1) });
    else if (!text.startsWith("-")) line++;
  }
  return added;
}

/** The verdict on a diff. Replace this with your agent. */
function review(diff) {
  const comments = [];
  for (const added of addedLines(diff)) {
    for (const rule of RULES) if (rule.test.test(added.text)) comments.push({ file: added.file, line: added.line, message: rule.message });
  }
  return { verdict: comments.length ? "changes_requested" : "approve", comments };
}

function writeResult(result) {
  if (process.env.BATON_RESULT_FILE) writeFileSync(process.env.BATON_RESULT_FILE, `${JSON.stringify(result)}\n`);
}

const task = JSON.parse(readFileSync(0, "utf8"));
console.log(`[reviewer] ${task.featureId}/${task.taskId} (attempt ${task.attempt ?? 1}): ${task.title}`);
if (task.gate?.name === "review") {
  const diff = task.review?.diff ?? "";
  if (task.review?.note) console.log(`[reviewer] note: ${task.review.note}`);
  const verdict = review(diff);
  for (const comment of verdict.comments) console.log(`[reviewer] ${comment.file}:${comment.line} ${comment.message}`);
  console.log(`[reviewer] ${verdict.verdict} (${diff.split("\n").length} diff lines)`);
  writeResult({ summary: `review of ${task.title}: ${verdict.verdict}`, review: verdict });
} else {
  const stat = spawnSync("git", ["diff", "--stat", "HEAD"], { cwd: workspace, encoding: "utf8" });
  console.log(stat.status === 0 ? stat.stdout || "[reviewer] no changes since the last commit" : "[reviewer] not a git repository: nothing to compare");
  writeResult({ summary: `looked over the changes for: ${task.title}` });
}
