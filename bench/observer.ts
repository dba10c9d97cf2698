// Reads one scenario's status events as any client would: an ordered consumer on `<PREFIX>_EVENTS` from the first
// message. It keeps, per feature, the JetStream stored time (m.info.timestampNanos) of the events the figures need,
// and lets the scenario wait for a condition on them; it never guesses completion by sleeping.
import { DeliverPolicy, jetstream, type ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Names } from "../shared/subjects.ts";

/** Stored time of an event in milliseconds since the epoch, with sub-millisecond precision. */
export type StoredMs = number;

export interface FeatureEvents {
  accepted?: StoredMs;
  /** Event kind of the first terminal event and its stored time. */
  terminal?: { kind: string; at: StoredMs };
  /** Per task id, the stored time of each task event kind that matters here (first occurrence). */
  dispatched: Map<string, StoredMs>;
  started: Map<string, StoredMs>;
  completed: Map<string, StoredMs>;
  /** For task.completed: the event's own `at` (when the coordinator received the worker's result), ms. */
  completedAt: Map<string, number>;
  /** Git features: task.integrating (the worker's commit received, the merge asked of the integrator). */
  integrating: Map<string, StoredMs>;
  /** Git features: workspace.prepared and feature.integrated (the finish op done), by kind. */
  workspace: Map<string, StoredMs>;
}

const TERMINAL = new Set(["feature.completed", "feature.failed", "feature.rejected", "feature.cancelled"]);
/** Kinds that mean something went wrong in a benchmark (every benchmark task should complete). */
const BAD = new Set(["feature.failed", "feature.rejected", "feature.cancelled", "task.failed", "message.rejected", "task.retrying"]);
const TASK_KINDS = new Set(["task.dispatched", "task.started", "task.completed", "task.integrating"]);
const WORKSPACE_KINDS = new Set(["workspace.prepared", "feature.integrated"]);

/** Running counts over a set of features, kept as events arrive (so a wait over 10,000 features stays cheap). */
export class Group {
  accepted = 0;
  /** Features with at least one task.dispatched. */
  held = 0;
  /** Features that ended, and those of them that ended with feature.completed. */
  ended = 0;
  completedFeatures = 0;
  tasksStarted = 0;
  tasksCompleted = 0;
  constructor(readonly ids: readonly string[]) {}
  get size(): number {
    return this.ids.length;
  }
}

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
}

