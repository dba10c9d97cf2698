// Which heartbeats are listed as live (shared/client/workers.ts isFresh, with an injected clock), and that workers
// stamp each heartbeat with its interval so that readers can tell a missed beat (services/worker/heartbeat.ts).
import type { KV } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import { isFresh, MISSED_BEATS } from "../../shared/client/workers.ts";
import { silentLogger } from "../../shared/logging.ts";
import { WorkerHeartbeat } from "../../shared/protocol/workers.ts";
import { heartbeatBody, startHeartbeat } from "../../services/worker/heartbeat.ts";

const AT = Date.parse("2026-01-01T12:00:00.000Z");
const at = (ms: number) => new Date(AT + ms).toISOString();

describe("a heartbeat is live", () => {
  it("until 3 of its intervals passed without a new one, whatever the bucket's TTL", () => {
    expect(MISSED_BEATS).toBe(3);
    const beat = { at: at(0), heartbeatSeconds: 5 };
    expect(isFresh(beat, AT)).toBe(true);
    expect(isFresh(beat, AT + 14_999)).toBe(true);
    expect(isFresh(beat, AT + 15_000)).toBe(true);
    expect(isFresh(beat, AT + 15_001)).toBe(false);
    expect(isFresh({ at: at(0), heartbeatSeconds: 1 }, AT + 3_001)).toBe(false);
    expect(isFresh({ at: at(0), heartbeatSeconds: 60 }, AT + 120_000)).toBe(true);
  });

  it("when it says no interval (an older worker): then only the bucket's TTL expires it", () => {
    expect(isFresh({ at: at(0) }, AT + 3_600_000)).toBe(true);
  });
});

describe("a worker's heartbeat entry", () => {
  it("carries the interval it is written at", async () => {
    const puts: string[] = [];
    const kv = { put: async (_key: string, value: string) => void puts.push(value), delete: async () => {} } as unknown as KV;
    const state = { workerId: "w1", role: "backend", host: "h", slots: 1, state: "idle", startedAt: at(0), tasks: [] };
    const heartbeat = startHeartbeat({ kv, key: "backend.w1", everyMs: 2500, log: silentLogger, snapshot: () => heartbeatBody(state) });
    await heartbeat.beat();
    await heartbeat.stop();
    expect(puts.length).toBeGreaterThan(0);
    const written = WorkerHeartbeat.parse(JSON.parse(puts[0]!));
    expect(written.heartbeatSeconds).toBe(2.5);
    expect(written.workerId).toBe("w1");
  });
});
