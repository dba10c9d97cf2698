// Baton's reaches into library internals (shared/internals/), checked against the installed versions: each
// test fails with a message that says which assumption broke, so that a library upgrade is caught here.
import { describe, expect, it } from "vitest";
import type { Msg } from "@nats-io/nats-core";
import { MuxSubscription, RequestOne } from "@nats-io/nats-core/internal";
import { assign, createActor, setup } from "xstate";
import { assertRequestInternals, CHECKED_AGAINST, inertActorScope, installRequestPatch, loadToJsMsg } from "../../shared/internals/index.ts";

const broken = (library: string, what: string) => `${library} no longer matches what shared/internals/ assumes (checked against ${CHECKED_AGAINST[library as keyof typeof CHECKED_AGAINST]}): ${what}`;

describe("nats.js toJsMsg (lib/jsmsg.js)", () => {
  /** A delivered message as the pull inbox sees it, recording what is sent back on its reply subject. */
  const delivered = () => {
    const replies: string[] = [];
    const msg = {
      subject: "baton.task.backend",
      reply: "$JS.ACK.TASKS.role-backend.3.42.7.1700000000000000000.5",
      sid: 1,
      data: new TextEncoder().encode("{}"),
      headers: undefined,
      respond: (data?: Uint8Array) => (replies.push(new TextDecoder().decode(data)), true),
    } as unknown as Msg;
    return { msg, replies };
  };

  it("loads, and turns a delivery into a JsMsg with its delivery info", () => {
    const toJsMsg = loadToJsMsg();
    expect(typeof toJsMsg, broken("@nats-io/jetstream", "lib/jsmsg.js has no toJsMsg function")).toBe("function");
    expect(loadToJsMsg(), "loaded once").toBe(toJsMsg);
    const jsMsg = toJsMsg(delivered().msg, 5000);
    for (const method of ["ack", "nak", "working", "term"] as const) {
      expect(typeof jsMsg[method], broken("@nats-io/jetstream", `the JsMsg from toJsMsg has no ${method}()`)).toBe("function");
    }
    expect({ stream: jsMsg.info.stream, consumer: jsMsg.info.consumer, deliveryCount: jsMsg.info.deliveryCount, seq: jsMsg.seq }, broken("@nats-io/jetstream", "delivery info parsed differently")).toEqual({
      stream: "TASKS", consumer: "role-backend", deliveryCount: 3, seq: 42,
    });
  });

  it("acks through the message's reply subject: working any number of times, then one final ack, nak or term", () => {
    const toJsMsg = loadToJsMsg();
    const acked = delivered();
    const jsMsg = toJsMsg(acked.msg);
    jsMsg.working();
    jsMsg.working();
    jsMsg.ack();
    jsMsg.nak(); // after the final ack: nothing is sent
    expect(acked.replies, broken("@nats-io/jetstream", "ack / working / nak replies changed")).toEqual(["+WPI", "+WPI", "+ACK"]);
    const naked = delivered();
    toJsMsg(naked.msg).nak();
    expect(naked.replies, broken("@nats-io/jetstream", "nak reply changed")).toEqual(["-NAK"]);
    const termed = delivered();
    toJsMsg(termed.msg).term();
    expect(termed.replies, broken("@nats-io/jetstream", "term reply changed")).toEqual(["+TERM"]);
  });
});

describe("nats.js RequestOne.resolver patch", () => {
  const request = (mux: MuxSubscription) => new RequestOne(mux, "svc.echo", { timeout: 60_000 }, false);

  it("finds the resolver to patch, and a request with the fields the patch uses", () => {
    expect(typeof RequestOne.prototype.resolver, broken("@nats-io/nats-core", "RequestOne.prototype.resolver is gone")).toBe("function");
    installRequestPatch();
    installRequestPatch(); // idempotent
    expect(RequestOne.prototype.resolver.toString(), "the patch is installed").toContain("resolveWithError");
    expect(() => assertRequestInternals(request(new MuxSubscription()))).not.toThrow();
    expect(() => assertRequestInternals({ deferred: {}, mux: {} })).toThrow(/RequestOne has no deferred\.resolve, mux\.cancel, timer/);
  });

  it("resolves an answered request and forgets it; an error still rejects through the library's path", async () => {
    installRequestPatch();
    const mux = new MuxSubscription();
    const answered = request(mux);
    mux.add(answered);
    const reply = { subject: "_INBOX.x" } as unknown as Msg;
    answered.resolver(null, reply);
    assertRequestInternals(answered);
    await expect((answered as unknown as { deferred: Promise<unknown> }).deferred).resolves.toBe(reply);
    expect(mux.size(), broken("@nats-io/nats-core", "the mux still holds an answered request")).toBe(0);

    const failed = request(mux);
    mux.add(failed);
    failed.resolver(new Error("no responders"), {} as Msg);
    await expect((failed as unknown as { deferred: Promise<unknown> }).deferred).rejects.toThrow(/no responders/);
    expect(mux.size()).toBe(0);
  });
});

describe("xstate inert actor scope", () => {
  const counter = setup({
    types: { context: {} as { count: number; seen: string[]; owner: string }, events: {} as { type: "add"; by: number } | { type: "note"; text: string } | { type: "stop" }, input: {} as { owner: string } },
    guards: { positive: ({ event }) => event.type === "add" && event.by > 0 },
    actions: {
      add: assign({ count: ({ context, event }) => context.count + (event.type === "add" ? event.by : 0) }),
      note: assign({ seen: ({ context, event }) => [...context.seen, event.type === "note" ? event.text : event.type] }),
    },
  }).createMachine({
    context: ({ input }) => ({ count: 0, seen: [], owner: input.owner }),
    initial: "counting",
    states: {
      counting: {
        on: {
          add: [{ guard: "positive", actions: ["add", "note"] }, { actions: "note" }],
          note: { actions: "note" },
          stop: { target: "stopped", actions: "note" },
        },
      },
      stopped: { type: "final" },
    },
  });
  const events = [{ type: "add", by: 2 }, { type: "note", text: "hello" }, { type: "add", by: -1 }, { type: "add", by: 5 }, { type: "stop" }] as const;

  it("machine.transition with it gives the context and state a real actor reaches", () => {
    const actor = createActor(counter, { input: { owner: "real" } }).start();
    for (const event of events) actor.send(event);
    const real = actor.getSnapshot();

    const scope = inertActorScope(counter, { owner: "real" });
    let snapshot = counter.getInitialSnapshot(scope, { owner: "real" });
    for (const event of events) snapshot = counter.transition(snapshot, event, scope);
    expect({ value: snapshot.value, status: snapshot.status, context: snapshot.context }, broken("xstate", "a pure transition with the inert scope differs from a real actor")).toEqual({
      value: real.value, status: real.status, context: real.context,
    });
    expect(snapshot.context).toEqual({ count: 7, seen: ["add", "hello", "add", "add", "stop"], owner: "real" });
  });

  it("has every hook of an ActorScope, none of them doing anything", () => {
    const scope = inertActorScope(counter, { owner: "x" });
    for (const hook of ["defer", "emit", "logger", "stopChild", "actionExecutor"] as const) {
      expect(typeof scope[hook], broken("xstate", `ActorScope.${hook}`)).toBe("function");
    }
    expect(scope.self.getSnapshot().status, "self is an actor that was never started").toBe("active");
    expect(scope.system).toBe(scope.self.system);
  });
});
