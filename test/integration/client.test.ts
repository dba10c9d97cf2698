// The client library (shared/client) against a real nats-server: its side of the read-model contract (a
// plain core-NATS responder stands in for the coordinators), the fallback to the status history, worker
// heartbeats, and what submit and control publish.
import { jetstreamManager, jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, encode } from "../../shared/codec.ts";
import {
  controlFeature, getFeature, liveWorkers, listFeatures, publishFeature, requestSubmit, sendControl,
} from "../../shared/client/index.ts";
import { ensureTopology, openKv } from "../../shared/nats.ts";
import {
  ControlMessage, FeatureGetRequest, FeatureListRequest, FeatureRequest, requestHash, type FeatureSummary, type FeatureView, type StatusEvent, type WorkerHeartbeat,
} from "../../shared/protocol/index.ts";
import { names as namesFor, type Names } from "../../shared/subjects.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";

let server: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

/** A fresh deployment (its own prefix) with every stream and bucket. */
async function deployment(): Promise<Names> {
  const names = namesFor(uniquePrefix("cl"));
  await ensureTopology(nc, names);
  return names;
}

/** A core-NATS responder standing in for the coordinators: `answer` gets each decoded request body. */
function respond(subject: string, answer: (body: unknown) => unknown): { requests: unknown[]; stop: () => void } {
  const requests: unknown[] = [];
  const sub = nc.subscribe(subject, {
    callback: (_err, m) => {
      const body: unknown = m.json();
      requests.push(body);
      const reply = answer(body);
      m.respond(typeof reply === "string" ? reply : encode(reply));
    },
  });
  return { requests, stop: () => sub.unsubscribe() };
}

const AT = "2026-01-01T12:00:00.000Z";
const accepted = (featureId: string, seq = 1): StatusEvent => ({
  type: "baton.v1.status_event", featureId, seq, at: AT, kind: "feature.accepted", title: "Todos", maxParallel: 1,
  tasks: [{ id: "a", role: "backend", title: "A", dependsOn: [] }],
});
async function publishEvent(names: Names, event: StatusEvent): Promise<void> {
  await js.publish(names.status(event.featureId, event.kind), encode(event), { msgID: `${event.featureId}.ev.${event.seq}` });
}

const coordinatorView = (featureId: string): FeatureView => ({
  featureId, state: "executing", title: "From the read model", maxParallel: 1, acceptedAt: AT, seq: 4, notices: [],
  tasks: [{ id: "a", role: "backend", title: "A", dependsOn: [], state: "running", attempt: 1, workerId: "w1", startedAt: AT }],
});

describe("getFeature", () => {
  it("asks the read model with a feature_get request and returns the coordinator's view", async () => {
    const names = await deployment();
    const responder = respond(names.apiFeatureGet(), (body) => {
      const req = FeatureGetRequest.parse(body);
      return req.featureId === "f1" ? { ok: true, feature: coordinatorView("f1") } : { ok: false, error: { name: "UnknownFeature", code: "UNKNOWN_FEATURE", message: "no feature" } };
    });
    try {
      const read = await getFeature(nc, names, "f1");
      expect(read).toEqual({ view: coordinatorView("f1"), source: "coordinator" });
      expect(responder.requests[0]).toEqual({ type: "baton.v1.feature_get", featureId: "f1" });
      expect(await getFeature(nc, names, "nope")).toEqual({ view: null, source: "coordinator" });
    } finally {
      responder.stop();
    }
  });

  it("falls back to folding the status history when no coordinator answers, and says so", async () => {
    const names = await deployment();
    await publishEvent(names, accepted("f2"));
    await publishEvent(names, { type: "baton.v1.status_event", featureId: "f2", seq: 2, at: AT, kind: "task.dispatched", taskId: "a", role: "backend", attempt: 1 });
    await publishEvent(names, { type: "baton.v1.status_event", featureId: "f2", seq: 3, at: AT, kind: "task.started", taskId: "a", role: "backend", attempt: 1, workerId: "w9", delivery: 1 });
    const read = await getFeature(nc, names, "f2");
    expect(read.source).toBe("history");
    expect(read.view).toMatchObject({ featureId: "f2", state: "executing", title: "Todos", seq: 3, tasks: [{ id: "a", state: "running", workerId: "w9" }] });
    // nothing in the history: no such feature
    expect(await getFeature(nc, names, "absent")).toEqual({ view: null, source: "history" });
    // a coordinator that subscribes but never answers counts as none
    const silent = nc.subscribe(names.apiFeatureGet(), { callback: () => {} });
    try {
      const slow = await getFeature(nc, names, "f2", { timeoutMs: 200 });
      expect(slow.source).toBe("history");
      await expect(getFeature(nc, names, "f2", { timeoutMs: 200, fallback: false })).rejects.toMatchObject({ name: "NoCoordinatorError", code: "NO_COORDINATOR" });
    } finally {
      silent.unsubscribe();
    }
  });

  it("refuses an invalid reply with a ProtocolError naming the subject and the problem", async () => {
    const names = await deployment();
    const replies: unknown[] = [
      { ok: true, feature: { featureId: "f3", state: "sleeping", tasks: [], seq: 1, notices: [] } },
      "not json {",
      { ok: true, feature: coordinatorView("other") },
    ];
    const responder = respond(names.apiFeatureGet(), () => replies.shift());
    try {
      await expect(getFeature(nc, names, "f3")).rejects.toMatchObject({ name: "ProtocolError", message: expect.stringMatching(new RegExp(`${names.apiFeatureGet().replaceAll(".", "\\.")}.*state`)) });
      await expect(getFeature(nc, names, "f3")).rejects.toMatchObject({ name: "ProtocolError", message: expect.stringContaining("malformed JSON") });
      await expect(getFeature(nc, names, "f3")).rejects.toMatchObject({ name: "ProtocolError", message: expect.stringContaining("about feature other") });
    } finally {
      responder.stop();
    }
  });

  it("passes any other error reply on as a RemoteError with the wire code", async () => {
    const names = await deployment();
    const responder = respond(names.apiFeatureGet(), () => ({ ok: false, error: { name: "Unreadable", code: "UNREADABLE", message: "checkpoint corrupt" } }));
    try {
      await expect(getFeature(nc, names, "f4")).rejects.toMatchObject({ name: "RemoteError", code: "UNREADABLE", message: expect.stringContaining("checkpoint corrupt") });
    } finally {
      responder.stop();
    }
  });
});

