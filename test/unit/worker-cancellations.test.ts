// The worker's memory of cancelled features: bounded, expiring; and what it accepts as a cancellation event.
import { describe, expect, it } from "vitest";
import { RecentSet } from "../../services/worker/cancellations.ts";
import { FeatureCancelledView } from "../../shared/protocol/workers.ts";

describe("RecentSet", () => {
  it("remembers ids until they expire", () => {
    let now = 0;
    const s = new RecentSet({ max: 10, ttlMs: 1000, now: () => now });
    expect(s.add("a")).toBe(true);
    expect(s.add("a")).toBe(false);
    now = 1000;
    expect(s.has("a")).toBe(true);
    now = 1001;
    expect(s.has("a")).toBe(false);
    expect(s.size).toBe(0);
    expect(s.add("a")).toBe(true); // new again after expiry
  });

  it("keeps at most `max` ids, forgetting the least recently added", () => {
    let now = 0;
    const s = new RecentSet({ max: 3, ttlMs: 60_000, now: () => ++now });
    for (const id of ["a", "b", "c"]) s.add(id);
    s.add("a"); // refreshed: now the newest
    s.add("d");
    expect(s.size).toBe(3);
    expect(["a", "b", "c", "d"].filter((id) => s.has(id))).toEqual(["a", "c", "d"]);
  });

  it("stays bounded under many ids", () => {
    const s = new RecentSet({ max: 10_000, ttlMs: 3_600_000 });
    for (let i = 0; i < 25_000; i++) s.add(`f-${i}`);
    expect(s.size).toBe(10_000);
    expect(s.has("f-24999")).toBe(true);
    expect(s.has("f-14999")).toBe(false);
  });
});

describe("FeatureCancelledView", () => {
  it("accepts a status event of kind feature.cancelled, whatever else it carries", () => {
    const e = { type: "baton.v1.status_event", featureId: "todos-1", seq: 9, at: "2025-01-01T12:00:00.000Z", kind: "feature.cancelled", durationMs: 5, reason: "x" };
    expect(FeatureCancelledView.parse(e)).toMatchObject({ featureId: "todos-1", kind: "feature.cancelled" });
  });

  it("rejects events without a token feature id or of another kind", () => {
    expect(FeatureCancelledView.safeParse({ featureId: "a.b", kind: "feature.cancelled" }).success).toBe(false);
    expect(FeatureCancelledView.safeParse({ featureId: "", kind: "feature.cancelled" }).success).toBe(false);
    expect(FeatureCancelledView.safeParse({ kind: "feature.cancelled" }).success).toBe(false);
    expect(FeatureCancelledView.safeParse({ featureId: "a", kind: "feature.completed" }).success).toBe(false);
  });
});
