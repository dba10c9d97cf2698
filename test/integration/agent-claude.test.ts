// Claude Code as a role worker, end to end: a real nats-server, `baton coordinator`, a backend `baton worker` whose
// role runs the real `claude -p` against the scripted model server in this process, and a qa worker running the real
// `node --test` gate, and a reviewer worker also on claude. The agent writes the file, runs the tests with Bash (as
// root too), the gate judges the work, progress and usage arrive as events; a failed gate's fix round continues the
// first run's Claude session; a claude reviewer's verdict decides the review gate.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import { ModelServer } from "../../services/model-server/server.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { names, type Names } from "../../shared/subjects.ts";
import { submitAndFollow } from "../helpers/follow.ts";
import { gitRepo } from "../helpers/git-repo.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";
import { baton, type Proc } from "../helpers/procs.ts";
import { agentHome } from "../helpers/agent-env.ts";

const write = (path: string, content: string) => ({ name: "Write", input: { file_path: path, content } });
const bash = (command: string) => ({ name: "Bash", input: { command, description: "Run the tests" } });
const turn = (text: string, tools: { name: string; input: Record<string, unknown> }[] = []) => ({ text, tools, delayMs: 0, stall: false });

const SCRIPTS = [
  {
    match: "Add the add function",
    turns: [
      turn("I will write src/add.js.", [write("src/add.js", "export function add(a, b) {\n  return a + b;\n}\n")]),
      turn("Now the tests.", [bash("node --test")]),
      turn("Added src/add.js exporting add(a, b); node --test passes."),
    ],
    then: "Done.",
  },
  {
    // turns 0-1: the first run (a wrong sub); turns 2-3: the fix round, which must continue this conversation
    match: "Add the sub function",
    turns: [
      turn("Writing src/sub.js.", [write("src/sub.js", "export function sub(a, b) {\n  return a + b;\n}\n")]),
      turn("Added src/sub.js."),
      turn("The gate shows sub adds; fixing it.", [write("src/sub.js", "export function sub(a, b) {\n  return a - b;\n}\n")]),
      turn("Fixed sub: it subtracts now."),
    ],
    then: "Done.",
  },
  {
    // the reviewer's prompt (it names the task too, so this script comes before the author's)
    match: "You are reviewing the work",
    turns: [turn('The change does what was asked.\n```json\n{ "review": { "verdict": "approve", "comments": [] } }\n```')],
    then: "Done.",
  },
  {
    match: "Add the mul function",
    turns: [turn("Writing src/mul.js.", [write("src/mul.js", "export function mul(a, b) {\n  return a * b;\n}\n")]), turn("Added src/mul.js.")],
    then: "Done.",
  },
];

const testFile = (fn: string, call: string, expected: number) =>
  `import { test } from "node:test";\nimport assert from "node:assert";\nimport { ${fn} } from "../src/${fn}.js";\ntest("${fn}", () => assert.strictEqual(${call}, ${expected}));\n`;

let server: NatsServer;
let model: ModelServer;
let dir: string;
let n: Names;
let nc: NatsConnection;
const procs: Proc[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  model = new ModelServer({ scripts: SCRIPTS, dialects: ALL_DIALECTS });
  const url = await model.start();
  dir = mkdtempSync(join(tmpdir(), "baton-claude-"));
  const env = { ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: "test-key", DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", ...agentHome() };
  writeFileSync(join(dir, "baton.yaml"), JSON.stringify({
    workspaceRoots: ["./workspaces"],
    roles: {
      backend: { agent: "claude-code", timeoutSeconds: 120, stallSeconds: 60, env },
      reviewer: { agent: "claude-code", timeoutSeconds: 120, stallSeconds: 60, env },
      qa: { exec: ["true"] },
    },
    gates: { unit: { run: ["node", "--test"], timeoutSeconds: 120 } },
  }));
  const prefix = uniquePrefix("claude");
  n = names(prefix);
  // XDG_CACHE_HOME: the features' git worktrees (default: under it) go in the test's folder, not this machine's ~/.cache
  const processEnv = { NATS_URL: server.url, BATON_PREFIX: prefix, XDG_CACHE_HOME: join(dir, "cache") };
  const cfg = join(dir, "baton.yaml");
  procs.push(baton(["coordinator", "--config", cfg], processEnv, { cwd: dir }));
  procs.push(baton(["worker", "--role", "backend", "--id", "backend-1", "--config", cfg], processEnv, { cwd: dir }));
  procs.push(baton(["worker", "--role", "qa", "--id", "qa-1", "--config", cfg], processEnv, { cwd: dir }));
  procs.push(baton(["worker", "--role", "reviewer", "--id", "reviewer-1", "--config", cfg], processEnv, { cwd: dir }));
  procs.push(baton(["worker", "--role", "integrator", "--id", "integrator-1", "--config", cfg], processEnv, { cwd: dir }));
  await procs[0]!.waitFor(/coordinator ready/, 30_000);
  await Promise.all(procs.slice(1).map((proc) => proc.waitFor(/worker ready/, 30_000)));
  nc = await connect({ servers: server.url });
}, 90_000);

