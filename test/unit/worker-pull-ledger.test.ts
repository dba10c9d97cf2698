// The puller's bookkeeping: it asks only for free slots no open request covers, reads the server's statuses
// right, and never lets delivered tasks exceed the slots — whatever order deliveries, statuses and resets come in.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyStatus, PullLedger } from "../../services/worker/pull-ledger.ts";

describe("classifyStatus", () => {
  it("reads a 408 as the normal end of an idle request, with what it had not delivered", () => {
    expect(classifyStatus(408, "Request Timeout", "2")).toEqual({ kind: "ended", code: 408, description: "Request Timeout", remaining: 2, expected: true });
  });

  it("reads refusals (409 limits, 400, 404, 503) as ends that call for a pause, remaining unknown without the header", () => {
    for (const [code, d] of [[409, "Exceeded MaxWaiting"], [409, "Exceeded MaxAckPending"], [400, "Bad Request"], [404, "No Messages"], [503, ""]] as const) {
      expect(classifyStatus(code, d, undefined)).toMatchObject({ kind: "ended", remaining: undefined, expected: false });
    }
    expect(classifyStatus(409, "Exceeded MaxWaiting", "")).toMatchObject({ remaining: undefined });
    expect(classifyStatus(409, "Message Size Exceeds MaxBytes", "3")).toMatchObject({ remaining: 3 });
  });

  it("reads a deleted or moved consumer as the end of every request", () => {
    for (const d of ["Consumer Deleted", "consumer deleted", "Leadership Change", "Stream Deleted"]) {
      expect(classifyStatus(409, d, undefined).kind).toBe("consumerGone");
    }
  });

  it("ignores idle heartbeats and ignores a garbled pending header", () => {
    expect(classifyStatus(100, "Idle Heartbeat", "1")).toEqual({ kind: "ignore" });
    expect(classifyStatus(408, "Request Timeout", "x")).toMatchObject({ remaining: undefined });
    expect(classifyStatus(408, "Request Timeout", "-1")).toMatchObject({ remaining: undefined });
  });
});

