// Traces (issue 14): the span tree built from a feature's status history — shape, parents, attributes, times and
// deterministic ids — the settings read from OTEL_* variables, and the sink keeping the planned ids through the SDK.
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/logging.ts";
import { StatusEvent } from "../../shared/protocol/events.ts";
import { startTraceSink } from "../../shared/tracing/export.ts";
import { buildSpanTree, tracingSettingsFromEnv, type PlannedSpan, type TracingOn } from "../../shared/tracing/index.ts";

const T0 = Date.parse("2030-01-01T10:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const base = (seq: number, seconds: number) => ({ type: "baton.v1.status_event", featureId: "feat-1", seq, at: at(seconds) });
const task = (taskId: string, role: string, attempt: number) => ({ taskId, role, attempt });
const gate = (kind: "gate.passed" | "gate.failed", seq: number, seconds: number, run: number, extra: Record<string, unknown>) => ({
  ...base(seq, seconds), kind, gate: "unit", scope: "task", run, taskId: "impl", attempt: 1, workerId: "qa-1", expect: "pass",
  command: ["node", "--test"], durationMs: 1000, outputTail: "", ...extra,
});

/** A feature whose gate fails once, is fixed by a fix round, and a second task that is retried once. */
const HISTORY: StatusEvent[] = [
  { ...base(1, 0), kind: "feature.accepted", title: "add", maxParallel: 1, tasks: [
    { id: "impl", role: "backend", title: "add()", dependsOn: [], gates: ["unit"] },
    { id: "deploy", role: "devops", title: "deploy", dependsOn: ["impl"] },
  ] },
  { ...base(2, 1), kind: "task.dispatched", ...task("impl", "backend", 1) },
  { ...base(3, 2), kind: "task.started", ...task("impl", "backend", 1), workerId: "backend-1", delivery: 1 },
  { ...base(4, 3), kind: "task.log", ...task("impl", "backend", 1), workerId: "backend-1", stream: "stdout", lines: ["hi"], dropped: 0 },
  { ...base(5, 5), kind: "task.verifying", ...task("impl", "backend", 1), workerId: "backend-1", gates: ["unit"] },
  gate("gate.failed", 6, 7, 1, { exitCode: 1, reason: "exit 1: 1 of 1 tests failed: add", tests: { runner: "node-test", passed: 0, failed: 1, skipped: 0, total: 1 } }),
  { ...base(7, 7.5), kind: "task.fixing", taskId: "impl", attempt: 1, gate: "unit", round: 1, fixTaskId: "impl-fix-1", fixRole: "bugfix", title: "fix unit", reason: "exit 1" },
  { ...base(8, 8), kind: "task.dispatched", ...task("impl-fix-1", "bugfix", 1) },
  { ...base(9, 9), kind: "task.started", ...task("impl-fix-1", "bugfix", 1), workerId: "bugfix-1", delivery: 1 },
  { ...base(10, 10), kind: "task.completed", ...task("impl-fix-1", "bugfix", 1), workerId: "bugfix-1", durationMs: 1000, usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.01 } },
  gate("gate.passed", 11, 12, 2, { exitCode: 0, tests: { runner: "node-test", passed: 1, failed: 0, skipped: 0, total: 1 } }),
  { ...base(12, 13), kind: "task.completed", ...task("impl", "backend", 1), workerId: "backend-1", durationMs: 11_000 },
  { ...base(13, 14), kind: "task.dispatched", ...task("deploy", "devops", 1) },
  { ...base(14, 15), kind: "task.started", ...task("deploy", "devops", 1), workerId: "devops-1", delivery: 1 },
  { ...base(15, 16), kind: "task.retrying", ...task("deploy", "devops", 1), nextAttempt: 2, retryAt: at(17), reason: "exited with code 1" },
  { ...base(16, 17), kind: "task.dispatched", ...task("deploy", "devops", 2) },
  { ...base(17, 18), kind: "task.started", ...task("deploy", "devops", 2), workerId: "devops-1", delivery: 1 },
  { ...base(18, 19), kind: "task.completed", ...task("deploy", "devops", 2), workerId: "devops-1", durationMs: 1000 },
  { ...base(19, 20), kind: "feature.completed", durationMs: 20_000 },
  { ...base(20, 21), kind: "feature.integrated", branch: "baton/feat-1", fastForwarded: false, removed: 2 },
].map((event) => StatusEvent.parse(event));

