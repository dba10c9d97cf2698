// The qa worker's gate runner on real processes in a real directory (no NATS needed): expectations,
// test counts, coverage reports, timeouts, and what a worker answers for a gate it does not know.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GateConfig } from "../../shared/config.ts";
import { silentLogger } from "../../shared/logging.ts";
import type { TaskAssigned } from "../../shared/protocol/index.ts";
import { createGateRunner, runGate } from "../../services/worker/runners/gate.ts";

let ws: string;
beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), "baton-gate-run-"));
  mkdirSync(join(ws, "test"));
  writeFileSync(join(ws, "package.json"), '{ "type": "module" }\n');
  writeFileSync(join(ws, "math.js"), "export const add = (a, b) => a + b;\n");
  writeFileSync(join(ws, "test", "math.test.js"), 'import { test } from "node:test";\nimport assert from "node:assert";\nimport { add } from "../math.js";\ntest("adds", () => assert.equal(add(1, 2), 3));\n');
  writeFileSync(join(ws, "test", "red.js"), 'import { test } from "node:test";\nimport assert from "node:assert";\ntest("not yet", () => assert.equal(1, 2));\n');
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

const ref = { name: "g", scope: "task" as const, run: 1 };
const ctx = () => ({ signal: new AbortController().signal, onLine: () => {}, log: silentLogger });
const gate = (g: Record<string, unknown>) => GateConfig.parse(g);
const run = (g: Record<string, unknown>) => runGate(gate(g), ref, ws, { env: process.env }, ctx());

describe("a gate run", () => {
  it("passes on exit 0 with the runner's counts, and reports the command and the output's tail", async () => {
    const r = await run({ run: ["node", "--test", "test/math.test.js"], tests: "node-test" });
    expect(r).toMatchObject({ passed: true, exitCode: 0, expect: "pass", command: ["node", "--test", "test/math.test.js"], tests: { runner: "node-test", passed: 1, total: 1 } });
    expect(r.outputTail).toMatch(/tests 1/);
  });

  it("fails with the failing count and the output", async () => {
    const r = await run({ run: ["node", "--test", "test/red.js"], tests: "node-test" });
    expect(r).toMatchObject({ passed: false, exitCode: 1, reason: "exit 1: 1 of 1 tests failed: not yet", tests: { failed: 1 } });
    expect(r.outputTail).toMatch(/not yet/);
  });

  it("TDD red (`expect: fail`): passes when the tests fail, fails when they pass ('red phase did not fail')", async () => {
    expect(await run({ run: ["node", "--test", "test/red.js"], tests: "node-test", expect: "fail" })).toMatchObject({ passed: true, exitCode: 1 });
    expect(await run({ run: ["node", "--test", "test/math.test.js"], tests: "node-test", expect: "fail" })).toMatchObject({ passed: false, reason: expect.stringContaining("red phase did not fail") });
  });

  it("fails when no summary can be found, and when the runner is told to run nothing", async () => {
    expect(await run({ run: ["node", "-e", "console.log('hello')"], tests: "node-test" })).toMatchObject({ passed: false, reason: expect.stringMatching(/^exit 0 but no node-test summary found \(is the command running node-test\? `tests: auto` knows .*`junit: <file>`\)\)$/) });
    // `node --test` in a folder without tests runs zero, on node 20 and 22 alike (node 20 counts an empty test file as
    // one passing test, node 22 a missing path as one failing test)
    mkdirSync(join(ws, "no-tests"), { recursive: true });
    expect(await run({ run: ["sh", "-c", "cd no-tests && node --test"], tests: "node-test" })).toMatchObject({ passed: false, reason: "exit 0 but no tests ran (0 of 0)", tests: { total: 0 } });
  });

  it("reads a coverage report: under the minimum fails with the figure, a missing report fails, outside the workspace is refused", async () => {
    writeFileSync(join(ws, "lcov.info"), "TN:\nSF:math.js\nFNF:4\nFNH:1\nLF:10\nLH:9\nend_of_record\n");
    const ok = await run({ run: ["true"], coverage: { file: "lcov.info", min: 80 } });
    expect(ok).toMatchObject({ passed: true, coverage: { file: "lcov.info", metric: "lines", pct: 90, min: 80 } });
    const under = await run({ run: ["true"], coverage: { file: "lcov.info", metric: "functions", min: 80 } });
    expect(under).toMatchObject({ passed: false, reason: "coverage 25.0% (functions) is under the minimum 80%", coverage: { pct: 25 } });
    expect(await run({ run: ["true"], coverage: { file: "nope/lcov.info", min: 80 } })).toMatchObject({ passed: false, reason: expect.stringContaining("no coverage report at nope/lcov.info") });
    expect(await run({ run: ["true"], coverage: { file: "../elsewhere/lcov.info", min: 80 } })).toMatchObject({ passed: false, reason: expect.stringContaining("outside the workspace") });
  });

  it("a timeout kills the command and fails the gate; a command that cannot start fails it", async () => {
    const slow = await run({ run: ["node", "-e", "setTimeout(() => {}, 60000)"], timeoutSeconds: 0.5 });
    expect(slow).toMatchObject({ passed: false, reason: expect.stringContaining("timed out after 0.5s") });
    expect(await run({ run: ["./no-such-command"] })).toMatchObject({ passed: false, reason: "command not found: ./no-such-command" });
  });
});

describe("the gate runner of a qa worker", () => {
  const task = (name: string): TaskAssigned => ({
    type: "baton.v1.task_assigned", featureId: "f", taskId: "t", attempt: 1, role: "qa", title: "gate", dependsOn: [], workspace: ws,
    feature: { title: "f" }, handoffs: [], dispatchedAt: new Date().toISOString(), gate: { name, scope: "task", run: 1 },
  });
  const runner = createGateRunner({ unit: gate({ run: ["node", "--test", "test/math.test.js"], tests: "node-test" }) }, { env: process.env, cwd: tmpdir(), workspaceRoots: [tmpdir()] });

  it("answers completed with the report when the gate passes", async () => {
    const out = await runner.run(task("unit"), ctx());
    expect(out).toMatchObject({ outcome: "completed", exitCode: 0, gateReport: { name: "unit", passed: true } });
  });

  it("fails a gate it does not know, saying which it has", async () => {
    const out = await runner.run(task("lint"), ctx());
    expect(out).toMatchObject({ outcome: "failed", error: { code: "UNKNOWN_GATE", message: expect.stringContaining('gate "lint" is not configured on this worker (it has unit)') } });
  });
});
