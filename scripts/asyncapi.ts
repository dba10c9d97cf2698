// Builds Baton's AsyncAPI 3.0.0 document (docs/schemas/asyncapi.json) from the zod protocol schemas: every channel
// shared/subjects.ts builds, and the operations of a client application (submit, follow, control, ask) and of a worker.
import { readFileSync } from "node:fs";
import { PARAMETERS, STATUS_KINDS, messagesAndSchemas, statusMessageKey, type JsonObject, type SchemaEntry, type ToDraft07 } from "./asyncapi-components.ts";

interface ChannelSpec {
  key: string;
  /** The address with `{parameter}`s; null for a reply inbox (the request's NATS reply subject). */
  address: string | null;
  title: string;
  description: string;
  messages: readonly string[];
}

const STATUS_MESSAGES = STATUS_KINDS.map(statusMessageKey);

const CHANNELS: readonly ChannelSpec[] = [
  { key: "featureSubmit", address: "{prefix}.feature.submit", title: "Submit a feature (JetStream)", messages: ["featureRequest"],
    description: "Stream `<PREFIX>_FEATURES` (work queue; durable consumer `coordinator`, shared by all coordinators). Publish " +
      "with `Nats-Msg-Id` and wait for the JetStream ack; the outcome is the feature's first status event." },
  { key: "apiSubmit", address: "{prefix}.api.submit", title: "Submit a feature (request/reply)", messages: ["featureRequest"],
    description: "Core NATS request/reply, answered by one coordinator (queue group `<prefix>-coordinators`), which stores the " +
      "request durably before it replies. No responders: no coordinator is running." },
  { key: "apiSubmitReply", address: null, title: "Reply to a submission", messages: ["submitReply"],
    description: "The request's reply subject (an inbox of the requester)." },
  { key: "apiFeaturesGet", address: "{prefix}.api.features.get", title: "The read model: one feature", messages: ["featureGetRequest"],
    description: "Core NATS request/reply, answered by one coordinator (queue group `<prefix>-coordinators`); changes nothing." },
  { key: "apiFeaturesGetReply", address: null, title: "Reply with one feature's view", messages: ["featureGetReply"],
    description: "The request's reply subject (an inbox of the requester)." },
  { key: "apiFeaturesList", address: "{prefix}.api.features.list", title: "The read model: the feature list", messages: ["featureListRequest"],
    description: "Core NATS request/reply, answered by one coordinator (queue group `<prefix>-coordinators`); changes nothing." },
  { key: "apiFeaturesListReply", address: null, title: "Reply with the feature list", messages: ["featureListReply"],
    description: "The request's reply subject (an inbox of the requester)." },
  { key: "task", address: "{prefix}.task.{role}", title: "Tasks for a role", messages: ["taskAssigned"],
    description: "Stream `<PREFIX>_TASKS` (work queue): one durable pull consumer per role, named after the role (filter " +
      "`<prefix>.task.<role>`), shared by all that role's workers. Explicit ack, after the task_result is published." },
  { key: "result", address: "{prefix}.result.{featureId}.{taskId}", title: "A task's progress and result",
    messages: ["taskStarted", "taskLog", "taskProgress", "taskResult"],
    description: "Stream `<PREFIX>_RESULTS` (work queue; durable consumer `coordinator`). Workers → coordinators." },
  { key: "control", address: "{prefix}.control.{featureId}.{verb}", title: "Control a feature", messages: ["controlMessage"],
    description: "Stream `<PREFIX>_CONTROL` (work queue; durable consumer `coordinator`). The subject's feature id and verb " +
      "must equal the payload's; a verb that cannot apply is answered with a `message.rejected` status event." },
  { key: "status", address: "{prefix}.status.{featureId}.{kind}", title: "A feature's status events", messages: STATUS_MESSAGES,
    description: "Stream `<PREFIX>_EVENTS` (limits: 7 days by default), replayable: follow a feature with an ordered consumer, " +
      "filter `<prefix>.status.<featureId>.>` and deliver policy all. `seq` increases from 1 without gaps; seq 0 marks a " +
      "notice outside any feature's history. The feature has ended at feature.completed, feature.failed, feature.cancelled " +
      "or feature.rejected." },
  { key: "journal", address: "{prefix}.journal.{featureId}", title: "A feature's journal (internal)", messages: ["journalEntry"],
    description: "Stream `<PREFIX>_JOURNAL`: coordinators → coordinators only, not part of the public protocol " +
      "(docs/design.md). Listed so that every subject Baton uses is here; do not publish to it." },
  { key: "workerHeartbeats", address: "$KV.{prefix}-workers.{role}.{workerId}", title: "Worker heartbeats (KV)", messages: ["workerHeartbeat"],
    description: "KV bucket `<prefix>-workers`, key `<role>.<workerId>`: read it with a KV client (get, keys, watch). Rewritten " +
      "every `heartbeatSeconds`; a reader drops an entry older than 3 of them. A graceful stop deletes the key (a message " +
      "with header `KV-Operation: DEL` and no body); the bucket's TTL removes the rest." },
  { key: "coordinatorHeartbeats", address: "$KV.{prefix}-coordinators.{coordinatorId}", title: "Coordinator heartbeats (KV)",
    messages: ["coordinatorHeartbeat"],
    description: "KV bucket `<prefix>-coordinators`, key `<coordinatorId>`: read it with a KV client. Same rules as the " +
      "worker heartbeats; coordinators of one prefix should show the same `fingerprint`." },
];