export class ScenarioObserver {
  readonly features = new Map<string, FeatureEvents>();
  /** Unexpected events (failures, rejections), kept for the report: "<featureId> <kind> <detail>". */
  readonly problems: string[] = [];
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private waiters: Waiter[] = [];
  private failure: Error | undefined;
  private readonly statusPrefix: string;
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly n: Names,
  ) {
    this.statusPrefix = `${n.prefix}.status.`;
  }

  /** Starts reading from the first stored event. The events stream must exist (the coordinator creates it). */
  async start(): Promise<void> {
    const js = jetstream(this.nc);
    const consumer = await js.consumers.get(this.n.streams.events, { filter_subjects: this.n.statusAll(), deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume({ max_messages: 1024 });
    this.messages = messages;
    this.loop = (async () => {
      try {
        for await (const m of messages) {
          this.take(m.subject, m.data, m.info.timestampNanos / 1e6);
          this.check();
        }
      } catch (e) {
        this.failure = e as Error;
      }
      this.check();
    })();
  }

  feature(id: string): FeatureEvents {
    let f = this.features.get(id);
    if (!f) {
      f = { dispatched: new Map(), started: new Map(), completed: new Map(), completedAt: new Map(), integrating: new Map(), workspace: new Map() };
      this.features.set(id, f);
    }
    return f;
  }

  /** Starts counting events of these features; call it before they are submitted. */
  group(ids: readonly string[]): Group {
    const g = new Group(ids);
    for (const id of ids) this.groups.set(id, g);
    return g;
  }

  private take(subject: string, data: Uint8Array, storedMs: number): void {
    // <prefix>.status.<featureId>.<kind…>: the feature id and kind are in the subject; only task events need the body.
    const rest = subject.slice(this.statusPrefix.length);
    const dot = rest.indexOf(".");
    const featureId = rest.slice(0, dot);
    const kind = rest.slice(dot + 1);
    const f = this.feature(featureId);
    const g = this.groups.get(featureId);
    if (kind === "feature.accepted" && f.accepted === undefined) {
      f.accepted = storedMs;
      if (g) g.accepted++;
    }
    if (TERMINAL.has(kind) && f.terminal === undefined) {
      f.terminal = { kind, at: storedMs };
      if (g) {
        g.ended++;
        if (kind === "feature.completed") g.completedFeatures++;
      }
    }
    if (WORKSPACE_KINDS.has(kind) && !f.workspace.has(kind)) f.workspace.set(kind, storedMs);
    if (TASK_KINDS.has(kind) || BAD.has(kind)) {
      let body: { taskId?: string; at?: string; error?: { code?: string; message?: string }; reason?: string; seq?: number };
      try {
        body = JSON.parse(new TextDecoder().decode(data)) as typeof body;
      } catch {
        this.problems.push(`${featureId} ${kind}: unreadable event`);
        return;
      }
      if (BAD.has(kind)) this.problems.push(`${featureId} ${kind}${body.taskId ? ` ${body.taskId}` : ""}: ${body.error?.code ?? ""} ${body.error?.message ?? body.reason ?? ""}`.trim());
      const taskId = body.taskId;
      if (taskId === undefined) return;
      const at = Date.parse(body.at ?? "");
      const put = (times: Map<string, number>): boolean => {
        if (times.has(taskId)) return false;
        times.set(taskId, storedMs);
        return true;
      };
      if (kind === "task.dispatched") {
        if (put(f.dispatched) && f.dispatched.size === 1 && g) g.held++;
      } else if (kind === "task.started") {
        if (put(f.started) && g) g.tasksStarted++;
      } else if (kind === "task.integrating") {
        put(f.integrating);
      } else if (kind === "task.completed" && put(f.completed)) {
        if (Number.isFinite(at)) f.completedAt.set(taskId, at);
        if (g) g.tasksCompleted++;
      }
    }
  }

  private check(): void {
    if (!this.waiters.length) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.ready()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /**
   * Resolves once `ready()` holds (checked after every event). Rejects after `timeoutMs` with `what` and
   * `progress()` in the message, when the consumer fails, or at once when an unexpected event was seen.
   * `onTick` is called every `tickMs` while waiting (progress lines).
   */
  until(
    what: string,
    ready: () => boolean,
    o: { timeoutMs: number; progress: () => string; onTick?: (line: string) => void; tickMs?: number; abortIf?: () => string | undefined },
  ): Promise<void> {
    const broken = () => {
      const abort = o.abortIf?.();
      if (abort) return abort;
      if (this.failure) return `event consumer failed: ${this.failure.message}`;
      return this.problems.length ? `unexpected events: ${this.problems.slice(0, 5).join("; ")}` : undefined;
    };
    const early = broken();
    if (early) return Promise.reject(new Error(`${what}: ${early}`));
    if (ready()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let lastTick = Date.now();
      const finish = (err?: Error) => {
        clearTimeout(timer);
        clearInterval(tick);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        if (err) reject(err);
        else resolve();
      };
      const waiter: Waiter = {
        ready: () => {
          const why = broken();
          if (why) {
            queueMicrotask(() => finish(new Error(`${what}: ${why}`)));
            return false;
          }
          return ready();
        },
        resolve: () => finish(),
      };
      const timer = setTimeout(() => finish(new Error(`${what}: not done within ${Math.round(o.timeoutMs / 1000)} s (${o.progress()})`)), o.timeoutMs);
      // Every 250 ms: a process that died (nothing more will arrive), and a progress line every `tickMs`.
      const tick = setInterval(() => {
        const why = broken();
        if (why) return finish(new Error(`${what}: ${why}`));
        if (o.onTick && Date.now() - lastTick >= (o.tickMs ?? 3000)) {
          lastTick = Date.now();
          o.onTick(o.progress());
        }
      }, 250);
      this.waiters.push(waiter);
    });
  }

  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }
}
