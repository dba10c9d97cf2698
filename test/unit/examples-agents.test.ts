// The demo's role agents, run for real the way the exec executor runs them (argv from the example
// config, cwd = a git workspace holding the sample app, task JSON on stdin, BATON_* environment),
// plus checks that the example and deploy configuration files load.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { loadConfig } from "../../shared/config.ts";
import { FeatureRequest, type Handoff, type TaskAssigned, type TaskSpec } from "../../shared/protocol/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const config = loadConfig({ file: join(ROOT, "examples/baton.config.yaml"), env: {} });
const feature = FeatureRequest.parse(parseYaml(readFileSync(join(ROOT, "examples/features/api-first.yaml"), "utf8")));

interface AgentRun {
  code: number | null;
  stdout: string;
  stderr: string;
  result?: { summary?: string; handoff?: unknown };
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A fresh copy of the sample app, committed, as `npm run demo` prepares it. */
function newWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "baton-agents-"));
  tmpDirs.push(dir);
  const ws = join(dir, "workspace");
  cpSync(join(ROOT, "examples/sample-app"), ws, { recursive: true });
  git(ws, "init", "-q");
  git(ws, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", "add", "-A");
  git(ws, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "start");
  return ws;
}

/** Runs one task's agent as the exec executor would, with the role's argv from the example config. */
function runTask(ws: string, spec: TaskSpec, handoffs: Handoff[]): Promise<AgentRun> {
  const argv = config.roles[spec.role]?.exec;
  if (!argv) throw new Error(`no exec for role ${spec.role}`);
  const resultFile = join(ws, "..", `result-${spec.id}.json`);
  rmSync(resultFile, { force: true });
  const task: TaskAssigned = {
    type: "baton.v1.task_assigned", featureId: "f-test", taskId: spec.id, attempt: 1, role: spec.role, title: spec.title,
    instructions: spec.instructions, dependsOn: spec.dependsOn ?? [], workspace: ws,
    feature: { title: feature.title, description: feature.description }, handoffs, dispatchedAt: new Date().toISOString(),
  };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? ws,
    BATON_FEATURE_ID: "f-test", BATON_TASK_ID: spec.id, BATON_ROLE: spec.role, BATON_ATTEMPT: "1",
    BATON_WORKSPACE: ws, BATON_RESULT_FILE: resultFile,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ws, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", reject);
    child.stdin.end(JSON.stringify(task));
    child.on("close", (code) => {
      const run: AgentRun = { code, stdout, stderr };
      if (existsSync(resultFile)) run.result = JSON.parse(readFileSync(resultFile, "utf8"));
      resolve(run);
    });
  });
}

const spec = (id: string): TaskSpec => {
  const t = feature.tasks.find((x) => x.id === id);
  if (!t) throw new Error(`no task ${id} in api-first.yaml`);
  return t;
};

