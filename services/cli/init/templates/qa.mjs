#!/usr/bin/env node
// The qa agent of this project, written by `baton init`: a Baton worker runs it once per qa task
// (baton.config.yaml, `roles.qa.exec`) with the task as JSON on stdin and the workspace as its folder.
//
// >>> THIS IS WHERE YOUR TESTING AGENT GOES. <<<
// As written, it runs the project's own test command (found below) and passes or fails with it. With AGENT_CMD
// set in baton.config.yaml (`env: { AGENT_CMD: "your-agent-cli --its-flags" }`: a shell command that reads the
// prompt on stdin and edits files), that agent first writes or updates tests for the task, then the tests run.
// The quality gates of baton.config.yaml (`gatePresets`, `gates`) are run by qa workers too, without this script.
// The contract (docs/protocol.md, "The exec executor contract"): exit 0 = done, anything else = failed; output
// lines become task.log events; JSON written to $BATON_RESULT_FILE ({ summary, handoff }) reaches dependents.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const workspace = process.env.BATON_WORKSPACE || process.cwd();

/** The project's test command as an argv, or undefined when none is recognised. */
function testCommand() {
  const pkgFile = join(workspace, "package.json");
  if (existsSync(pkgFile)) {
    const script = JSON.parse(readFileSync(pkgFile, "utf8")).scripts?.test;
    if (script && !/no test specified/.test(script)) return ["npm", "test"];
  }
  if (["pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini"].some((name) => existsSync(join(workspace, name)))) return ["pytest"];
  if (existsSync(join(workspace, "mix.exs"))) return ["mix", "test"];
  if (existsSync(join(workspace, "go.mod"))) return ["go", "test", "./..."];
  if (existsSync(join(workspace, "Cargo.toml"))) return ["cargo", "test"];
  return undefined;
}

function writeResult(result) {
  if (process.env.BATON_RESULT_FILE) writeFileSync(process.env.BATON_RESULT_FILE, `${JSON.stringify(result)}\n`);
}

function main() {
  const task = JSON.parse(readFileSync(0, "utf8"));
  console.log(`[qa] ${task.featureId}/${task.taskId} (attempt ${task.attempt ?? 1}): ${task.title}`);
  if (process.env.AGENT_CMD) {
    const text = [`You are the QA engineer of the project in this folder. Write or update tests for: ${task.title}`, task.instructions ?? ""].join("\n");
    const agent = spawnSync(process.env.AGENT_CMD, { shell: true, input: text, stdio: ["pipe", "inherit", "inherit"] });
    if (agent.status !== 0) return agent.status ?? 1;
  }
  const argv = testCommand();
  if (!argv) {
    console.log("[qa] no test command found (package.json test script, pytest, mix, go, cargo): nothing to run");
    writeResult({ summary: "no test command found", handoff: { passed: null } });
    return 0;
  }
  console.log(`[qa] running ${argv.join(" ")}`);
  const run = spawnSync(argv[0], argv.slice(1), { cwd: workspace, stdio: ["ignore", "inherit", "inherit"] });
  const passed = run.status === 0;
  writeResult({ summary: `${argv.join(" ")}: ${passed ? "passed" : `failed (${run.error?.message ?? `exit ${run.status}`})`}`, handoff: { passed } });
  return passed ? 0 : 1;
}

process.exitCode = main();
