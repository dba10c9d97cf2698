// Reads every status event of the run from the events stream, as any client would: an ordered consumer
// from the first message, re-created after the last stream sequence seen if it ever stops (nats restart).
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Names } from "../../shared/subjects.ts";

/** What the chaos report needs from a status event (read leniently: kinds added later still count). */
export interface SeenEvent {
  featureId: string;
  seq: number;
  kind: string;
  taskId?: string | undefined;
  attempt?: number | undefined;
  workerId?: string | undefined;
  /** The event's own `at` (the coordinator's clock when it produced it). */
  at: number;
  /** When the stream stored it (its publication), ms since the epoch. */
  ts: number;
  streamSeq: number;
  /** For task.failed / feature.failed / message.rejected: the error code or reason. */
  detail?: string | undefined;
  /** For gate.passed / gate.failed: task, feature or baseline. */
  scope?: string | undefined;
  /** For feature.accepted: whether the feature or any of its tasks names a gate. */
  gated?: boolean | undefined;
}

export const TERMINAL_KINDS = new Set(["feature.completed", "feature.failed", "feature.rejected", "feature.cancelled"]);

export class EventObserver {
  readonly events: SeenEvent[] = [];
  invalid = 0;
  restarts = 0;
  /** Feature id → the kind of its first terminal event. */
  readonly terminal = new Map<string, string>();
  readonly accepted = new Set<string>();
  private lastStreamSeq = 0;
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly n: Names,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const js = jetstream(this.nc);
    while (!this.stopped) {
      try {
        const from = this.lastStreamSeq;
        const consumer = await js.consumers.get(this.n.streams.events, {
          filter_subjects: this.n.statusAll(),
          ...(from ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from + 1 } : { deliver_policy: DeliverPolicy.All }),
        });
        this.messages = await consumer.consume({ max_messages: 512 });
        for await (const m of this.messages) {
          const seq = m.info.streamSequence;
          if (seq <= this.lastStreamSeq) continue;
          this.lastStreamSeq = seq;
          this.take(m.data, seq, Math.floor(m.info.timestampNanos / 1e6));
        }
      } catch {
        // the server went away or the consumer was lost; start again after the last message seen
      }
      if (!this.stopped) {
        this.restarts++;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private take(data: Uint8Array, streamSeq: number, ts: number): void {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
    } catch {
      this.invalid++;
      return;
    }
    const str = (k: string) => (typeof e[k] === "string" ? (e[k] as string) : undefined);
    const num = (k: string) => (typeof e[k] === "number" ? (e[k] as number) : undefined);
    const featureId = str("featureId");
    const seq = num("seq");
    const kind = str("kind");
    if (featureId === undefined || seq === undefined || kind === undefined) {
      this.invalid++;
      return;
    }
    const err = e.error as { code?: unknown; message?: unknown } | undefined;
    const detail = err ? `${String(err.code ?? "")} ${String(err.message ?? "")}`.trim() : str("reason");
    const ev: SeenEvent = {
      featureId, seq, kind, taskId: str("taskId"), attempt: num("attempt"), workerId: str("workerId"),
      at: Date.parse(str("at") ?? "") || ts, ts, streamSeq, detail, scope: str("scope"),
      ...(kind === "feature.accepted" ? { gated: namesGates(e) } : {}),
    };
    this.events.push(ev);
    if (seq === 0) return;
    if (kind === "feature.accepted") this.accepted.add(featureId);
    if (TERMINAL_KINDS.has(kind) && !this.terminal.has(featureId)) this.terminal.set(featureId, kind);
  }

  /** True when every message the stream holds now has been read. */
  async caughtUp(): Promise<boolean> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.streams.info(this.n.streams.events);
    return this.lastStreamSeq >= info.state.last_seq;
  }

  /** Drops the current consumer; the loop re-creates it after the last message seen. */
  kick(): void {
    this.messages?.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    await this.loop;
  }
}

/** Whether an accepted feature (its event) names a gate, for itself or for one of its tasks. */
function namesGates(event: Record<string, unknown>): boolean {
  const some = (gates: unknown) => Array.isArray(gates) && gates.length > 0;
  return some(event.gates) || (Array.isArray(event.tasks) && event.tasks.some((task: { gates?: unknown }) => some(task.gates)));
}
