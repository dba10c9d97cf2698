// Quality gates end to end (issue 5): real nats-server, `baton coordinator`, a backend and a qa worker
// process, and real temporary git workspaces holding a small Node project whose gates are real commands
// (`node --test`, with node's own coverage reporter). The backend "agent" writes the files its task's
// instructions give it, so each test decides whether the code it gates is right, wrong or untested.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FeatureView } from "../../shared/client/index.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { submitAndFollow } from "../helpers/follow.ts";
import { gitRepo } from "../helpers/git-repo.ts";
import { useStack } from "../helpers/stack.ts";

/** Writes the files in the task's instructions ({"files": {path: content}}) into the workspace. */
const AGENT = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
const task = JSON.parse(readFileSync(0, "utf8"));
// The request's instructions are JSON; a test-driven phase gets them after the coordinator's own text.
const text = task.instructions || "{}";
// a fix task carries the coordinator's text, then the task's own instructions after this marker
const marker = "The task's own instructions were:\\n";
let spec = {};
try { spec = JSON.parse(text.includes(marker) ? text.slice(text.indexOf(marker) + marker.length) : text.slice(text.indexOf("{"))); } catch {}
// {"files": ...} for a plain task; {"red": {...}, "green": {...}, "refactor": {...}} for a test-driven one
const phase = task.taskId.endsWith("-red") ? "red" : task.taskId.endsWith("-refactor") ? "refactor" : "green";
const { files = {} } = spec.files ? spec : spec[phase] ?? {};
for (const [path, content] of Object.entries(files)) {
  const p = join(process.env.BATON_WORKSPACE, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}
// a reviewer asked for a marker line: add it (what an author does with review comments)
if (text.includes("add the line // reviewed")) appendFileSync(join(process.env.BATON_WORKSPACE, "src/math.js"), "// reviewed\\n");
console.log("wrote " + Object.keys(files).join(", "));
`;

/** Approves a diff that has the marker line; otherwise requests it, with a comment on the file. */
const REVIEWER = `
import { appendFileSync, readFileSync } from "node:fs";
const task = JSON.parse(readFileSync(0, "utf8"));
const r = task.review;
if (!r || typeof r.diff !== "string") { console.error("no diff to review"); process.exit(2); }
const ok = r.diff.includes("+// reviewed");
const verdict = ok
  ? { verdict: "approve", comments: [] }
  : { verdict: "changes_requested", comments: [{ file: "src/math.js", line: 1, message: "add the line // reviewed at the end" }] };
appendFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: "reviewed " + (r.base || "?").slice(0, 7), review: verdict }));
console.log("reviewer: " + verdict.verdict + " (" + task.handoffs.length + " handoffs, diff " + r.diff.length + " chars)");
`;

/** A bug fixer: in mode "fix" (the workspace's .fix-mode file) it turns the subtraction back into an addition. */
const FIXER = `
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const ws = process.env.BATON_WORKSPACE;
const task = JSON.parse(readFileSync(0, "utf8"));
const mode = existsSync(join(ws, ".fix-mode")) ? readFileSync(join(ws, ".fix-mode"), "utf8").trim() : "fix";
if (!task.instructions.includes("not ok")) { console.error("no failing output given"); process.exit(3); }
const file = join(ws, "src/math.js");
if (mode === "fix") writeFileSync(file, readFileSync(file, "utf8").replace("a - b", "a + b"));
else writeFileSync(file, readFileSync(file, "utf8") + "// tried\\n");
console.log("fixer: " + mode);
`;

/** Fails its first attempt when the workspace has a .flaky file, succeeds on the next. */
const FLAKY = `
import { existsSync } from "node:fs";
import { join } from "node:path";
if (existsSync(join(process.env.BATON_WORKSPACE, ".flaky")) && process.env.BATON_ATTEMPT === "1") { console.error("flaky: failing attempt 1"); process.exit(1); }
console.log("ok on attempt " + process.env.BATON_ATTEMPT);
`;

const CONFIG = `
workspace: ./ws
workspaceRoots: [./workspaces]
roles:
  backend:
    exec: ["node", "./agent.mjs"]
    timeoutSeconds: 60
  bugfix:
    exec: ["node", "./fixer.mjs"]
    timeoutSeconds: 60
  devops:
    exec: ["node", "./flaky.mjs"]
    timeoutSeconds: 60
  qa:
    exec: ["node", "./agent.mjs"]
    timeoutSeconds: 60
  reviewer:
    exec: ["node", "./reviewer.mjs"]
    timeoutSeconds: 60
