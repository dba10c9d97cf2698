// Arms in-memory timers from deadlines stored in feature snapshots. The deadlines are the truth;
// these timers only decide when to send `timer.fired`, so losing them (a crash) loses nothing.
import type { Logger } from "../../../shared/logging.ts";

export class Timers {
  private readonly due = new Map<string, number>();
  private readonly firing = new Set<string>();
  private handle: NodeJS.Timeout | undefined;

  constructor(
    private readonly fire: (featureId: string) => Promise<void>,
    private readonly log: Logger,
    private readonly tickMs = 500,
  ) {}

  /** Sets the feature's next deadline (ISO time), or clears it with undefined. Safe to call often. */
  arm(featureId: string, deadline: string | undefined): void {
    if (deadline === undefined) this.due.delete(featureId);
    else this.due.set(featureId, Date.parse(deadline));
  }

  get size(): number {
    return this.due.size;
  }

  start(): void {
    this.handle ??= setInterval(() => this.tick(), this.tickMs);
  }

  stop(): void {
    if (this.handle) clearInterval(this.handle);
    this.handle = undefined;
  }

  private tick(): void {
    const now = Date.now();
    for (const [featureId, at] of this.due) {
      if (at > now || this.firing.has(featureId)) continue;
      this.due.delete(featureId);
      this.firing.add(featureId);
      this.fire(featureId)
        .catch((err) => {
          this.log.error({ err, featureId }, "deadline check failed; retrying");
          this.due.set(featureId, Date.now() + 1000);
        })
        .finally(() => this.firing.delete(featureId));
    }
  }
}
