// `npm run demo` and `npm run demo -- --agent claude-code|codex` as a user runs them without an API key, on a test
// nats-server: the exec agents, or the real Claude Code and Codex CLIs against the scripted model server the demo starts.
// The feature completes with its gates (a review round, the test-driven phases, tests and coverage), the screen says
// that the scripted server answers, the integration branch baton/<featureId> holds what the feature asks for (the
// user's checkout is untouched), and the final report shows the branch's graph and the handoffs. 45-60 s per agent here.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.ts";
import { agentHome } from "../helpers/agent-env.ts";
import { worktreesOf } from "../helpers/git-feature.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

let nats: NatsServer;
const runDirs: string[] = [];
/** The demo's XDG_CACHE_HOME: where its workers make the git worktrees (by default under it), removed afterwards. */
let cacheHome: string;

beforeAll(async () => {
  nats = await startNatsServer();
  cacheHome = mkdtempSync(join(tmpdir(), "baton-demo-cache-"));
  runDirs.push(cacheHome);
});

afterAll(async () => {
  await nats?.dispose();
  for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
});

/** `npm run demo -- ARGS` with no provider keys, NATS_URL at the test server; its exit code and output. */
function demo(args: string[]): Promise<{ code: number | null; output: string }> {
  // HOME: the agents' shells read none of this machine's dotfiles (test/helpers/agent-env.ts says why)
  const env: NodeJS.ProcessEnv = { ...process.env, NATS_URL: nats.url, NO_COLOR: "1", XDG_CACHE_HOME: cacheHome, ...agentHome() };
  for (const key of ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY", "CODEX_API_KEY", "BATON_PREFIX", "BATON_CONFIG"]) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "demo", "--", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => void (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => void (output += chunk.toString()));
    // a loaded 2-core CI machine running the rest of the suite beside it needs minutes for a real-CLI demo
    const timer = setTimeout(() => child.kill("SIGINT"), 330_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output: stripAnsi(output) });
    });
  });
}

/**
 * What a completed demo run left, from its output's last line: the feature's work on its integration branch (every
 * piece, with the review round's change), the user's checkout untouched, and the final report (the branch's graph,
 * the handoffs, the readable state, where the agents worked — the worktrees' default place, outside the workspace —
 * and how to take the work).
 */
async function expectWorkOnBranch(output: string): Promise<void> {
  const [, featureId, workspace] = /feature (demo-\w+) completed; workspace (\S+)/.exec(output) ?? [];
  if (workspace) runDirs.push(dirname(workspace));
  expect(workspace, output.slice(-2000)).toBeDefined();
  const branch = `baton/${featureId}`;
  // what the agents wrote, on the integration branch: every piece of the feature, with the review round's change
  const git = (...args: string[]) => spawnSync("git", args, { cwd: workspace!, encoding: "utf8" });
  const read = (path: string) => git("show", `${branch}:${path}`).stdout;
  for (const path of ["migrations/001_create_todos.sql", "docs/openapi.yaml", "web/index.html", "web/todos.js", "test/todos.test.js", "test/version.test.js"]) {
    expect(git("cat-file", "-e", `${branch}:${path}`).status, path).toBe(0);
  }
  expect(read("migrations/001_create_todos.sql")).toMatch(/CREATE TABLE IF NOT EXISTS todos \(/);
  expect(read("src/todos.js")).toContain("/** @operationId getTodo (GET /todos/{id} in the contract) */");
  expect(read("src/app.js")).toContain(`["/todos", createTodosHandler()]`);
  expect(read("src/app.js")).toContain(`["/version", version]`);
  expect(read("docs/review.md")).toContain("Verdict: **approved**");
  // the user's checkout is untouched: the work waits on the branch, one checkpoint commit per integrated task
  expect(git("status", "--porcelain").stdout).toBe("");
  expect(git("cat-file", "-e", "HEAD:src/todos.js").status).not.toBe(0);
  expect(git("rev-list", "--first-parent", "--count", `HEAD..${branch}`).stdout.trim()).toBe("9");
  // the final report: the branch's graph, the handoffs, the readable state, and how to take the work
  expect(output).toMatch(new RegExp(`^ +\\*   [0-9a-f]+ \\(${branch}\\) baton\\(${featureId}\\): integrate review \\(reviewer\\)`, "m"));
  expect(output).toMatch(/^handoffs$/m);
  expect(output).toMatch(/^ {2}backend \(backend\) [0-9a-f]{10} \+76 -0 — /m);
  expect(output).toMatch(/^ {4}src\/todos\.js$/m);
  expect(output).toContain(`.baton/${featureId}/ (git-ignored; derived from Baton's events): completed-changes.md, current-phase.json, pending-changes.md, rollback-plan.md`);
  expect(output).toMatch(/your checkout: \S+ is untouched at [0-9a-f]{10}; /);
  const worktrees = (await worktreesOf(workspace!, featureId!, cacheHome)).feature;
  expect(worktrees.startsWith(`${cacheHome}/`) && !worktrees.startsWith(`${workspace}/`), worktrees).toBe(true);
  expect(output).toContain(`the agents worked in git worktrees under ${worktrees}/ (removed now)`);
  expect(output).toContain(`git merge ${branch}`);
}

const CASES = [
  { agent: "claude-code", notice: /no ANTHROPIC_API_KEY: Claude Code runs against Baton's scripted model server at (http:\/\/127\.0\.0\.1:\d+)/, tools: ["Write", "Edit", "Bash"] },
  { agent: "codex", notice: /no OPENAI_API_KEY: Codex runs against Baton's scripted model server at (http:\/\/127\.0\.0\.1:\d+)/, tools: ["file_change", "command_execution"] },
] as const;

describe("npm run demo, and with --agent (no API key: the scripted model server)", () => {
  for (const { agent, notice, tools } of CASES) {
    it(`${agent}: the real CLI does the implementing roles' work and the feature completes with its gates`, async () => {
      const { code, output } = await demo(["--agent", agent]);
      expect(code, output.slice(-4000)).toBe(0);
      // the screen says what answers the CLI, and the CLI's own tool calls show up as progress
      const url = notice.exec(output)?.[1];
      expect(url, output.slice(0, 2000)).toBeDefined();
      const progress = output.split("\n").filter((line) => /^ +│ [\w-]+: /.test(line)).join("\n");
      for (const tool of tools) expect(progress, `progress naming ${tool}`).toMatch(new RegExp(`: (\\S+, )*${tool}\\b`));
      expect(output).toMatch(/fixing +backend gate review, round 1/);
      expect(output).toMatch(/gate passed tests for version-red .* expected to fail/);
      expect(output).toMatch(/gate passed coverage for feature/);
      expect(output).toMatch(/^schema +database +completed .*\(usage: tokens \d+/m);
      await expectWorkOnBranch(output);
      // the demo stopped its model server
      await expect(fetch(url!)).rejects.toThrow();
    }, 360_000);
  }

  it("no --agent: the exec agents' feature completes on its integration branch, and the report shows it", async () => {
    const { code, output } = await demo([]);
    expect(code, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/fixing +backend gate review, round 1/);
    await expectWorkOnBranch(output);
  }, 360_000);

  it("--help explains the flags; a wrong agent is refused with exit 2", async () => {
    const help = await demo(["--help"]);
    expect(help.code).toBe(0);
    expect(help.output).toMatch(/--agent NAME/);
    const wrong = await demo(["--agent", "gpt"]);
    expect(wrong.code).toBe(2);
    expect(wrong.output).toMatch(/--agent gpt: choose claude-code or codex/);
  });
});
