// The agent demo's pieces that need no process (examples/agent-demo): file changes as Claude Code Edit calls and Codex
// patches that really produce the new file; the scripts matching the prompts the worker builds for the coordinator's
// own tasks of api-first.yaml (a review fix that continues the session, or starts fresh); the generated config.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { AGENT_ROLES, parseDemoArgs, writeAgentConfig } from "../../examples/agent-demo/setup.ts";
import { demoPlan, type Step } from "../../examples/agent-demo/plan.ts";
import { scriptFile } from "../../examples/agent-demo/scripts.ts";
import { contextFromRequest } from "../../services/coordinator/domain/request-to-tasks.ts";
import { pickAnswer, Script } from "../../services/model-server/script.ts";
import { buildPrompt } from "../../services/worker/agents/prompt.ts";
import { loadConfig } from "../../shared/config.ts";
import { FeatureRequest } from "../../shared/protocol/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "baton-agent-demo-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Tool = { name: string; input: Record<string, unknown> };
const toolsOf = (agent: "claude-code" | "codex", step: Step): Tool[] =>
  scriptFile(agent, [{ match: "m", rounds: [{ steps: [step], summary: "done" }] }]).scripts[0]!.turns.flatMap((turn) => (turn.tools ?? []) as Tool[]);

/** What Claude Code does with Read/Write/Edit calls: Edit needs a Read first and an old_string found exactly once. */
function applyClaude(content: string, tools: Tool[]): string {
  let read = false;
  for (const tool of tools) {
    if (tool.name === "Read") read = true;
    else if (tool.name === "Write") content = String(tool.input["content"]);
    else if (tool.name === "Edit") {
      const [oldText, newText] = [String(tool.input["old_string"]), String(tool.input["new_string"])];
      expect(read, "Edit before Read").toBe(true);
      expect(content.split(oldText).length - 1, `old_string found once: ${JSON.stringify(oldText)}`).toBe(1);
      content = content.replace(oldText, () => newText);
    }
  }
  return content;
}

/** Codex's apply_patch for one Update File: each hunk's old lines sought from where the previous hunk ended. */
function applyCodexUpdate(content: string, patch: string): string {
  const lines = content.split("\n").slice(0, -1);
  const chunks = patch.split("\n").filter((line) => !line.startsWith("***") && line !== "").join("\n").split(/^@@$/m).slice(1);
  let cursor = 0;
  for (const chunk of chunks) {
    const marked = chunk.split("\n").filter((line) => line !== "");
    const oldLines = marked.filter((line) => !line.startsWith("+")).map((line) => line.slice(1));
    const newLines = marked.filter((line) => !line.startsWith("-")).map((line) => line.slice(1));
    let at = cursor;
    while (at <= lines.length - oldLines.length && oldLines.some((line, index) => lines[at + index] !== line)) at++;
    expect(at, `hunk found:\n${chunk}`).toBeLessThanOrEqual(lines.length - oldLines.length);
    lines.splice(at, oldLines.length, ...newLines);
    cursor = at + newLines.length;
  }
  return `${lines.join("\n")}\n`;
}

const fileOf = (lines: readonly string[], endsWithNewline = true) => lines.join("\n") + (endsWithNewline && lines.length ? "\n" : "");