afterAll(async () => {
  await nc?.close();
  await Promise.all(procs.map((proc) => proc.kill("SIGTERM")));
  await model?.close();
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ofKind = <K extends StatusEvent["kind"]>(events: StatusEvent[], kind: K) => events.filter((event): event is Extract<StatusEvent, { kind: K }> => event.kind === kind);

/** A file as the feature's integration branch `baton/<featureId>` holds it. */
const onBranch = (ws: string, featureId: string, path: string): string =>
  execFileSync("git", ["show", `baton/${featureId}:${path}`], { cwd: ws, encoding: "utf8" });

describe("claude-code as the backend role", () => {
  it("writes the file, runs node --test with Bash, passes the gate; progress names Write, Bash and the file; usage arrives", async () => {
    const workspace = gitRepo(join(dir, "workspaces", "add"), { "package.json": '{ "type": "module" }\n', "test/add.test.js": testFile("add", "add(2, 3)", 5) });
    const { view, events } = await submitAndFollow(nc, n, {
      id: "add", title: "add", workspace, tasks: [{ id: "impl", role: "backend", title: "Add the add function", instructions: "src/add.js exporting add(a, b)", gates: ["unit"] }],
    }, { timeoutMs: 90_000 });
    expect(view.state, JSON.stringify(events.map((event) => event.kind))).toBe("completed");
    expect(onBranch(workspace, "add", "src/add.js")).toContain("return a + b"); // on the feature's branch; the checkout is untouched
    const progress = ofKind(events, "task.progress");
    expect(progress.find((event) => event.tool?.includes("Write"))).toMatchObject({ taskId: "impl", files: expect.arrayContaining(["src/add.js"]) });
    expect(progress.some((event) => event.tool?.includes("Bash"))).toBe(true);
    expect(events.some((event) => event.kind === "gate.passed" && event.gate === "unit")).toBe(true);
    expect(ofKind(events, "task.completed")).toMatchObject([{ taskId: "impl", summary: "Added src/add.js exporting add(a, b); node --test passes." }]);
    // the run's usage is on task.completed, which a gated task gets from the coordinator's gate step
    expect(ofKind(events, "task.completed")[0]!.usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
    expect(ofKind(events, "task.completed")[0]!.usage!.outputTokens).toBeGreaterThan(0);
    // and running usage arrived with the progress
    const usages = progress.flatMap((event) => (event.usage ? [event.usage.inputTokens] : []));
    expect(usages.length).toBeGreaterThan(0);
    expect(usages.at(-1)).toBeGreaterThan(0);
    // the Bash tool really ran node --test in the workspace: its output went back to the model
    const afterBash = model.exchanges.filter((exchange) => exchange.scriptIndex === 0 && exchange.turnIndex === 2).map((exchange) => JSON.stringify(exchange.body));
    expect(afterBash.join("\n")).toMatch(/# pass 1/);
  }, 120_000);

  it("a fix round continues the first run's session: claude --resume, and the model sees the first conversation", async () => {
    const workspace = gitRepo(join(dir, "workspaces", "sub"), { "package.json": '{ "type": "module" }\n', "test/sub.test.js": testFile("sub", "sub(5, 3)", 2) });
    const { view, events } = await submitAndFollow(nc, n, {
      id: "sub", title: "sub", workspace,
      tasks: [{ id: "impl", role: "backend", title: "Add the sub function", gates: ["unit"], onFailure: { fix: { maxRounds: 1, role: "backend" } } }],
    }, { timeoutMs: 90_000 });
    expect(view.state, JSON.stringify(events.map((event) => event.kind))).toBe("completed");
    expect(ofKind(events, "task.fixing")).toHaveLength(1);
    // the fix task's result carried the CLI's usage onto its task.completed
    const fixed = ofKind(events, "task.completed").find((event) => event.taskId !== "impl");
    expect(fixed).toMatchObject({ summary: "Fixed sub: it subtracts now.", usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number), costUsd: expect.any(Number) } });
    expect(fixed!.usage!.inputTokens).toBeGreaterThan(0);
    expect(onBranch(workspace, "sub", "src/sub.js")).toContain("return a - b");
    expect(procs[1]!.output()).toMatch(/"resume":"[\w-]+","msg":"agent run continues its session"/);
    // the fix round's request carries the first run's conversation (its wrong Write) and then the fix instructions
    const fixRequest = model.exchanges.find((exchange) => exchange.scriptIndex === 1 && exchange.turnIndex === 2);
    const body = JSON.stringify(fixRequest?.body);
    expect(body).toContain("return a + b");
    expect(body).toContain("Fix gate unit");
  }, 120_000);

  it("a claude-code reviewer sees the diff and its verdict, a fenced JSON block in its final message, decides the review gate", async () => {
    const workspace = gitRepo(join(dir, "workspaces", "mul"), { "package.json": '{ "type": "module" }\n' });
    const { view, events } = await submitAndFollow(nc, n, {
      id: "mul", title: "mul", workspace, tasks: [{ id: "impl", role: "backend", title: "Add the mul function", gates: ["review"] }],
    }, { timeoutMs: 90_000 });
    expect(view.state, JSON.stringify(events.map((event) => event.kind))).toBe("completed");
    expect(events.find((event) => event.kind === "gate.passed" && event.gate === "review")).toMatchObject({ workerId: "reviewer-1", review: { verdict: "approve" } });
    const reviewRequest = model.exchanges.find((exchange) => exchange.scriptIndex === 2);
    expect(JSON.stringify(reviewRequest?.body)).toContain("+export function mul(a, b)");
  }, 120_000);
});