describe("example agents on the sample app (api-first feature)", () => {
  let ws: string;
  const runs = new Map<string, AgentRun>();
  const handoffsFor = (id: string): Handoff[] =>
    (spec(id).dependsOn ?? []).map((d) => ({ taskId: d, role: spec(d).role, ...runs.get(d)?.result }));

  beforeAll(async () => {
    ws = newWorkspace();
    // The feature's order: every task after the tasks it depends on (the file lists them that way).
    for (const t of feature.tasks) {
      const run = await runTask(ws, t, handoffsFor(t.id));
      runs.set(t.id, run);
      if (run.code !== 0) throw new Error(`${t.id} (${t.role}) exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
    }
  }, 30_000);

  it("every task exits 0 and reports a summary", () => {
    for (const t of feature.tasks) {
      expect(runs.get(t.id)?.code, t.id).toBe(0);
      expect(runs.get(t.id)?.result?.summary, t.id).toBeTruthy();
    }
  });

  it("writes the migration, contract, implementation, client, tests and review", () => {
    for (const f of [
      "migrations/001_create_todos.sql", "docs/openapi.yaml", "src/todos.js", "web/todos.js", "web/index.html",
      "test/todos.test.js", "docs/review.md",
    ]) expect(existsSync(join(ws, f)), f).toBe(true);
    expect(readFileSync(join(ws, "migrations/001_create_todos.sql"), "utf8")).toMatch(/CREATE TABLE IF NOT EXISTS todos \(/);
    expect(readFileSync(join(ws, "src/app.js"), "utf8")).toContain(`["/todos", createTodosHandler()]`);
  });

  it("the OpenAPI document is OpenAPI 3.0 with GET/POST /todos and GET /todos/{id}, as the api handoff says", () => {
    const doc = parseYaml(readFileSync(join(ws, "docs/openapi.yaml"), "utf8")) as {
      openapi: string; paths: Record<string, Record<string, { operationId: string }>>;
    };
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(Object.keys(doc.paths).sort()).toEqual(["/todos", "/todos/{id}"]);
    expect(Object.keys(doc.paths["/todos"]!).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/todos/{id}"]!)).toEqual(["get"]);
    const endpoints = (runs.get("api-spec")?.result?.handoff as { endpoints: { method: string; path: string }[] }).endpoints;
    expect(endpoints.map((e) => `${e.method} ${e.path}`)).toEqual(["GET /todos", "POST /todos", "GET /todos/{id}"]);
  });

  it("qa ran the workspace's real suite, including its new todos tests, and it passed", () => {
    const qa = runs.get("tests")!;
    expect(qa.stdout).toMatch(/running npm test/);
    expect(qa.stdout).toMatch(/^ok \d+ - GET \/todos\/\{id\} answers 404/m);
    expect(qa.stdout).toMatch(/^# fail 0$/m);
    expect(qa.result?.handoff).toMatchObject({ passed: true });
  });

  it("the reviewer approves and lists the changes since the feature started", () => {
    const review = readFileSync(join(ws, "docs/review.md"), "utf8");
    expect(review).toContain("Verdict: **approved**");
    expect(review).toMatch(/\?\? src\/todos\.js/);
    expect(review).toMatch(/M +src\/app\.js/);
  });

  it("running a task again changes nothing (idempotent)", async () => {
    const before = git(ws, "status", "--porcelain", "--untracked-files=all");
    const again = await runTask(ws, spec("backend"), handoffsFor("backend"));
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/unchanged src\/todos\.js/);
    expect(again.stdout).toMatch(/unchanged src\/app\.js/);
    expect(git(ws, "status", "--porcelain", "--untracked-files=all")).toBe(before);
  });

  it("qa fails with the suite's exit code when the backend module is broken", async () => {
    const broken = join(ws, "..", "broken");
    cpSync(ws, broken, { recursive: true });
    writeFileSync(join(broken, "src/todos.js"), "export function createTodosHandler( {\n");
    const qa = await runTask(broken, spec("tests"), handoffsFor("tests"));
    expect(qa.code).not.toBe(0);
    expect(qa.stderr).toMatch(/npm test failed/);
    expect(qa.result).toBeUndefined();
  });
});

describe("example agents refuse to work without what they depend on", () => {
  it("backend without the api handoff exits 1 naming it", async () => {
    const run = await runTask(newWorkspace(), spec("backend"), []);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/missing the api handoff/);
  });

  it("api exits 1 when the migration its handoff names is not in the workspace", async () => {
    const handoff = { taskId: "schema", role: "database", handoff: { migration: "migrations/001_create_todos.sql", table: "todos", columns: [{ name: "id", type: "integer" }] } };
    const run = await runTask(newWorkspace(), spec("api-spec"), [handoff]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/missing migrations\/001_create_todos\.sql/);
  });

  it("the reviewer requests changes (exit 1) when the feature's files are missing", async () => {
    const ws = newWorkspace();
    const run = await runTask(ws, spec("review"), []);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/src\/todos\.js: missing/);
    expect(readFileSync(join(ws, "docs/review.md"), "utf8")).toContain("changes requested");
  });
});

describe("example and deploy configuration", () => {
  it("examples/baton.config.yaml loads: six roles, ./agents resolved, backend ×2", () => {
    expect(Object.keys(config.roles).sort()).toEqual(["api", "backend", "database", "frontend", "qa", "reviewer"]);
    for (const [role, rc] of Object.entries(config.roles)) {
      expect(rc.exec![0]).toBe("node");
      expect(rc.exec![1]).toBe(join(ROOT, "examples/agents", `${role}.mjs`));
      expect(existsSync(rc.exec![1]!), rc.exec![1]).toBe(true);
      expect(rc.timeoutSeconds).toBe(120);
      expect(rc.replicas).toBe(role === "backend" ? 2 : 1);
    }
  });

  it("every task role of api-first.yaml has an executor", () => {
    for (const t of feature.tasks) expect(config.roles[t.role], t.role).toBeDefined();
  });

  it("deploy/workers.yaml loads and points at the agents inside the image", () => {
    const w = loadConfig({ file: join(ROOT, "deploy/workers.yaml"), env: {} });
    expect(w.workspace).toBe("/workspace");
    expect(Object.keys(w.roles).sort()).toEqual(Object.keys(config.roles).sort());
    for (const [role, rc] of Object.entries(w.roles)) {
      expect(rc.exec).toEqual(["node", `/app/examples/agents/${role}.mjs`]);
      expect(existsSync(join(ROOT, "examples/agents", basename(rc.exec![1]!)))).toBe(true);
    }
    // the gates the demo feature names, as in the example config
    expect(Object.keys(w.gates).sort()).toEqual(Object.keys(config.gates).sort());
    for (const g of [...(feature.gates ?? []), ...feature.tasks.flatMap((t) => [...(t.gates ?? []), ...(t.tdd ? [t.tdd.gate] : [])])]) {
      if (g !== "review") expect(w.gates[g], g).toBeDefined();
    }
  });

  it("deploy/docker-compose.yml has nats, a coordinator and one worker service per role", () => {
    // `merge: true`: the file shares settings through YAML merge keys (<<: *worker), as compose reads them.
    const compose = parseYaml(readFileSync(join(ROOT, "deploy/docker-compose.yml"), "utf8"), { merge: true }) as {
      services: Record<string, { image?: string; command?: string[]; environment?: Record<string, string>; deploy?: { replicas?: number } }>;
    };
    const s = compose.services;
    expect(s.nats?.image).toMatch(/^nats:2\.10/);
    expect(s.nats?.command).toEqual(expect.arrayContaining(["-js", "-c", "/etc/nats/nats-server.conf"]));
    // coordinators read the workers' config too: they check requests against its gates
    expect(s.coordinator?.command).toEqual(["coordinator", "--config", "/app/deploy/workers.yaml"]);
    expect(s.coordinator?.environment?.NATS_URL).toBe("nats://nats:4222");
    for (const role of Object.keys(config.roles)) {
      const w = s[`worker-${role}`];
      expect(w, role).toBeDefined();
      expect(w!.command).toEqual(["worker", "--role", role, "--config", "/app/deploy/workers.yaml"]);
      expect(w!.environment?.NATS_URL).toBe("nats://nats:4222");
      expect(w!.deploy?.replicas).toBe(role === "backend" ? 2 : 1);
    }
  });
});
