// Seeded randomness for the chaos run: the same --seed gives the same features, submission times and kill schedule.

/** FNV-1a, 32 bits. Also used (copied) by the agent script to derive its sleep from the task id. */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: small, fast, good enough to draw a test plan. Not for anything secret. */
export class Rng {
  private state: number;

  constructor(seed: string) {
    this.state = hash32(seed) || 1;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let mixed = (this.state = (this.state + 0x6d2b79f5) | 0);
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Real number in [lo, hi). */
  float(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  pick<T>(items: readonly T[]): T {
    if (!items.length) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `count` distinct items, in their original order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const order = items.map((_, index) => index);
    for (let index = order.length - 1; index > 0; index--) {
      const other = Math.floor(this.next() * (index + 1));
      [order[index], order[other]] = [order[other]!, order[index]!];
    }
    return order.slice(0, count).sort((left, right) => left - right).map((index) => items[index]!);
  }
}
