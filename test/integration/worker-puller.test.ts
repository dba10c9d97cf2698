// The worker's puller against a real nats-server (in-process, no worker process): it holds at most one task per
// slot and no pull request while busy, renews idle requests, recreates a deleted consumer, notices requests that
// get no answer (after the grace, or at once when the server holds none of them), lets another worker take tasks at
// once after it stopped, and pulls again after a server restart.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { pino } from "pino";
import { ensureRoleConsumer, ensureTopology } from "../../shared/nats.ts";
import { names, type Names } from "../../shared/subjects.ts";
import { startPuller, type Puller, type PullerOptions } from "../../services/worker/puller.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";

const ROLE = "backend";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: NatsServer;
let nc: NatsConnection;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => {});
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

async function until<T>(what: string, pred: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A puller on its own connection, a fresh prefix and role consumer; records what it holds and what it logs.
 * `on` is the server and the test's own connection to it (topology, publishing, consumer info).
 */
async function setup(slots: number, over: Partial<PullerOptions> & { createConsumer?: boolean } = {}, on = { url: server.url, nc }) {
  const { nc } = on;
  const n: Names = names(uniquePrefix("p"));
  await ensureTopology(nc, n);
  if (over.createConsumer !== false) await ensureRoleConsumer(nc, n, ROLE, 10);
  const pnc = await connect({ servers: on.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const logs: { level: number; msg: string }[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => void logs.push(JSON.parse(s)) });
  const held = new Set<JsMsg>();
  const delivered: JsMsg[] = [];
  let maxHeld = 0;
  let ensured = 0;
  const opts: PullerOptions = {
    nc: pnc, log, slots, apiPrefix: "$JS.API", stream: n.streams.tasks, consumer: n.consumers.role(ROLE), ackTimeoutMs: 5000,
    onTask: (m) => {
      held.add(m);
      delivered.push(m);
      maxHeld = Math.max(maxHeld, held.size);
    },
    ensureConsumer: async () => {
      ensured++;
      await ensureRoleConsumer(pnc, n, ROLE, 10);
    },
    // as the worker does (worker.ts): how many pull requests wait on the role consumer
    waitingRequests: async () => (await (await jetstreamManager(pnc)).consumers.info(n.streams.tasks, n.consumers.role(ROLE))).num_waiting,
    ...over,
  };
  const puller: Puller = startPuller(opts);
  cleanups.push(() => pnc.close());
  cleanups.push(() => puller.stop());
  const jsm = await jetstreamManager(nc);
  return {
    n, puller, held, delivered, logs,
    maxHeld: () => maxHeld,
    ensured: () => ensured,
    info: () => jsm.consumers.info(n.streams.tasks, n.consumers.role(ROLE)),
    publish: async (count: number) => {
      for (let i = 0; i < count; i++) await jetstream(nc).publish(n.task(ROLE), `task ${i}`);
    },
    /** Acks one held task and frees its slot, as the worker does when a task is finished. */
    finish: (m: JsMsg) => {
      held.delete(m);
      m.ack();
      puller.release();
    },
    warnings: () => logs.filter((l) => l.level >= 40).map((l) => l.msg),
  };
}

describe("worker puller", () => {
  it("holds at most one task per slot, keeps no pull request open while every slot is busy, and asks again when one frees", async () => {
    const p = await setup(3, { expiresMs: 500 });
    await p.publish(5);
    await until("3 tasks held", () => p.held.size === 3);
    await sleep(300); // time for a hoarded task to show up
    expect(p.held.size).toBe(3);
    let ci = await p.info();
    expect([ci.num_ack_pending, ci.num_pending, ci.num_waiting]).toEqual([3, 2, 0]);
    p.finish([...p.held][0]!);
    await until("the 4th task", () => p.delivered.length === 4);
    await sleep(200);
    ci = await p.info();
    expect([p.held.size, ci.num_ack_pending, ci.num_pending, ci.num_waiting]).toEqual([3, 3, 1, 0]);
    for (const m of [...p.held]) p.finish(m);
    await until("all 5 tasks", () => p.delivered.length === 5 && p.held.size === 1);
    p.finish([...p.held][0]!);
    // idle again: the batch-1 requests sent as slots freed one by one expire, and one request covers the three free slots
    await until("one waiting request", async () => (await p.info()).num_waiting === 1, 5000);
    await sleep(1200);
    expect((await p.info()).num_waiting).toBe(1);
    expect(p.maxHeld()).toBe(3);
    expect(p.delivered.every((m) => m.info.deliveryCount === 1)).toBe(true);
    expect(p.warnings()).toEqual([]);
  });

  it("never has more than k tasks delivered at once while tasks come and go at random", async () => {
    const p = await setup(4);
    let maxAckPending = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxAckPending = Math.max(maxAckPending, (await p.info()).num_ack_pending);
        await sleep(10);
      }
    })();
    const total = 60;
    await p.publish(total);
    // finish each task after 0-30 ms, in any order
    const finishing = new Set<JsMsg>();
    await until("all tasks finished", () => {
      for (const m of p.held) {
        if (finishing.has(m)) continue;
        finishing.add(m);
        setTimeout(() => p.finish(m), Math.random() * 30);
      }
      return p.delivered.length === total && p.held.size === 0;
    }, 30_000);
    sampling = false;
    await sampler;
    expect(p.maxHeld()).toBeLessThanOrEqual(4);
    // The server's count can run ahead of the worker's by the acks in flight: an ack and the next pull
    // request leave in one write, but nats-server handles acks on the consumer's own queue, so a pull can be
    // served before the ack that freed its slot is counted (seen under load in CI: 5 and 6 for k = 4).
    // What the worker holds (above) is exact; this only rules out hoarding.
    expect(maxAckPending).toBeLessThanOrEqual(2 * 4);
    expect(p.delivered.every((m) => m.info.deliveryCount === 1)).toBe(true); // nothing handed back or redelivered
    expect(p.warnings()).toEqual([]);
  });

  it("renews its request when it expires, without piling requests up", async () => {
    const p = await setup(2, { expiresMs: 300 });
    await sleep(1200); // about four expiries
    expect((await p.info()).num_waiting).toBeLessThanOrEqual(1);
    await p.publish(2);
    await until("both tasks", () => p.held.size === 2);
    expect(p.warnings()).toEqual([]);
  });

  it("recreates its role consumer when it is deleted, and goes on pulling", async () => {
    const p = await setup(1);
    await until("a waiting request", async () => (await p.info()).num_waiting === 1);
    await (await jetstreamManager(nc)).consumers.delete(p.n.streams.tasks, p.n.consumers.role(ROLE));
    await until("the consumer recreated", () => p.ensured() > 0);
    await until("the consumer back", () => p.info().then(() => true, () => false));
    await p.publish(1);
    await until("the task", () => p.held.size === 1);
    expect(p.warnings().join("\n")).toMatch(/role consumer is gone/);
  });

  it("notices requests that get no answer (no consumer to answer them) and checks the consumer", async () => {
    const p = await setup(1, { createConsumer: false, expiresMs: 200, answerGraceMs: 200 });
    await until("the watchdog", () => p.ensured() > 0, 5000);
    await p.publish(1);
    await until("the task", () => p.held.size === 1);
    expect(p.warnings().join("\n")).toMatch(/no answer/);
  });

  it("a request that ends without a status (as nats-server 2.9 sometimes drops an expiring one) is asked again after its expiry, not after the grace", async () => {
    // Requests go to a stand-in API prefix; the test swallows the first (lost, no 408 ever comes) and passes the
    // others on to the real consumer. The grace is 60 s: only the check with the server can explain a quick recovery.
    const forwarded: string[] = [];
    const relay = nc.subscribe("$LOST.API.CONSUMER.MSG.NEXT.>", {
      callback: (_err, msg) => {
        forwarded.push(msg.subject);
        if (forwarded.length > 1) nc.publish(msg.subject.replace("$LOST.API", "$JS.API"), msg.data, { reply: msg.reply! });
      },
    });
    cleanups.push(() => relay.unsubscribe());
    const p = await setup(1, { apiPrefix: "$LOST.API", expiresMs: 300, answerGraceMs: 60_000 });
    await p.publish(1);
    await until("the task, through a second request", () => p.held.size === 1, 8000);
    expect(forwarded.length).toBeGreaterThanOrEqual(2);
    expect(p.logs.some((line) => /ended without an answer/.test(line.msg))).toBe(true);
    expect(p.warnings()).toEqual([]);
  });

  it("after stop, another worker gets a new task at once: the stopped worker's idle request is gone", async () => {
    const a = await setup(1);
    await until("a waiting request", async () => (await a.info()).num_waiting === 1);
    await a.puller.stop();
    // a second worker on the same consumer
    const bnc = await connect({ servers: server.url });
    cleanups.push(() => bnc.close());
    const got: JsMsg[] = [];
    const b = startPuller({
      nc: bnc, log: pino({ level: "silent" }), slots: 1, apiPrefix: "$JS.API", stream: a.n.streams.tasks, consumer: a.n.consumers.role(ROLE),
      ackTimeoutMs: 5000, onTask: (m) => void got.push(m), ensureConsumer: async () => {},
    });
    cleanups.push(() => b.stop());
    const t0 = Date.now();
    await a.publish(1);
    await until("the task at the other worker", () => got.length === 1, 3000);
    expect(Date.now() - t0).toBeLessThan(2000); // not after the stopped worker's 5-s request expired
    expect(got[0]!.info.deliveryCount).toBe(1);
    expect(a.delivered).toHaveLength(0);
  });

  it("pulls again on a new inbox after the NATS server restarts, within its slots", async () => {
    const own = await startNatsServer();
    cleanups.push(() => own.dispose());
    const onc = await connect({ servers: own.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    cleanups.push(() => onc.close());
    const p = await setup(2, {}, { url: own.url, nc: onc });
    await sleep(200);
    await own.stop();
    await sleep(500);
    await own.start();
    await until("the reconnect", () => p.logs.some((l) => /reconnected to NATS/.test(l.msg)));
    for (let i = 0; ; i++) {
      try {
        for (let k = 0; k < 4; k++) await jetstream(onc).publish(p.n.task(ROLE), `task ${k}`, { msgID: `t${k}`, timeout: 2000 });
        break;
      } catch (e) {
        if (i > 40) throw e;
        await sleep(250);
      }
    }
    await until("two tasks", () => p.held.size === 2, 15_000);
    await sleep(300);
    expect(p.held.size).toBe(2);
    expect(p.maxHeld()).toBe(2);
    expect(p.warnings().filter((w) => /no free slot/.test(w))).toEqual([]);
  });
});
