// `baton report` and the report heading `baton status`, end to end: a real nats-server, `baton coordinator`, a backend
// and a reviewer worker, and the bin. A finished diamond gives the role medians; a second feature, its first task held
// running and a `docs` task no live worker serves, shows the critical path estimated from them and the worker blocker.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getFeature, publishFeature, type FeatureView } from "../../shared/client/index.ts";
import type { ExecutionReport } from "../../shared/client/report-types.ts";
import { runBaton } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

// Tasks whose title says "hold" run until the file `release` appears beside this script; the others complete.
const AGENT = `
import { appendFileSync, existsSync, readFileSync } from "node:fs";
const task = JSON.parse(readFileSync(0, "utf8"));
const release = new URL("./release", import.meta.url);
while (task.title.includes("hold") && !existsSync(release)) await new Promise((done) => setTimeout(done, 100));
appendFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: "did " + task.taskId }));
`;

// `docs` is configured but no worker of it runs
const role = (name: string) => `  ${name}:\n    exec: ["node", "./agent.mjs"]\n    timeoutSeconds: 120\n`;
const stack = useStack({
  tag: "rp",
  config: `workspace: ./ws\nroles:\n${role("backend")}${role("reviewer")}${role("docs")}`,
  files: { "agent.mjs": AGENT },
  dirs: ["ws"],
  workers: [["backend", "backend-1"], ["reviewer", "reviewer-1"]],
  env: (cfg) => ({ BATON_CONFIG: cfg }),
});

const baton = (args: string[]) => runBaton(args, stack.env);

/** Resolves with the feature's view once `ready` holds for it (read model, polled). */
async function until(featureId: string, ready: (view: FeatureView) => boolean): Promise<FeatureView> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { view } = await getFeature(stack.nc, stack.n, featureId);
    if (view && ready(view)) return view;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`feature ${featureId}: not as expected within 60 s`);
}

const state = (view: FeatureView, taskId: string) => view.tasks.find((task) => task.id === taskId)?.state;

describe("e2e: `baton report` and `baton status` with the report", () => {
  it("reports a finished diamond, then a feature under way: critical path from role medians, a worker blocker", async () => {
    const diamond = [
      { id: "a", role: "backend", title: "a" }, { id: "b", role: "backend", title: "b", dependsOn: ["a"] },
      { id: "c", role: "reviewer", title: "c", dependsOn: ["a"] }, { id: "d", role: "backend", title: "d", dependsOn: ["b", "c"] },
    ];
    await publishFeature(stack.nc, stack.n, { id: "rp-done", title: "Diamond", maxParallel: 2, tasks: diamond });
    await until("rp-done", (view) => view.state === "completed");

    const done = await baton(["report", "rp-done", "--markdown"]);
    expect(done.status).toBe(0);
    expect(done.stdout).toContain("## Diamond — execution report (`rp-done`)");
    expect(done.stdout).toMatch(/^\| \*\*completed\*\* \| 4\/4 tasks \(100%\) \| \S+ \| nothing left \| 0 \|$/m);
    expect(done.stdout).toContain("### Critical path\n\nNothing left to run.");
    for (const id of ["a", "b", "c", "d"]) expect(done.stdout).toMatch(new RegExp(`^\\| \`${id}\` \\| \\w+ \\| completed \\| \\S+ \\| did ${id} \\|$`, "m"));

    // h (backend) runs until released; r (reviewer) after it; w (docs) is dispatched and no worker takes it
    await publishFeature(stack.nc, stack.n, {
      id: "rp-wait", title: "Held", maxParallel: 3,
      tasks: [{ id: "h", role: "backend", title: "hold" }, { id: "r", role: "reviewer", title: "r", dependsOn: ["h"] }, { id: "w", role: "docs", title: "w" }],
    });
    await until("rp-wait", (view) => state(view, "h") === "running" && state(view, "w") === "dispatched");

    const json = await baton(["report", "rp-wait", "--json"]);
    expect(json.status).toBe(3);
    const report = JSON.parse(json.stdout) as ExecutionReport;
    expect(report).toMatchObject({ featureId: "rp-wait", state: "executing", progress: { total: 3, completed: 0, percent: 0 } });
    // nothing finished in rp-wait: backend and reviewer estimates come from rp-done; docs never finished anywhere
    expect(report.criticalPath.steps.map((step) => [step.taskId, step.basis])).toEqual([["h", "running"], ["r", "median"]]);
    expect(report.criticalPath.remainingMs).toEqual(expect.any(Number));
    // from the heartbeats, or (once the coordinator noticed) from its task.unserved event: the same words
    expect(report.blockers).toEqual([expect.objectContaining({ kind: "worker", taskIds: ["w"], detail: expect.stringMatching(/^no live docs worker for w — start one: baton worker --role docs\b/) })]);
    expect(report.agents).toMatchObject({ active: 2, byRole: { backend: 1, docs: 1 } });

    const markdown = await baton(["report", "rp-wait", "--markdown"]);
    expect(markdown.status).toBe(3);
    expect(markdown.stdout).toMatch(/^\| 1 \| `h` hold \| backend \| running \| .+ \| running: role median − elapsed \|$/m);
    expect(markdown.stdout).toMatch(/^\| 2 \| `r` r \| reviewer \| waiting \| ~\S+ \| role median \|$/m);
    expect(markdown.stdout).toContain("- **worker** (`w`): no live docs worker for w — start one: `baton worker --role docs`");

    const status = await baton(["status", "rp-wait", "--json"]);
    expect(status.status).toBe(3);
    const view = JSON.parse(status.stdout) as FeatureView & { report: ExecutionReport };
    expect(view).toMatchObject({ featureId: "rp-wait", tasks: [{ id: "h" }, { id: "r" }, { id: "w" }] });
    expect(view.report.criticalPath.steps.map((step) => step.taskId)).toEqual(["h", "r"]);
    expect(view.report.blockers.map((blocker) => blocker.kind)).toEqual(["worker"]);

    const text = await baton(["status", "rp-wait"]);
    expect(text.status).toBe(3);
    expect(text.stdout).toMatch(/^rp-wait\s+executing\s+Held$/m);
    expect(text.stdout).toMatch(/^progress\s+░{20} 0%\s+0\/3 tasks/m);
    expect(text.stdout).toMatch(/^critical\s+h \(backend, .+\) → r \(reviewer, ~\S+\)$/m);
    expect(text.stdout).toMatch(/^w\s+docs\s+dispatched\s+no live docs worker/m);

    writeFileSync(join(stack.dir, "release"), "");
    await until("rp-wait", (view) => state(view, "r") === "completed");
    const after = JSON.parse((await baton(["report", "rp-wait", "--json"])).stdout) as ExecutionReport;
    expect(after.progress).toMatchObject({ completed: 2, percent: 66 });
    expect(after.criticalPath.steps.map((step) => [step.taskId, step.basis])).toEqual([["w", "overall-median"]]);
  }, 180_000);
});
