// End to end, as a user runs it: real nats-server, `baton coordinator`, `baton worker` processes for
// five roles (two backend workers), agents that record their own timestamps, and the CLI.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { submitAndFollow } from "../helpers/follow.ts";
import { baton } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

const AGENT = `
import { appendFileSync, readFileSync } from "node:fs";
const task = JSON.parse(readFileSync(0, "utf8"));
const start = Date.now();
console.log("working on " + task.taskId);
await new Promise((r) => setTimeout(r, Number(process.env.AGENT_MS || 700)));
const end = Date.now();
appendFileSync(process.env.LEDGER, JSON.stringify({ taskId: task.taskId, role: process.env.BATON_ROLE, start, end, handoffs: task.handoffs.map((h) => h.taskId) }) + "\\n");
appendFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: "did " + task.taskId, handoff: { by: task.taskId } }));
`;

const stack = useStack({
  tag: "e2e",
  config: (dir) => {
    const role = (r: string) => `  ${r}:\n    exec: ["node", "./agent.mjs"]\n    timeoutSeconds: 60\n    env: { LEDGER: "${join(dir, "ledger.jsonl")}" }\n`;
    return `workspace: ./ws\nroles:\n${["backend", "frontend", "qa", "reviewer"].map(role).join("")}`;
  },
  files: { "agent.mjs": AGENT, "ledger.jsonl": "" },
  workers: [["backend", "backend-1"], ["backend", "backend-2"], ["frontend", "frontend-1"], ["qa", "qa-1"], ["reviewer", "reviewer-1"]],
});

interface Entry { taskId: string; role: string; start: number; end: number; handoffs: string[] }

describe("e2e: diamond DAG over real processes", () => {
  it("respects dependencies and maxParallel 2, and both backend workers get work", async () => {
    const request = {
      id: "diamond-e2e", title: "Diamond", maxParallel: 2,
      tasks: [
        { id: "a", role: "backend", title: "schema" },
        { id: "b", role: "backend", title: "service 1", dependsOn: ["a"] },
        { id: "c", role: "backend", title: "service 2", dependsOn: ["a"] },
        { id: "f", role: "frontend", title: "ui", dependsOn: ["a"] },
        { id: "d", role: "qa", title: "tests", dependsOn: ["b", "c", "f"] },
        { id: "e", role: "reviewer", title: "review", dependsOn: ["d"] },
      ],
    };
    const { view, events } = await submitAndFollow(stack.nc, stack.n, request, { timeoutMs: 60_000 });
    const kinds = events.map((e) => e.kind);
    const backendWorkers = new Set(events.flatMap((e) => (e.kind === "task.started" && e.role === "backend" ? [e.workerId] : [])));
    expect(view.state).toBe("completed");
    expect(kinds.filter((k) => k === "feature.completed")).toHaveLength(1);
    expect(kinds).toContain("task.log");

    const ledger: Entry[] = readFileSync(join(stack.dir, "ledger.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const by = new Map(ledger.map((x) => [x.taskId, x]));
    expect([...by.keys()].sort()).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(ledger).toHaveLength(6); // each task ran exactly once
    for (const task of request.tasks) {
      const me = by.get(task.id)!;
      for (const d of task.dependsOn ?? []) expect(me.start, `${task.id} after ${d}`).toBeGreaterThanOrEqual(by.get(d)!.end);
      expect(me.handoffs.sort()).toEqual([...(task.dependsOn ?? [])].sort());
    }
    // the parallel bound, from the agents' own clocks: never more than 2 tasks running at once
    const points = ledger.flatMap((x) => [{ t: x.start, d: 1 }, { t: x.end, d: -1 }]).sort((p, q) => p.t - q.t || p.d - q.d);
    let running = 0, peak = 0;
    for (const p of points) peak = Math.max(peak, (running += p.d));
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBe(2); // and the parallel branches did overlap
    expect([...backendWorkers].sort()).toEqual(["backend-1", "backend-2"]);
  });

  it("the CLI: submit --watch, watch, status, and a rejected submit (exit 2 with every error)", async () => {
    const file = join(stack.dir, "small.yaml");
    writeFileSync(file, "id: cli-e2e\ntitle: via the CLI\nmaxParallel: 2\ntasks:\n  - { id: one, role: backend, title: One }\n  - { id: two, role: qa, title: Two, dependsOn: [one] }\n");
    const sub = baton(["submit", file, "--watch"], { ...stack.env, AGENT_MS: "50" });
    expect(await sub.exited).toBe(0);
    expect(sub.output()).toMatch(/^cli-e2e$/m);
    expect(sub.output()).toMatch(/feature completed/);

    const watch = baton(["watch", "cli-e2e"], stack.env);
    expect(await watch.exited).toBe(0);
    expect(watch.output()).toMatch(/completed.*one/);

    const status = baton(["status", "cli-e2e"], stack.env);
    expect(await status.exited).toBe(0);
    expect(status.output()).toMatch(/cli-e2e\s+completed/);
    expect(status.output()).toMatch(/2\/2 tasks completed/);
    const json = baton(["status", "cli-e2e", "--json"], stack.env);
    expect(await json.exited).toBe(0);
    const v = JSON.parse(json.output());
    expect(v.tasks.map((t: { state: string }) => t.state)).toEqual(["completed", "completed"]);

    const list = baton(["ls"], stack.env);
    expect(await list.exited).toBe(0);
    expect(list.output()).toMatch(/cli-e2e\s+completed\s+2\/2/);
    expect(list.output()).toMatch(/diamond-e2e\s+completed\s+6\/6/);

    const bad = join(stack.dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ title: "", tasks: [{ id: "x", role: "backend", title: "X", dependsOn: ["x"] }, { id: "y", role: "qa", title: "Y", dependsOn: ["z"] }] }));
    const rej = baton(["submit", bad], stack.env);
    expect(await rej.exited).toBe(2);
    expect(rej.output()).toMatch(/title:/);
    expect(rej.output()).toMatch(/depends on itself/);
    expect(rej.output()).toMatch(/unknown task id "z"/);

    const down = baton(["submit", file], { ...stack.env, NATS_URL: "nats://127.0.0.1:1" });
    expect(await down.exited).toBe(1);
    expect(down.output()).toMatch(/cannot connect to NATS/);
  });
});
