// `baton doctor` and `baton workers` as a user runs them against a real stack (nats-server, `baton coordinator`,
// `baton worker` processes): healthy → exit 0; a configured role whose worker stopped → exit 1 naming the role and
// the command that fixes it; no integrator worker → a warning; `workers --json` lists the coordinator with its
// fingerprint and each busy worker's task. Git must be 2.25 or later.
// On this machine: the real agent CLIs answer --version, a missing one and an llm role without its key are problems;
// invalid role files, templates and rules are listed as file:line: field: message, and a config that plans without a
// planner role gets a hint.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream } from "@nats-io/jetstream";
import { beforeAll, describe, expect, it } from "vitest";
import { encode } from "../../shared/codec.ts";
import { liveWorkers } from "../../shared/client/index.ts";
import { configFingerprint, decisionConfig } from "../../shared/fingerprint.ts";
import { loadConfig } from "../../shared/config.ts";
import { uniquePrefix } from "../helpers/nats-server.ts";
import { baton } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const stack = useStack({
  tag: "doc",
  config: [
    "workspace: ./ws",
    "roles:",
    "  backend: { executor: sleep }",
    "  docs: { executor: noop }",
    "worker: { drainGraceSeconds: 0 }",
    "",
  ].join("\n"),
  dirs: ["ws"],
  workers: [["backend", "backend-1"], ["docs", "docs-1"], ["integrator", "integrator-1"]],
  env: () => ({ NO_COLOR: "1" }),
  stopSignal: "SIGKILL",
});

// The healthy stack's default workspace is a git repository (doctor warns about one that is not).
beforeAll(() => {
  expect(spawnSync("git", ["init", "-q"], { cwd: join(stack.dir, "ws") }).status).toBe(0);
});

async function run(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | string; out: string }> {
  const proc = baton(args, { ...stack.env, ...extraEnv });
  const code = await proc.exited;
  return { code, out: proc.output() };
}

