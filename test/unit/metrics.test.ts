// Prometheus metrics (issue 14): the coordinator's counters from the status events the pure feature machine publishes
// (each event once, however often its outbox is carried out), the worker's, the /metrics endpoint, the scrape cache,
// and the Grafana dashboard, whose every query names a metric the code registers (and which shows every one).
import { readFileSync } from "node:fs";
import { Registry, type Metric } from "prom-client";
import { describe, expect, it } from "vitest";
import { CoordinatorMetrics, SeenEvents, taskOutcome } from "../../services/coordinator/runtime/metrics.ts";
import { registerDeploymentGauges } from "../../services/coordinator/runtime/metrics-gauges.ts";
import { WorkerMetrics } from "../../services/worker/metrics.ts";
import { silentLogger } from "../../shared/logging.ts";
import { cachedLoader, metricsRegistry, metricsUrl, serveMetrics } from "../../shared/metrics/index.ts";
import { parsePort } from "../../shared/config-observe.ts";
import type { NatsConnection } from "../../shared/nats.ts";
import { StatusEvent } from "../../shared/protocol/index.ts";
import { names } from "../../shared/subjects.ts";
import { FeatureHarness } from "../helpers/feature-harness.ts";

/** The value of `name` with exactly these labels (0 when absent). */
async function valueOf(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name) as Metric | undefined;
  if (!metric) throw new Error(`no metric ${name}`);
  const values: { value: number; labels: object; metricName?: string }[] = (await metric.get()).values;
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = values.find((entry) => JSON.stringify(Object.entries(entry.labels).sort()) === wanted && (entry.metricName ?? name) === name);
  return found?.value ?? 0;
}

/** A histogram's observation count for `labels`. */
async function countOf(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const values: { value: number; labels: object; metricName?: string }[] = (await (registry.getSingleMetric(name) as Metric).get()).values;
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return values.find((entry) => entry.metricName === `${name}_count` && JSON.stringify(Object.entries(entry.labels).sort()) === wanted)?.value ?? 0;
}

/** A feature whose backend task fails once and is retried, then passes its gate; its frontend task completes. */
function runFeature(): FeatureHarness {
  const harness = new FeatureHarness("feat-metrics");
  harness.submit({
    title: "metrics",
    tasks: [
      { id: "api", role: "backend", title: "api", gates: ["unit"], onFailure: { retry: { maxAttempts: 2, backoffSeconds: 1 } } },
      { id: "ui", role: "frontend", title: "ui", dependsOn: ["api"] },
    ],
  });
  harness.work("api", "failed");
  const retrying = harness.events.find((event) => event.kind === "task.retrying") as { retryAt: string };
  harness.timer(Date.parse(retrying.retryAt));
  harness.work("api");
  harness.gate("unit", true);
  harness.work("ui");
  return harness;
}

