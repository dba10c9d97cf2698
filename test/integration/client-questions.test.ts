// The client's side of questions (shared/client/questions.ts) against a real nats-server, with stand-ins for the
// coordinators: an answer waits for the answer to its own question (not another one's), a refusal comes back as one,
// and `baton questions` reads the views of the features under way only.
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, encode } from "../../shared/codec.ts";
import { answerQuestion, questionViews } from "../../shared/client/questions.ts";
import { ensureTopology } from "../../shared/nats.ts";
import { ControlMessage, FeatureGetRequest, type FeatureSummary, type FeatureView, type StatusEvent } from "../../shared/protocol/index.ts";
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

async function deployment(): Promise<Names> {
  const names = namesFor(uniquePrefix("cq"));
  await ensureTopology(nc, names);
  return names;
}

async function publishEvent(names: Names, event: StatusEvent): Promise<void> {
  await js.publish(names.status(event.featureId, event.kind), encode(event), { msgID: `${event.featureId}.ev.${event.seq}` });
}

describe("answering a question", () => {
  it("waits for its own question's answer, and reports a refusal with its code", async () => {
    const names = await deployment();
    const consumer = await js.consumers.get(names.streams.control, names.consumers.coordinatorControl);
    const messages = await consumer.consume();
    let seq = 1;
    // a stand-in coordinator: q1's timeout answers first (another question), then it applies q2's answer; q9 is unknown
    void (async () => {
      for await (const msg of messages) {
        const control = decode(ControlMessage, msg.data);
        const base = { type: "baton.v1.status_event", featureId: control.featureId, at: new Date().toISOString() } as const;
        const questionId = control.answer?.questionId;
        if (questionId === "q9") {
          await publishEvent(names, { ...base, seq: ++seq, kind: "message.rejected", subject: msg.subject, error: { name: "UnknownQuestion", code: "UNKNOWN_QUESTION", message: "feature f1 has no question q9" } });
        } else {
          await publishEvent(names, { ...base, seq: ++seq, kind: "question.answered", questionId: "q1", answer: "REST", via: "timeout" });
          await publishEvent(names, { ...base, seq: ++seq, kind: "question.answered", questionId: questionId!, taskId: "db", answer: control.answer!.answer, by: control.by, via: "person" });
        }
        msg.ack();
      }
    })();
    try {
      const applied = await answerQuestion(nc, names, "f1", { questionId: "q2", answer: "Postgres" }, { by: "alice", waitMs: 5000 });
      expect(applied).toMatchObject({ kind: "applied", event: { questionId: "q2", answer: "Postgres", by: "alice", via: "person" } });
      const refused = await answerQuestion(nc, names, "f1", { questionId: "q9", answer: "x" }, { waitMs: 5000 });
      expect(refused).toMatchObject({ kind: "rejected", error: { code: "UNKNOWN_QUESTION" } });
    } finally {
      messages.stop();
    }
    expect(await answerQuestion(nc, names, "f1", { questionId: "q3", answer: "x" }, { waitMs: 300 })).toEqual({ kind: "no_answer" });
  });
});

describe("the views `baton questions` reads", () => {
  it("are those of the features under way (or of the one named), asked of the read model", async () => {
    const names = await deployment();
    const row = (featureId: string, state: FeatureSummary["state"]): FeatureSummary => ({ featureId, state, title: featureId, submittedAt: "2026-01-01T12:00:00.000Z", tasks: 1, completed: 0 });
    const rows = [row("f1", "executing"), row("f2", "completed"), row("f3", "awaitingApproval"), row("f4", "unreadable")];
    const asked: string[] = [];
    const list = nc.subscribe(names.apiFeatureList(), { callback: (_err, msg) => {
        msg.respond(encode({ ok: true, features: rows, total: rows.length }));
      },
    });
    const get = nc.subscribe(names.apiFeatureGet(), {
      callback: (_err, msg) => {
        const { featureId } = decode(FeatureGetRequest, msg.data);
        asked.push(featureId);
        const view: FeatureView = { featureId, state: "executing", tasks: [], seq: 1, notices: [] };
        msg.respond(encode({ ok: true, feature: view }));
      },
    });
    try {
      expect((await questionViews(nc, names))?.map((view) => view.featureId).sort()).toEqual(["f1", "f3"]);
      expect(asked.sort()).toEqual(["f1", "f3"]);
      expect((await questionViews(nc, names, "f2"))?.map((view) => view.featureId)).toEqual(["f2"]);
    } finally {
      list.unsubscribe();
      get.unsubscribe();
    }
  });
});
