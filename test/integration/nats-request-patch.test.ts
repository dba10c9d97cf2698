// shared/internals/ replaces nats.js's RequestOne.resolver to skip an Error built on every successful
// request (shared/nats.ts installs it on import). These check, against a real nats-server, that requests
// behave exactly as before, and that a real request has the internal fields the patch uses.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { errors } from "@nats-io/nats-core";
import { RequestOne } from "@nats-io/nats-core/internal";
import { assertRequestInternals } from "../../shared/internals/index.ts";
import { connectNats, type NatsConnection } from "../../shared/nats.ts";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.ts";

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ url: server.url, name: "patch-test", persistent: false });
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

describe("the request resolver workaround", () => {
  it("is installed", () => {
    expect(RequestOne.prototype.resolver.toString()).toContain("resolveWithError");
  });

  it("a real request has the fields the patch uses (timer, deferred, mux)", async () => {
    const mux = (nc as unknown as { protocol: { muxSubscriptions: { add(request: unknown): void } } }).protocol.muxSubscriptions;
    const seen: unknown[] = [];
    const add = mux.add;
    mux.add = function (request: unknown) {
      seen.push(request);
      return add.call(this, request);
    };
    const sub = nc.subscribe("fields", { callback: (_e, m) => void m.respond(m.data) });
    try {
      await nc.request("fields", undefined, { timeout: 5000 });
    } finally {
      mux.add = add;
      sub.unsubscribe();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(RequestOne);
    assertRequestInternals(seen[0]); // throws, naming the missing fields, when nats.js changed them
  });

  it("answers requests, many at once, and leaves no request behind", async () => {
    const sub = nc.subscribe("echo", { callback: (_e, m) => void m.respond(m.data) });
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => nc.request("echo", new TextEncoder().encode(String(i)), { timeout: 5000 })));
    expect(replies.map((r) => r.string())).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    sub.unsubscribe();
    // the mux forgot every request (a leak here would grow memory by one entry per JetStream publish)
    const mux = (nc as unknown as { protocol: { muxSubscriptions: { size(): number } } }).protocol.muxSubscriptions;
    expect(mux.size()).toBe(0);
  });

  it("still rejects with the library's errors: timeout, no responders", async () => {
    const sub = nc.subscribe("silent", { callback: () => {} });
    await expect(nc.request("silent", undefined, { timeout: 200 })).rejects.toBeInstanceOf(errors.TimeoutError);
    sub.unsubscribe();
    const e = await nc.request("nobody.home", undefined, { timeout: 2000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(errors.RequestError);
    expect((e as InstanceType<typeof errors.RequestError>).isNoResponders()).toBe(true);
  });

  it("JetStream publish acks and API errors come through", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "PATCH", subjects: ["patch.>"] });
    const js = jetstream(nc);
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => js.publish("patch.x", String(i), { msgID: `m${i % 25}` })));
    expect(acks.filter((a) => a.duplicate)).toHaveLength(25);
    await expect(js.publish("patch.x", "late", { expect: { lastSequence: 1 } })).rejects.toThrow(/wrong last sequence/);
  });
});