interface OperationSpec {
  key: string;
  action: "send" | "receive";
  channel: string;
  title: string;
  description: string;
  tag: "client" | "worker";
  /** The channel's messages this operation uses (default: all). */
  messages?: readonly string[];
  /** For a request: the reply channel. */
  reply?: string;
}

const OPERATIONS: readonly OperationSpec[] = [
  { key: "submitFeature", action: "send", channel: "featureSubmit", tag: "client", title: "Submit a feature through the stream",
    description: "Publish with `Nats-Msg-Id: <featureId>.<request hash>`; give the request an id to follow it at once." },
  { key: "requestSubmit", action: "send", channel: "apiSubmit", reply: "apiSubmitReply", tag: "client", title: "Submit a feature and wait for the answer",
    description: "The reply says whether the request was stored (`ok`, `featureId`, `duplicate`) or lists every problem." },
  { key: "getFeature", action: "send", channel: "apiFeaturesGet", reply: "apiFeaturesGetReply", tag: "client", title: "Ask for one feature's view",
    description: "The same view folding the feature's status events gives; `ok: false` with code UNKNOWN_FEATURE when there is none." },
  { key: "listFeatures", action: "send", channel: "apiFeaturesList", reply: "apiFeaturesListReply", tag: "client", title: "Ask for the feature list",
    description: "The newest `limit` features, newest first, and how many exist." },
  { key: "controlFeature", action: "send", channel: "control", tag: "client", title: "Cancel, pause, resume, approve, answer…",
    description: "Control messages are idempotent; the outcome is a status event (or `message.rejected`)." },
  { key: "followStatus", action: "receive", channel: "status", tag: "client", title: "Follow features' status events",
    description: "Every state change of a feature, in order; replay from the stream to follow a feature late." },
  { key: "watchWorkers", action: "receive", channel: "workerHeartbeats", tag: "client", title: "Watch the live workers",
    description: "Who serves which role, how busy, running which tasks." },
  { key: "watchCoordinators", action: "receive", channel: "coordinatorHeartbeats", tag: "client", title: "Watch the live coordinators",
    description: "Their version and the fingerprint of the configuration each decides with." },
  { key: "receiveTask", action: "receive", channel: "task", tag: "worker", title: "Take a task of the worker's role",
    description: "Pull from the role's durable consumer; send in-progress acks while it runs; ack only after its task_result " +
      "is published; nak what a shutdown could not finish. A message carries data only, never a command line." },
  { key: "reportTask", action: "send", channel: "result", tag: "worker", title: "Report a task's start, output, progress and result",
    description: "task_started (optional for a short task), task_log batches, task_progress, then exactly one task_result per attempt." },
  { key: "watchCancellations", action: "receive", channel: "status", tag: "worker", messages: [statusMessageKey("feature.cancelled")],
    title: "Stop the tasks of a cancelled feature",
    description: "Subscribe to `<prefix>.status.*.feature.cancelled`; kill the feature's running tasks and answer them CANCELLED." },
];