describe("listFeatures", () => {
  it("asks the read model with a feature_list request (limit passed on) and returns its rows", async () => {
    const names = await deployment();
    const rows: FeatureSummary[] = [{ featureId: "f1", state: "completed", title: "One", submittedAt: AT, tasks: 2, completed: 2 }];
    const responder = respond(names.apiFeatureList(), () => ({ ok: true, features: rows, total: 7 }));
    try {
      expect(await listFeatures(nc, names, { limit: 1 })).toEqual({ features: rows, total: 7 });
      expect(FeatureListRequest.parse(responder.requests[0])).toEqual({ type: "baton.v1.feature_list", limit: 1 });
    } finally {
      responder.stop();
    }
  });

  it("with no coordinator, fails with a clear error naming the subject and how to start one", async () => {
    const names = await deployment();
    const err = await listFeatures(nc, names).then(() => new Error("listFeatures resolved"), (e: unknown) => e as Error);
    expect(err).toMatchObject({ name: "NoCoordinatorError", code: "NO_COORDINATOR" });
    expect(err.message).toContain(names.apiFeatureList());
    expect(err.message).toMatch(/baton up/);
    expect(err.message).toMatch(/baton coordinator/);
  });
});

describe("liveWorkers", () => {
  it("reads the heartbeats, validated, sorted by role then id; an invalid one is skipped and reported", async () => {
    const names = await deployment();
    const kv = await openKv(nc, names.buckets.workers);
    const beat = (role: string, workerId: string): WorkerHeartbeat => ({
      workerId, role, pid: 42, host: "h1", slots: 2, busy: 1, state: "working", startedAt: AT, at: AT, tasks: [{ featureId: "f1", taskId: "a" }],
    });
    await kv.put("qa.qa-1", JSON.stringify(beat("qa", "qa-1")));
    await kv.put("backend.b-2", JSON.stringify({ ...beat("backend", "b-2"), extra: "kept" }));
    await kv.put("backend.b-1", JSON.stringify(beat("backend", "b-1")));
    await kv.put("qa.broken", JSON.stringify({ workerId: "broken", role: "qa" }));
    const invalid: string[] = [];
    const workers = await liveWorkers(nc, names, { onInvalid: (key) => invalid.push(key) });
    expect(workers.map((w) => w.workerId)).toEqual(["b-1", "b-2", "qa-1"]);
    expect(workers[1]).toMatchObject({ busy: 1, slots: 2, extra: "kept" });
    expect(invalid).toEqual(["qa.broken"]);
  });

  it("is empty when the bucket does not exist yet", async () => {
    expect(await liveWorkers(nc, namesFor(uniquePrefix("cl")))).toEqual([]);
  });
});

