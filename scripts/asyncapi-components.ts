// The reusable parts of Baton's AsyncAPI document (scripts/asyncapi.ts): payload schemas converted from the zod
// protocol schemas, one message per payload (one per status event kind), the NATS headers and the channel parameters.
import type { z } from "zod";
import { ControlVerb, StatusEvent } from "../shared/protocol/index.ts";
import { TOKEN_RE } from "../shared/subjects.ts";

export type JsonObject = Record<string, unknown>;

/** A protocol schema as scripts/gen-schemas.ts lists it (its `title` names the AsyncAPI schema and message). */
export interface SchemaEntry {
  title: string;
  description: string;
  schema: z.ZodType;
  io: "input" | "output";
}

/** Converts a zod schema to a self-contained JSON Schema draft-07 object (no `$ref`s out of it). */
export type ToDraft07 = (schema: z.ZodType, io: "input" | "output") => JsonObject;

const ref = (path: string): JsonObject => ({ $ref: `#/components/${path}` });

/** Every status event kind, in the union's order. */
export const STATUS_KINDS: readonly string[] = StatusEvent.options.map((option) => option.shape.kind.value);

/** `feature.rolled_back` → `FeatureRolledBack`. */
const pascal = (text: string): string =>
  text.split(/[._-]/).map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join("");

/** The message (and payload schema) key of a status event kind: `statusFeatureAccepted`. */
export const statusMessageKey = (kind: string): string => `status${pascal(kind)}`;

/** The message key of a protocol schema: `FeatureRequest` → `featureRequest`. */
export const messageKey = (title: string): string => title.charAt(0).toLowerCase() + title.slice(1);

/** The messages Baton's channels carry besides status events: schema title → the headers it is published with. */
const PROTOCOL_MESSAGES: readonly { title: string; headers?: string }[] = [
  { title: "FeatureRequest", headers: "SubmissionHeaders" },
  { title: "SubmitReply" },
  { title: "TaskAssigned", headers: "DispatchHeaders" },
  { title: "TaskStarted", headers: "WorkerHeaders" },
  { title: "TaskLog", headers: "WorkerHeaders" },
  { title: "TaskProgress", headers: "WorkerHeaders" },
  { title: "TaskResult", headers: "WorkerHeaders" },
  { title: "ControlMessage" },
  { title: "FeatureGetRequest" },
  { title: "FeatureGetReply" },
  { title: "FeatureListRequest" },
  { title: "FeatureListReply" },
  { title: "WorkerHeartbeat" },
  { title: "CoordinatorHeartbeat" },
];

const msgIdHeaders = (description: string, required: boolean): JsonObject => ({
  type: "object",
  properties: { "Nats-Msg-Id": { type: "string", description } },
  ...(required ? { required: ["Nats-Msg-Id"] } : {}),
});

/** Header schemas: the deterministic `Nats-Msg-Id`s (shared/protocol/msg-ids.ts) JetStream de-duplicates on. */
const HEADERS: Record<string, JsonObject> = {
  SubmissionHeaders: {
    title: "SubmissionHeaders",
    ...msgIdHeaders("`<featureId>.<request hash>` (the sha256 of the parsed request, `requestHash`): recommended on " +
      "`{prefix}.feature.submit`, so that JetStream drops only a true repeat; not used on `{prefix}.api.submit`.", false),
  },
  DispatchHeaders: {
    title: "DispatchHeaders",
    ...msgIdHeaders("`<featureId>.task.<taskId>.<attempt>` for a task, `<featureId>.gate.<taskId>.<attempt>.<gate>.<run>`, " +
      "`<featureId>.fgate.<gate>.<run>` or `<featureId>.bgate.<gate>.1` for a gate run, `<featureId>.op.<kind>.<taskId>.<run>` " +
      "for a workspace operation.", true),
  },
  WorkerHeaders: {
    title: "WorkerHeaders",
    ...msgIdHeaders("`<featureId>.<taskId>.<attempt>` (then `.gate.<scope>.<name>.<run>` for a gate run, `.op.<kind>.<run>` " +
      "for a workspace operation), then `.<delivery>.started`, `.<delivery>.log.<batch>`, `.<delivery>.progress.<seq>` or `.result`.", true),
  },
  StatusHeaders: { title: "StatusHeaders", ...msgIdHeaders("`<featureId>.ev.<seq>`", true) },
};

