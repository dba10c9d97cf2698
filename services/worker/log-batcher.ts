// Turns an executor's output lines into TaskLog-sized batches: truncates long lines, rate-limits
// per task (counting what it drops) and flushes every `flushMs` or `maxLines`. Pure: clock and timers are injected.
import type { TaskLog } from "../../shared/protocol/index.ts";

export type LogStream = TaskLog["stream"];

/** One batch ready to publish; `batch` numbers start at 1 and never repeat within one batcher. */
export interface LogBatch {
  batch: number;
  stream: LogStream;
  lines: string[];
  /** Lines dropped by the rate limit since the previous batch. */
  dropped: number;
}

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface LogBatcherOptions {
  /** Longest forwarded line, truncation marker included. */
  maxLineChars: number;
  /** Sustained lines per second; bursts of up to this many pass at once (token bucket). */
  linesPerSecond: number;
  maxLines?: number;
  flushMs?: number;
  timers?: Timers;
  onBatch: (batch: LogBatch) => void;
}

/** Shortens `line` to at most `max` characters, ending with a marker that says how much was cut. */
export function truncateLine(line: string, max: number): string {
  if (line.length <= max) return line;
  // The marker's length depends on the number it prints; grow the cut until everything fits.
  let keep = max;
  for (;;) {
    const marker = `… [truncated ${line.length - keep} chars]`;
    if (keep + marker.length <= max) return line.slice(0, keep) + marker;
    keep = Math.max(0, max - marker.length);
    if (keep === 0) return marker.slice(0, max);
  }
}

/**
 * Collects lines of one task delivery. `push` never throws and never blocks; batches leave through
 * `onBatch` in order. `close` flushes what is left and, if lines were dropped after the last batch,
 * emits one marker line carrying that count. Safe to call `close` twice.
 */
export class LogBatcher {
  private readonly maxLines: number;
  private readonly flushMs: number;
  private readonly timers: Timers;
  private pending: { stream: LogStream; lines: string[] } | undefined;
  private timer: unknown;
  private tokens: number;
  private lastRefill: number;
  private dropped = 0;
  private batch = 0;
  private closed = false;
  /** Totals over the batcher's life, for the task's final log line. */
  readonly totals = { forwarded: 0, dropped: 0, truncated: 0 };

  constructor(private readonly options: LogBatcherOptions) {
    this.maxLines = options.maxLines ?? 100;
    this.flushMs = options.flushMs ?? 250;
    this.timers = options.timers ?? realTimers;
    this.tokens = options.linesPerSecond;
    this.lastRefill = this.timers.now();
  }

  push(stream: LogStream, line: string): void {
    if (this.closed) return;
    if (!this.take()) {
      this.dropped++;
      this.totals.dropped++;
      return;
    }
    const text = truncateLine(line, this.options.maxLineChars);
    if (text !== line) this.totals.truncated++;
    this.totals.forwarded++;
    // A batch holds one stream: switching streams flushes, which keeps the interleaving order.
    if (this.pending && this.pending.stream !== stream) this.flush();
    if (!this.pending) {
      this.pending = { stream, lines: [] };
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.flushMs);
    }
    this.pending.lines.push(text);
    if (this.pending.lines.length >= this.maxLines) this.flush();
  }

  /** Emits the pending lines now (no-op when there are none). */
  flush(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const pending = this.pending;
    if (!pending || pending.lines.length === 0) return;
    this.pending = undefined;
    const dropped = this.dropped;
    this.dropped = 0;
    this.options.onBatch({ batch: ++this.batch, stream: pending.stream, lines: pending.lines, dropped });
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.dropped > 0) {
      const dropped = this.dropped;
      this.dropped = 0;
      const line = `[baton] ${dropped} log line(s) dropped: limit is ${this.options.linesPerSecond} lines per second`;
      this.options.onBatch({ batch: ++this.batch, stream: "stderr", lines: [truncateLine(line, this.options.maxLineChars)], dropped });
    }
  }

  private take(): boolean {
    const now = this.timers.now();
    const rate = this.options.linesPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
