// Prometheus metrics on real processes (issue 14): a real nats-server, `baton coordinator` (metrics port 0 from the
// config) and backend, frontend and qa workers (`--metrics-port 0`). Their /metrics URLs are read from their
// heartbeats. A feature runs with a task that fails once and is retried, a gate, and three tasks; /metrics is scraped
// while it runs and after it ended, and the counters must match the feature's status history.
import { jetstream } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveCoordinators, liveWorkers } from "../../shared/client/index.ts";
import { encode } from "../../shared/codec.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { followUntilEnd } from "../helpers/follow.ts";
import { baton, runBaton, runBatonSync, type Proc } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

/** Fails its first attempt when its instructions say "flaky"; otherwise succeeds. */
const AGENT = `
import { readFileSync } from "node:fs";
const task = JSON.parse(readFileSync(0, "utf8"));
if ((task.instructions || "").includes("flaky") && process.env.BATON_ATTEMPT === "1") { console.error("flaky: failing attempt 1"); process.exit(1); }
console.log("done " + task.taskId + " attempt " + process.env.BATON_ATTEMPT);
`;

const CONFIG = `
workspace: ./ws
metrics:
  coordinatorPort: 0
roles:
  backend:
    exec: ["node", "./agent.mjs"]
    timeoutSeconds: 60
  frontend:
    exec: ["node", "./agent.mjs"]
    timeoutSeconds: 60
  qa:
    exec: ["node", "./agent.mjs"]
    timeoutSeconds: 60
gates:
  check:
    run: ["node", "-e", "console.log('checked')"]
    timeoutSeconds: 60
`;

const ROLES = ["backend", "frontend", "qa"] as const;
// the coordinator comes from the stack; the workers are started here with the flag (the config sets no workerPort)
const stack = useStack({ tag: "metrics", config: CONFIG, dirs: ["ws"], files: { "agent.mjs": AGENT }, workers: [] });
const workers: Proc[] = [];
const urls = { coordinator: "", workers: {} as Record<string, string> };

beforeAll(async () => {
  workers.push(...ROLES.map((role) => baton(["worker", "--role", role, "--config", stack.cfg, "--id", `${role}-1`, "--metrics-port", "0"], stack.env)));
  await Promise.all(workers.map((proc) => proc.waitFor(/worker ready/, 60_000)));
  await until(async () => {
    const [coordinators, live] = await Promise.all([liveCoordinators(stack.nc, stack.n), liveWorkers(stack.nc, stack.n)]);
    urls.coordinator = coordinators[0]?.metricsUrl ?? "";
    for (const beat of live) if (beat.metricsUrl) urls.workers[beat.role] = beat.metricsUrl;
    return urls.coordinator !== "" && ROLES.every((role) => urls.workers[role]);
  }, "every process's heartbeat names its metrics URL");
}, 90_000);
afterAll(async () => {
  await Promise.all(workers.map((proc) => proc.kill()));
});

