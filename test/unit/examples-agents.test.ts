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
function runTask(ws: string, spec: TaskSpec, handoffs: Handoff[], extra: Partial<TaskAssigned> = {}): Promise<AgentRun> {
  const argv = config.roles[spec.role]?.exec;
  if (!argv) throw new Error(`no exec for role ${spec.role}`);
  const resultFile = join(ws, "..", `result-${spec.id}.json`);
  rmSync(resultFile, { force: true });
  const task: TaskAssigned = {
    type: "baton.v1.task_assigned", featureId: "f-test", taskId: spec.id, attempt: 1, role: spec.role, title: spec.title,
    instructions: spec.instructions, dependsOn: spec.dependsOn ?? [], workspace: ws,
    feature: { title: feature.title, description: feature.description }, handoffs, dispatchedAt: new Date().toISOString(), ...extra,
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
  const t = feature.tasks!.find((x) => x.id === id);
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
    for (const t of feature.tasks!) {
      const run = await runTask(ws, t, handoffsFor(t.id));
      runs.set(t.id, run);
      if (run.code !== 0) throw new Error(`${t.id} (${t.role}) exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
    }
  }, 30_000);

  it("every task exits 0 and reports a summary", () => {
    for (const t of feature.tasks!) {
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

/** Commits everything in `ws` (as Baton's worker commits a task's work). */
function commitAll(ws: string, message: string): void {
  git(ws, "add", "-A");
  git(ws, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", message);
}

describe("example agents in a git feature's worktree", () => {
  it("the reviewer compares the worktree with where the feature's branch left the user's checkout", async () => {
    const repo = newWorkspace();
    const worktree = join(repo, "..", "task-worktree");
    git(repo, "worktree", "add", "-q", "-b", "baton/f-test", worktree);
    const results = new Map<string, AgentRun["result"]>();
    for (const t of feature.tasks!.filter((task) => task.id !== "review")) {
      const handoffs = (t.dependsOn ?? []).map((d) => ({ taskId: d, role: spec(d).role, ...results.get(d) }));
      const run = await runTask(worktree, t, handoffs);
      expect(run.code, `${t.id}: ${run.stderr}`).toBe(0);
      results.set(t.id, run.result);
      commitAll(worktree, t.id); // each task integrated: the worktree's HEAD holds the feature's work
    }
    const checkout = { repo, kind: "task" as const, branch: "baton/f-test.tasks/review" };
    const review = await runTask(worktree, spec("review"), [], { checkout });
    expect(review.code, review.stderr).toBe(0);
    const text = readFileSync(join(worktree, "docs/review.md"), "utf8");
    expect(text).toContain("Verdict: **approved**");
    expect(text).toContain(`since the feature started (${git(repo, "rev-parse", "HEAD").slice(0, 10)})`);
    expect(text).toMatch(/^A +src\/todos\.js$/m);
    expect(text).toMatch(/^M +src\/app\.js$/m);
    // the user's checkout is untouched
    expect(git(repo, "status", "--porcelain")).toBe("");
  });
});

describe("example agents in a conflict fix task (a merge Baton left in the worktree)", () => {
  it("the backend resolves src/app.js by redoing its change on the integration branch's version, keeping both routes", async () => {
    const ws = newWorkspace();
    const schema = await runTask(ws, spec("schema"), []);
    const api = await runTask(ws, spec("api-spec"), [{ taskId: "schema", role: "database", ...schema.result }]);
    commitAll(ws, "schema and contract");
    const base = git(ws, "rev-parse", "HEAD").trim();
    // the integration branch got GET /version meanwhile; the task's branch holds the backend's change, both in src/app.js
    git(ws, "checkout", "-q", "-b", "integration");
    expect((await runTask(ws, spec("version"), [])).code).toBe(0);
    commitAll(ws, "version");
    git(ws, "checkout", "-q", "-b", "task", base);
    const apiHandoff = { taskId: "api-spec", role: "api", ...api.result };
    expect((await runTask(ws, spec("backend"), [apiHandoff])).code).toBe(0);
    commitAll(ws, "backend");
    const merge = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "merge", "--no-ff", "--no-commit", "integration"], { cwd: ws, encoding: "utf8" });
    expect(merge.status, merge.stdout).toBe(1);
    expect(git(ws, "diff", "--name-only", "--diff-filter=U").trim()).toBe("src/app.js");

    const fix = await runTask(ws, { ...spec("backend"), id: "backend-merge-1", title: "Resolve the merge conflict of task backend (round 1)" }, [apiHandoff]);
    expect(fix.code, fix.stderr).toBe(0);
    expect(fix.stdout).toMatch(/conflict in src\/app\.js: took the integration branch's version; redoing backend's change on top/);
    const app = readFileSync(join(ws, "src/app.js"), "utf8");
    expect(app).not.toMatch(/^(<<<<<<<|=======|>>>>>>>)/m);
    expect(app).toContain(`["/todos", createTodosHandler()]`);
    expect(app).toContain(`["/version", version]`);
    // resolved, and left for Baton to commit: the merge is still in progress
    expect(git(ws, "diff", "--name-only", "--diff-filter=U").trim()).toBe("");
    expect(git(ws, "rev-parse", "-q", "--verify", "MERGE_HEAD").trim()).toBe(git(ws, "rev-parse", "integration").trim());
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
  it("examples/baton.config.yaml loads: seven roles (the planner too), ./agents resolved, backend ×2", () => {
    expect(Object.keys(config.roles).sort()).toEqual(["api", "backend", "database", "frontend", "planner", "qa", "reviewer"]);
    for (const [role, rc] of Object.entries(config.roles)) {
      expect(rc.exec![0]).toBe("node");
      expect(rc.exec![1]).toBe(join(ROOT, "examples/agents", `${role}.mjs`));
      expect(existsSync(rc.exec![1]!), rc.exec![1]).toBe(true);
      expect(rc.timeoutSeconds).toBe(120);
      expect(rc.replicas).toBe(role === "backend" ? 2 : 1);
    }
  });

  it("every task role of api-first.yaml has an executor", () => {
    for (const t of feature.tasks!) expect(config.roles[t.role], t.role).toBeDefined();
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
    for (const g of [...(feature.gates ?? []), ...feature.tasks!.flatMap((t) => [...(t.gates ?? []), ...(t.tdd ? [t.tdd.gate] : [])])]) {
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
