// A feature's trace as data, built from its whole status history once it ended: a root span for the feature, a span
// per task attempt, per gate run and per fix round (with the fix task's attempts under it). Pure: events in, spans out.
import type { StatusEvent } from "../protocol/events.ts";
import { SpanIds, type PlannedSpan, type SpanAttributes } from "./span-ids.ts";

export type SpanTree = { ok: true; traceId: string; spans: PlannedSpan[] } | { ok: false; reason: string };

const ENDS = new Set<string>(["feature.completed", "feature.failed", "feature.cancelled"]);

/** True for the events that end a feature that was accepted (its trace can be built once one is published). */
export function endsFeature(event: Pick<StatusEvent, "kind" | "seq">): boolean {
  return event.seq > 0 && ENDS.has(event.kind);
}

/**
 * The history from feature.accepted (seq 1) to the event that ended the feature, each seq once, in order; or why it
 * cannot give a whole trace (not ended yet, or events missing: e.g. the events stream's max age removed the start).
 */
export function completeHistory(history: readonly StatusEvent[]): { ok: true; events: StatusEvent[] } | { ok: false; reason: string } {
  const bySeq = new Map<number, StatusEvent>();
  for (const event of history) if (event.seq > 0 && !bySeq.has(event.seq)) bySeq.set(event.seq, event);
  const ordered = [...bySeq.values()].sort((left, right) => left.seq - right.seq);
  const end = ordered.findIndex((event) => ENDS.has(event.kind));
  if (end < 0) return { ok: false, reason: "the feature has not ended" };
  if (ordered[0]?.kind !== "feature.accepted" || ordered[0].seq !== 1) return { ok: false, reason: "its history does not start with feature.accepted (seq 1)" };
  const events = ordered.slice(0, end + 1);
  const gap = events.findIndex((event, index) => event.seq !== index + 1);
  if (gap >= 0) return { ok: false, reason: `its history misses events before seq ${events[gap]!.seq}` };
  return { ok: true, events };
}

/**
 * The span tree of a feature from its history (any order, duplicates allowed). `namespace` (the deployment's prefix)
 * goes into the ids. Deterministic: the same history gives the same spans with the same ids.
 */
export function buildSpanTree(history: readonly StatusEvent[], opts: { namespace: string }): SpanTree {
  const checked = completeHistory(history);
  if (!checked.ok) return checked;
  const builder = new TreeBuilder(checked.events, opts.namespace);
  return { ok: true, traceId: builder.ids.traceId, spans: builder.build() };
}

type Event<K extends StatusEvent["kind"]> = Extract<StatusEvent, { kind: K }>;
type GateEvent = Extract<StatusEvent, { kind: "gate.passed" | "gate.failed" }>;
type TaskEvent = Extract<StatusEvent, { taskId: string; attempt: number; role: string }>;

const ms = (at: string): number => Date.parse(at);

function usageAttributes(usage: Event<"task.completed">["usage"]): SpanAttributes {
  if (!usage) return {};
  return {
    "baton.usage.input_tokens": usage.inputTokens, "baton.usage.output_tokens": usage.outputTokens,
    ...(usage.costUsd !== undefined ? { "baton.usage.cost_usd": usage.costUsd } : {}),
    ...(usage.model ? { "baton.usage.model": usage.model } : {}),
  };
}

function gateAttributes(event: GateEvent): SpanAttributes {
  return {
    "baton.gate": event.gate, "baton.gate.scope": event.scope, "baton.gate.run": event.run, "baton.gate.passed": event.kind === "gate.passed",
    "baton.gate.expect": event.expect, "baton.worker_id": event.workerId, "baton.gate.duration_ms": event.durationMs,
    ...(event.exitCode !== null ? { "baton.gate.exit_code": event.exitCode } : {}),
    ...(event.taskId ? { "baton.task_id": event.taskId } : {}),
    ...(event.attempt ? { "baton.attempt": event.attempt } : {}),
    ...(event.tests ? { "baton.tests.passed": event.tests.passed, "baton.tests.failed": event.tests.failed, "baton.tests.total": event.tests.total } : {}),
    ...(event.coverage ? { "baton.coverage.pct": event.coverage.pct, "baton.coverage.min": event.coverage.min } : {}),
    ...(event.review ? { "baton.review.verdict": event.review.verdict } : {}),
    ...(event.reason ? { "baton.gate.reason": event.reason } : {}),
  };
}

/** Walks the events once, opening and ending spans; `build` returns them parents first. */
class TreeBuilder {
  readonly ids: SpanIds;
  private readonly spans: PlannedSpan[] = [];
  private readonly open = new Set<PlannedSpan>();
  private readonly root: PlannedSpan;
  private readonly featureId: string;
  /** The latest span of each task attempt, by `taskId/attempt`. */
  private readonly attempts = new Map<string, PlannedSpan>();
  /** The fix round a fix task belongs to, by the fix task's id. */
  private readonly fixRounds = new Map<string, PlannedSpan>();
  private readonly titles = new Map<string, string>();