gates:
  unit:
    run: ["node", "--test"]
    timeoutSeconds: 120
    tests: node-test
  nothing:
    run: ["sh", "-c", "cd no-tests-here && node --test"]
    tests: node-test
  coverage:
    run: ["node", "--test", "--experimental-test-coverage", "--test-reporter=spec", "--test-reporter-destination=stdout", "--test-reporter=lcov", "--test-reporter-destination=lcov.info"]
    tests: node-test
    coverage: { file: lcov.info, metric: functions, min: 80 }
`;

const ADD = "export const add = (a, b) => a + b;\n";
const ADD_BUGGY = "export const add = (a, b) => a - b;\n";
const MATH = "export const add = (a, b) => a + b;\nexport const sub = (a, b) => a - b;\nexport const mul = (a, b) => a * b;\n";
const testOf = (fns: string[]) =>
  `import { test } from "node:test";\nimport assert from "node:assert";\nimport { ${fns.join(", ")} } from "../src/math.js";\n` +
  fns.map((f) => `test("${f}", () => assert.equal(${f}(6, 3), ${({ add: 9, sub: 3, mul: 18 } as Record<string, number>)[f]}));\n`).join("");

const stack = useStack({
  tag: "gates",
  config: CONFIG,
  files: { "agent.mjs": AGENT, "fixer.mjs": FIXER, "flaky.mjs": FLAKY, "reviewer.mjs": REVIEWER },
  workers: ["backend", "qa", "bugfix", "devops", "reviewer", "integrator"].map((r) => [r, `${r}-1`] as const),
});

/** A fresh git repository with a package.json (ESM) and the given files, committed. */
function gitWorkspace(name: string, files: Record<string, string> = {}): string {
  return gitRepo(join(stack.dir, "workspaces", name), { "package.json": '{ "type": "module" }\n', ...files });
}

/**
 * Submits `request` and folds its history until the feature ends. `events` leaves out the baseline runs of
 * the test gates (scope "baseline", before any task: test/integration/test-counts.test.ts covers them), which
 * `baselines` holds.
 */
async function run(request: Record<string, unknown>): Promise<{ view: FeatureView; events: StatusEvent[]; baselines: StatusEvent[] }> {
  const { view, events } = await submitAndFollow(stack.nc, stack.n, request, { timeoutMs: 90_000 });
  const baseline = (e: StatusEvent) => (e.kind === "gate.passed" || e.kind === "gate.failed") && e.scope === "baseline";
  return { view, events: events.filter((e) => !baseline(e)), baselines: events.filter(baseline) };
}

const writes = (files: Record<string, string>) => JSON.stringify({ files });

describe("e2e: quality gates on real git workspaces", () => {
  it("a passing task gate: the task completes only after it, then its dependent runs", async () => {
    const ws = gitWorkspace("pass");
    const { view, events, baselines } = await run({
      id: "gate-pass", title: "add", workspace: ws,
      tasks: [
        { id: "impl", role: "backend", title: "add()", gates: ["unit"], instructions: writes({ "src/math.js": ADD, "test/math.test.js": testOf(["add"]) }) },
        { id: "docs", role: "backend", title: "docs", dependsOn: ["impl"], instructions: writes({ "README.md": "# add\n" }) },
      ],
    });
    expect(view.state).toBe("completed");
    const at = (k: string, id?: string) => events.findIndex((e) => e.kind === k && (!id || ("taskId" in e && e.taskId === id)));
    expect(at("task.verifying", "impl")).toBeLessThan(at("gate.passed"));
    expect(at("gate.passed")).toBeLessThan(at("task.completed", "impl"));
    expect(at("task.completed", "impl")).toBeLessThan(at("task.dispatched", "docs"));
    // before any task, the gate measured the untouched workspace: no tests yet, a base of 0
    expect(baselines).toMatchObject([{ kind: "gate.failed", gate: "unit", scope: "baseline", baseTests: 0, reason: "exit 0 but no tests ran (0 of 0)" }]);
    const gate = events.find((e) => e.kind === "gate.passed");
    expect(gate).toMatchObject({ gate: "unit", scope: "task", taskId: "impl", workerId: "qa-1", command: ["node", "--test"], exitCode: 0, tests: { runner: "node-test", passed: 1, failed: 0, total: 1 } });
  }, 120_000);

  it("a failing task gate fails the task and the feature, with the runner's output in the event", async () => {
    const ws = gitWorkspace("fail");
    const { view, events } = await run({
      id: "gate-fail", title: "add", workspace: ws,
      tasks: [
        { id: "impl", role: "backend", title: "add()", gates: ["unit"], instructions: writes({ "src/math.js": ADD_BUGGY, "test/math.test.js": testOf(["add"]) }) },
        { id: "docs", role: "backend", title: "docs", dependsOn: ["impl"] },
      ],
    });
    expect(view.state).toBe("failed");
    const failed = events.find((e) => e.kind === "gate.failed");
    expect(failed).toMatchObject({ gate: "unit", taskId: "impl", exitCode: 1, reason: "exit 1: 1 of 1 tests failed: add", tests: { failed: 1, total: 1 } });
    expect(failed && "outputTail" in failed && failed.outputTail).toMatch(/add/);
    expect(view.tasks.find((t) => t.id === "impl")).toMatchObject({ state: "failed", error: 'gate "unit" failed: exit 1: 1 of 1 tests failed: add' });
    expect(events.some((e) => e.kind === "task.dispatched" && e.taskId === "docs")).toBe(false);
  }, 120_000);

  it("a gate that ran zero tests fails", async () => {
    const ws = gitWorkspace("none", { "no-tests-here/README.md": "nothing\n" });
    const { view, events } = await run({
      id: "gate-none", title: "x", workspace: ws,
      tasks: [{ id: "impl", role: "backend", title: "x", gates: ["nothing"], instructions: writes({ "src/math.js": ADD }) }],
    });
    expect(view.state).toBe("failed");
    expect(events.find((e) => e.kind === "gate.failed")).toMatchObject({ gate: "nothing", reason: "exit 0 but no tests ran (0 of 0)", tests: { total: 0 } });
  }, 120_000);

  it("a coverage feature gate fails under its threshold and passes over it", async () => {
    // math.js has three functions; testing one covers 1/3 of them (plus the test file's own functions)
    const under = await run({
      id: "cov-under", title: "math", workspace: gitWorkspace("cov-under"), gates: ["coverage"],
      tasks: [{ id: "impl", role: "backend", title: "math", instructions: writes({ "src/math.js": MATH, "test/math.test.js": testOf(["add"]) }) }],
    });
    expect(under.view.state).toBe("failed");
    const failed = under.events.find((e) => e.kind === "gate.failed");
    expect(failed).toMatchObject({ gate: "coverage", scope: "feature", coverage: { file: "lcov.info", metric: "functions", min: 80 } });
    expect(failed && "coverage" in failed && failed.coverage!.pct).toBeLessThan(80);
    expect(under.view.reason).toMatch(/feature gate "coverage" failed: coverage .*% \(functions\) is under the minimum 80%/);

    const over = await run({
      id: "cov-over", title: "math", workspace: gitWorkspace("cov-over"), gates: ["coverage"],
      tasks: [{ id: "impl", role: "backend", title: "math", instructions: writes({ "src/math.js": MATH, "test/math.test.js": testOf(["add", "sub", "mul"]) }) }],
    });
    expect(over.view.state).toBe("completed");
    const passed = over.events.find((e) => e.kind === "gate.passed");
    expect(passed && "coverage" in passed && passed.coverage!.pct).toBeGreaterThanOrEqual(80);
    expect(over.events.map((e) => e.kind).slice(-4)).toEqual(["task.completed", "feature.verifying", "gate.passed", "feature.completed"]);
  }, 180_000);

  it("fix round then success: a failing gate gets a bugfix task with its output, then passes", async () => {
    const ws = gitWorkspace("fix-ok");
    const { view, events } = await run({
      id: "fix-ok", title: "add", workspace: ws,
      tasks: [{ id: "impl", role: "backend", title: "add()", gates: ["unit"], onFailure: { fix: { maxRounds: 2 } },
        instructions: writes({ "src/math.js": ADD_BUGGY, "test/math.test.js": testOf(["add"]) }) }],
    });
    expect(view.state).toBe("completed");
    expect(events.map((e) => e.kind).filter((k) => k.startsWith("gate.") || k === "task.fixing")).toEqual(["gate.failed", "task.fixing", "gate.passed"]);
    expect(events.find((e) => e.kind === "task.fixing")).toMatchObject({ taskId: "impl", fixTaskId: "impl-fix-1", fixRole: "bugfix", round: 1 });
    expect(view.tasks.find((t) => t.id === "impl-fix-1")).toMatchObject({ state: "completed", fixes: "impl" });
  }, 120_000);

  it("fix rounds exhausted: the task fails after them", async () => {
    const ws = gitWorkspace("fix-no", { ".fix-mode": "try\n" });
    const { view, events } = await run({
      id: "fix-no", title: "add", workspace: ws,
      tasks: [{ id: "impl", role: "backend", title: "add()", gates: ["unit"], onFailure: { fix: { maxRounds: 2 } },
        instructions: writes({ "src/math.js": ADD_BUGGY, "test/math.test.js": testOf(["add"]) }) }],
    });
    expect(view.state).toBe("failed");
    expect(events.filter((e) => e.kind === "task.fixing")).toHaveLength(2);
    expect(events.filter((e) => e.kind === "gate.failed")).toHaveLength(3);
    expect(view.tasks.find((t) => t.id === "impl")!.error).toBe('gate "unit" failed (after 2 fix rounds): exit 1: 1 of 1 tests failed: add');
  }, 120_000);

  it("retry then success: a failed attempt runs again after the backoff", async () => {
    const ws = gitWorkspace("retry", { ".flaky": "1\n" });
    const { view, events } = await run({
      id: "retry-ok", title: "deploy", workspace: ws,
      tasks: [{ id: "deploy", role: "devops", title: "deploy", onFailure: { retry: { maxAttempts: 3, backoffSeconds: 0.5 } } }],
    });
    expect(view.state).toBe("completed");
    const retrying = events.find((e) => e.kind === "task.retrying");
    expect(retrying).toMatchObject({ taskId: "deploy", attempt: 1, nextAttempt: 2, reason: expect.stringContaining("exited with code 1") });
    expect(events.filter((e) => e.kind === "task.dispatched").map((e) => ("attempt" in e ? e.attempt : 0))).toEqual([1, 2]);
    expect(view.tasks[0]).toMatchObject({ state: "completed", attempt: 2 });
  }, 120_000);

  it("TDD: red fails as it must, green passes, refactor passes; each phase is a task in the history", async () => {
    const ws = gitWorkspace("tdd-ok");
    const { view, events } = await run({
      id: "tdd-ok", title: "add", workspace: ws,
      tasks: [{ id: "add", role: "backend", title: "add()", tdd: { gate: "unit" }, instructions: JSON.stringify({
        red: { files: { "test/math.test.js": testOf(["add"]) } },
        green: { files: { "src/math.js": ADD } },
        refactor: { files: { "src/math.js": "// adds two numbers\n" + ADD } },
      }) }],
    });
    expect(view.state).toBe("completed");
    expect(view.tasks.map((t) => [t.id, t.role, t.state])).toEqual([["add-red", "qa", "completed"], ["add", "backend", "completed"], ["add-refactor", "backend", "completed"]]);
    const gates = events.flatMap((e) => (e.kind === "gate.passed" ? [`${e.taskId} ${e.expect} exit ${e.exitCode}`] : []));
    expect(gates).toEqual(["add-red fail exit 1", "add pass exit 0", "add-refactor pass exit 0"]);
  }, 120_000);

  it("TDD: a red phase whose tests already pass fails the task with 'red phase did not fail'", async () => {
    const ws = gitWorkspace("tdd-bad", { "src/math.js": ADD });
    const { view, events } = await run({
      id: "tdd-bad", title: "add", workspace: ws,
      tasks: [{ id: "add", role: "backend", title: "add()", tdd: { gate: "unit" }, instructions: JSON.stringify({ red: { files: { "test/math.test.js": testOf(["add"]) } } }) }],
    });
    expect(view.state).toBe("failed");
    expect(events.find((e) => e.kind === "gate.failed")).toMatchObject({ taskId: "add-red", expect: "fail", exitCode: 0 });
    expect(view.tasks.find((t) => t.id === "add-red")!.error).toMatch(/red phase did not fail/);
    expect(view.tasks.find((t) => t.id === "add")!.state).toBe("waiting");
  }, 120_000);

  it("review: the reviewer gets the diff since the feature started, requests changes once, the author fixes, the gates run again, then it approves", async () => {
    const ws = gitWorkspace("review");
    const { view, events } = await run({
      id: "review-1", title: "add", workspace: ws,
      tasks: [{ id: "impl", role: "backend", title: "add()", gates: ["unit", "review"], instructions: writes({ "src/math.js": ADD, "test/math.test.js": testOf(["add"]) }) }],
    });
    expect(view.state).toBe("completed");
    const seq = events.flatMap((e) => (e.kind === "gate.passed" || e.kind === "gate.failed" ? [`${e.kind} ${e.gate}`] : e.kind === "task.fixing" ? [`fixing ${e.fixTaskId} (${e.fixRole})`] : []));
    expect(seq).toEqual(["gate.passed unit", "gate.failed review", "fixing impl-fix-1 (backend)", "gate.passed unit", "gate.passed review"]);
    const changes = events.find((e) => e.kind === "gate.failed");
    expect(changes).toMatchObject({ gate: "review", workerId: "reviewer-1", reason: "changes requested: add the line // reviewed at the end", review: { verdict: "changes_requested", comments: [{ file: "src/math.js", line: 1 }] } });
    expect(events.find((e) => e.kind === "gate.passed" && e.gate === "review")).toMatchObject({ review: { verdict: "approve" } });
    // on the feature's integration branch (the checkout is never edited)
    expect(execFileSync("git", ["show", "baton/review-1:src/math.js"], { cwd: ws, encoding: "utf8" })).toContain("// reviewed");
  }, 120_000);

  it("a request naming a gate the config does not define is rejected at submission", async () => {
    const { view } = await run({ id: "gate-unknown", title: "x", tasks: [{ id: "a", role: "backend", title: "a", gates: ["unit", "lnt"] }] });
    expect(view.state).toBe("rejected");
    expect(view.errors).toEqual([{ path: "tasks[0].gates[1]", message: `unknown gate "lnt" (configured gates: unit, nothing, coverage; and "review", the reviewer's verdict)` }]);
  }, 60_000);
});
