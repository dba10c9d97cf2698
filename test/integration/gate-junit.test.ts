// The qa worker's gate runner reading a real JUnit XML report and real TAP: node --test's own junit and tap
// reporters run in a temp workspace (no NATS needed), as a runner Baton has no parser of its own for would.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GateConfig } from "../../shared/config.ts";
import { silentLogger } from "../../shared/logging.ts";
import { runGate } from "../../services/worker/runners/gate.ts";

let ws: string;
beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), "baton-gate-junit-"));
  mkdirSync(join(ws, "test"));
  mkdirSync(join(ws, "reports")); // node 20's --test-reporter-destination does not create folders
  writeFileSync(join(ws, "package.json"), '{ "type": "module" }\n');
  const head = 'import { test } from "node:test";\nimport assert from "node:assert";\n';
  writeFileSync(join(ws, "test", "ok.test.js"), `${head}test("adds", () => assert.equal(1 + 2, 3));\ntest.skip("later", () => {});\n`);
  writeFileSync(join(ws, "test", "red.test.js"), `${head}test("adds", () => assert.equal(1 + 2, 3));\ntest("adds two and two", () => assert.equal(2 + 2, 5));\n`);
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

const ref = { name: "g", scope: "task" as const, run: 1 };
const ctx = () => ({ signal: new AbortController().signal, onLine: () => {}, log: silentLogger });
const run = (g: Record<string, unknown>) => runGate(GateConfig.parse(g), ref, ws, { env: process.env }, ctx());
const junitRun = (file: string) => ["node", "--test", "--test-reporter=junit", "--test-reporter-destination=reports/junit.xml", file];

describe("a gate with a JUnit report file", () => {
  it("takes the counts from the report the command wrote", async () => {
    const r = await run({ run: junitRun("test/ok.test.js"), junit: "reports/junit.xml" });
    expect(r).toMatchObject({ passed: true, exitCode: 0, tests: { runner: "junit", passed: 1, failed: 0, skipped: 1, total: 2 } });
  });

  it("names the failing test from the report", async () => {
    const r = await run({ run: junitRun("test/red.test.js"), junit: "reports/junit.xml" });
    expect(r).toMatchObject({ passed: false, exitCode: 1, tests: { runner: "junit", passed: 1, failed: 1, failedNames: ["adds two and two (test)"] } });
    expect(r.reason).toContain("adds two and two");
  });

  it("never reads a report an earlier run left: a command that writes none fails the gate, saying so", async () => {
    await run({ run: junitRun("test/ok.test.js"), junit: "reports/junit.xml" });
    expect(existsSync(join(ws, "reports", "junit.xml"))).toBe(true);
    const r = await run({ run: ["node", "-e", "console.log('did nothing')"], junit: "reports/junit.xml" });
    expect(r).toMatchObject({ passed: false, exitCode: 0 });
    expect(r.reason).toContain("the command wrote no JUnit report at reports/junit.xml");
    expect(existsSync(join(ws, "reports", "junit.xml"))).toBe(false);
  });

  it("refuses a report path outside the workspace without running the command", async () => {
    const r = await run({ run: ["node", "-e", "process.exit(0)"], junit: "../elsewhere.xml" });
    expect(r).toMatchObject({ passed: false, exitCode: null, reason: "JUnit report ../elsewhere.xml is outside the workspace" });
  });
});

describe("a gate reading TAP", () => {
  it("`tests: tap` reads node --test's TAP reporter like any TAP producer", async () => {
    const r = await run({ run: ["node", "--test", "--test-reporter=tap", "test/red.test.js"], tests: "tap" });
    expect(r).toMatchObject({ passed: false, exitCode: 1, tests: { runner: "tap", passed: 1, failed: 1, total: 2, failedNames: ["adds two and two"] } });
  });
});