function tree(history: readonly StatusEvent[] = HISTORY, namespace = "baton"): PlannedSpan[] {
  const built = buildSpanTree(history, { namespace });
  if (!built.ok) throw new Error(built.reason);
  return built.spans;
}
const byName = (spans: PlannedSpan[], name: string) => {
  const found = spans.filter((span) => span.name === name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
};

describe("the span tree of a feature", () => {
  it("has a root for the feature, a span per task attempt, per gate run and per fix round, with the fix task under its round", () => {
    const spans = tree();
    const root = byName(spans, "feature add");
    const impl = byName(spans, "task impl #1");
    const names = spans.map((span) => span.name);
    expect(names).toEqual(["feature add", "task impl #1", "gate unit", "fix round 1 (unit)", "task impl-fix-1 #1", "gate unit", "task deploy #1", "task deploy #2"]);
    const round = byName(spans, "fix round 1 (unit)");
    const fix = byName(spans, "task impl-fix-1 #1");
    const gates = spans.filter((span) => span.name === "gate unit");
    expect(root.parentSpanId).toBeUndefined();
    expect(impl.parentSpanId).toBe(root.spanId);
    expect(gates.map((span) => span.parentSpanId)).toEqual([impl.spanId, impl.spanId]);
    expect(round.parentSpanId).toBe(impl.spanId);
    expect(fix.parentSpanId).toBe(round.spanId);
    expect(spans.filter((span) => span.name.startsWith("task deploy")).map((span) => span.parentSpanId)).toEqual([root.spanId, root.spanId]);
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    expect(new Set(spans.map((span) => span.spanId)).size).toBe(spans.length);
    expect(gates.map((span) => span.status)).toEqual([{ code: "error", message: "exit 1: 1 of 1 tests failed: add" }, { code: "ok" }]);
  });

  it("gives each span the feature's and task's ids, outcomes and gate facts as attributes, and the status of its outcome", () => {
    const spans = tree();
    expect(byName(spans, "feature add")).toMatchObject({ status: { code: "ok" }, attributes: { "baton.feature_id": "feat-1", "baton.outcome": "completed", "baton.tasks": 3 } });
    expect(byName(spans, "task impl #1")).toMatchObject({
      status: { code: "ok" },
      attributes: { "baton.feature_id": "feat-1", "baton.task_id": "impl", "baton.role": "backend", "baton.attempt": 1, "baton.worker_id": "backend-1", "baton.outcome": "completed", "baton.task.title": "add()" },
    });
    const [failedGate, passedGate] = spans.filter((span) => span.name === "gate unit");
    expect(failedGate!.attributes).toMatchObject({ "baton.gate": "unit", "baton.gate.passed": false, "baton.gate.run": 1, "baton.tests.failed": 1, "baton.gate.exit_code": 1, "baton.task_id": "impl", "baton.worker_id": "qa-1" });
    expect(passedGate).toMatchObject({ status: { code: "ok" }, attributes: { "baton.gate.passed": true, "baton.gate.run": 2, "baton.tests.passed": 1, "baton.tests.total": 1 } });
    expect(byName(spans, "fix round 1 (unit)")).toMatchObject({ status: { code: "ok" }, attributes: { "baton.fix.task_id": "impl-fix-1", "baton.fix.role": "bugfix", "baton.fix.round": 1, "baton.task_id": "impl", "baton.outcome": "completed" } });
    expect(byName(spans, "task impl-fix-1 #1").attributes).toMatchObject({ "baton.task_id": "impl-fix-1", "baton.role": "bugfix", "baton.task.title": "fix unit", "baton.usage.input_tokens": 10, "baton.usage.cost_usd": 0.01 });
    expect(byName(spans, "task deploy #1")).toMatchObject({ status: { code: "error", message: "exited with code 1" }, attributes: { "baton.outcome": "retrying", "baton.next_attempt": 2 } });
    expect(byName(spans, "task deploy #2")).toMatchObject({ status: { code: "ok" }, attributes: { "baton.attempt": 2, "baton.outcome": "completed" } });
  });

  it("takes its times from the events: dispatch to outcome, a gate's command before its verdict, a fix round until its task ended", () => {
    const spans = tree();
    const window = (name: string, index = 0) => {
      const span = spans.filter((candidate) => candidate.name === name)[index]!;
      return [(span.startMs - T0) / 1000, (span.endMs - T0) / 1000];
    };
    expect(window("feature add")).toEqual([0, 20]);
    expect(window("task impl #1")).toEqual([1, 13]);
    expect(window("gate unit", 0)).toEqual([6, 7]);
    expect(window("gate unit", 1)).toEqual([11, 12]);
    expect(window("fix round 1 (unit)")).toEqual([7.5, 10]);
    expect(window("task impl-fix-1 #1")).toEqual([8, 10]);
    expect(window("task deploy #1")).toEqual([14, 16]);
    expect(byName(spans, "task impl #1").events.map((event) => [event.name, (event.atMs - T0) / 1000])).toEqual([["started", 2], ["verifying", 5]]);
  });

  it("is deterministic: the same history in any order, with duplicates, gives the same ids; another deployment or feature others", () => {
    const first = tree();
    const shuffled = [...HISTORY].reverse().concat(HISTORY.slice(3, 9));
    expect(tree(shuffled)).toEqual(first);
    expect(first[0]!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(first.every((span) => /^[0-9a-f]{16}$/.test(span.spanId))).toBe(true);
    const elsewhere = tree(HISTORY, "staging");
    expect(elsewhere[0]!.traceId).not.toBe(first[0]!.traceId);
    expect(elsewhere.map((span) => span.spanId).filter((id) => first.some((span) => span.spanId === id))).toEqual([]);
    const reused = tree(HISTORY.map((event) => ({ ...event, featureId: "feat-2" })));
    expect(reused[0]!.traceId).not.toBe(first[0]!.traceId);
  });

  it("refuses a history that has not ended or misses events", () => {
    expect(buildSpanTree(HISTORY.slice(0, 10), { namespace: "baton" })).toEqual({ ok: false, reason: "the feature has not ended" });
    expect(buildSpanTree(HISTORY.filter((event) => event.seq !== 7), { namespace: "baton" })).toEqual({ ok: false, reason: "its history misses events before seq 8" });
    expect(buildSpanTree(HISTORY.slice(1), { namespace: "baton" })).toMatchObject({ ok: false, reason: expect.stringContaining("feature.accepted") });
  });

  it("a cancelled feature ends its running task's span at the cancellation, unfinished", () => {
    const cancelled = [...HISTORY.slice(0, 3), StatusEvent.parse({ ...base(4, 4), kind: "feature.cancelled", durationMs: 4000, reason: "by user" })];
    const spans = tree(cancelled);
    expect(spans.map((span) => [span.name, span.status.code, span.attributes["baton.outcome"], (span.endMs - T0) / 1000])).toEqual([
      ["feature add", "unset", "cancelled", 4],
      ["task impl #1", "unset", "unfinished", 4],
    ]);
  });

  it("puts a baseline gate run (before any task) under the root; its failure is not an error", () => {
    const baseline = StatusEvent.parse({ ...gate("gate.failed", 2, 0.5, 1, { exitCode: 0, reason: "exit 0 but no tests ran (0 of 0)" }), scope: "baseline", taskId: undefined, attempt: undefined });
    const shifted = HISTORY.map((event) => (event.seq > 1 ? { ...event, seq: event.seq + 1 } : event));
    const spans = tree([shifted[0]!, baseline, ...shifted.slice(1)]);
    const root = byName(spans, "feature add");
    expect(byName(spans, "gate unit (baseline)")).toMatchObject({ parentSpanId: root.spanId, status: { code: "unset" }, attributes: { "baton.gate.scope": "baseline", "baton.gate.passed": false } });
  });
});

describe("tracing settings from OTEL_* variables", () => {
  it("is off with no endpoint, with OTEL_TRACES_EXPORTER=none, with OTEL_SDK_DISABLED, and for grpc", () => {
    expect(tracingSettingsFromEnv({})).toMatchObject({ enabled: false, reason: expect.stringContaining("no OTEL_EXPORTER_OTLP_ENDPOINT") });
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_TRACES_EXPORTER: "none" })).toMatchObject({ enabled: false, reason: "OTEL_TRACES_EXPORTER=none" });
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_TRACES_EXPORTER: "zipkin" })).toMatchObject({ enabled: false });
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_SDK_DISABLED: "true" })).toMatchObject({ enabled: false });
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toMatchObject({ enabled: false, reason: expect.stringContaining("grpc") });
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toMatchObject({ enabled: false });
  });

  it("is on with an endpoint: the traces URL, the service name (default baton-coordinator) and resource attributes", () => {
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toEqual({
      enabled: true, url: "http://collector:4318/v1/traces", protocol: "http/json", serviceName: "baton-coordinator", resourceAttributes: {}, warnings: [],
    });
    expect(tracingSettingsFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/custom", OTEL_SERVICE_NAME: "baton-prod",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,team=a%20b,service.name=x", OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    })).toEqual({
      enabled: true, url: "https://traces.example/custom", protocol: "http/json", serviceName: "baton-prod", resourceAttributes: { "deployment.environment": "prod", team: "a b" },
      warnings: [expect.stringContaining("http/protobuf")],
    });
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/", OTEL_RESOURCE_ATTRIBUTES: "service.name=from-resource" })).toMatchObject({
      url: "http://collector:4318/v1/traces", serviceName: "from-resource",
    });
  });
});

