// The data a feature's trace is built from (planned spans) and their deterministic ids: the same feature history
// always gives the same trace id and span ids, so a trace exported twice (after a crash) repeats itself.
import { createHash } from "node:crypto";

export type SpanAttributes = Record<string, string | number | boolean>;

/** A span to emit: ids, parent, explicit times (ms since the epoch), attributes, status and timed events. */
export interface PlannedSpan {
  name: string;
  traceId: string;
  spanId: string;
  /** Absent for the feature's root span. */
  parentSpanId?: string;
  startMs: number;
  endMs: number;
  attributes: SpanAttributes;
  status: { code: "ok" | "error" | "unset"; message?: string };
  events: { name: string; atMs: number; attributes: SpanAttributes }[];
}

/** Hex of the first `chars` characters of sha256(text); never all zeros (an invalid id in OpenTelemetry). */
function digest(text: string, chars: number): string {
  const hex = createHash("sha256").update(text).digest("hex").slice(0, chars);
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/**
 * Ids of one feature's trace: a function of the deployment's `namespace` (its prefix), the feature id and the time
 * it was accepted (so a feature id reused after its history expired gets another trace), and each span's `key`.
 * Pure; the same inputs give the same ids.
 */
export class SpanIds {
  readonly traceId: string;
  private readonly seed: string;
  private readonly used = new Map<string, number>();

  constructor(namespace: string, featureId: string, acceptedAt: string) {
    this.seed = `${namespace}\n${featureId}\n${acceptedAt}`;
    this.traceId = digest(`${this.seed}\ntrace`, 32);
  }

  /**
   * The span id for `key` (e.g. `task/impl/1`); a key asked for again gets its next occurrence (`#2`, …), so that
   * two spans never share an id while a replay of the same history still gives the same ids in the same order.
   */
  next(key: string): string {
    const count = (this.used.get(key) ?? 0) + 1;
    this.used.set(key, count);
    return digest(`${this.seed}\n${key}#${count}`, 16);
  }
}