  constructor(private readonly events: StatusEvent[], namespace: string) {
    const accepted = events[0] as Event<"feature.accepted">;
    this.featureId = accepted.featureId;
    this.ids = new SpanIds(namespace, accepted.featureId, accepted.at);
    for (const task of accepted.tasks) this.titles.set(task.id, task.title);
    this.root = this.start(`feature ${accepted.title}`, "feature", undefined, ms(accepted.at), {
      "baton.feature.title": accepted.title, "baton.namespace": namespace, "baton.max_parallel": accepted.maxParallel,
      ...(accepted.template ? { "baton.template": accepted.template } : {}),
    });
  }

  build(): PlannedSpan[] {
    for (const event of this.events.slice(1)) this.apply(event);
    return this.spans;
  }

  private start(name: string, key: string, parent: PlannedSpan | undefined, startMs: number, attributes: SpanAttributes): PlannedSpan {
    const span: PlannedSpan = {
      name, traceId: this.ids.traceId, spanId: this.ids.next(key), ...(parent ? { parentSpanId: parent.spanId } : {}),
      startMs, endMs: startMs, attributes: { "baton.feature_id": this.featureId, ...attributes }, status: { code: "unset" }, events: [],
    };
    this.spans.push(span);
    this.open.add(span);
    return span;
  }

  private end(span: PlannedSpan, atMs: number, status: PlannedSpan["status"], attributes: SpanAttributes = {}): void {
    if (!this.open.delete(span)) return;
    span.endMs = Math.max(span.startMs, atMs);
    span.status = status;
    Object.assign(span.attributes, attributes);
  }

  private note(span: PlannedSpan, name: string, at: string, attributes: SpanAttributes = {}): void {
    span.events.push({ name, atMs: ms(at), attributes });
  }

  private apply(event: StatusEvent): void {
    switch (event.kind) {
      case "plan.ready":
        for (const task of event.tasks) this.titles.set(task.id, task.title);
        return this.note(this.root, "plan ready", event.at, { "baton.plan.source": event.source, "baton.plan.tasks": event.tasks.length });
      case "task.dispatched": return void this.attempt(event, true);
      case "task.started":
        return this.onAttempt(event, (span) => {
          span.attributes["baton.worker_id"] = event.workerId;
          this.note(span, "started", event.at, { "baton.worker_id": event.workerId, "baton.delivery": event.delivery });
        });
      case "task.verifying": return this.onAttempt(event, (span) => this.note(span, "verifying", event.at, { "baton.gates": event.gates.join(",") }));
      case "task.integrating": return this.onAttempt(event, (span) => this.note(span, "integrating", event.at));
      case "checkpoint.created": return this.onAttempt(event, (span) => this.note(span, "checkpoint", event.at, { "baton.commit": event.commit, "baton.files": event.files.length }));
      case "scope.violation": return this.onAttempt(event, (span) => this.note(span, "scope violation", event.at, { "baton.files": event.files.join(","), "baton.strict": event.strict }));
      case "artifact.invalid": return this.onAttempt(event, (span) => this.note(span, "artifact invalid", event.at, { "baton.problems": event.problems.length }));
      case "task.completed": return this.taskEnded(event, "completed", { code: "ok" }, { "baton.duration_ms": event.durationMs, ...usageAttributes(event.usage) });
      case "task.failed":
        return this.taskEnded(event, "failed", { code: "error", message: event.error.message }, {
          "baton.error.code": event.error.code ?? event.error.name, ...(event.workerId ? { "baton.worker_id": event.workerId } : {}), ...usageAttributes(event.usage),
        });
      case "task.retrying": return this.taskEnded(event, "retrying", { code: "error", message: event.reason }, { "baton.next_attempt": event.nextAttempt });
      case "task.fixing": return this.fixing(event);
      case "task.conflict": return this.conflict(event);
      case "gate.passed":
      case "gate.failed": return this.gate(event);
      case "feature.verifying": return this.note(this.root, "verifying", event.at, { "baton.gates": event.gates.join(",") });
      case "feature.paused":
      case "feature.resumed":
      case "question.asked":
      case "question.answered":
      case "budget.exceeded":
      case "workspace.prepared":
      case "feature.rolled_back": return this.note(this.root, event.kind, event.at);
      case "feature.completed": return this.finish(event, { code: "ok" }, {});
      case "feature.failed": return this.finish(event, { code: "error", message: event.reason }, { "baton.reason": event.reason, ...(event.taskId ? { "baton.task_id": event.taskId } : {}) });
      case "feature.cancelled": return this.finish(event, { code: "unset" }, event.reason ? { "baton.reason": event.reason } : {});
      default: return;
    }
  }