describe("submit", () => {
  it("publishes to the submissions stream with Nats-Msg-Id = feature id + request hash; only a true repeat is a duplicate", async () => {
    const names = await deployment();
    const request = { id: "todos-1", title: "Todos", tasks: [{ id: "a", role: "backend", title: "A" }] };
    const hash = requestHash(FeatureRequest.parse(request));
    expect(await publishFeature(nc, names, request)).toEqual({ featureId: "todos-1", requestHash: hash, duplicate: false });
    expect(await publishFeature(nc, names, request)).toEqual({ featureId: "todos-1", requestHash: hash, duplicate: true });
    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage(names.streams.features, { last_by_subj: names.featureSubmit() });
    expect(stored?.header.get("Nats-Msg-Id")).toBe(`todos-1.${hash}`);
    expect(decode(FeatureRequest, stored!.data)).toEqual(request);
    // a different request under the same id is not dropped as a repeat: it reaches a coordinator, which refuses it
    expect(await publishFeature(nc, names, { ...request, title: "Other" })).toMatchObject({ featureId: "todos-1", duplicate: false });
    // without an id, one is assigned and used as the msg id
    const { featureId } = await publishFeature(nc, names, { title: "No id", tasks: [{ id: "a", role: "qa", title: "A" }] });
    const second = await jsm.streams.getMessage(names.streams.features, { last_by_subj: names.featureSubmit() });
    expect(featureId).toMatch(/^f-/);
    expect(second?.header.get("Nats-Msg-Id")).toMatch(new RegExp(`^${featureId}\\.[0-9a-f]{64}$`));
    expect(decode(FeatureRequest, second!.data).id).toBe(featureId);
  });

  it("asks api.submit and returns the coordinator's validated reply; with none, a NoCoordinatorError", async () => {
    const names = await deployment();
    const request = { id: "todos-2", title: "Todos", tasks: [{ id: "a", role: "backend", title: "A" }] };
    await expect(requestSubmit(nc, names, request)).rejects.toMatchObject({ name: "NoCoordinatorError", message: expect.stringContaining(names.apiSubmit()) });
    const responder = respond(names.apiSubmit(), (body) => ({ ok: true, featureId: FeatureRequest.parse(body).id }));
    try {
      expect(await requestSubmit(nc, names, request)).toEqual({ ok: true, featureId: "todos-2" });
    } finally {
      responder.stop();
    }
  });
});

describe("control", () => {
  it("publishes a valid control message on <prefix>.control.<featureId>.<verb>", async () => {
    const names = await deployment();
    await sendControl(nc, names, "f1", "pause", { reason: "lunch", by: "alice" });
    const stored = await (await jetstreamManager(nc)).streams.getMessage(names.streams.control, { last_by_subj: names.control("f1", "pause") });
    expect(decode(ControlMessage, stored!.data)).toEqual({ type: "baton.v1.control", featureId: "f1", verb: "pause", reason: "lunch", by: "alice" });
    await expect(sendControl(nc, names, "f1", "cancel", { reason: "x".repeat(3000) })).rejects.toMatchObject({ name: "ProtocolError" });
  });

  it("follows the history until the coordinators' answer: applied, rejected, or no answer", async () => {
    const names = await deployment();
    await publishEvent(names, accepted("f5"));
    // a stand-in coordinator: answers each control message with the event a coordinator would publish
    const consumer = await js.consumers.get(names.streams.control, names.consumers.coordinatorControl);
    const messages = await consumer.consume();
    let seq = 1;
    void (async () => {
      for await (const msg of messages) {
        const control = decode(ControlMessage, msg.data);
        const at = new Date().toISOString();
        const base = { type: "baton.v1.status_event", featureId: control.featureId, at } as const;
        if (control.verb === "cancel") await publishEvent(names, { ...base, seq: ++seq, kind: "feature.cancelled", durationMs: 5, by: control.by });
        if (control.verb === "resume") await publishEvent(names, { ...base, seq: ++seq, kind: "message.rejected", subject: msg.subject, error: { name: "InvalidState", code: "INVALID_STATE", message: "feature is cancelled" } });
        msg.ack();
      }
    })();
    try {
      expect(await controlFeature(nc, names, "f5", "cancel", { by: "bob", waitMs: 5000 })).toMatchObject({ kind: "applied", event: { kind: "feature.cancelled", by: "bob" } });
      expect(await controlFeature(nc, names, "f5", "resume", { waitMs: 5000 })).toMatchObject({ kind: "rejected", error: { code: "INVALID_STATE" } });
      // pause: the stand-in stays silent; the feature is cancelled, not paused
      expect(await controlFeature(nc, names, "f5", "pause", { waitMs: 300 })).toEqual({ kind: "no_answer" });
      // a repeated cancel of a cancelled feature publishes nothing new: it already holds
      messages.stop();
      expect(await controlFeature(nc, names, "f5", "cancel", { waitMs: 300 })).toEqual({ kind: "unchanged", state: "cancelled" });
    } finally {
      messages.stop();
    }
  });
});