describe("PullLedger", () => {
  it("asks for the free slots once, and again only for slots that free up", () => {
    const l = new PullLedger(3, 15_000);
    expect(l.want()).toBe(3);
    l.sent(3, 0);
    expect(l.want()).toBe(0); // covered by the open request
    expect(l.delivered()).toBe(true);
    expect(l.want()).toBe(0); // one busy, two still pending
    l.finished();
    expect(l.want()).toBe(1);
    expect(l.counts()).toEqual({ slots: 3, busy: 0, pending: 2, openRequests: 1 });
  });

  it("takes what a 408 says was not delivered off the pending count", () => {
    const l = new PullLedger(4, 15_000);
    const a = l.sent(4, 0);
    l.delivered();
    expect(l.ended(a, 3)).toBe(true);
    expect(l.counts()).toMatchObject({ busy: 1, pending: 0, openRequests: 0 });
    expect(l.want()).toBe(3);
  });

  it("takes a whole batch off for a request refused without a header, and ignores requests it no longer knows", () => {
    const l = new PullLedger(4, 15_000);
    const a = l.sent(1, 0);
    const b = l.sent(3, 0);
    expect(l.ended(b, undefined)).toBe(true);
    expect(l.counts()).toMatchObject({ pending: 1, openRequests: 1 });
    expect(l.ended(b, undefined)).toBe(false); // a second status for it changes nothing
    l.reset();
    expect(l.ended(a, 1)).toBe(false); // forgotten by the reset (e.g. the other 409s of a deleted consumer)
    expect(l.want()).toBe(4);
  });

  it("forgets every open request once nothing is pending: fully served requests get no status", () => {
    const l = new PullLedger(2, 15_000);
    const a = l.sent(1, 0);
    const b = l.sent(1, 0);
    l.delivered();
    l.delivered();
    expect(l.counts()).toMatchObject({ busy: 2, pending: 0, openRequests: 0 });
    expect(l.ended(a, 0) || l.ended(b, 0)).toBe(false);
  });

  it("refuses a task beyond its slots (the caller hands it back), and does not count it", () => {
    const l = new PullLedger(1, 15_000);
    l.sent(1, 0);
    expect(l.delivered()).toBe(true);
    expect(l.delivered()).toBe(false);
    expect(l.delivered(false)).toBe(false);
    expect(l.counts()).toMatchObject({ busy: 1, pending: 0 });
    l.finished();
    expect(l.delivered(false)).toBe(true); // a task for a forgotten request still takes a free slot
    expect(l.counts()).toMatchObject({ busy: 1, pending: 0 });
  });

  it("is overdue only when tasks are pending past the deadline after the last request", () => {
    const l = new PullLedger(2, 15_000);
    expect(l.overdue(1e9)).toBe(false);
    l.sent(1, 1000);
    expect(l.overdue(16_000)).toBe(false);
    expect(l.overdue(16_001)).toBe(true);
    l.sent(1, 10_000); // a newer request moves the deadline
    expect(l.overdue(16_001)).toBe(false);
    expect(l.overdue(25_001)).toBe(true);
    l.reset();
    expect(l.overdue(1e9)).toBe(false);
  });

  it("never holds more tasks than slots, never asks beyond free slots, and asks again whenever a slot is free and uncovered", () => {
    // A model of the server: open requests with what each still wants; the worker asks for want() after every event.
    type Op = { t: "deliver"; pick: number } | { t: "expire"; pick: number } | { t: "refuse"; pick: number } | { t: "finish" } | { t: "reset" };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ t: fc.constant("deliver" as const), pick: fc.nat() }),
      fc.record({ t: fc.constant("expire" as const), pick: fc.nat() }),
      fc.record({ t: fc.constant("refuse" as const), pick: fc.nat() }),
      fc.constant({ t: "finish" as const }),
      fc.constant({ t: "reset" as const }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (slots, ops) => {
        const l = new PullLedger(slots, 15_000);
        // server side: requests of the current epoch (a reset forgets them on both sides, as a new inbox does)
        let server: { id: string; n: number; served: number }[] = [];
        let held = 0;
        const ask = () => {
          const n = l.want();
          if (n > 0) server.push({ id: l.sent(n, 0), n, served: 0 });
        };
        ask();
        for (const o of ops) {
          if (o.t === "deliver" && server.length) {
            const r = server[o.pick % server.length]!;
            r.n--;
            r.served++;
            if (r.n === 0) server = server.filter((x) => x !== r);
            if (l.delivered()) held++;
            else throw new Error("a delivery found no free slot: the worker asked for too many");
          } else if (o.t === "expire" && server.length) {
            const r = server[o.pick % server.length]!;
            server = server.filter((x) => x !== r);
            l.ended(r.id, r.n);
          } else if (o.t === "refuse" && server.length) {
            const r = server[server.length - 1]!; // only the newest can be refused on arrival, before any delivery
            if (r.served > 0) continue;
            server = server.filter((x) => x !== r);
            l.ended(r.id, undefined);
          } else if (o.t === "finish" && held > 0) {
            held--;
            l.finished();
          } else if (o.t === "reset") {
            server = [];
            l.reset();
          }
          ask();
          const pendingOnServer = server.reduce((s, r) => s + r.n, 0);
          expect(held).toBeLessThanOrEqual(slots);
          expect(l.counts().pending).toBe(pendingOnServer); // the count is exact, not an estimate
          expect(held + pendingOnServer).toBe(slots); // every free slot is covered at once
        }
      }),
    );
  });
  it("names the latest request while tasks are pending, so a slow check can tell whether another was sent since", () => {
    const l = new PullLedger(2, 1000);
    expect(l.latestPending()).toBeUndefined();
    const first = l.sent(1, 100);
    expect(l.latestPending()).toEqual({ id: Number(first), at: 100 });
    const second = l.sent(1, 200);
    expect(l.latestPending()).toEqual({ id: Number(second), at: 200 });
    l.ended(first, 1);
    l.ended(second, 1);
    expect(l.latestPending()).toBeUndefined(); // nothing pending: nothing to check
  });
});
