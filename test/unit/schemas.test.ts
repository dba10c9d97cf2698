// The committed JSON Schemas in docs/schemas must match the zod schemas they are generated from,
// and must accept what Baton accepts (checked with a small validator for the keywords they use).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { canonical, generateSchemas, SCHEMA_DIR, SCHEMAS } from "../../scripts/gen-schemas.ts";
import {
  ControlMessage, ExecutorOutput, FeatureGetReply, FeatureGetRequest, FeatureListReply, FeatureListRequest, FeatureRequest, StatusEvent, SubmitReply,
  TaskAssigned, TaskLog, TaskProgress, TaskResult, TaskStarted,
} from "../../shared/protocol/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

type Schema = Record<string, unknown>;

/**
 * Validates `v` against the subset of JSON Schema 2020-12 the generated files use; returns the
 * problems (empty = valid). Unknown keywords make it throw, so it never passes by ignoring them.
 */
function validate(schema: Schema, v: unknown, path = "$"): string[] {
  const known = new Set([
    "$schema", "title", "description", "default", "readOnly", "format", "type", "const", "enum", "pattern",
    "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "minItems", "maxItems",
    "properties", "required", "additionalProperties", "propertyNames", "items", "anyOf", "oneOf",
  ]);
  for (const k of Object.keys(schema)) if (!known.has(k)) throw new Error(`validator does not know keyword ${k} at ${path}`);
  const errs: string[] = [];
  const s = schema as {
    type?: string; const?: unknown; enum?: unknown[]; pattern?: string; minLength?: number; maxLength?: number;
    minimum?: number; maximum?: number; exclusiveMinimum?: number; minItems?: number; maxItems?: number;
    properties?: Record<string, Schema>; required?: string[]; additionalProperties?: Schema | boolean;
    propertyNames?: Schema; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[];
  };
  const typeOf = (x: unknown) =>
    x === null ? "null" : Array.isArray(x) ? "array" : Number.isInteger(x) ? "integer" : typeof x;
  if (s.type) {
    const t = typeOf(v);
    if (!(t === s.type || (s.type === "number" && t === "integer"))) return [`${path}: expected ${s.type}, got ${t}`];
  }
  if ("const" in s && v !== s.const) errs.push(`${path}: must be ${JSON.stringify(s.const)}`);
  if (s.enum && !s.enum.includes(v)) errs.push(`${path}: must be one of ${JSON.stringify(s.enum)}`);
  if (typeof v === "string") {
    if (s.pattern && !new RegExp(s.pattern, "u").test(v)) errs.push(`${path}: does not match ${s.pattern}`);
    if (s.minLength !== undefined && v.length < s.minLength) errs.push(`${path}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && v.length > s.maxLength) errs.push(`${path}: longer than ${s.maxLength}`);
  }
  if (typeof v === "number") {
    if (s.minimum !== undefined && v < s.minimum) errs.push(`${path}: below ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum) errs.push(`${path}: above ${s.maximum}`);
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) errs.push(`${path}: not above ${s.exclusiveMinimum}`);
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) errs.push(`${path}: fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && v.length > s.maxItems) errs.push(`${path}: more than ${s.maxItems} items`);
    if (s.items) v.forEach((x, i) => errs.push(...validate(s.items!, x, `${path}[${i}]`)));
  }
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) errs.push(`${path}: missing required ${r}`);
    for (const [k, x] of Object.entries(o)) {
      if (s.propertyNames) errs.push(...validate(s.propertyNames, k, `${path}{${k}}`));
      const ps = s.properties?.[k];
      if (ps) errs.push(...validate(ps, x, `${path}.${k}`));
      else if (s.additionalProperties === false) errs.push(`${path}: unexpected property ${k}`);
      else if (typeof s.additionalProperties === "object") errs.push(...validate(s.additionalProperties, x, `${path}.${k}`));
    }
  }
  if (s.anyOf && !s.anyOf.some((b) => validate(b, v, path).length === 0)) errs.push(`${path}: matches no anyOf branch`);
  if (s.oneOf && s.oneOf.filter((b) => validate(b, v, path).length === 0).length !== 1) errs.push(`${path}: must match exactly one oneOf branch`);
  return errs;
}

const committed = (file: string) => readFileSync(join(SCHEMA_DIR, file), "utf8");
const schemaOf = (file: string) => JSON.parse(committed(file)) as Schema;
const generated = generateSchemas();

describe("docs/schemas", () => {
  it.each(SCHEMAS.map((s) => s.file))("%s is up to date (run `npm run schemas` after changing a zod schema)", (file) => {
    expect(committed(file)).toBe(generated.get(file));
  });

  it("holds exactly the generated files", () => {
    const onDisk = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".json")).sort();
    expect(onDisk).toEqual([...generated.keys()].sort());
  });

  it("is deterministic: generating twice gives identical text, in canonical key order, ending in a newline", () => {
    const again = generateSchemas();
    for (const [file, text] of generated) {
      expect(again.get(file)).toBe(text);
      expect(text.endsWith("}\n")).toBe(true);
      expect(JSON.stringify(canonical(JSON.parse(text)), null, 2) + "\n").toBe(text);
    }
  });

  it("feature-request.json requires a title (tasks, a template or plan: auto give the tasks), keeps the id pattern and knows workspace must be absolute", () => {
    const s = schemaOf("feature-request.json") as {
      required: string[]; additionalProperties: boolean;
      properties: { id: { pattern: string }; workspace: { pattern: string }; tasks: { items: { required: string[] } } };
    };
    expect(s.required).toEqual(["title"]);
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.tasks.items.required).toEqual(["id", "role", "title"]);
    expect(s.properties.id.pattern).toBe("^[A-Za-z0-9_-]{1,64}$");
    expect(s.properties.workspace.pattern).toBe("^/");
  });

  it("feature-request.json accepts the example feature (as zod does) and rejects what zod rejects", () => {
    const s = schemaOf("feature-request.json");
    const example = { ...parseYaml(readFileSync(join(ROOT, "examples/features/api-first.yaml"), "utf8")), id: "demo-1", workspace: "/tmp/ws" };
    expect(FeatureRequest.safeParse(example).success).toBe(true);
    expect(validate(s, example)).toEqual([]);

    const bad: [string, unknown][] = [
      ["no tasks", { title: "x", tasks: [] }],
      ["missing title", { tasks: [{ id: "a", role: "qa", title: "t" }] }],
      ["bad task id", { title: "x", tasks: [{ id: "a.b", role: "qa", title: "t" }] }],
      ["unknown field", { title: "x", tasks: [{ id: "a", role: "qa", title: "t" }], priority: 1 }],
      ["relative workspace", { title: "x", workspace: "ws", tasks: [{ id: "a", role: "qa", title: "t" }] }],
      ["maxParallel 0", { title: "x", maxParallel: 0, tasks: [{ id: "a", role: "qa", title: "t" }] }],
    ];
    for (const [why, v] of bad) {
      expect(FeatureRequest.safeParse(v).success, why).toBe(false);
      expect(validate(s, v).length, why).toBeGreaterThan(0);
    }
  });

  it("worker messages are described as senders write them: task_log's dropped may be omitted", () => {
    const s = schemaOf("task-log.json");
    const log = {
      type: "baton.v1.task_log", featureId: "f", taskId: "t", attempt: 1, role: "qa", workerId: "w1",
      delivery: 1, batch: 1, stream: "stdout", lines: ["hello"], at: "2025-01-01T00:00:00.000Z",
    };
    expect(TaskLog.safeParse(log).success).toBe(true);
    expect(validate(s, log)).toEqual([]);
    expect(validate(s, { ...log, stream: "stdin" }).length).toBeGreaterThan(0);
  });

  it("status-event.json accepts each kind of event exactly once (one oneOf branch per kind)", () => {
    const s = schemaOf("status-event.json") as Schema & { oneOf: Schema[] };
    const base = { type: "baton.v1.status_event", featureId: "f1", at: "2025-01-01T00:00:00Z" };
    const task = { taskId: "t1", role: "backend", attempt: 1 };
    const events = [
      { ...base, seq: 1, kind: "feature.accepted", title: "T", maxParallel: 2, tasks: [{ id: "t1", role: "backend", title: "x", dependsOn: [] }] },
      { ...base, seq: 0, kind: "feature.rejected", errors: [{ path: "tasks", message: "required" }] },
      { ...base, seq: 2, ...task, kind: "task.dispatched" },
      { ...base, seq: 3, ...task, kind: "task.failed", exitCode: null, error: { name: "ExecutorError", message: "exit 1", code: "EXIT" } },
      { ...base, seq: 4, kind: "feature.failed", durationMs: 5, reason: "task t1 failed", taskId: "t1" },
    ];
    expect(s.oneOf).toHaveLength(StatusEvent.options.length);
    for (const e of events) {
      expect(StatusEvent.safeParse(e).success, e.kind).toBe(true);
      expect(validate(s, e), e.kind).toEqual([]);
    }
    expect(validate(s, { ...events[2], kind: "task.exploded" }).length).toBeGreaterThan(0);
  });

  it("config-file.json accepts the example config", () => {
    const s = schemaOf("config-file.json");
    expect(validate(s, parseYaml(readFileSync(join(ROOT, "examples/baton.config.yaml"), "utf8")))).toEqual([]);
    expect(validate(s, { roles: { qa: { exec: [] } } }).length).toBeGreaterThan(0);
  });
});

describe("docs/protocol.md", () => {
  const doc = readFileSync(join(ROOT, "docs/protocol.md"), "utf8");
  const parsers = {
    ControlMessage, ExecutorOutput, FeatureGetReply, FeatureGetRequest, FeatureListReply, FeatureListRequest, FeatureRequest, StatusEvent, SubmitReply,
    TaskAssigned, TaskLog, TaskProgress, TaskResult, TaskStarted,
  } as const;
  // Each example marked `<!-- validate: Name -->` must be a valid message of that kind.
  const examples = [...doc.matchAll(/<!-- validate: (\w+) -->\n```json\n([\s\S]*?)```/g)].map((m) => ({ name: m[1]!, json: m[2]! }));

  it("marks its JSON examples for validation, covering every message kind", () => {
    expect(new Set(examples.map((e) => e.name))).toEqual(new Set(Object.keys(parsers)));
  });

  it.each(examples.map((e, i) => [`${i + 1}: ${e.name}`, e] as const))("example %s is valid", (_label, e) => {
    const schema = parsers[e.name as keyof typeof parsers];
    expect(schema, `unknown message kind ${e.name}`).toBeDefined();
    const r = schema.safeParse(JSON.parse(e.json));
    expect(r.success ? [] : r.error.issues).toEqual([]);
  });

  it("links every generated schema file", () => {
    for (const { file } of SCHEMAS) expect(doc).toContain(`(schemas/${file})`);
  });
});