  /**
   * The span of the event's task attempt. Opened by its first event (task.dispatched, usually); a task.dispatched
   * for an attempt whose span ended (a rolled-back task run again) opens a new one.
   */
  private attempt(event: TaskEvent, dispatched: boolean): PlannedSpan {
    const key = `${event.taskId}/${event.attempt}`;
    const known = this.attempts.get(key);
    if (known && (this.open.has(known) || !dispatched)) {
      if (dispatched) this.note(known, "dispatched again", event.at);
      return known;
    }
    const title = this.titles.get(event.taskId);
    const span = this.start(`task ${event.taskId} #${event.attempt}`, `task/${key}`, this.fixRounds.get(event.taskId) ?? this.root, ms(event.at), {
      "baton.task_id": event.taskId, "baton.role": event.role, "baton.attempt": event.attempt, ...(title !== undefined ? { "baton.task.title": title } : {}),
    });
    this.attempts.set(key, span);
    return span;
  }

  private onAttempt(event: TaskEvent, act: (span: PlannedSpan) => void): void {
    act(this.attempt(event, false));
  }

  private taskEnded(event: TaskEvent, outcome: string, status: PlannedSpan["status"], attributes: SpanAttributes): void {
    this.end(this.attempt(event, false), ms(event.at), status, { "baton.outcome": outcome, ...attributes });
    const round = this.fixRounds.get(event.taskId);
    if (round && outcome !== "retrying") this.end(round, ms(event.at), status, { "baton.outcome": outcome });
  }

  private ownerOf(taskId: string | undefined, attempt: number | undefined): PlannedSpan {
    return (taskId !== undefined && attempt !== undefined && this.attempts.get(`${taskId}/${attempt}`)) || this.root;
  }

  private fixing(event: Event<"task.fixing">): void {
    const owner = this.ownerOf(event.taskId, event.attempt);
    this.titles.set(event.fixTaskId, event.title);
    const round = this.start(`fix round ${event.round} (${event.gate})`, `fix/${event.taskId ?? "-"}/${event.gate}/${event.round}`, owner, ms(event.at), {
      "baton.gate": event.gate, "baton.fix.round": event.round, "baton.fix.task_id": event.fixTaskId, "baton.fix.role": event.fixRole, "baton.fix.reason": event.reason,
      ...(event.taskId ? { "baton.task_id": event.taskId } : {}), ...(event.attempt ? { "baton.attempt": event.attempt } : {}),
    });
    this.fixRounds.set(event.fixTaskId, round);
  }

  private conflict(event: Event<"task.conflict">): void {
    const owner = this.attempt(event, false);
    this.note(owner, "conflict", event.at, { "baton.files": event.files.join(","), "baton.conflict.round": event.round });
    if (!event.fixTaskId) return;
    if (event.title) this.titles.set(event.fixTaskId, event.title);
    const round = this.start(`conflict fix round ${event.round}`, `conflict/${event.taskId}/${event.round}`, owner, ms(event.at), {
      "baton.task_id": event.taskId, "baton.attempt": event.attempt, "baton.fix.round": event.round, "baton.fix.task_id": event.fixTaskId, "baton.fix.role": event.role,
    });
    this.fixRounds.set(event.fixTaskId, round);
  }

  /** A gate run: from the start of its command (its event's time less its duration) to its verdict. */
  private gate(event: GateEvent): void {
    const parent = event.scope === "task" ? this.ownerOf(event.taskId, event.attempt) : this.root;
    const name = `gate ${event.gate}${event.scope === "baseline" ? " (baseline)" : ""}`;
    const endMs = ms(event.at);
    const span = this.start(name, `gate/${event.scope}/${event.taskId ?? "-"}/${event.attempt ?? 0}/${event.gate}/${event.run}`, parent, Math.max(parent.startMs, endMs - event.durationMs), gateAttributes(event));
    // A baseline run measures the workspace before any task: its failure is a fact, not an error of the feature.
    const failed: PlannedSpan["status"] = event.scope === "baseline" ? { code: "unset" } : { code: "error", ...(event.reason ? { message: event.reason } : {}) };
    this.end(span, endMs, event.kind === "gate.passed" ? { code: "ok" } : failed);
  }

  /** The feature ended: the root span ends, and so does every span still open (a cancelled feature's running tasks). */
  private finish(event: Event<"feature.completed" | "feature.failed" | "feature.cancelled">, status: PlannedSpan["status"], attributes: SpanAttributes): void {
    const atMs = ms(event.at);
    for (const span of [...this.open].reverse()) if (span !== this.root) this.end(span, atMs, { code: "unset" }, { "baton.outcome": "unfinished" });
    this.end(this.root, atMs, status, { "baton.outcome": event.kind.slice("feature.".length), "baton.duration_ms": event.durationMs, "baton.tasks": this.titles.size, ...attributes });
  }
}