describe("the trace sink", () => {
  it("emits the planned spans through the SDK with their ids, parents, times and status", async () => {
    const exporter = new InMemorySpanExporter();
    const settings = tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" }) as TracingOn;
    const sink = startTraceSink(settings, { log: silentLogger, exporter, resourceAttributes: { "baton.prefix": "baton" } });
    const planned = tree();
    await sink.emit(planned);
    const finished = exporter.getFinishedSpans();
    expect(finished.map((span) => span.spanContext().spanId).sort()).toEqual(planned.map((span) => span.spanId).sort());
    for (const span of finished) {
      const plan = planned.find((candidate) => candidate.spanId === span.spanContext().spanId)!;
      expect(span.spanContext().traceId).toBe(plan.traceId);
      expect(span.parentSpanContext?.spanId).toBe(plan.parentSpanId);
      expect(span.name).toBe(plan.name);
      expect(span.startTime[0] * 1000 + span.startTime[1] / 1e6).toBe(plan.startMs);
      expect(span.endTime[0] * 1000 + span.endTime[1] / 1e6).toBe(plan.endMs);
      expect(span.status.code).toBe({ unset: 0, ok: 1, error: 2 }[plan.status.code]);
      expect(span.resource.attributes).toMatchObject({ "service.name": "baton-coordinator", "baton.prefix": "baton" });
    }
    await sink.close();
  });
});