const channelRef = (channel: string): JsonObject => ({ $ref: `#/channels/${channel}` });
const channelMessageRef = (channel: string, message: string): JsonObject => ({ $ref: `#/channels/${channel}/messages/${message}` });

function channelsObject(): JsonObject {
  const channels: JsonObject = {};
  for (const spec of CHANNELS) {
    const names = spec.address === null ? [] : [...spec.address.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
    for (const name of names) if (!(name in PARAMETERS)) throw new Error(`channel ${spec.key}: no parameter ${name}`);
    channels[spec.key] = {
      address: spec.address,
      title: spec.title,
      description: spec.description,
      messages: Object.fromEntries(spec.messages.map((message) => [message, { $ref: `#/components/messages/${message}` }])),
      ...(names.length > 0 ? { parameters: Object.fromEntries(names.map((name) => [name, { $ref: `#/components/parameters/${name}` }])) } : {}),
    };
  }
  return channels;
}

function operationsObject(): JsonObject {
  const operations: JsonObject = {};
  for (const spec of OPERATIONS) {
    const channel = CHANNELS.find((candidate) => candidate.key === spec.channel);
    if (!channel) throw new Error(`operation ${spec.key}: no channel ${spec.channel}`);
    const reply = spec.reply ? CHANNELS.find((candidate) => candidate.key === spec.reply) : undefined;
    if (spec.reply && !reply) throw new Error(`operation ${spec.key}: no reply channel ${spec.reply}`);
    operations[spec.key] = {
      action: spec.action,
      channel: channelRef(spec.channel),
      title: spec.title,
      description: spec.description,
      tags: [{ name: spec.tag }],
      messages: (spec.messages ?? channel.messages).map((message) => channelMessageRef(spec.channel, message)),
      ...(reply ? { reply: { channel: channelRef(reply.key), messages: reply.messages.map((message) => channelMessageRef(reply.key, message)) } } : {}),
    };
  }
  return operations;
}

const DESCRIPTION = [
  "Baton orchestrates software-implementation work across role workers over NATS JetStream. This document describes " +
    "its whole wire protocol (v1); docs/protocol.md is the prose contract, and the payload schemas are generated from " +
    "the zod schemas in shared/protocol by `npm run schemas`.",
  "Operations are written from the point of view of a client application: operations tagged `client` submit, " +
    "follow, control and ask about features; those tagged `worker` serve a role. Coordinators are the other side of both.",
  "Every address starts with the deployment prefix (parameter `prefix`, `baton` by default). Payloads are UTF-8 JSON; " +
    "every message except the feature request carries a versioned `type` tag. Ids match `^[A-Za-z0-9_-]{1,64}$`.",
].join("\n\n");

/** The package version the document describes. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * The AsyncAPI 3.0.0 document of Baton's protocol, as a plain JSON object. Pure apart from reading package.json:
 * the same zod schemas and version always give the same document. Throws if a channel, operation or message names
 * something the document does not define.
 */
export function asyncApiDocument(entries: readonly SchemaEntry[], toDraft07: ToDraft07): JsonObject {
  const { schemas, messages } = messagesAndSchemas(entries, toDraft07);
  for (const spec of CHANNELS) {
    for (const message of spec.messages) if (!(message in messages)) throw new Error(`channel ${spec.key}: no message ${message}`);
  }
  return {
    asyncapi: "3.0.0",
    id: "urn:baton:protocol:v1",
    info: {
      title: "Baton",
      version: packageVersion(),
      description: DESCRIPTION,
      license: { name: "Apache-2.0", url: "https://www.apache.org/licenses/LICENSE-2.0" },
      tags: [
        { name: "client", description: "What an application that submits, follows and controls features does." },
        { name: "worker", description: "What a process serving a role does." },
      ],
    },
    defaultContentType: "application/json",
    servers: {
      nats: { host: "127.0.0.1:4222", protocol: "nats", description: "A local nats-server with JetStream (`nats-server -js`; `baton up` starts one). Set `NATS_URL` or `nats.url` in the config file for another." },
    },
    channels: channelsObject(),
    operations: operationsObject(),
    components: { schemas, messages, parameters: PARAMETERS },
  };
}
