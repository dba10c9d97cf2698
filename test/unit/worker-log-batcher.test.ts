// The worker's log batcher with a fake clock: batching, flush timing, truncation and the rate limit.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { LogBatcher, truncateLine, type LogBatch, type Timers } from "../../services/worker/log-batcher.ts";

/** A manual clock: timers fire only when `advance` passes their due time. */
function fakeTimers() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    now: () => now,
    setTimeout: (fn, ms) => {
      pending.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = [...pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      pending.delete(due[0]);
      now = due[1].at;
      due[1].fn();
    }
    now = end;
  };
  return { timers, advance, pendingCount: () => pending.size };
}

function make(o: { linesPerSecond?: number; maxLineChars?: number } = {}) {
  const clock = fakeTimers();
  const batches: LogBatch[] = [];
  const b = new LogBatcher({
    maxLineChars: o.maxLineChars ?? 200,
    linesPerSecond: o.linesPerSecond ?? 1000,
    timers: clock.timers,
    onBatch: (x) => batches.push(x),
  });
  return { b, batches, ...clock };
}

describe("LogBatcher", () => {
  it("flushes 250 ms after the first line of a batch, not before", () => {
    const { b, batches, advance } = make();
    b.push("stdout", "one");
    advance(100);
    b.push("stdout", "two");
    advance(149);
    expect(batches).toEqual([]);
    advance(1);
    expect(batches).toEqual([{ batch: 1, stream: "stdout", lines: ["one", "two"], dropped: 0 }]);
  });

  it("flushes at once when a batch reaches 100 lines", () => {
    const { b, batches, pendingCount } = make();
    for (let i = 0; i < 250; i++) b.push("stdout", `l${i}`);
    expect(batches.map((x) => x.lines.length)).toEqual([100, 100]);
    expect(pendingCount()).toBe(1); // the last 50 wait for their timer
    b.close();
    expect(batches.map((x) => [x.batch, x.lines.length])).toEqual([[1, 100], [2, 100], [3, 50]]);
    expect(batches.flatMap((x) => x.lines)[249]).toBe("l249");
    expect(pendingCount()).toBe(0);
  });

  it("keeps stdout and stderr in separate batches, in the order the lines came", () => {
    const { b, batches } = make();
    b.push("stdout", "a");
    b.push("stderr", "b");
    b.push("stderr", "c");
    b.push("stdout", "d");
    b.close();
    expect(batches.map((x) => [x.stream, x.lines])).toEqual([["stdout", ["a"]], ["stderr", ["b", "c"]], ["stdout", ["d"]]]);
  });

  it("drops lines over the rate limit, counts them on the next batch, and refills over time", () => {
    const { b, batches, advance } = make({ linesPerSecond: 10 });
    for (let i = 0; i < 25; i++) b.push("stdout", `burst ${i}`);
    advance(250);
    expect(batches).toEqual([{ batch: 1, stream: "stdout", lines: Array.from({ length: 10 }, (_, i) => `burst ${i}`), dropped: 15 }]);
    advance(500); // 750 ms since the burst refilled 7.5 lines
    for (let i = 0; i < 8; i++) b.push("stdout", `later ${i}`);
    b.close();
    expect(batches[1]).toEqual({ batch: 2, stream: "stdout", lines: Array.from({ length: 7 }, (_, i) => `later ${i}`), dropped: 1 });
    expect(batches).toHaveLength(2);
    expect(b.totals).toEqual({ forwarded: 17, dropped: 16, truncated: 0 });
  });

  it("reports lines dropped after the last batch in one marker line on close", () => {
    const { b, batches, advance } = make({ linesPerSecond: 2 });
    b.push("stdout", "a");
    b.push("stdout", "b");
    advance(250); // flushes a, b; a quarter second refills half a line, too little for c and d
    b.push("stdout", "c");
    b.push("stdout", "d");
    b.close();
    expect(batches).toEqual([
      { batch: 1, stream: "stdout", lines: ["a", "b"], dropped: 0 },
      { batch: 2, stream: "stderr", lines: ["[baton] 2 log line(s) dropped: limit is 2 lines per second"], dropped: 2 },
    ]);
  });

  it("ignores lines after close, and close twice is harmless", () => {
    const { b, batches } = make();
    b.push("stdout", "x");
    b.close();
    b.close();
    b.push("stdout", "late");
    expect(batches).toHaveLength(1);
  });

  it("every line pushed is either forwarded or counted as dropped (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("stdout" as const, "stderr" as const), fc.nat(400))), fc.integer({ min: 1, max: 20 }), (ops, rate) => {
        const { b, batches, advance } = make({ linesPerSecond: rate });
        for (const [stream, gap] of ops) {
          advance(gap);
          b.push(stream, "line");
        }
        b.close();
        const forwarded = batches.flatMap((x) => x.lines).filter((l) => l === "line").length;
        const dropped = batches.reduce((s, x) => s + x.dropped, 0);
        return forwarded + dropped === ops.length && batches.every((x, i) => x.batch === i + 1 && x.lines.length >= 1 && x.lines.length <= 100);
      }),
    );
  });
});

describe("truncateLine", () => {
  it("leaves short lines alone and marks how much was cut from long ones", () => {
    expect(truncateLine("short", 80)).toBe("short");
    const t = truncateLine("y".repeat(1000), 80);
    expect(t).toHaveLength(80);
    expect(t).toMatch(/^y+… \[truncated 9\d\d chars\]$/);
    expect(1000 - Number(/truncated (\d+)/.exec(t)![1])).toBe(t.indexOf("…"));
  });

  it("never exceeds the limit (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 5000 }), fc.integer({ min: 80, max: 4096 }), (s, max) => {
        const t = truncateLine(s, max);
        return t.length <= max && (s.length <= max ? t === s : t.startsWith(s.slice(0, 10)));
      }),
    );
  });
});
