// The msg ids a worker publishes with: deterministic (a retry or a redelivery publishes the same id, and
// JetStream drops the copy), one family per message kind, and a gate run's ids apart from its task's.
import { describe, expect, it } from "vitest";
import type { JetStreamClient } from "@nats-io/jetstream";
import { silentLogger } from "../../shared/logging.ts";
import { names } from "../../shared/subjects.ts";
import { taskMessages, type TaskMessageRef } from "../../services/worker/task-messages.ts";

/** A JetStream client that records what is published (subject, msg id, message). */
function recorder() {
  const published: { subject: string; msgID: string | undefined; msg: Record<string, unknown> }[] = [];
  const js = {
    publish: async (subject: string, data: Uint8Array, options?: { msgID?: string }) => {
      published.push({ subject, msgID: options?.msgID, msg: JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown> });
      return { duplicate: false, seq: published.length, stream: "RESULTS" };
    },
  } as unknown as JetStreamClient;
  return { js, published };
}

const base: TaskMessageRef = { featureId: "todos-1", taskId: "api", attempt: 2, role: "backend", workerId: "w1" };

describe("a worker's messages about one delivery", () => {
  it("have the ids the coordinator dedups on: <feature>.<task>.<attempt>[.<delivery>.started|.log.<n>] and .result", async () => {
    const { js, published } = recorder();
    const messages = taskMessages({ js, names: names("baton"), ref: base, delivery: 3, startedAt: "2025-01-01T12:00:00.000Z", log: silentLogger });
    await messages.started();
    await messages.log({ batch: 1, stream: "stdout", lines: ["hi"], dropped: 0 });
    await messages.log({ batch: 2, stream: "stderr", lines: ["oops"], dropped: 0 });
    await messages.result({ outcome: "completed", exitCode: 0 });
    expect(published.map((p) => p.msgID)).toEqual(["todos-1.api.2.3.started", "todos-1.api.2.3.log.1", "todos-1.api.2.3.log.2", "todos-1.api.2.result"]);
    expect(published.map((p) => p.msg.type)).toEqual(["baton.v1.task_started", "baton.v1.task_log", "baton.v1.task_log", "baton.v1.task_result"]);
    expect(new Set(published.map((p) => p.subject))).toEqual(new Set([names("baton").result("todos-1", "api")]));
    expect(published[3]!.msg).toMatchObject({ ...base, outcome: "completed", exitCode: 0, delivery: 3, startedAt: "2025-01-01T12:00:00.000Z" });
  });

  it("of a gate run have ids of their own (the task's work has the same feature, task and attempt)", async () => {
    const { js, published } = recorder();
    const ref: TaskMessageRef = { ...base, gate: { name: "unit", scope: "task", run: 4 } };
    const messages = taskMessages({ js, names: names("baton"), ref, delivery: 1, startedAt: "2025-01-01T12:00:00.000Z", log: silentLogger });
    await messages.result({ outcome: "failed", exitCode: 1 });
    expect(published.map((p) => p.msgID)).toEqual(["todos-1.api.2.gate.task.unit.4.result"]);
    expect(published[0]!.msg).toMatchObject({ gate: { name: "unit", scope: "task", run: 4 } });
  });
});