describe("the coordinator's counters", () => {
  it("count the machine's events by role and outcome, gates by name and result, and the feature's end", async () => {
    const harness = runFeature();
    const events = harness.events;
    expect(harness.last.state).toBe("completed");
    const registry = new Registry();
    const metrics = new CoordinatorMetrics(registry);
    for (const event of events) metrics.onStatus(event);
    const count = (kind: string, role: string) => events.filter((event) => event.kind === kind && "role" in event && event.role === role).length;
    expect(await valueOf(registry, "baton_tasks_total", { role: "backend", outcome: "completed" })).toBe(count("task.completed", "backend"));
    expect(await valueOf(registry, "baton_tasks_total", { role: "backend", outcome: "completed" })).toBe(1);
    expect(await valueOf(registry, "baton_tasks_total", { role: "backend", outcome: "retrying" })).toBe(1);
    expect(await valueOf(registry, "baton_tasks_total", { role: "frontend", outcome: "completed" })).toBe(1);
    expect(await valueOf(registry, "baton_task_dispatches_total", { role: "backend" })).toBe(count("task.dispatched", "backend"));
    expect(await valueOf(registry, "baton_gate_runs_total", { gate: "unit", result: "passed" })).toBe(1);
    expect(await countOf(registry, "baton_gate_duration_seconds", { gate: "unit" })).toBe(1);
    expect(await countOf(registry, "baton_task_duration_seconds", { role: "frontend", outcome: "completed" })).toBe(1);
    expect(await valueOf(registry, "baton_features_accepted_total")).toBe(1);
    expect(await valueOf(registry, "baton_features_total", { outcome: "completed" })).toBe(1);
    expect(await countOf(registry, "baton_feature_duration_seconds", { outcome: "completed" })).toBe(1);
  });

  it("count an event published twice (an outbox carried out again) once, and a notice (seq 0) every time", async () => {
    const events = runFeature().events;
    const registry = new Registry();
    const metrics = new CoordinatorMetrics(registry);
    for (const event of [...events, ...events.slice(2), ...events]) metrics.onStatus(event);
    expect(await valueOf(registry, "baton_tasks_total", { role: "backend", outcome: "completed" })).toBe(1);
    expect(await valueOf(registry, "baton_gate_runs_total", { gate: "unit", result: "passed" })).toBe(1);
    expect(await valueOf(registry, "baton_features_total", { outcome: "completed" })).toBe(1);
    const notice = StatusEvent.parse({ type: "baton.v1.status_event", featureId: "other", seq: 0, at: new Date().toISOString(), kind: "feature.rejected", errors: [], reason: "duplicate-id" });
    metrics.onStatus(notice);
    metrics.onStatus(notice);
    expect(await valueOf(registry, "baton_features_total", { outcome: "rejected" })).toBe(2);
  });

  it("add up the usage of ended runs by role (input, output, cache reads, cost); a cancelled task is `cancelled`", async () => {
    const registry = new Registry();
    const metrics = new CoordinatorMetrics(registry);
    const base = { type: "baton.v1.status_event", featureId: "f", at: new Date().toISOString(), taskId: "t", role: "backend", attempt: 1, workerId: "w" };
    metrics.onStatus(StatusEvent.parse({ ...base, seq: 1, kind: "task.completed", durationMs: 2000, usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 5, costUsd: 0.25 } }));
    metrics.onStatus(StatusEvent.parse({ ...base, seq: 2, kind: "task.failed", durationMs: 1000, error: { name: "X", message: "x" }, usage: { inputTokens: 10, outputTokens: 2, costUsd: 0.5 } }));
    const cancelled = StatusEvent.parse({ ...base, seq: 3, kind: "task.failed", error: { name: "Cancelled", code: "CANCELLED", message: "cancelled" } });
    metrics.onStatus(cancelled);
    expect(taskOutcome(cancelled)).toBe("cancelled");
    expect(await valueOf(registry, "baton_tokens_total", { role: "backend", direction: "input" })).toBe(110);
    expect(await valueOf(registry, "baton_tokens_total", { role: "backend", direction: "output" })).toBe(22);
    expect(await valueOf(registry, "baton_tokens_total", { role: "backend", direction: "cache_read" })).toBe(5);
    expect(await valueOf(registry, "baton_cost_usd_total", { role: "backend" })).toBeCloseTo(0.75);
    expect(await valueOf(registry, "baton_tasks_total", { role: "backend", outcome: "failed" })).toBe(1);
    expect(await valueOf(registry, "baton_tasks_total", { role: "backend", outcome: "cancelled" })).toBe(1);
  });

  it("record apply latency and CAS conflicts from the apply loop's hook (passed unbound)", async () => {
    const registry = new Registry();
    const { onApplyMeasured } = new CoordinatorMetrics(registry);
    onApplyMeasured({ seconds: 0.004, conflicts: 0 });
    onApplyMeasured({ seconds: 0.02, conflicts: 2 });
    expect(await countOf(registry, "baton_apply_duration_seconds")).toBe(2);
    expect(await valueOf(registry, "baton_cas_conflicts_total")).toBe(2);
  });

  it("remember a bounded number of events, forgetting the oldest first", () => {
    const seen = new SeenEvents(2);
    expect([seen.firstTime("f", 1), seen.firstTime("f", 1), seen.firstTime("g", 1), seen.firstTime("f", 2)]).toEqual([true, false, true, true]);
    expect(seen.firstTime("f", 1)).toBe(true); // forgotten: 3 remembered > capacity
    expect(seen.firstTime("f", 2)).toBe(false);
  });
});

describe("the worker's counters", () => {
  it("count deliveries by how they ended, redeliveries, and busy slots", async () => {
    const registry = new Registry();
    const metrics = new WorkerMetrics(registry, "backend", 3);
    metrics.delivered(1);
    metrics.delivered(2);
    expect(await valueOf(registry, "baton_worker_slots_busy", { role: "backend" })).toBe(2);
    metrics.ended("completed", 1.5);
    metrics.ended("handed_back", 0.5);
    expect(await valueOf(registry, "baton_worker_slots_busy", { role: "backend" })).toBe(0);
    expect(await valueOf(registry, "baton_worker_slots_total", { role: "backend" })).toBe(3);
    expect(await valueOf(registry, "baton_worker_redeliveries_total", { role: "backend" })).toBe(1);
    expect(await valueOf(registry, "baton_worker_tasks_total", { role: "backend", outcome: "completed" })).toBe(1);
    expect(await valueOf(registry, "baton_worker_tasks_total", { role: "backend", outcome: "handed_back" })).toBe(1);
    expect(await countOf(registry, "baton_worker_task_duration_seconds", { role: "backend" })).toBe(2);
  });
});

