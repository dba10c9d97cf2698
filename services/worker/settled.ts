// Task messages this worker finished: their result published and the message acked. JetStream delivers such a message
// again when the ack was lost (a nats-server restart just after it, say). Running it again would redo the attempt —
// in a git feature a fresh worktree resets the task's branch while its gate runs check it out (the chaos run failed a
// feature for it) — so a redelivery of a message in this memory is acked again and not run. Another worker's
// redelivery is not seen here; the coordinator still ignores a second result of a settled attempt.

const DEFAULT_LIMIT = 10_000;

/** What identifies one delivery's message across redeliveries: its stream sequence and the run it names. */
export interface SettledKey {
  seq: number;
  featureId: string;
  taskId: string;
  attempt: number;
  /** The gate or workspace operation it runs, if any (a gate run shares its task's id and attempt). */
  run?: string | undefined;
}

/** A bounded memory (oldest forgotten first) of the messages this process settled. */
export class SettledMessages {
  private readonly keys = new Set<string>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  private static keyOf(key: SettledKey): string {
    return `${key.seq}:${key.featureId}/${key.taskId}#${key.attempt}${key.run ? `/${key.run}` : ""}`;
  }

  /** Remembers a message whose result was published and which was acked. */
  add(key: SettledKey): void {
    this.keys.add(SettledMessages.keyOf(key));
    for (const oldest of this.keys) {
      if (this.keys.size <= this.limit) break;
      this.keys.delete(oldest);
    }
  }

  /** True when this process already settled this very message. */
  has(key: SettledKey): boolean {
    return this.keys.has(SettledMessages.keyOf(key));
  }
}
