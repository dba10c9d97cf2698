// A task message whose ack is lost after its result was published (a nats-server restart at that moment, say) is
// delivered again by JetStream; the worker that settled it acks it again and does not run it a second time. Real
// nats-server and JetStream redelivery; only the first ack is dropped, as the network would.
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode } from "../../shared/codec.ts";
import { silentLogger } from "../../shared/logging.ts";
import { ensureTopology } from "../../shared/nats.ts";
import type { TaskAssigned } from "../../shared/protocol/index.ts";
import { names } from "../../shared/subjects.ts";
import { WorkerSettings } from "../../shared/config.ts";
import { openResultsStore } from "../../services/worker/results-store.ts";
import { NO_SECRETS } from "../../services/worker/redact.ts";
import { SettledMessages } from "../../services/worker/settled.ts";
import { handleTask, type TaskDeps } from "../../services/worker/task.ts";
import type { Runner } from "../../services/worker/runners/types.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";

let server: NatsServer;
let nc: NatsConnection;
beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("a redelivery of a message this worker settled (its ack was lost)", () => {
  it("is acked again and not run again", async () => {
    const n = names(uniquePrefix("lostack"));
    await ensureTopology(nc, n);
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(n.streams.tasks, { durable_name: "dev", filter_subject: n.task("dev"), ack_policy: AckPolicy.Explicit, ack_wait: 1_000_000_000 });
    const runs: string[] = [];
    const runner: Runner = { kind: "noop", describe: "counts its runs", reports: "gate", run: async (task) => (runs.push(task.taskId), { outcome: "completed", exitCode: 0 }) };
    const deps: TaskDeps = {
      js: jetstream(nc), names: n, role: "dev", workerId: "dev-1", settings: WorkerSettings.parse({ ackWaitSeconds: 1 }),
      runners: { for: () => ({ runner }) }, log: silentLogger, redact: NO_SECRETS, store: openResultsStore(nc, n, silentLogger),
      cancellations: { known: () => false, check: async () => false }, budgetStops: { known: () => undefined, check: async () => undefined },
      settled: new SettledMessages(),
    };
    const task: TaskAssigned = {
      type: "baton.v1.task_assigned", featureId: "f1", taskId: "t1", attempt: 1, role: "dev", title: "a task",
      instructions: "do it", dependsOn: [], feature: { title: "a feature" }, handoffs: [], dispatchedAt: new Date().toISOString(),
    };
    await jetstream(nc).publish(n.task("dev"), encode(task));
    const consumer = await jetstream(nc).consumers.get(n.streams.tasks, "dev");
    const hooks = { signal: new AbortController().signal, onRun: () => {} };

    const first = (await consumer.next({ expires: 5_000 }))!;
    const lostAck = new Proxy(first, { get: (target, key) => (key === "ack" ? () => {} : Reflect.get(target, key)) }) as JsMsg;
    expect(await handleTask(lostAck, deps, hooks)).toBe("completed");
    const again = (await consumer.next({ expires: 10_000 }))!; // ack wait 1 s: JetStream delivers it again
    expect(again.info.deliveryCount).toBe(2);
    expect(await handleTask(again, deps, hooks)).toBe("duplicate");
    expect(runs).toEqual(["t1"]);
    await expect.poll(async () => (await jsm.consumers.info(n.streams.tasks, "dev")).num_ack_pending).toBe(0); // acked this time
    expect((await jsm.consumers.info(n.streams.tasks, "dev")).num_pending).toBe(0);
  }, 30_000);
});