describe("the /metrics endpoint", () => {
  it("answers GET /metrics with the registry's text and anything else with 404; close() may be called twice", async () => {
    const registry = metricsRegistry();
    new CoordinatorMetrics(registry).onApplyMeasured({ seconds: 0.01, conflicts: 1 });
    const server = await serveMetrics({ registry, host: "127.0.0.1", port: 0, log: silentLogger });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      const text = await res.text();
      expect(text).toContain("baton_cas_conflicts_total 1");
      expect(text).toMatch(/^process_cpu_user_seconds_total /m);
      expect((await fetch(server.url.replace("/metrics", "/"))).status).toBe(404);
      expect((await fetch(server.url, { method: "POST" })).status).toBe(404);
    } finally {
      await Promise.all([server.close(), server.close()]);
    }
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it("fails to start on a port in use; builds reachable URLs and reads --metrics-port", async () => {
    const registry = new Registry();
    const first = await serveMetrics({ registry, host: "127.0.0.1", port: 0, log: silentLogger });
    const port = Number(new URL(first.url).port);
    await expect(serveMetrics({ registry, host: "127.0.0.1", port, log: silentLogger })).rejects.toThrow(/EADDRINUSE/);
    await first.close();
    expect(metricsUrl("::1", 9464)).toBe("http://[::1]:9464/metrics");
    expect(metricsUrl("0.0.0.0", 9464)).not.toContain("0.0.0.0");
    expect([parsePort("0"), parsePort("9464"), parsePort("65536"), parsePort("-1"), parsePort("x")]).toEqual([0, 9464, undefined, undefined, undefined]);
  });
});

describe("gauges read when scraped", () => {
  it("reuse a reading for maxAge, share one load, and do not keep a failure", async () => {
    let clock = 0;
    let loads = 0;
    let fail = false;
    const load = cachedLoader(async () => {
      loads++;
      if (fail) throw new Error("down");
      return loads;
    }, 1000, () => clock);
    expect(await Promise.all([load(), load()])).toEqual([1, 1]);
    clock = 999;
    expect(await load()).toBe(1);
    clock = 1000;
    fail = true;
    await expect(load()).rejects.toThrow("down");
    fail = false;
    expect(await load()).toBe(3);
  });

  it("leave a gauge empty, without failing the scrape, when its source cannot be read", async () => {
    const registry = new Registry();
    // not a connection: every read of NATS fails
    registerDeploymentGauges(registry, { nc: {} as NatsConnection, names: names("t"), store: () => undefined, log: silentLogger });
    const text = await registry.metrics();
    expect(text).toContain("# TYPE baton_role_backlog gauge");
    expect(text).not.toMatch(/^baton_role_backlog\{/m);
    expect(text).not.toMatch(/^baton_features\{/m);
  });
});

describe("the Grafana dashboard (deploy/grafana-baton.json)", () => {
  const dashboard = JSON.parse(readFileSync(new URL("../../deploy/grafana-baton.json", import.meta.url), "utf8")) as {
    templating: { list: { name: string; type: string }[] };
    panels: { type: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
  };
  const registry = new Registry();
  new CoordinatorMetrics(registry);
  registerDeploymentGauges(registry, { nc: {} as NatsConnection, names: names("t"), store: () => undefined, log: silentLogger });
  new WorkerMetrics(registry, "r", 1);
  const registered = registry.getMetricsAsArray().filter((metric) => metric.name.startsWith("baton_"));
  const series = new Set(registered.flatMap((metric) => (String(metric.type) === "histogram" ? ["_bucket", "_sum", "_count"].map((end) => metric.name + end) : [metric.name])));
  const exprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);

  it("has a Prometheus datasource variable that every panel uses", () => {
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: "datasource", type: "datasource" }));
    for (const panel of dashboard.panels.filter((entry) => entry.type !== "row")) expect(panel.datasource?.uid).toBe("${datasource}");
  });

  it("queries only metrics the code registers, and shows every one of them", () => {
    const named = new Set(exprs.flatMap((expr) => expr.match(/\bbaton_\w+/g) ?? []));
    expect([...named].filter((name) => !series.has(name))).toEqual([]);
    const shown = registered.map((metric) => metric.name).filter((name) => ![...named].some((used) => used === name || used.startsWith(`${name}_`)));
    expect(shown).toEqual([]);
    expect(registered.length).toBeGreaterThanOrEqual(20);
  });
});
