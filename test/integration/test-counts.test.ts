// Deleting tests does not make a gate pass (issue 10, item 8): a real nats-server, `baton coordinator`, a
// backend worker whose agent deletes test files and a qa worker that runs the real `node --test` gate in a git
// workspace. The gate's baseline (before any task) counts 12 tests; a task that leaves 2 fails naming both
// counts, unless it may remove tests (`allowTestRemoval`).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { submitAndFollow } from "../helpers/follow.ts";
import { gitRepo } from "../helpers/git-repo.ts";
import { useStack } from "../helpers/stack.ts";

/** Deletes the files its instructions name ({"delete": [paths]}) from the workspace. */
const AGENT = `
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
const task = JSON.parse(readFileSync(0, "utf8"));
const { delete: paths = [] } = JSON.parse(task.instructions || "{}");
for (const p of paths) rmSync(join(process.env.BATON_WORKSPACE, p));
console.log("deleted " + paths.join(", "));
`;

const CONFIG = `
workspaceRoots: [./workspaces]
roles:
  backend:
    exec: ["node", "./agent.mjs"]
    timeoutSeconds: 60
  qa:
    exec: ["node", "./agent.mjs"]
    timeoutSeconds: 60
gates:
  unit:
    run: ["node", "--test"]
    timeoutSeconds: 120
    tests: node-test
`;

const testFile = (names: string[]) =>
  `import { test } from "node:test";\nimport assert from "node:assert";\n${names.map((n) => `test("${n}", () => assert.ok(true));\n`).join("")}`;
const MANY = Array.from({ length: 10 }, (_, i) => `case ${i + 1}`);

const stack = useStack({ tag: "counts", config: CONFIG, files: { "agent.mjs": AGENT }, workers: [["backend", "backend-1"], ["qa", "qa-1"], ["integrator", "integrator-1"]] });

/** A git repository holding 12 node:test tests: 10 in test/many.test.js, 2 in test/keep.test.js. */
function workspace(name: string): string {
  return gitRepo(join(stack.dir, "workspaces", name), { "package.json": '{ "type": "module" }\n', "test/many.test.js": testFile(MANY), "test/keep.test.js": testFile(["keeps a", "keeps b"]) });
}

const run = (request: Record<string, unknown>) => submitAndFollow(stack.nc, stack.n, request, { timeoutMs: 90_000 });

const prune = (extra: Record<string, unknown> = {}) => ({
  id: "prune", role: "backend", title: "remove the slow tests", gates: ["unit"], instructions: JSON.stringify({ delete: ["test/many.test.js"] }), ...extra,
});
const gateEvent = (events: StatusEvent[], scope: string) => events.find((e) => (e.kind === "gate.passed" || e.kind === "gate.failed") && e.scope === scope);

describe("test counts never shrink, on a real qa worker", () => {
  it("a task that deletes 10 of 12 tests fails its gate, which names both counts; the baseline ran before the task", async () => {
    const { view, events } = await run({ id: "shrink", title: "prune", workspace: workspace("shrink"), tasks: [prune()] });
    expect(view.state).toBe("failed");
    const base = gateEvent(events, "baseline");
    expect(base).toMatchObject({ kind: "gate.passed", gate: "unit", workerId: "qa-1", baseTests: 12, tests: { passed: 12, total: 12 } });
    expect(events.indexOf(base!)).toBeLessThan(events.findIndex((e) => e.kind === "task.dispatched"));
    const reason = "exit 0: 2 tests ran, fewer than before (12 at the feature's start, no pass yet): tests were removed or skipped — a task may remove tests only with `allowTestRemoval: true`";
    expect(gateEvent(events, "task")).toMatchObject({ kind: "gate.failed", gate: "unit", taskId: "prune", exitCode: 0, baseTests: 12, tests: { passed: 2, total: 2 }, reason });
    expect(view.tasks.find((t) => t.id === "prune")).toMatchObject({ state: "failed", error: `gate "unit" failed: ${reason}` });
  }, 120_000);

  it("with allowTestRemoval the same task passes, and the event still shows the base", async () => {
    const { view, events } = await run({ id: "allowed", title: "prune", workspace: workspace("allowed"), tasks: [prune({ allowTestRemoval: true })] });
    expect(view.state).toBe("completed");
    expect(gateEvent(events, "task")).toMatchObject({ kind: "gate.passed", taskId: "prune", baseTests: 12, tests: { passed: 2 } });
  }, 120_000);
});