describe("file changes in each CLI's tools", () => {
  it("Claude Code: Read, then Edit calls (or a Write when an edit would be ambiguous) turn any file into any other", () => {
    const text = fc.array(fc.constantFrom("a", "b", "", "}"), { maxLength: 25 });
    fc.assert(fc.property(text, text, fc.boolean(), (before, after, newline) => {
      const [oldText, newText] = [fileOf(before, newline), fileOf(after)];
      fc.pre(oldText !== newText);
      const tools = toolsOf("claude-code", { kind: "edit", path: "f.js", before: oldText, after: newText });
      expect(tools[0]).toEqual({ name: "Read", input: { file_path: "f.js" } });
      expect(applyClaude(oldText, tools)).toBe(newText);
    }), { numRuns: 300 });
  });

  it("Claude Code edits a route table with Edit calls, not a rewrite; a new file is one Write", () => {
    const before = readFileSync(join(ROOT, "examples/sample-app/src/app.js"), "utf8");
    const after = before.replace(`    ["/health", health],\n`, `    ["/health", health],\n    ["/todos", createTodosHandler()],\n`);
    const tools = toolsOf("claude-code", { kind: "edit", path: "src/app.js", before, after });
    expect(tools.map((tool) => tool.name)).toEqual(["Read", "Edit"]);
    expect(toolsOf("claude-code", { kind: "write", path: "a/b.js", content: "x\n" })).toEqual([{ name: "Write", input: { file_path: "a/b.js", content: "x\n" } }]);
  });

  it("Claude Code: a change whose lines and context appear twice in the file is a Write (Edit would refuse it)", () => {
    const block = ["p", "q", "r", "s", "t"];
    const before = fileOf([...block, ...block]);
    const after = fileOf(["p", "q", "R", "s", "t", ...block]);
    const tools = toolsOf("claude-code", { kind: "edit", path: "f.js", before, after });
    expect(tools.map((tool) => tool.name)).toEqual(["Read", "Write"]);
    expect(applyClaude(before, tools)).toBe(after);
  });

  it("Codex: an Update File patch whose hunks produce the new file (distinct lines), an Add File for a new one", () => {
    const text = fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 30 }).map((ids) => ids.map((id) => `line ${id}`));
    fc.assert(fc.property(text, text, (before, after) => {
      fc.pre(before.length > 0 && after.length > 0 && fileOf(before) !== fileOf(after));
      const [patch] = toolsOf("codex", { kind: "edit", path: "f.js", before: fileOf(before), after: fileOf(after) });
      const input = String(patch!.input["input"]);
      expect(input).toMatch(/^\*\*\* Begin Patch\n\*\*\* Update File: f\.js\n@@\n[\s\S]*\n\*\*\* End Patch\n$/);
      expect(applyCodexUpdate(fileOf(before), input)).toBe(fileOf(after));
    }), { numRuns: 300 });
    expect(toolsOf("codex", { kind: "write", path: "web/a.js", content: "one\n\ntwo\n" })).toEqual([
      { name: "apply_patch", input: { input: "*** Begin Patch\n*** Add File: web/a.js\n+one\n+\n+two\n*** End Patch\n" } },
    ]);
    expect(toolsOf("codex", { kind: "run", command: "npm test" })).toEqual([{ name: "exec_command", input: { cmd: "npm test" } }]);
  });
});

describe("the demo's scripts and the prompts of api-first.yaml's tasks", () => {
  const request = FeatureRequest.parse(parseYaml(readFileSync(join(ROOT, "examples/features/api-first.yaml"), "utf8")));
  const plan = demoPlan(request.tasks!, new Set(AGENT_ROLES));
  // each round answers with its work's key, so the test sees which round of which script plays
  const scripts = plan.scripts.map((script) => Script.parse({ match: script.match, turns: script.keys.map((key) => ({ text: key })) }));
  const tasks = contextFromRequest("f", request, new Date(0).toISOString()).tasks;
  const feature = { title: request.title, description: request.description };
  const promptOf = (task: { id: string; title: string; instructions?: string | undefined }) =>
    buildPrompt({ rolePrompt: "You are on the team.", task: { featureId: "f", taskId: task.id, title: task.title, instructions: task.instructions, feature }, handoffs: [] });
  const played = (prompt: string, turn = 0) => pickAnswer(scripts, { prompt, turn })?.turn.text;

  it("every task of an agent role (the coordinator's own titles, test-driven phases too) gets its own work", () => {
    const agentTasks = Object.values(tasks).filter((task) => AGENT_ROLES.includes(task.role));
    expect(agentTasks.map((task) => task.id).sort()).toEqual(["api-spec", "backend", "frontend", "schema", "tests", "version", "version-red", "version-refactor"]);
    for (const task of agentTasks) expect(played(promptOf(task)), task.id).toBe(task.id);
    expect(plan.works.map((work) => work.key)).toContain("backend-fix-1");
  });

  it("the review fix round: fresh, or continuing the backend's session (Claude: first prompt; Codex: all prompts joined)", () => {
    // the title the coordinator gives a fix task (services/coordinator/domain/failure-policy.ts)
    const fix = promptOf({ id: "backend-fix-1", title: "Fix gate review for task backend (round 1)", instructions: `The gate "review" failed for task "backend" (${tasks["backend"]!.title}): changes requested.` });
    const backend = promptOf(tasks["backend"]!);
    expect(played(fix)).toBe("backend-fix-1");
    expect(played(backend, 1)).toBe("backend-fix-1");
    expect(played(`${backend}\n${fix}`, 1)).toBe("backend-fix-1");
  });
});