/** Polls `check` (every 200 ms) until it holds; fails naming `what` after 60 s. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
}

/** The sample `name` with exactly `labels` in Prometheus text, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`).sort().join(",");
  for (const line of text.split("\n")) {
    const match = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? "").split(",").filter(Boolean).sort().join(",");
    if (have === wanted) return Number(match[3]);
  }
  return undefined;
}

const ofKind = (events: StatusEvent[], kind: string) => events.filter((event) => event.kind === kind);
const REQUEST = {
  id: "metered",
  title: "metered",
  tasks: [
    { id: "api", role: "backend", title: "api", instructions: "flaky", gates: ["check"], onFailure: { retry: { maxAttempts: 2, backoffSeconds: 1 } } },
    { id: "ui", role: "frontend", title: "ui", dependsOn: ["api"] },
    { id: "docs", role: "frontend", title: "docs" },
  ],
};

describe("metrics of a real run", () => {
  it("counters match the feature's events; gauges show every role's backlog and live workers; workers count their deliveries", async () => {
    await jetstream(stack.nc).publish(stack.n.featureSubmit(), encode(REQUEST));
    // during the run: the retry is counted as soon as it was published, and every role has a backlog and a live worker
    let during = "";
    await until(async () => {
      during = await scrape(urls.coordinator);
      return sample(during, "baton_tasks_total", { role: "backend", outcome: "retrying" }) === 1;
    }, "the coordinator counted the retry");
    for (const role of ROLES) {
      expect(sample(during, "baton_role_backlog", { role }), role).toBeGreaterThanOrEqual(0);
      expect(sample(during, "baton_role_inflight", { role }), role).toBeGreaterThanOrEqual(0);
      expect(sample(during, "baton_live_workers", { role }), role).toBe(1);
      expect(sample(during, "baton_worker_slots", { role, kind: "total" }), role).toBe(1);
    }
    expect(sample(during, "baton_live_coordinators")).toBe(1);

    const { view, events } = await followUntilEnd(stack.nc, stack.n, REQUEST.id, { timeoutMs: 90_000 });
    expect(view.state, events.map((event) => event.kind).join(", ")).toBe("completed");
    let after = "";
    await until(async () => {
      after = await scrape(urls.coordinator);
      return sample(after, "baton_features_total", { outcome: "completed" }) === 1;
    }, "the coordinator counted the feature's end");
    for (const role of ROLES.filter((name) => name !== "qa")) {
      const completed = ofKind(events, "task.completed").filter((event) => "role" in event && event.role === role).length;
      expect(sample(after, "baton_tasks_total", { role, outcome: "completed" }), role).toBe(completed);
      expect(sample(after, "baton_task_duration_seconds_count", { role, outcome: "completed" }), role).toBe(completed);
      const dispatched = ofKind(events, "task.dispatched").filter((event) => "role" in event && event.role === role).length;
      expect(sample(after, "baton_task_dispatches_total", { role }), role).toBe(dispatched);
    }
    expect(sample(after, "baton_tasks_total", { role: "frontend", outcome: "completed" })).toBe(2);
    expect(sample(after, "baton_tasks_total", { role: "backend", outcome: "retrying" })).toBe(ofKind(events, "task.retrying").length);
    const gates = ofKind(events, "gate.passed").length;
    expect(gates).toBeGreaterThanOrEqual(1);
    expect(sample(after, "baton_gate_runs_total", { gate: "check", result: "passed" })).toBe(gates);
    expect(sample(after, "baton_gate_runs_total", { gate: "check", result: "failed" })).toBeUndefined();
    expect(sample(after, "baton_gate_duration_seconds_count", { gate: "check" })).toBe(gates);
    expect(sample(after, "baton_features_accepted_total")).toBe(1);
    expect(sample(after, "baton_apply_duration_seconds_count")).toBeGreaterThan(0);
    expect(sample(after, "baton_cas_conflicts_total")).toBe(0);
    // the features gauge is read from the store (cached 15 s): the feature shows as completed, none as executing
    await until(async () => sample(await scrape(urls.coordinator), "baton_features", { state: "completed" }) === 1, "baton_features shows the feature completed");
    expect(sample(await scrape(urls.coordinator), "baton_features", { state: "executing" })).toBeUndefined();

    // the workers' own view: the backend worker ran the work twice (failed, then completed), the qa worker the gate
    const backend = await scrape(urls.workers.backend!);
    expect(sample(backend, "baton_worker_tasks_total", { role: "backend", outcome: "failed" })).toBe(1);
    expect(sample(backend, "baton_worker_tasks_total", { role: "backend", outcome: "completed" })).toBe(1);
    expect(sample(backend, "baton_worker_task_duration_seconds_count", { role: "backend" })).toBe(2);
    expect(sample(backend, "baton_worker_redeliveries_total", { role: "backend" })).toBe(0);
    expect(sample(backend, "baton_worker_slots_busy", { role: "backend" })).toBe(0);
    const qa = await scrape(urls.workers.qa!);
    expect(sample(qa, "baton_worker_tasks_total", { role: "qa", outcome: "completed" })).toBe(gates);
    expect(sample(qa, "process_resident_memory_bytes")).toBeGreaterThan(0);
  }, 180_000);

  it("`baton workers` shows each process's metrics URL; a bad --metrics-port is a usage error", async () => {
    const listed = await runBaton(["workers", "--config", stack.cfg], stack.env);
    expect(listed.status, listed.stderr).toBe(0);
    for (const url of [urls.coordinator, ...Object.values(urls.workers)]) expect(listed.stdout).toContain(`metrics ${url}`);
    const bad = runBatonSync(["worker", "--role", "backend", "--metrics-port", "70000"], stack.env);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--metrics-port must be a port number from 0 to 65535");
    const help = runBatonSync(["coordinator", "--help"], stack.env);
    expect(help.stdout).toContain("--metrics-port N");
  }, 60_000);
});
