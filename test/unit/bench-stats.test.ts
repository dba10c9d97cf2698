import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chainFigures, efficiency, gaps, idealMs, percentile, perSecond, ratio, speedup, summarize } from "../../bench/stats.ts";

describe("percentile (nearest rank)", () => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  it("picks the smallest sample with at least p% of the samples at or below it", () => {
    expect(percentile(ten, 50)).toBe(5);
    expect(percentile(ten, 90)).toBe(9);
    expect(percentile(ten, 99)).toBe(10);
    expect(percentile(ten, 100)).toBe(10);
    expect(percentile(ten, 0)).toBe(1);
    expect(percentile(ten, 10)).toBe(1);
    expect(percentile(ten, 11)).toBe(2);
  });

  it("p99 of 199 samples is the second largest, of 1000 samples the 990th", () => {
    const s = Array.from({ length: 199 }, (_, i) => i + 1);
    expect(percentile(s, 99)).toBe(198);
    const k = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(k, 99)).toBe(990);
    expect(percentile(k, 50)).toBe(500);
  });

  it("refuses no samples and a p outside [0, 100]", () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile(ten, 101)).toThrow(RangeError);
    expect(() => percentile(ten, -1)).toThrow(RangeError);
    expect(() => percentile(ten, Number.NaN)).toThrow(RangeError);
  });

  it("is a sample, within [min, max], and never decreases as p grows", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (xs, p, q) => {
        const s = [...xs].sort((a, b) => a - b);
        const a = percentile(s, Math.min(p, q));
        const b = percentile(s, Math.max(p, q));
        expect(s).toContain(a);
        expect(a).toBeLessThanOrEqual(b);
        expect(a).toBeGreaterThanOrEqual(s[0]!);
        expect(b).toBeLessThanOrEqual(s.at(-1)!);
      }),
    );
  });

  it("at least p% of the samples are ≤ it, and fewer than p% are < it", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 100 }), (xs, p) => {
        const s = [...xs].sort((a, b) => a - b);
        const v = percentile(s, p);
        expect(s.filter((x) => x <= v).length / s.length).toBeGreaterThanOrEqual(p / 100);
        expect(s.filter((x) => x < v).length / s.length).toBeLessThan(p / 100);
      }),
    );
  });
});

describe("summarize", () => {
  it("does not reorder the caller's array and reports n, min, max, mean and the percentiles", () => {
    const xs = [5, 1, 4, 2, 3];
    const s = summarize(xs);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
    expect(s).toEqual({ n: 5, min: 1, p50: 3, p90: 5, p99: 5, max: 5, mean: 3 });
  });

  it("refuses no samples", () => {
    expect(() => summarize([])).toThrow(RangeError);
  });
});

describe("gaps", () => {
  it("gives the n − 1 differences between consecutive times", () => {
    expect(gaps([10, 12, 15, 15.5])).toEqual([2, 3, 0.5]);
    expect(gaps([7])).toEqual([]);
    expect(gaps([])).toEqual([]);
  });

  it("sums to last − first", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 2, maxLength: 100 }), (xs) => {
        const g = gaps(xs);
        expect(g).toHaveLength(xs.length - 1);
        expect(g.reduce((a, b) => a + b, 0)).toBe(xs.at(-1)! - xs[0]!);
      }),
    );
  });
});

describe("rates and scaling", () => {
  it("perSecond counts per second of elapsed milliseconds", () => {
    expect(perSecond(2000, 4000)).toBe(500);
    expect(() => perSecond(1, 0)).toThrow(RangeError);
  });

  it("the ideal time of 400 tasks of 50 ms is 20 s on 1 slot and 2.5 s on 8", () => {
    expect(idealMs(400, 50, 1)).toBe(20_000);
    expect(idealMs(400, 50, 8)).toBe(2500);
    expect(() => idealMs(400, 50, 0)).toThrow(RangeError);
  });

  it("efficiency is ideal / actual: 1 with no overhead, 0.8 when it takes 25% longer", () => {
    expect(efficiency(2500, 2500)).toBe(1);
    expect(efficiency(2500, 3125)).toBe(0.8);
    expect(() => efficiency(2500, 0)).toThrow(RangeError);
  });

  it("speed-up is baseline / actual; efficiency on k slots equals speed-up over the ideal single slot / k", () => {
    expect(speedup(20_000, 5000)).toBe(4);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.double({ min: 1, max: 1e6, noNaN: true }), (k, actual) => {
        expect(efficiency(idealMs(400, 50, k), actual)).toBeCloseTo(speedup(idealMs(400, 50, 1), actual) / k, 9);
      }),
    );
  });

  it("ratio is null when a side is missing or the divisor is not positive", () => {
    expect(ratio(3, 1.5)).toBe(2);
    expect(ratio(null, 2)).toBeNull();
    expect(ratio(2, undefined)).toBeNull();
    expect(ratio(2, 0)).toBeNull();
  });
});

describe("chainFigures (a chain's step figures from stored times, in rounds)", () => {
  it("pools the gaps of every round and divides each round's total by the steps", () => {
    const f = chainFigures([{ t0: 100, stored: [101, 103, 104, 108] }, { t0: 200, stored: [202, 203, 204, 205] }], 4);
    expect(f.step.n).toBe(6); // rounds × (steps − 1): a round's first step includes the start, it is not a gap
    expect(f.step.min).toBe(1);
    expect(f.step.max).toBe(4);
    expect(f.step.mean).toBeCloseTo((2 + 1 + 4 + 1 + 1 + 1) / 6, 12);
    expect(f.perStepTotal.n).toBe(2);
    expect(f.perStepTotal.min).toBe(5 / 4); // (205 − 200) / 4
    expect(f.perStepTotal.max).toBe(8 / 4); // (108 − 100) / 4
  });

  it("refuses a round with a step missing, times that go backwards, fewer than 2 steps and no rounds", () => {
    expect(() => chainFigures([{ t0: 0, stored: [1, 2, 3] }], 4)).toThrow(/3 stored times for 4 steps/);
    expect(() => chainFigures([{ t0: 0, stored: [1, 3, 2] }], 3)).toThrow(/backwards/);
    expect(() => chainFigures([{ t0: 0, stored: [1] }], 1)).toThrow(RangeError);
    expect(() => chainFigures([], 3)).toThrow(RangeError);
  });

  it("the mean gap of a round times (steps − 1) is its last − first stored time", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 2, maxLength: 100 }), fc.integer({ min: 0, max: 1e6 }), (xs, t0) => {
        const stored = [...xs].sort((a, b) => a - b);
        const f = chainFigures([{ t0, stored }], stored.length);
        expect(f.step.n).toBe(stored.length - 1);
        expect(f.step.mean * (stored.length - 1)).toBeCloseTo(stored.at(-1)! - stored[0]!, 6);
        expect(f.perStepTotal.p50).toBeCloseTo((stored.at(-1)! - t0) / stored.length, 9);
      }),
    );
  });
});