describe("e2e: baton doctor and baton workers", () => {
  it("doctor: a healthy stack passes every check (exit 0)", async () => {
    const { code, out } = await run(["doctor", "--config", stack.cfg]);
    expect(out).toMatch(/✓ NATS answers at nats:\/\/127\.0\.0\.1:\d+ \(nats-server \d+\.\d+/);
    expect(out).toContain("✓ JetStream enabled");
    expect(out).toMatch(/✓ Baton streams and buckets of prefix "doc\w+" exist/);
    expect(out).toMatch(/✓ 1 live coordinator\(s\)/);
    expect(out).toMatch(/✓ coordinators agree on config fingerprint [0-9a-f]{12}/);
    expect(out).toContain(`✓ ${stack.cfg} has the coordinators' fingerprint`);
    expect(out).toContain("✓ role backend: 1 live worker(s)");
    expect(out).toContain("✓ role docs: 1 live worker(s)");
    expect(out).toContain("✓ role integrator: 1 live worker(s) (git worktrees, integration, rollbacks)");
    expect(out).toMatch(/✓ git \d+\.\d+\S* \(git features need 2\.25 or later\)/);
    expect(out).toContain(`✓ task workspaces must lie under: ${join(stack.dir, "ws")}, <worker folder>/.baton/workspaces (the default roots)`);
    expect(out).toContain(`✓ default workspace ${join(stack.dir, "ws")} is in git repository`);
    expect(out).toMatch(/^✓ role files load: 10 roles \(api, backend, bugfix, database, devops, docs, frontend, planner, qa, reviewer\) from Baton's roles\//m);
    expect(out).toMatch(/^✓ templates and selection rules load: 6 templates \(api-first, bugfix, db-migration, perf, refactor, tdd-feature\), \d+ rules from \S+selection\.yaml$/m);
    expect(out).not.toMatch(/^[✗!]/m);
    expect(code).toBe(0);
  });

  it("workers --json: the coordinator with its fingerprint, and the busy worker's task", async () => {
    await jetstream(stack.nc).publish(stack.n.featureSubmit(), encode({
      id: "busy-1", title: "Busy", tasks: [{ id: "long", role: "backend", title: "a long task", instructions: "60000" }],
    }));
    const deadline = Date.now() + 30_000;
    while (!(await liveWorkers(stack.nc, stack.n)).some((beat) => beat.busy > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const { code, out } = await run(["workers", "--json"]);
    expect(code).toBe(0);
    const listed = JSON.parse(out) as { coordinators: Record<string, unknown>[]; workers: Record<string, unknown>[] };
    expect(Object.keys(listed).sort()).toEqual(["coordinators", "workers"]);
    expect(listed.coordinators).toHaveLength(1);
    const expected = configFingerprint(decisionConfig(loadConfig({ file: stack.cfg, env: stack.env })));
    expect(listed.coordinators[0]).toMatchObject({ fingerprint: expected, differs: false, roles: expect.arrayContaining(["backend", "docs"]) });
    expect(listed.workers.map((beat) => beat.workerId)).toEqual(["backend-1", "docs-1", "integrator-1"]);
    expect(listed.workers[0]).toMatchObject({ role: "backend", busy: 1, tasks: [{ featureId: "busy-1", taskId: "long" }] });
    expect(listed.workers[1]).toMatchObject({ role: "docs", busy: 0, tasks: [] });

    const text = await run(["workers"]);
    expect(text.out).toMatch(/coordinators \(1\)\n {2}\S+ +fingerprint [0-9a-f]{12}/);
    expect(text.out).toMatch(/backend +backend-1 +1\/1 busy +working +busy-1\/long/);
  });

  it("doctor: a configured role whose worker stopped is a problem naming the role and the remedy (exit 1)", async () => {
    const docs = stack.procs.find((proc) => proc.child.spawnargs.includes("docs-1"))!;
    expect(await docs.kill("SIGTERM")).toBe(0);
    const { code, out } = await run(["doctor", "--config", stack.cfg]);
    expect(out).toContain("✓ role backend: 1 live worker(s)");
    expect(out).toContain(`✗ role docs: no live worker; its tasks wait — baton worker --role docs --config ${stack.cfg}`);
    expect(code).toBe(1);
    const json = await run(["doctor", "--config", stack.cfg, "--json"]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as { healthy: boolean; findings: { check: string; verdict: string; message: string; remedy?: string }[] };
    expect(report.healthy).toBe(false);
    expect(report.findings.filter((finding) => finding.verdict === "problem")).toEqual([
      { check: "roles", verdict: "problem", message: "role docs: no live worker; its tasks wait", remedy: `baton worker --role docs --config ${stack.cfg}` },
    ]);
  });

  it("doctor: no coordinator, and a config that differs from the running one, are problems", async () => {
    const other = join(stack.dir, "other.yaml");
    writeFileSync(other, "workspace: ./ws\nroles:\n  backend: { executor: sleep }\n  docs: { executor: noop }\ncoordinator: { taskTimeoutSeconds: 60 }\n");
    const differs = await run(["doctor", "--config", other]);
    expect(differs.out).toMatch(new RegExp(`✗ ${other} has fingerprint [0-9a-f]{12}, coordinator\\(s\\) \\S+ run [0-9a-f]{12}: taskTimeoutSeconds 60 in this config, 14400 in \\S+ — restart the coordinators with this config`));
    expect(differs.code).toBe(1);
    const empty = await run(["doctor", "--config", stack.cfg], { BATON_PREFIX: uniquePrefix("none") });
    expect(empty.out).toMatch(/✗ no Baton streams for prefix "none\w+" — start a coordinator/);
    expect(empty.out).toMatch(/✗ no live coordinator on prefix "none\w+": nothing accepts requests — start one: baton coordinator --config /);
    expect(empty.out).toContain(`! no live integrator worker: features with a git workspace wait for their worktrees, merges and rollbacks — baton worker --role integrator --config ${stack.cfg} (baton up starts one)`);
    expect(empty.code).toBe(1);
    const down = await run(["doctor"], { NATS_URL: "nats://127.0.0.1:1" });
    expect(down.out).toMatch(/✗ NATS does not answer at nats:\/\/127\.0\.0\.1:1 .* — start nats-server -js/);
    expect(down.code).toBe(1);
  });

  it("doctor: agent CLIs found and answering --version, a missing CLI and an llm role without its key are problems, a workspace outside git is reported", async () => {
    mkdirSync(join(stack.dir, "plain"), { recursive: true });
    const agents = join(stack.dir, "agents.yaml");
    writeFileSync(agents, [
      "workspace: ./plain",
      "roles:",
      "  backend: { agent: claude-code }",
      "  frontend: { agent: codex }",
      '  api: { agent: claude-code, command: ["/nonexistent/claude"] }',
      "  planner: { agent: llm, model: gpt-test, llm: { provider: openai, apiKeyEnv: BATON_TEST_MISSING_KEY } }",
      "  reviewer: { agent: llm, model: claude-test, llm: { apiKeyEnv: BATON_TEST_LLM_KEY } }",
      "",
    ].join("\n"));
    const { code, out } = await run(["doctor", "--config", agents], { BATON_TEST_LLM_KEY: "sk-test-do-not-print-1234" });
    expect(out).toMatch(/✓ role backend \(claude-code\): \S+\/node_modules\/\.bin\/claude answers --version: \d+\.\d+\.\d+ \(Claude Code\)/);
    expect(out).toMatch(/✓ role frontend \(codex\): \S+\/node_modules\/\.bin\/codex answers --version: codex-cli \d+\.\d+/);
    expect(out).toContain("✗ role api (claude-code): /nonexistent/claude not found — install it (npm install -g @anthropic-ai/claude-code, or as a dependency of this project) or set roles.api.command");
    expect(out).toContain("✗ role planner (llm, openai, gpt-test): API key variable BATON_TEST_MISSING_KEY is not set in this environment — export BATON_TEST_MISSING_KEY in the workers' environment");
    expect(out).toContain("✓ role reviewer (llm, anthropic, claude-test): API key variable BATON_TEST_LLM_KEY is set");
    expect(out).toContain(`! default workspace ${join(stack.dir, "plain")}: it is not a git repository, so the phantom-completion check compares file times and reviewers get no diff — git init ${join(stack.dir, "plain")}`);
    expect(out).not.toContain("sk-test-do-not-print");
    expect(code).toBe(1);

    const json = await run(["doctor", "--config", agents, "--json"], { BATON_TEST_LLM_KEY: "sk-test-do-not-print-1234" });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as { findings: { check: string; verdict: string; message: string }[] };
    const local = report.findings.filter((finding) => ["agents", "llm-keys"].includes(finding.check)).map((finding) => [finding.check, finding.verdict, finding.message.split(":")[0]]);
    expect(local).toEqual([
      ["agents", "problem", "role api (claude-code)"],
      ["agents", "ok", "role backend (claude-code)"],
      ["agents", "ok", "role frontend (codex)"],
      ["llm-keys", "problem", "role planner (llm, openai, gpt-test)"],
      ["llm-keys", "ok", "role reviewer (llm, anthropic, claude-test)"],
    ]);
    expect(report.findings).toContainEqual(expect.objectContaining({ check: "workspace", verdict: "warning" }));
  });

  it("doctor: invalid role files, templates and rules are listed as file:line: field: message; planning without a planner is a hint", async () => {
    const dir = join(stack.dir, "planning");
    for (const sub of ["roles", "templates", "ws/.claude/agents"]) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, "roles", "qa.md"), "---\nname: qa\nmaxConcurrency: 0\n---\nYou test.\n");
    writeFileSync(join(dir, "roles", "docs.md"), "---\nname: docs\n---\nYou write docs.\n");
    writeFileSync(join(dir, "templates", "mine.yaml"), "name: mine\ndescription: Mine.\nsteps:\n  - id: one\n    role: backend\n    title: One\n  - id: two\n    role: backend\n    title: Two\n    dependOn: [one]\n");
    // Baton's rules with one more rule whose `before` names a kind no rule has
    const shippedRules = readFileSync(join(ROOT, "rules", "selection.yaml"), "utf8");
    writeFileSync(join(dir, "rules.yaml"), `${shippedRules.trimEnd()}\n\n  - kind: extra\n    role: qa\n    description: Extra.\n    before: [nothing-like-it]\n`);
    writeFileSync(join(dir, "ws", ".claude", "agents", "helper.md"), "---\nname: bad name!\n---\nHelps.\n");
    writeFileSync(join(dir, "baton.config.yaml"), "workspace: ./ws\nroles:\n  backend: { executor: noop }\nplanning:\n  templates: [./templates]\n  roles: [./roles]\n  rules: ./rules.yaml\n");
    const cfg = join(dir, "baton.config.yaml");
    const { code, out } = await run(["doctor", "--config", cfg]);
    expect(out).toContain(`✗ role file ${join(dir, "roles", "qa.md")}:3: maxConcurrency: must be at least 1 — fix the file: it is left out (the other role files load)`);
    // the project's own files (the default workspace's) are its business: a warning
    expect(out).toMatch(new RegExp(`^! role file ${join(dir, "ws", ".claude", "agents", "helper.md").replace(/\./g, "\\.")}:2: name: .+ — fix the file`, "m"));
    expect(out).toMatch(new RegExp(`^✗ planning file ${join(dir, "templates", "mine.yaml").replace(/\./g, "\\.")}:10: steps\\[1\\]\\.dependOn: unknown field "dependOn" \\(did you mean "dependsOn"\\?\\)`, "m"));
    expect(out).toMatch(new RegExp(`^✗ planning file ${join(dir, "rules.yaml").replace(/\./g, "\\.")}:\\d+: rules\\[\\d+\\]\\.before.*nothing-like-it`, "m"));
    expect(out).toContain("! the config sets planning: but has no planner role: a feature with plan: auto (a goal in words) has nobody to plan it — add roles.planner");
    expect(out).not.toMatch(/^✓ (role files|templates and selection rules) load/m);
    expect(code).toBe(1);

    // fixed files and a planner role: every planning check passes, and there is no hint
    writeFileSync(join(dir, "roles", "qa.md"), "---\nname: qa\nmaxConcurrency: 1\n---\nYou test.\n");
    writeFileSync(join(dir, "templates", "mine.yaml"), "name: mine\ndescription: Mine.\nsteps:\n  - id: one\n    role: backend\n    title: One\n");
    writeFileSync(join(dir, "rules.yaml"), shippedRules);
    writeFileSync(join(dir, "ws", ".claude", "agents", "helper.md"), "---\nname: helper\n---\nHelps.\n");
    writeFileSync(cfg, "workspace: ./ws\nroles:\n  backend: { executor: noop }\n  planner: { executor: noop }\nplanning:\n  templates: [./templates]\n  roles: [./roles]\n  rules: ./rules.yaml\n");
    const json = await run(["doctor", "--config", cfg, "--json"]);
    const report = JSON.parse(json.out) as { findings: { check: string; verdict: string; message: string }[] };
    const planning = report.findings.filter((finding) => ["role-files", "planning-files", "planner"].includes(finding.check));
    expect(planning.map((finding) => [finding.check, finding.verdict])).toEqual([["role-files", "ok"], ["planning-files", "ok"]]);
    expect(planning[0]!.message).toMatch(/^role files load: 11 roles \(.*helper.*\) from Baton's roles\/, \S+\/roles, \S+\/ws\/\.claude\/agents\/ and \.baton\/roles\/$/);
    expect(planning[1]!.message).toMatch(/^templates and selection rules load: 7 templates \(api-first, bugfix, db-migration, mine, perf, refactor, tdd-feature\), \d+ rules from \S+\/planning\/rules\.yaml$/);
  });
});
