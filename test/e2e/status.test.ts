// `baton status` as a script uses it, end to end: a real nats-server, `baton coordinator`, one `baton worker`, and
// the bin. Exit codes by state (0 completed, 1 failed/cancelled, 2 rejected, 3 still going, 4 no such feature, 1 when
// NATS is down), `--json` as the read model's FeatureView, the same answers folded from the history with no coordinator.
import { describe, expect, it } from "vitest";
import { featureHistory, publishFeature, type FeatureView } from "../../shared/client/index.ts";
import type { StatusKind } from "../../shared/protocol/index.ts";
import { runBatonSync } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

// Fails the tasks whose title says so; completes the others.
const AGENT = `
import { appendFileSync, readFileSync } from "node:fs";
const task = JSON.parse(readFileSync(0, "utf8"));
if (task.title.includes("fail")) { console.error("failing as asked"); process.exit(1); }
appendFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: "did " + task.taskId }));
`;

// `docs` is configured but no worker of it runs: its tasks wait
const role = (r: string) => `  ${r}:\n    exec: ["node", "./agent.mjs"]\n    timeoutSeconds: 60\n`;
const stack = useStack({
  tag: "st",
  config: `workspace: ./ws\nroles:\n${role("backend")}${role("docs")}`,
  files: { "agent.mjs": AGENT },
  dirs: ["ws"],
  workers: [["backend", "backend-1"]],
  env: (cfg) => ({ BATON_CONFIG: cfg }),
});

/** `baton <args>` run to its end, as a script runs it. */
const baton = (args: string[], extra: Record<string, string> = {}) => runBatonSync(args, { ...stack.env, ...extra }, 60_000);

/** Resolves once the feature's history holds an event of one of `kinds`. */
async function until(featureId: string, kinds: readonly StatusKind[]): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 30_000);
  try {
    for await (const event of featureHistory(stack.nc, stack.n, featureId, { follow: true, signal: ac.signal })) if (kinds.includes(event.kind)) return;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`feature ${featureId}: none of ${kinds.join(", ")} within 30 s`);
}

const json = (featureId: string): { code: number | null; view: FeatureView } => {
  const run = baton(["status", featureId, "--json"]);
  return { code: run.status, view: JSON.parse(run.stdout) as FeatureView };
};

describe("e2e: `baton status` exit codes and --json", () => {
  it("exits by the feature's state, and --json prints the read model's view", async () => {
    const one = (id: string, title: string, role = "backend") => ({ id, title, tasks: [{ id: "t", role, title }] });
    await publishFeature(stack.nc, stack.n, one("st-done", "works"));
    await publishFeature(stack.nc, stack.n, one("st-failed", "fail please"));
    await publishFeature(stack.nc, stack.n, { id: "st-rejected", title: "Cycle", tasks: [{ id: "a", role: "backend", title: "a", dependsOn: ["b"] }, { id: "b", role: "backend", title: "b", dependsOn: ["a"] }] });
    await publishFeature(stack.nc, stack.n, { ...one("st-waiting", "docs", "docs"), maxParallel: 1 });
    await Promise.all([
      until("st-done", ["feature.completed"]), until("st-failed", ["feature.failed"]),
      until("st-rejected", ["feature.rejected"]), until("st-waiting", ["task.dispatched"]),
    ]);

    const done = json("st-done");
    expect(done.code).toBe(0);
    expect(done.view).toMatchObject({ featureId: "st-done", state: "completed", tasks: [{ id: "t", state: "completed", attempt: 1, summary: "did t" }] });
    expect(typeof done.view.tasks[0]!.durationMs).toBe("number");
    expect(json("st-failed")).toMatchObject({ code: 1, view: { state: "failed", tasks: [{ state: "failed" }] } });
    expect(json("st-rejected")).toMatchObject({ code: 2, view: { state: "rejected" } });

    const waiting = json("st-waiting");
    expect(waiting).toMatchObject({ code: 3, view: { state: "executing", tasks: [{ state: "dispatched", waitingFor: { kind: "worker", role: "docs" } }] } });
    const text = baton(["status", "st-waiting"]);
    expect(text.status).toBe(3);
    expect(text.stdout).toMatch(/^t\s+docs\s+dispatched\s+no live docs worker \(start one: baton worker --role docs\)/m);

    expect(baton(["pause", "st-waiting", "--reason", "deploy freeze"]).status).toBe(0);
    const paused = baton(["status", "st-waiting"]);
    expect(paused.status).toBe(3);
    expect(paused.stdout).toMatch(/^st-waiting\s+paused/m);
    expect(paused.stdout).toMatch(/paused since \S+ by \S+: deploy freeze/);
    expect(json("st-waiting").view.paused).toMatchObject({ reason: "deploy freeze" });

    expect(baton(["cancel", "st-waiting"]).status).toBe(0);
    expect(json("st-waiting")).toMatchObject({ code: 1, view: { state: "cancelled", tasks: [{ state: "cancelled" }] } });

    const missing = baton(["status", "st-nothing", "--json"]);
    expect(missing.status).toBe(4);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toContain("no feature st-nothing");
  }, 120_000);

  it("with no coordinator, folds the history to the same answers; with NATS down, exits 1", async () => {
    const before = json("st-done").view;
    await stack.procs[0]!.kill("SIGTERM"); // the coordinator
    const after = baton(["status", "st-done", "--json"]);
    expect(after.stderr).toContain("folded from the status history");
    expect(after.status).toBe(0);
    const folded = JSON.parse(after.stdout) as FeatureView;
    expect({ state: folded.state, seq: folded.seq, tasks: folded.tasks.map((t) => [t.id, t.state, t.attempt]) })
      .toEqual({ state: before.state, seq: before.seq, tasks: before.tasks.map((t) => [t.id, t.state, t.attempt]) });
    expect(baton(["status", "st-rejected"]).status).toBe(2);
    expect(baton(["status", "st-waiting"]).status).toBe(1);

    const down = baton(["status", "st-done"], { NATS_URL: "nats://127.0.0.1:1" });
    expect(down.status).toBe(1);
    expect(down.stderr).toContain("cannot connect to NATS");
  }, 60_000);
});
