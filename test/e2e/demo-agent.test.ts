// `npm run demo -- --agent claude-code|codex` as a user runs it without an API key: the real Claude Code and Codex
// CLIs do the implementing roles' work against the scripted model server the demo starts, on a test nats-server.
// The feature completes with its gates (a review round, the test-driven phases, tests and coverage), the screen says
// that the scripted server answers, and the workspace holds what the feature asks for. 45-60 s per agent here.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.ts";
import { agentHome } from "../helpers/agent-env.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

let nats: NatsServer;
const runDirs: string[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
});

afterAll(async () => {
  await nats?.dispose();
  for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
});

/** `npm run demo -- ARGS` with no provider keys, NATS_URL at the test server; its exit code and output. */
function demo(args: string[]): Promise<{ code: number | null; output: string }> {
  // HOME: the agents' shells read none of this machine's dotfiles (test/helpers/agent-env.ts says why)
  const env: NodeJS.ProcessEnv = { ...process.env, NATS_URL: nats.url, NO_COLOR: "1", ...agentHome() };
  for (const key of ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY", "CODEX_API_KEY", "BATON_PREFIX", "BATON_CONFIG"]) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "demo", "--", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => void (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => void (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGINT"), 170_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output: stripAnsi(output) });
    });
  });
}

const CASES = [
  { agent: "claude-code", notice: /no ANTHROPIC_API_KEY: Claude Code runs against Baton's scripted model server at (http:\/\/127\.0\.0\.1:\d+)/, tools: ["Write", "Edit", "Bash"] },
  { agent: "codex", notice: /no OPENAI_API_KEY: Codex runs against Baton's scripted model server at (http:\/\/127\.0\.0\.1:\d+)/, tools: ["file_change", "command_execution"] },
] as const;

describe("npm run demo -- --agent (no API key: the scripted model server)", () => {
  for (const { agent, notice, tools } of CASES) {
    it(`${agent}: the real CLI does the implementing roles' work and the feature completes with its gates`, async () => {
      const { code, output } = await demo(["--agent", agent]);
      const workspace = /feature demo-\w+ completed; workspace (\S+)/.exec(output)?.[1];
      if (workspace) runDirs.push(dirname(workspace));
      expect(code, output.slice(-4000)).toBe(0);
      expect(workspace, output.slice(-2000)).toBeDefined();
      // the screen says what answers the CLI, and the CLI's own tool calls show up as progress
      const url = notice.exec(output)?.[1];
      expect(url, output.slice(0, 2000)).toBeDefined();
      const progress = output.split("\n").filter((line) => /^ +│ [\w-]+: /.test(line)).join("\n");
      for (const tool of tools) expect(progress, `progress naming ${tool}`).toMatch(new RegExp(`: (\\S+, )*${tool}\\b`));
      expect(output).toMatch(/fixing +backend gate review, round 1/);
      expect(output).toMatch(/gate passed tests for version-red .* expected to fail/);
      expect(output).toMatch(/gate passed coverage for feature/);
      expect(output).toMatch(/^schema +database +completed .*\(usage: tokens \d+/m);
      // what the agents wrote: every piece of the feature, with the review round's change
      const read = (path: string) => readFileSync(join(workspace!, path), "utf8");
      for (const path of ["migrations/001_create_todos.sql", "docs/openapi.yaml", "web/index.html", "web/todos.js", "test/todos.test.js", "test/version.test.js"]) {
        expect(existsSync(join(workspace!, path)), path).toBe(true);
      }
      expect(read("migrations/001_create_todos.sql")).toMatch(/CREATE TABLE IF NOT EXISTS todos \(/);
      expect(read("src/todos.js")).toContain("/** @operationId getTodo (GET /todos/{id} in the contract) */");
      expect(read("src/app.js")).toContain(`["/todos", createTodosHandler()]`);
      expect(read("src/app.js")).toContain(`["/version", version]`);
      expect(read("docs/review.md")).toContain("Verdict: **approved**");
      // the demo stopped its model server
      await expect(fetch(url!)).rejects.toThrow();
    }, 180_000);
  }

  it("--help explains the flags; a wrong agent is refused with exit 2", async () => {
    const help = await demo(["--help"]);
    expect(help.code).toBe(0);
    expect(help.output).toMatch(/--agent NAME/);
    const wrong = await demo(["--agent", "gpt"]);
    expect(wrong.code).toBe(2);
    expect(wrong.output).toMatch(/--agent gpt: choose claude-code or codex/);
  });
});
