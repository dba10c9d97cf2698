// Generates docs/schemas/*.json (JSON Schema 2020-12) from the zod protocol and config schemas, and the AsyncAPI
// document of the whole protocol (asyncapi.json, asyncapi.yaml), so that clients in any language can validate what they publish. Run: `npm run schemas`.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { stringify as toYaml } from "yaml";
import { z } from "zod";
import { asyncApiDocument } from "./asyncapi.ts";
import {
  BoundedHandoff, ControlMessage, ExecutorOutput, FeatureGetReply, FeatureGetRequest, FeatureListReply, FeatureListRequest, FeatureRequest, Json,
  MAX_HANDOFF_BYTES, StatusEvent, SubmitReply, TaskAssigned, TaskLog, TaskProgress, TaskResult, TaskStarted, WorkerHeartbeat,
  CoordinatorHeartbeat,
} from "../shared/protocol/index.ts";
import { ConfigFile } from "../shared/config.ts";

export const SCHEMA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../docs/schemas");

interface Entry {
  file: string;
  title: string;
  description: string;
  schema: z.ZodType;
  /**
   * "input" for what Baton validates on arrival (a sender may omit fields that have defaults);
   * "output" for what Baton itself emits (every defaulted field is present).
   */
  io: "input" | "output";
}

export const SCHEMAS: readonly Entry[] = [
  { file: "feature-request.json", title: "FeatureRequest", io: "input", schema: FeatureRequest,
    description: "Published on <prefix>.feature.submit or sent as a request to <prefix>.api.submit." },
  { file: "submit-reply.json", title: "SubmitReply", io: "output", schema: SubmitReply,
    description: "Reply to a request on <prefix>.api.submit." },
  { file: "task-assigned.json", title: "TaskAssigned", io: "output", schema: TaskAssigned,
    description: "Published by coordinators on <prefix>.task.<role>; consumed by that role's workers." },
  { file: "task-started.json", title: "TaskStarted", io: "input", schema: TaskStarted,
    description: "Published by a worker on <prefix>.result.<featureId>.<taskId> when it starts a delivery." },
  { file: "task-log.json", title: "TaskLog", io: "input", schema: TaskLog,
    description: "Published by a worker on <prefix>.result.<featureId>.<taskId>: a batch of executor output lines." },
  { file: "task-progress.json", title: "TaskProgress", io: "input", schema: TaskProgress,
    description: "Published by a worker on <prefix>.result.<featureId>.<taskId>: what an agent is doing, and its usage so far." },
  { file: "task-result.json", title: "TaskResult", io: "input", schema: TaskResult,
    description: "Published by a worker on <prefix>.result.<featureId>.<taskId> when a task attempt ends." },
  { file: "executor-output.json", title: "ExecutorOutput", io: "input", schema: ExecutorOutput,
    description: "What an exec executor may write to $BATON_RESULT_FILE." },
  { file: "status-event.json", title: "StatusEvent", io: "output", schema: StatusEvent,
    description: "Published on <prefix>.status.<featureId>.<kind>; replayable from the events stream." },
  { file: "control-message.json", title: "ControlMessage", io: "input", schema: ControlMessage,
    description: "Published by clients on <prefix>.control.<featureId>.<verb> (cancel, pause, resume)." },
  { file: "feature-get-request.json", title: "FeatureGetRequest", io: "input", schema: FeatureGetRequest,
    description: "Request on <prefix>.api.features.get (the read model): one feature's current state." },
  { file: "feature-get-reply.json", title: "FeatureGetReply", io: "output", schema: FeatureGetReply,
    description: "Reply to a request on <prefix>.api.features.get: the feature's view, or an error (UNKNOWN_FEATURE)." },
  { file: "feature-list-request.json", title: "FeatureListRequest", io: "input", schema: FeatureListRequest,
    description: "Request on <prefix>.api.features.list (the read model): features, newest first." },
  { file: "feature-list-reply.json", title: "FeatureListReply", io: "output", schema: FeatureListReply,
    description: "Reply to a request on <prefix>.api.features.list: the newest `limit` features and how many exist." },
  { file: "worker-heartbeat.json", title: "WorkerHeartbeat", io: "output", schema: WorkerHeartbeat,
    description: "A worker's heartbeat: the value of key <role>.<workerId> in the <prefix>-workers KV bucket." },
  { file: "coordinator-heartbeat.json", title: "CoordinatorHeartbeat", io: "output", schema: CoordinatorHeartbeat,
    description: "A coordinator's heartbeat: the value of key <coordinatorId> in the <prefix>-coordinators KV bucket." },
  { file: "config-file.json", title: "ConfigFile", io: "input", schema: ConfigFile,
    description: "The operator's configuration file (YAML or JSON)." },
];

