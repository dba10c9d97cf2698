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
  /** Git features: what checkpoints, conflicts, rollbacks, the finish and refusals say (gitFacts). */
  git?: GitFacts | undefined;
  /** Plans, approvals and questions (planningFacts). */
  planning?: PlanningFacts | undefined;
}

/** The fields of planning events (and of feature.accepted) the planning checks read. */
export interface PlanningFacts {
  /** question.*: which question, what about (task, escalation, budget), the answer and how it came. */
  questionId?: string | undefined;
  about?: string | undefined;
  answer?: string | undefined;
  via?: string | undefined;
  /** feature.accepted, plan.ready: whether the plan waits for approval; feature.accepted: planned by the planner. */
  approval?: string | undefined;
  planner?: boolean | undefined;
  /** feature.accepted, plan.ready: each task, what it waits for, and whether it runs a stream's gates. */
  tasks?: { id: string; dependsOn: string[]; streamGate?: boolean | undefined }[] | undefined;
}

/** The fields of workspace events (and message.rejected) the git checks read. */
export interface GitFacts {
  /** checkpoint.created: the checkpoint commit. */
  commit?: string | undefined;
  /** feature.rolled_back: the checkpoint gone back to, its task, and the tasks pending again. */
  to?: string | undefined;
  toTask?: string | undefined;
  tasks?: string[] | undefined;
  /** task.conflict: the fix task made for it. */
  fixTaskId?: string | undefined;
  /** feature.integrated: the integration branch's head. */
  head?: string | undefined;
  /** message.rejected: the subject of the refused message. */
  subject?: string | undefined;
}

const GIT_KINDS = new Set(["checkpoint.created", "feature.rolled_back", "task.conflict", "feature.integrated", "message.rejected"]);
const PLANNING_KINDS = new Set(["feature.accepted", "plan.ready", "plan.invalid", "plan.approved", "question.asked", "question.answered", "question.escalated"]);

export const TERMINAL_KINDS = new Set(["feature.completed", "feature.failed", "feature.rejected", "feature.cancelled"]);

export class EventObserver {
  readonly events: SeenEvent[] = [];
  invalid = 0;
  restarts = 0;
  /** Feature id → the kind of its first terminal event. */
  readonly terminal = new Map<string, string>();
  readonly accepted = new Set<string>();
  /** Features whose workspace was finished (feature.integrated: worktrees and task branches removed). */
  readonly integrated = new Set<string>();
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
        for await (const msg of this.messages) {
          const seq = msg.info.streamSequence;
          if (seq <= this.lastStreamSeq) continue;
          this.lastStreamSeq = seq;
          this.take(msg.data, seq, Math.floor(msg.info.timestampNanos / 1e6));
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
    const ev = parseStatusEvent(data, streamSeq, ts);
    if (!ev) {
      this.invalid++;
      return;
    }
    this.events.push(ev);
    if (ev.seq === 0) return;
    if (ev.kind === "feature.accepted") this.accepted.add(ev.featureId);
    if (ev.kind === "feature.integrated") this.integrated.add(ev.featureId);
    if (TERMINAL_KINDS.has(ev.kind) && !this.terminal.has(ev.featureId)) this.terminal.set(ev.featureId, ev.kind);
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

/**
 * A status event as the report needs it (read leniently: kinds added later still count), from a message's bytes;
 * undefined when it is not JSON or lacks featureId, seq or kind. `ts`: when the stream stored it (or it was seen).
 */
export function parseStatusEvent(data: Uint8Array, streamSeq: number, ts: number): SeenEvent | undefined {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const str = (key: string) => (typeof event[key] === "string" ? (event[key] as string) : undefined);
  const num = (key: string) => (typeof event[key] === "number" ? (event[key] as number) : undefined);
  const featureId = str("featureId");
  const seq = num("seq");
  const kind = str("kind");
  if (featureId === undefined || seq === undefined || kind === undefined) return undefined;
  const err = event.error as { code?: unknown; message?: unknown } | undefined;
  const detail = err ? `${String(err.code ?? "")} ${String(err.message ?? "")}`.trim() : str("reason");
  return {
    featureId, seq, kind, taskId: str("taskId"), attempt: num("attempt"), workerId: str("workerId"),
    at: Date.parse(str("at") ?? "") || ts, ts, streamSeq, detail, scope: str("scope"),
    ...(kind === "feature.accepted" || kind === "plan.ready" ? { gated: namesGates(event) } : {}),
    ...(GIT_KINDS.has(kind) ? { git: gitFacts(event, str) } : {}),
    ...(PLANNING_KINDS.has(kind) ? { planning: planningFacts(event, str) } : {}),
  };
}

/** Whether an accepted feature (its event) names a gate, for itself or for one of its tasks. */
function namesGates(event: Record<string, unknown>): boolean {
  const some = (gates: unknown) => Array.isArray(gates) && gates.length > 0;
  return some(event.gates) || (Array.isArray(event.tasks) && event.tasks.some((task: { gates?: unknown }) => some(task.gates)));
}

/** The planning facts of an event (planningFacts' fields that the event has). */
function planningFacts(event: Record<string, unknown>, str: (key: string) => string | undefined): PlanningFacts {
  const ids = (value: unknown) => (Array.isArray(value) ? value.filter((id): id is string => typeof id === "string") : []);
  const tasks = Array.isArray(event.tasks)
    ? event.tasks.flatMap((task: { id?: unknown; dependsOn?: unknown; streamGate?: unknown }) =>
      (typeof task.id === "string" ? [{ id: task.id, dependsOn: ids(task.dependsOn), ...(task.streamGate === true ? { streamGate: true } : {}) }] : []))
    : undefined;
  const planner = event.planning !== undefined ? true : undefined;
  return { questionId: str("questionId"), about: str("about"), answer: str("answer"), via: str("via"), approval: str("approval"), planner, tasks };
}

/** The git facts of a workspace event (gitFacts' fields that the event has). */
function gitFacts(event: Record<string, unknown>, str: (key: string) => string | undefined): GitFacts {
  const tasks = Array.isArray(event.tasks) ? event.tasks.filter((task): task is string => typeof task === "string") : undefined;
  return { commit: str("commit"), to: str("to"), toTask: str("toTask"), tasks, fixTaskId: str("fixTaskId"), head: str("head"), subject: str("subject") };
}