describe("the agent demo's config and command line", () => {
  it("puts the implementing roles on the agent with their prompts, keeps the reviewer's exec agent, and loads", () => {
    for (const agent of ["claude-code", "codex"] as const) {
      for (const model of [{ scripted: true as const, url: "http://127.0.0.1:4567" }, { scripted: false as const }]) {
        const file = join(tmp, `${agent}-${model.scripted}.yaml`);
        writeAgentConfig({ base: join(ROOT, "examples/baton.config.yaml"), file, agent, model });
        const config = loadConfig({ file, env: {} });
        for (const role of AGENT_ROLES) {
          expect(config.roles[role]).toMatchObject({ agent, prompt: join(ROOT, "examples/agent-demo/roles", `${role}.md`) });
          expect(readFileSync(config.roles[role]!.prompt!, "utf8")).toMatch(/summary/);
        }
        expect(config.roles["backend"]!.replicas).toBe(2);
        expect(config.roles["reviewer"]!.exec).toEqual(["node", join(ROOT, "examples/agents/reviewer.mjs")]);
        expect(config.workspaceRoots).toEqual([join(ROOT, ".baton/demo")]);
        // no worktrees.dir: the default place (~/.cache/baton/worktrees/…) is outside .git, where Claude Code refuses to edit
        expect(config.worker.worktrees).toEqual({ link: ["node_modules"] });
        const wiring = JSON.stringify(config.roles["api"]);
        expect(wiring.includes("http://127.0.0.1:4567"), `${agent} scripted=${model.scripted}`).toBe(model.scripted);
        if (agent === "codex" && !model.scripted) expect(wiring).toContain(`env_key=\\"OPENAI_API_KEY\\"`);
        if (agent === "claude-code" && !model.scripted) expect(config.roles["api"]!.env).toEqual({});
      }
    }
  });

  it("parses --agent, --scripted and --help, and refuses what it does not know", () => {
    expect(parseDemoArgs([])).toEqual({ help: false, agent: undefined, scripted: false, plan: undefined, approval: false, auto: false });
    expect(parseDemoArgs(["--agent", "codex", "--scripted"])).toEqual({ help: false, agent: "codex", scripted: true, plan: undefined, approval: false, auto: false });
    expect(parseDemoArgs(["--plan", "auto", "--approval"])).toMatchObject({ plan: "auto", approval: true, auto: false });
    expect(parseDemoArgs(["--plan", "auto", "--approval"], { BATON_DEMO_AUTO: "1" })).toMatchObject({ auto: true });
    expect(parseDemoArgs(["--approval", "--yes"])).toMatchObject({ approval: true, auto: true });
    expect(() => parseDemoArgs(["--plan", "manual"])).toThrow(/only value is auto/);
    expect(() => parseDemoArgs(["--plan", "auto", "--agent", "codex"])).toThrow(/leave out --agent/);
    expect(() => parseDemoArgs(["--yes"])).toThrow(/goes with --plan auto or --approval/);
    expect(parseDemoArgs(["--help"])).toEqual({ help: true });
    expect(parseDemoArgs(["--keep"])).toMatchObject({ keep: true });
    expect(() => parseDemoArgs(["--agent", "gemini"])).toThrow(/choose claude-code or codex/);
    expect(() => parseDemoArgs(["--scripted"])).toThrow(/goes with --agent/);
    expect(() => parseDemoArgs(["--agnet", "codex"])).toThrow();
  });
});