/**
 * Refinements JSON Schema cannot see (zod `.refine` predicates are code). Matched by identity, so
 * they follow the schema objects themselves; schemas.test.ts checks they are still applied.
 */
function refinementOverride(ctx: { zodSchema: unknown; jsonSchema: Record<string, unknown> }): void {
  if (ctx.zodSchema === FeatureRequest.shape.workspace.unwrap()) {
    ctx.jsonSchema.pattern = "^/";
    ctx.jsonSchema.description = "absolute path of the workspace on the workers' file system";
  } else if (ctx.zodSchema === Json) {
    ctx.jsonSchema.description = "any JSON value";
  } else if (ctx.zodSchema === BoundedHandoff) {
    ctx.jsonSchema.description = `any JSON value of at most ${MAX_HANDOFF_BYTES} bytes (as JSON)`;
  }
}

// Key order: annotations and the type first, then other constraints alphabetically, then structure.
// Children of name→schema maps (`properties`, `$defs`) keep their source order.
const FIRST = ["$schema", "$id", "title", "description", "type", "const", "enum", "format", "pattern"];
const LAST = ["properties", "required", "additionalProperties", "propertyNames", "items", "anyOf", "oneOf", "$defs"];
const NAME_MAPS = new Set(["properties", "$defs", "definitions", "patternProperties"]);

function keyRank(k: string): number {
  const f = FIRST.indexOf(k);
  if (f !== -1) return f;
  const l = LAST.indexOf(k);
  return l === -1 ? FIRST.length : FIRST.length + 1 + l;
}

/** Rebuilds a JSON value with a canonical key order, so regenerating never reorders a file. */
export function canonical(v: unknown, keepOrder = false): unknown {
  if (Array.isArray(v)) return v.map((x) => canonical(x));
  if (v === null || typeof v !== "object") return v;
  const keys = Object.keys(v);
  if (!keepOrder) keys.sort((a, b) => keyRank(a) - keyRank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const child = (v as Record<string, unknown>)[k];
    // A name map's own keys are property names: keep them; their values are schemas again.
    out[k] = keepOrder ? canonical(child) : canonical(child, NAME_MAPS.has(k));
  }
  return out;
}

/** The file holding the AsyncAPI document (and, with `.yaml`, the same document in YAML). */
export const ASYNCAPI_FILE = "asyncapi.json";

/**
 * The AsyncAPI 3.0.0 document of the protocol, in canonical key order. Its payloads are JSON Schema draft-07, the
 * newest dialect @asyncapi/parser 3 validates (it has no 2020-12 schema parser), converted from the same zod schemas.
 */
export function generateAsyncApi(): Record<string, unknown> {
  const toDraft07 = (schema: z.ZodType, io: "input" | "output") =>
    z.toJSONSchema(schema, { io, target: "draft-7", override: refinementOverride }) as Record<string, unknown>;
  return canonical(asyncApiDocument(SCHEMAS, toDraft07)) as Record<string, unknown>;
}

const TOP_LEVEL = ["asyncapi", "id", "info", "servers", "defaultContentType", "channels", "operations", "components"];

/** The AsyncAPI document as YAML, its top-level sections in the order people read them. */
export function asyncApiYaml(doc: Record<string, unknown> = generateAsyncApi()): string {
  const ordered = Object.fromEntries(TOP_LEVEL.filter((key) => key in doc).map((key) => [key, doc[key]]));
  return toYaml({ ...ordered, ...doc }, { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * Generates every schema file's text (2-space JSON, trailing newline) keyed by file name, the AsyncAPI document
 * (asyncapi.json) included. Pure; writes nothing.
 */
export function generateSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  for (const e of SCHEMAS) {
    const body = z.toJSONSchema(e.schema, { io: e.io, target: "draft-2020-12", override: refinementOverride });
    const doc = canonical({ ...body, title: e.title, description: e.description });
    files.set(e.file, JSON.stringify(doc, null, 2) + "\n");
  }
  files.set(ASYNCAPI_FILE, JSON.stringify(generateAsyncApi(), null, 2) + "\n");
  return files;
}

/** Writes the generated schemas into `dir` (default docs/schemas); returns the paths written. */
export function writeSchemas(dir = SCHEMA_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const files = generateSchemas();
  files.set(ASYNCAPI_FILE.replace(/\.json$/, ".yaml"), asyncApiYaml(JSON.parse(files.get(ASYNCAPI_FILE)!) as Record<string, unknown>));
  for (const [file, text] of files) {
    const path = join(dir, file);
    writeFileSync(path, text);
    written.push(path);
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const p of writeSchemas()) console.log(`wrote ${p}`);
}
