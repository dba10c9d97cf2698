// Pure statistics for the benchmark: percentiles, summaries, gaps between events, rates and scaling efficiency.
// No I/O and no clocks, so test/unit/bench-stats.test.ts can pin every definition down.

/**
 * Nearest-rank percentile of samples that are already sorted ascending: the smallest sample such that
 * at least p% of all samples are ≤ it (p = 50 is the lower median; p = 100 the maximum; p = 0 the minimum).
 * Throws on an empty array or a p outside [0, 100].
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) throw new RangeError("percentile of no samples");
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100]; got ${p}`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Sorts a copy of `samples` and summarises it; throws on an empty array (a figure without samples is not a figure). */
export function summarize(samples: readonly number[]): Summary {
  if (!samples.length) throw new RangeError("summary of no samples");
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, min: s[0]!, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.at(-1)!, mean };
}

/** Differences between consecutive times, in the order given: n times give n − 1 gaps. */
export function gaps(times: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < times.length; i++) out.push(times[i]! - times[i - 1]!);
  return out;
}

/** Events per second for `count` events in `ms` milliseconds. */
export function perSecond(count: number, ms: number): number {
  if (!(ms > 0)) throw new RangeError(`a rate needs a positive duration; got ${ms} ms`);
  return (count * 1000) / ms;
}

/** The time `tasks` tasks of `taskMs` each take on `slots` slots with no overhead at all: tasks × taskMs / slots. */
export function idealMs(tasks: number, taskMs: number, slots: number): number {
  if (!(slots >= 1)) throw new RangeError(`slots must be ≥ 1; got ${slots}`);
  return (tasks * taskMs) / slots;
}

/** Scaling efficiency: ideal time / actual time (1 = no overhead; 0.5 = twice as long as ideal). */
export function efficiency(idealTimeMs: number, actualMs: number): number {
  if (!(actualMs > 0)) throw new RangeError(`actual time must be positive; got ${actualMs}`);
  return idealTimeMs / actualMs;
}

/** Speed-up over a baseline: baseline time / this time (2 = twice as fast). */
export function speedup(baselineMs: number, actualMs: number): number {
  if (!(actualMs > 0)) throw new RangeError(`actual time must be positive; got ${actualMs}`);
  return baselineMs / actualMs;
}

/** a / b, or null when either is missing or b is not positive (a ratio against nothing is not reported). */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return null;
  return a / b;
}

/** One round of a chain: when it was started (ms, any clock shared with `stored`) and the stored time of each step's end. */
export interface ChainRound {
  t0: number;
  stored: readonly number[];
}

/**
 * The step figures of a chain measured in rounds of `steps` steps: `step` summarises the gaps between consecutive
 * stored times of every round, pooled (rounds × (steps − 1) gaps; a round's first step is not a gap, it includes the
 * start); `perStepTotal` summarises, per round, (last stored − t0) / steps. Throws when a round does not have exactly
 * `steps` times or when its times go backwards (the chain's steps are dependent: each ends after the one before).
 */
export function chainFigures(rounds: readonly ChainRound[], steps: number): { step: Summary; perStepTotal: Summary } {
  if (!(Number.isInteger(steps) && steps >= 2)) throw new RangeError(`a chain needs at least 2 steps; got ${steps}`);
  const pooled: number[] = [];
  const totals: number[] = [];
  rounds.forEach((r, i) => {
    if (r.stored.length !== steps) throw new RangeError(`round ${i + 1}: ${r.stored.length} stored times for ${steps} steps`);
    const g = gaps(r.stored);
    if (g.some((x) => x < 0)) throw new RangeError(`round ${i + 1}: stored times go backwards`);
    pooled.push(...g);
    totals.push((r.stored.at(-1)! - r.t0) / steps);
  });
  return { step: summarize(pooled), perStepTotal: summarize(totals) };
}
