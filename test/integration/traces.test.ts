// Traces (issue 14) on real processes: an in-process OTLP/HTTP receiver (JSON), a real nats-server, `baton
// coordinator` and workers. A feature whose gate fails once and a fix round repairs gives one trace with the span tree
// the feature's history describes; with OTEL_TRACES_EXPORTER=none the coordinator exports nothing.
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { featureHistory } from "../../shared/client/index.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { buildSpanTree } from "../../shared/tracing/index.ts";
import { submitAndFollow } from "../helpers/follow.ts";
import { gitRepo } from "../helpers/git-repo.ts";
import { useStack, type Stack } from "../helpers/stack.ts";

/** A span as received, flattened: OTLP/JSON attributes made a plain record, the resource's beside them. */
interface Received {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  startMs: number;
  endMs: number;
  status: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
const value = (wire: OtlpValue): unknown => wire.stringValue ?? (wire.intValue !== undefined ? Number(wire.intValue) : wire.boolValue ?? wire.doubleValue);
const record = (list: { key: string; value: OtlpValue }[] = []) => Object.fromEntries(list.map((entry) => [entry.key, value(entry.value)]));
const nanosToMs = (nanos: string | number) => Number(BigInt(nanos) / 1_000_000n);

/** The OTLP/HTTP receiver: POST /v1/traces with a JSON body (ExportTraceServiceRequest); keeps every span and content type. */
class Receiver {
  readonly spans: Received[] = [];
  readonly contentTypes: string[] = [];
  private server?: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        this.contentTypes.push(String(req.headers["content-type"]));
        if (req.method === "POST" && req.url === "/v1/traces") this.take(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}`;
  }

  private take(body: { resourceSpans: { resource?: { attributes?: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: Record<string, never>[] }[] }[] }): void {
    for (const resourceSpans of body.resourceSpans) {
      const resource = record(resourceSpans.resource?.attributes);
      for (const scope of resourceSpans.scopeSpans) {
        for (const span of scope.spans as unknown as Record<string, unknown>[]) {
          this.spans.push({
            traceId: span.traceId as string, spanId: span.spanId as string, parentSpanId: (span.parentSpanId as string | undefined) ?? "", name: span.name as string,
            startMs: nanosToMs(span.startTimeUnixNano as string), endMs: nanosToMs(span.endTimeUnixNano as string),
            status: (span.status as { code?: number } | undefined)?.code ?? 0, attributes: record(span.attributes as never), resource,
          });
        }
      }
    }
  }

  /** The spans of `featureId` in deployment `prefix`, once its root span has arrived (polls; throws after `timeoutMs`). */
  async featureSpans(prefix: string, featureId: string, timeoutMs = 60_000): Promise<Received[]> {
    const mine = () => this.spans.filter((span) => span.resource["baton.prefix"] === prefix && span.attributes["baton.feature_id"] === featureId);
    const deadline = Date.now() + timeoutMs;
    while (!mine().some((span) => !span.parentSpanId)) {
      if (Date.now() > deadline) throw new Error(`no root span for ${featureId} within ${timeoutMs} ms; received ${this.spans.length} spans`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return mine();
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const AGENT = `
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
const task = JSON.parse(readFileSync(0, "utf8"));
const text = task.instructions || "{}";
let spec = {};
try { spec = JSON.parse(text.slice(text.indexOf("{"))); } catch {}
for (const [path, content] of Object.entries(spec.files ?? {})) {
  const file = join(process.env.BATON_WORKSPACE, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}
console.log("wrote " + Object.keys(spec.files ?? {}).join(", "));
`;

/** Turns the subtraction back into an addition, when given the failing gate's output. */
const FIXER = `
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const task = JSON.parse(readFileSync(0, "utf8"));
if (!task.instructions.includes("not ok")) { console.error("no failing output given"); process.exit(3); }
const file = join(process.env.BATON_WORKSPACE, "src/math.js");
writeFileSync(file, readFileSync(file, "utf8").replace("a - b", "a + b"));
console.log("fixed");
`;

const CONFIG = `
workspace: ./ws
workspaceRoots: [./workspaces]
roles:
  backend: { exec: ["node", "./agent.mjs"], timeoutSeconds: 60 }
  bugfix: { exec: ["node", "./fixer.mjs"], timeoutSeconds: 60 }
  qa: { exec: ["node", "./agent.mjs"], timeoutSeconds: 60 }
gates:
  unit: { run: ["node", "--test"], timeoutSeconds: 120, tests: node-test }
`;

const BUGGY = "export const add = (a, b) => a - b;\n";
const TEST = 'import { test } from "node:test";\nimport assert from "node:assert";\nimport { add } from "../src/math.js";\ntest("add", () => assert.equal(add(6, 3), 9));\n';
const FILES = { "agent.mjs": AGENT, "fixer.mjs": FIXER };

const receiver = new Receiver();
beforeAll(() => receiver.start());
afterAll(() => receiver.close());

async function history(stack: Stack, featureId: string): Promise<StatusEvent[]> {
  const events: StatusEvent[] = [];
  for await (const event of featureHistory(stack.nc, stack.n, featureId, { follow: false })) events.push(event);
  return events;
}

describe("traces on (OTEL_EXPORTER_OTLP_ENDPOINT set)", () => {
  const stack = useStack({
    tag: "traces", config: CONFIG, files: FILES, dirs: ["ws", "workspaces"],
    workers: ["backend", "qa", "bugfix", "integrator"].map((role) => [role, `${role}-1`] as const),
    env: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }),
  });

  it("a feature with a failed gate and a fix round: one trace, the task attempt, both gate runs, the fix round with its task", async () => {
    const ws = gitRepo(join(stack.dir, "workspaces", "fix"), { "package.json": '{ "type": "module" }\n' });
    expect(stack.procs[0]!.output()).toMatch(/traces on: a feature's trace is exported when it ends/);
    const { view } = await submitAndFollow(stack.nc, stack.n, {
      id: "trace-fix", title: "add", workspace: ws,
      tasks: [{ id: "impl", role: "backend", title: "add()", gates: ["unit"], onFailure: { fix: { maxRounds: 2 } }, instructions: JSON.stringify({ files: { "src/math.js": BUGGY, "test/math.test.js": TEST } }) }],
    }, { timeoutMs: 120_000 });
    expect(view.state).toBe("completed");
    const spans = await receiver.featureSpans(stack.prefix, "trace-fix");
    expect(receiver.contentTypes.every((type) => type.startsWith("application/json"))).toBe(true);

    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    const roots = spans.filter((span) => !span.parentSpanId);
    expect(roots.map((span) => [span.name, span.attributes["baton.outcome"], span.status])).toEqual([["feature add", "completed", 1]]);
    const root = roots[0]!;
    expect(root.resource).toMatchObject({ "service.name": "baton-coordinator", "baton.prefix": stack.prefix });

    const impl = spans.find((span) => span.name === "task impl #1")!;
    expect(impl).toMatchObject({ parentSpanId: root.spanId, status: 1 });
    expect(impl.attributes).toMatchObject({ "baton.feature_id": "trace-fix", "baton.task_id": "impl", "baton.role": "backend", "baton.attempt": 1, "baton.worker_id": "backend-1", "baton.outcome": "completed" });

    const gates = spans.filter((span) => span.attributes["baton.gate.scope"] === "task").sort((left, right) => left.endMs - right.endMs);
    expect(gates.map((span) => [span.name, span.parentSpanId, span.attributes["baton.gate.passed"], span.status])).toEqual([
      ["gate unit", impl.spanId, false, 2],
      ["gate unit", impl.spanId, true, 1],
    ]);
    expect(gates[0]!.attributes).toMatchObject({ "baton.gate": "unit", "baton.tests.failed": 1, "baton.worker_id": "qa-1" });

    const round = spans.find((span) => span.name === "fix round 1 (unit)")!;
    expect(round).toMatchObject({ parentSpanId: impl.spanId, attributes: expect.objectContaining({ "baton.fix.task_id": "impl-fix-1", "baton.fix.role": "bugfix" }) });
    const fix = spans.find((span) => span.attributes["baton.task_id"] === "impl-fix-1" && span.name.startsWith("task "))!;
    expect(fix).toMatchObject({ name: "task impl-fix-1 #1", parentSpanId: round.spanId, attributes: expect.objectContaining({ "baton.role": "bugfix", "baton.outcome": "completed" }) });

    // the order in time: the failed gate, then the fix round holding the fix task, then the passing gate, all within the task attempt
    expect(gates[0]!.endMs).toBeLessThanOrEqual(round.startMs);
    expect(round.startMs).toBeLessThanOrEqual(fix.startMs);
    expect(fix.endMs).toBeLessThanOrEqual(gates[1]!.endMs);
    expect(impl.startMs).toBeGreaterThanOrEqual(root.startMs);
    expect(impl.endMs).toBeLessThanOrEqual(root.endMs);

    // exactly the tree the feature's history describes, with the ids derived from it (so a second export repeats them)
    const planned = buildSpanTree(await history(stack, "trace-fix"), { namespace: stack.prefix });
    if (!planned.ok) throw new Error(planned.reason);
    expect(spans.map((span) => `${span.spanId} ${span.parentSpanId} ${span.name}`).sort()).toEqual(planned.spans.map((span) => `${span.spanId} ${span.parentSpanId ?? ""} ${span.name}`).sort());
    expect(root.traceId).toBe(planned.traceId);
  }, 180_000);
});

describe("traces off (OTEL_TRACES_EXPORTER=none)", () => {
  const stack = useStack({
    tag: "traces-off", config: CONFIG, files: FILES, dirs: ["ws", "workspaces"],
    workers: [["backend", "backend-1"]],
    env: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: "none" }),
  });

  it("starts no exporter and sends nothing, even once the coordinator has stopped (which would flush any span)", async () => {
    const coordinator = stack.procs[0]!;
    expect(coordinator.output()).toMatch(/"reason":"OTEL_TRACES_EXPORTER=none".*"msg":"traces off"/);
    const { view } = await submitAndFollow(stack.nc, stack.n, { id: "quiet", title: "quiet", tasks: [{ id: "one", role: "backend", title: "one" }] }, { timeoutMs: 60_000 });
    expect(view.state).toBe("completed");
    await coordinator.kill("SIGTERM");
    expect(coordinator.output()).toMatch(/coordinator stopped/);
    expect(coordinator.output()).not.toMatch(/traces on|feature trace exported/);
    expect(receiver.spans.filter((span) => span.resource["baton.prefix"] === stack.prefix)).toEqual([]);
  }, 120_000);
});
