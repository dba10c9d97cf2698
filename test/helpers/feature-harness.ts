// Drives the pure feature machine as the coordinator's loop does, for unit tests: every step starts from the
// JSON-round-tripped snapshot (as a checkpoint stores it), its outbox is "published" and then confirmed.
// Worker messages are built from the task messages the machine published.
import { step, type Stepped, type StoredFeature } from "../../services/coordinator/domain/index.ts";
import type { FeatureEvent } from "../../services/coordinator/domain/index.ts";
import type { OutboxEntry } from "../../services/coordinator/domain/index.ts";
import { StatusEvent, TaskAssigned, type FeatureRequest, type GateReport, type TaskResult } from "../../shared/protocol/index.ts";

export const T0 = Date.parse("2025-01-01T00:00:00.000Z");
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class FeatureHarness {
  stored: StoredFeature | null = null;
  last!: Stepped;
  private clock = 0;
  /** Every outbox entry ever published, in order. */
  readonly published: OutboxEntry[] = [];
  constructor(readonly featureId = "feat") {}

  now(): string {
    return new Date(T0 + ++this.clock * 1000).toISOString();
  }
  /** Applies `events`, publishes the outbox and confirms it. */
  send(...events: FeatureEvent[]): Stepped {
    this.last = step(this.featureId, this.stored && json(this.stored), events);
    this.stored = json(this.last.stored);
    const out = this.last.context.outbox;
    if (out.length) {
      this.published.push(...out);
      this.last = step(this.featureId, json(this.stored), [{ type: "outbox.flushed", msgIds: out.map((e) => e.msgId) }]);
      this.stored = json(this.last.stored);
    }
    return this.last;
  }
  /** Takes the request as a client writes it (zod defaults not filled in: the machine must not rely on them). */
  submit(req: Record<string, unknown>): Stepped {
    return this.send({ type: "feature.submit", request: { ...req, id: this.featureId } as FeatureRequest, at: this.now() });
  }
  get events(): StatusEvent[] {
    return this.published.flatMap((e) => (e.to === "status" ? [StatusEvent.parse(e.payload)] : []));
  }
  get kinds(): string[] {
    return this.events.map((e) => e.kind);
  }
  get assigned(): TaskAssigned[] {
    return this.published.flatMap((e) => (e.to === "task" ? [TaskAssigned.parse(e.payload)] : []));
  }
  /** The latest task message matching `pred`. */
  latest(pred: (a: TaskAssigned) => boolean): TaskAssigned {
    const a = this.assigned.filter(pred).at(-1);
    if (!a) throw new Error("no such task message");
    return a;
  }
  /** The worker's result for the task's work (its latest non-gate message). */
  work(taskId: string, outcome: "completed" | "failed" = "completed"): Stepped {
    const a = this.latest((x) => x.taskId === taskId && !x.gate);
    const failed = outcome === "failed" ? { exitCode: 2, error: { name: "ExitCode", code: "EXIT_CODE", message: "exited with code 2" } } : {};
    const msg: TaskResult = { ...resultOf(a, outcome, this.now()), summary: "did it", ...failed };
    return this.send({ type: "task.result", at: this.now(), msg });
  }
  /** The qa (or reviewer) worker's result for the latest run of gate `name` (of `taskId`, if given). */
  gate(name: string, passed: boolean, extra: Partial<GateReport> = {}, taskId?: string): Stepped {
    const a = this.latest((x) => x.gate?.name === name && (!taskId || x.taskId === taskId));
    const report: GateReport = {
      ...a.gate!, passed, expect: "pass", command: ["npm", "test"], exitCode: passed ? 0 : 1, durationMs: 1200,
      outputTail: passed ? "ok" : "not ok 1 - adds", ...(passed ? {} : { reason: "exit code 1" }), ...extra,
    };
    return this.send({ type: "task.result", at: this.now(), msg: { ...resultOf(a, passed ? "completed" : "failed", this.now()), gate: a.gate, gateReport: report } });
  }
  timer(atMs: number): Stepped {
    return this.send({ type: "timer.fired", at: new Date(atMs).toISOString() });
  }
}

function resultOf(a: TaskAssigned, outcome: "completed" | "failed", now: string): TaskResult {
  return { type: "baton.v1.task_result", featureId: a.featureId, taskId: a.taskId, attempt: a.attempt, role: a.role, workerId: `w-${a.role}`, outcome, startedAt: a.dispatchedAt, finishedAt: now };
}