/** The journal's entries are the coordinators' own format: described shallowly, as the coordinators check them. */
const JOURNAL_ENTRY: JsonObject = {
  title: "JournalEntry",
  description: "Internal to the coordinators (not part of the public protocol; may change without notice): the events " +
    "one apply committed, applied to the state left by the entry at stream sequence `prev`.",
  type: "object",
  properties: {
    v: { const: 1 },
    prev: { type: "integer", minimum: 0 },
    events: { type: "array", minItems: 1, items: { type: "object", properties: { type: { type: "string" } }, required: ["type"] } },
  },
  required: ["v", "prev", "events"],
};

/** A converted schema with its `$schema` dropped (the document's default schema format applies) and a title. */
function payloadSchema(toDraft07: ToDraft07, schema: z.ZodType, io: "input" | "output", title: string, description: string): JsonObject {
  const { $schema: _dialect, ...body } = toDraft07(schema, io);
  return { ...body, title, description };
}

/** components.schemas and components.messages: every protocol payload, and one message per status event kind. */
export function messagesAndSchemas(entries: readonly SchemaEntry[], toDraft07: ToDraft07): { schemas: JsonObject; messages: JsonObject } {
  const schemas: JsonObject = { ...HEADERS, JournalEntry: JOURNAL_ENTRY };
  const messages: JsonObject = {};
  for (const spec of PROTOCOL_MESSAGES) {
    const entry = entries.find((candidate) => candidate.title === spec.title);
    if (!entry) throw new Error(`no schema entry titled ${spec.title} in scripts/gen-schemas.ts`);
    schemas[spec.title] = payloadSchema(toDraft07, entry.schema, entry.io, entry.title, entry.description);
    messages[messageKey(spec.title)] = {
      name: spec.title,
      title: spec.title,
      summary: entry.description,
      payload: ref(`schemas/${spec.title}`),
      ...(spec.headers ? { headers: ref(`schemas/${spec.headers}`) } : {}),
    };
  }
  StatusEvent.options.forEach((option, index) => {
    const kind = STATUS_KINDS[index]!;
    const title = pascal(`status.${kind}`);
    const summary = `Status event \`${kind}\` (type baton.v1.status_event): see docs/protocol.md, "Following a feature".`;
    schemas[title] = payloadSchema(toDraft07, option, "output", title, summary);
    messages[statusMessageKey(kind)] = {
      name: kind, title: kind, summary, payload: ref(`schemas/${title}`), headers: ref("schemas/StatusHeaders"),
    };
  });
  messages.journalEntry = { name: "JournalEntry", title: "JournalEntry", summary: JOURNAL_ENTRY.description, payload: ref("schemas/JournalEntry") };
  return { schemas, messages };
}

const TOKEN = `a subject token: ${TOKEN_RE.source}`;

/** components.parameters: every `{name}` a channel address uses. */
export const PARAMETERS: Record<string, JsonObject> = {
  prefix: {
    default: "baton",
    description: "The deployment prefix (`BATON_PREFIX`, or `prefix:` in the config file; `[a-z][a-z0-9_-]{0,31}`), " +
      "`baton` by default. Stream names use it upper-cased: prefix `acme` gives `acme.task.qa` in stream `ACME_TASKS`.",
  },
  featureId: { description: `The feature's id, ${TOKEN}.`, examples: ["todos-1"] },
  taskId: { description: `The task's id within its feature, ${TOKEN}.`, examples: ["api-spec"] },
  role: { description: `A worker role (the workers serving it share one durable consumer), ${TOKEN}.`, examples: ["backend", "qa"] },
  verb: { description: "The control verb; it must equal the payload's `verb`.", enum: [...ControlVerb.options] },
  kind: {
    description: "The status event kind, two tokens (`task.completed`); it equals the payload's `kind`.",
    enum: [...STATUS_KINDS],
  },
  workerId: { description: "The worker process's id, with every character but `[-/=A-Za-z0-9_]` replaced by `_`.", examples: ["qa-host1-4242"] },
  coordinatorId: { description: "The coordinator process's id.", examples: ["coord-host1-4240"] },
};
