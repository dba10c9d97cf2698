#!/usr/bin/env node
// The __ROLE__ agent of this project, written by `baton init`: a Baton worker runs it once per __ROLE__ task
// (baton.config.yaml, `roles.__ROLE__.exec`) with the task as JSON on stdin and the workspace as its folder.
//
// >>> THIS IS WHERE YOUR CODING AGENT GOES. <<<
// As written, it does something small but real, so that a whole feature can run end to end: it writes the task
// down in docs/baton/<task id>.md with what the tasks before it handed over. To let a coding agent do the work,
// either set AGENT_CMD in baton.config.yaml (`env: { AGENT_CMD: "your-agent-cli --its-flags" }`: a shell command
// that reads the prompt on stdin and edits the files in its working folder), or replace `work()` below.
// The contract (docs/protocol.md, "The exec executor contract"): exit 0 = done, anything else = failed; output
// lines become task.log events; JSON written to $BATON_RESULT_FILE ({ summary, handoff }) reaches the tasks
// that depend on this one. A task can be delivered twice: running it again must leave the same result.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const ROLE = "__ROLE__";
const workspace = process.env.BATON_WORKSPACE || process.cwd();

/** What a coding agent would be asked: the task, its instructions, and the dependencies' handoffs. */
function prompt(task) {
  const lines = [`You are the ${ROLE} engineer of the project in this folder.`, `Task: ${task.title}`];
  if (task.instructions) lines.push("", task.instructions);
  for (const dep of task.handoffs ?? []) {
    lines.push("", `Task ${dep.taskId} (${dep.role}) reported: ${dep.summary ?? "nothing"}`);
    if (dep.handoff !== undefined) lines.push(`and handed over: ${JSON.stringify(dep.handoff)}`);
  }
  return lines.join("\n");
}

/** Runs AGENT_CMD with the prompt on stdin; its exit code is the task's. */
function runAgentCommand(command, text) {
  console.log(`[${ROLE}] running AGENT_CMD: ${command}`);
  const run = spawnSync(command, { shell: true, input: text, stdio: ["pipe", "inherit", "inherit"] });
  if (run.error) throw new Error(`cannot run AGENT_CMD: ${run.error.message}`);
  return run.status ?? 1;
}

/** The example work: the task written down as a note in the workspace. Replace this with your agent. */
function work(task) {
  const file = `docs/baton/${task.taskId}.md`;
  const tracked = spawnSync("git", ["ls-files"], { cwd: workspace, encoding: "utf8" });
  const files = tracked.status === 0 ? tracked.stdout.split("\n").filter(Boolean).length : "an unknown number of";
  const note = [
    `# ${task.title}`,
    "",
    `Feature \`${task.featureId}\`, task \`${task.taskId}\`, done by the ${ROLE} agent (.baton/agents/${ROLE}.mjs).`,
    `The project has ${files} tracked files.`,
    "",
    "## The prompt a coding agent would get",
    "",
    "```text",
    prompt(task),
    "```",
    "",
  ].join("\n");
  mkdirSync(dirname(join(workspace, file)), { recursive: true });
  writeFileSync(join(workspace, file), note);
  console.log(`[${ROLE}] wrote ${file}`);
  return { summary: `wrote ${file}`, handoff: { notes: file } };
}

function writeResult(result) {
  if (process.env.BATON_RESULT_FILE) writeFileSync(process.env.BATON_RESULT_FILE, `${JSON.stringify(result)}\n`);
}

const task = JSON.parse(readFileSync(0, "utf8"));
console.log(`[${ROLE}] ${task.featureId}/${task.taskId} (attempt ${task.attempt ?? 1}): ${task.title}`);
if (process.env.AGENT_CMD) {
  process.exitCode = runAgentCommand(process.env.AGENT_CMD, prompt(task));
  if (process.exitCode === 0) writeResult({ summary: `${ROLE} agent finished: ${task.title}` });
} else {
  writeResult(work(task));
}
