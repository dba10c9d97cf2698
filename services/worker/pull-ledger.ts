// The puller's bookkeeping, pure: how many tasks this worker holds (busy slots) and how many it has asked
// JetStream for and not received yet (pending), so that it asks only for free slots that no open request covers.
// Invariant in normal operation: busy + pending ≤ slots (a busy worker never hoards tasks).

/** What one status message on the pull inbox means for the worker's requests. */
export type PullStatus =
  /** Not the end of anything (idle heartbeat, flow control). */
  | { kind: "ignore" }
  /** One pull request ended: its `remaining` tasks will not come (Nats-Pending-Messages; absent when the server does not say). */
  | { kind: "ended"; code: number; description: string; remaining: number | undefined; expected: boolean }
  /** Every pull request on the consumer ended (it was deleted, or its leader changed): the consumer must be checked. */
  | { kind: "consumerGone"; code: number; description: string };

/**
 * Reads a status the server sent to a pull request's reply subject. `expected` is true for the normal end
 * of an idle request (408 Request Timeout); any other end (409 Exceeded MaxWaiting, 400, 503 …) means
 * the request was refused and pulling again should wait a little.
 */
export function classifyStatus(code: number, description: string, pendingHeader: string | null | undefined): PullStatus {
  const lower = description.toLowerCase();
  if (code === 100) return { kind: "ignore" };
  if (code === 409 && /consumer deleted|leadership change|stream deleted/.test(lower)) return { kind: "consumerGone", code, description };
  const pending = pendingHeader ? Number.parseInt(pendingHeader, 10) : NaN;
  const remaining = Number.isInteger(pending) && pending >= 0 ? pending : undefined;
  return { kind: "ended", code, description, remaining, expected: code === 408 };
}

export interface LedgerCounts {
  slots: number;
  busy: number;
  pending: number;
  openRequests: number;
}

export class PullLedger {
  /** Tasks delivered to this worker that hold a slot (running, or about to). */
  private busy = 0;
  /** Tasks asked for by open pull requests and not delivered yet. */
  private pending = 0;
  /** Open pull requests by id, with the batch each asked for. */
  private readonly open = new Map<string, number>();
  private nextId = 0;
  private lastSentAt = -Infinity;

  /**
   * @param slots how many tasks this worker runs at once
   * @param deadlineMs after this long from the last request sent, every request has surely ended
   *   (its expiry plus a margin): tasks still pending then were lost with their request
   */
  constructor(
    readonly slots: number,
    private readonly deadlineMs: number,
  ) {}

  /** How many tasks to ask for now: free slots that no open request covers (0 when there are none). */
  want(): number {
    return Math.max(0, this.slots - this.busy - this.pending);
  }

  /** Records a pull request for `batch` tasks sent at `now`; returns its id (the last token of its reply subject). */
  sent(batch: number, now: number): string {
    const id = String(++this.nextId);
    this.open.set(id, batch);
    this.pending += batch;
    this.lastSentAt = now;
    return id;
  }

  /**
   * A task was delivered. `counted` is false for a delivery to a request this ledger already forgot (one
   * sent before a reconnect). Returns true when the task takes a free slot, false when there is none:
   * then the caller hands it back at once (never reached while the invariant holds).
   */
  delivered(counted = true): boolean {
    if (counted && this.pending > 0) {
      this.pending--;
      // Deliveries are not attributed to requests (the server spreads them), but with nothing pending every open request is done.
      if (this.pending === 0) this.open.clear();
    }
    if (this.busy >= this.slots) return false;
    this.busy++;
    return true;
  }

  /** A task that held a slot is finished (acked, nak'ed or left for redelivery). */
  finished(): void {
    this.busy = Math.max(0, this.busy - 1);
  }

  /**
   * Request `id` ended with a status. `remaining` is what it had not delivered (the Nats-Pending-Messages
   * header); without it, its whole batch is taken as undelivered (true for a request refused on arrival).
   * An id this ledger no longer knows changes nothing. Returns whether the id was known.
   */
  ended(id: string, remaining: number | undefined): boolean {
    const batch = this.open.get(id);
    if (batch === undefined) return false;
    this.open.delete(id);
    this.pending = Math.max(0, this.pending - Math.min(batch, remaining ?? batch));
    if (this.pending === 0) this.open.clear();
    return true;
  }

  /** True while some request may still deliver tasks. */
  hasOpenRequests(): boolean {
    return this.open.size > 0;
  }

  /** Every open request is gone (reconnect, consumer deleted, request lost): forget them all. Busy slots stay. */
  reset(): void {
    this.pending = 0;
    this.open.clear();
  }

  /**
   * The latest request sent, while tasks are still pending: its id's number and when it was sent (undefined when
   * nothing is pending). A caller that checks something slow can tell afterwards whether another was sent meanwhile.
   */
  latestPending(): { id: number; at: number } | undefined {
    return this.pending > 0 ? { id: this.nextId, at: this.lastSentAt } : undefined;
  }

  /** True when tasks are still pending although every open request should have ended by `now`: they were lost. */
  overdue(now: number): boolean {
    return this.pending > 0 && now - this.lastSentAt > this.deadlineMs;
  }

  counts(): LedgerCounts {
    return { slots: this.slots, busy: this.busy, pending: this.pending, openRequests: this.open.size };
  }
}
