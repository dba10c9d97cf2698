// The coordinator's Prometheus counters and histograms (docs/observability.md): counted from the status events it
// published (a StatusObserver, effects.ts) and from its apply loop's timings. Per process: sum() across coordinators.
import { Counter, Histogram, type Registry } from "prom-client";
import type { Logger } from "../../../shared/logging.ts";
import { metricsRegistry, serveMetrics } from "../../../shared/metrics/index.ts";
import type { StatusEvent, Usage } from "../../../shared/protocol/index.ts";
import type { StatusObserver } from "./effects.ts";
import { registerDeploymentGauges, type GaugeSources } from "./metrics-gauges.ts";
import { WIRE_ERRORS } from "../../../shared/protocol/errors.ts";

/** What the apply loop reports after each apply (apply-loop.ts `onApplyMeasured`). */
export interface ApplyMeasure {
  /** Time from loading the feature to carrying out its outbox, CAS retries included (not the wait in its queue). */
  seconds: number;
  /** Journal writes lost to another coordinator (compare-and-set conflicts) before it went through. */
  conflicts: number;
}

const TASK_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
const GATE_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800];
const FEATURE_BUCKETS = [10, 30, 60, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400];
const APPLY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** (featureId, seq) pairs remembered to tell a republished event from a new one. */
const DEFAULT_REMEMBERED = 50_000;

/**
 * Which events were seen already, by (featureId, seq), remembering the latest `capacity` (oldest forgotten first).
 * Notices (seq 0) are outside any history and are always new. Pure.
 */
export class SeenEvents {
  private readonly seen = new Set<string>();
  constructor(private readonly capacity: number = DEFAULT_REMEMBERED) {}

  /** True the first time (featureId, seq) is given (while remembered), false after. */
  firstTime(featureId: string, seq: number): boolean {
    if (seq === 0) return true;
    const key = `${featureId}\u0000${seq}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value!);
    return true;
  }
}

/** The `outcome` label of a task event that ends a run of a task, or undefined for other events. Pure. */
export function taskOutcome(event: StatusEvent): "completed" | "failed" | "cancelled" | "retrying" | undefined {
  if (event.kind === "task.completed") return "completed";
  if (event.kind === "task.retrying") return "retrying";
  if (event.kind === "task.failed") return event.error.code === WIRE_ERRORS.Cancelled.code ? "cancelled" : "failed";
  return undefined;
}

/**
 * The coordinator's counters on `registry`. `onStatus` counts each published event once per process (a republished
 * outbox is recognised by (featureId, seq) while remembered); never throws.
 */
export class CoordinatorMetrics implements StatusObserver {
  private readonly seen: SeenEvents;
  private readonly tasks: Counter<"role" | "outcome">;
  private readonly taskSeconds: Histogram<"role" | "outcome">;
  private readonly dispatches: Counter<"role">;
  private readonly gateRuns: Counter<"gate" | "result">;
  private readonly gateSeconds: Histogram<"gate">;
  private readonly tokens: Counter<"role" | "direction">;
  private readonly cost: Counter<"role">;
  private readonly features: Counter<"outcome">;
  private readonly featuresAccepted: Counter;
  private readonly featureSeconds: Histogram<"outcome">;
  private readonly applySeconds: Histogram;
  private readonly casConflicts: Counter;

  constructor(registry: Registry, opts: { remembered?: number } = {}) {
    this.seen = new SeenEvents(opts.remembered);
    const registers = [registry];
    this.tasks = new Counter({ name: "baton_tasks_total", help: "Task runs ended, by role and outcome (completed, failed, cancelled, retrying)", labelNames: ["role", "outcome"], registers });
    this.taskSeconds = new Histogram({ name: "baton_task_duration_seconds", help: "Duration of ended task runs (task.completed/task.failed durationMs)", labelNames: ["role", "outcome"], buckets: TASK_BUCKETS, registers });
    this.dispatches = new Counter({ name: "baton_task_dispatches_total", help: "Task messages dispatched to a role's queue (task.dispatched)", labelNames: ["role"], registers });
    this.gateRuns = new Counter({ name: "baton_gate_runs_total", help: "Gate runs judged, by gate and result (passed, failed)", labelNames: ["gate", "result"], registers });
    this.gateSeconds = new Histogram({ name: "baton_gate_duration_seconds", help: "Duration of gate runs (their command's run time)", labelNames: ["gate"], buckets: GATE_BUCKETS, registers });
    this.tokens = new Counter({ name: "baton_tokens_total", help: "Tokens agents reported on ended task runs, by role and direction (input, output, cache_read)", labelNames: ["role", "direction"], registers });
    this.cost = new Counter({ name: "baton_cost_usd_total", help: "Cost in USD agents reported on ended task runs, by role", labelNames: ["role"], registers });
    this.features = new Counter({ name: "baton_features_total", help: "Features ended, by outcome (completed, failed, cancelled, rejected)", labelNames: ["outcome"], registers });
    this.featuresAccepted = new Counter({ name: "baton_features_accepted_total", help: "Feature requests accepted", registers });
    this.featureSeconds = new Histogram({ name: "baton_feature_duration_seconds", help: "Duration of ended features, from acceptance", labelNames: ["outcome"], buckets: FEATURE_BUCKETS, registers });
    this.applySeconds = new Histogram({ name: "baton_apply_duration_seconds", help: "Coordinator apply latency: load, step, journal append (CAS retries included), outbox", buckets: APPLY_BUCKETS, registers });
    this.casConflicts = new Counter({ name: "baton_cas_conflicts_total", help: "Journal appends lost to another coordinator (compare-and-set conflicts; the apply retried)", registers });
  }

  onStatus(event: StatusEvent): void {
    if (!this.seen.firstTime(event.featureId, event.seq)) return;
    this.count(event);
  }

  /** The apply loop's hook (LoopHooks.onApplyMeasured), bound: pass it as it is. Never throws. */
  readonly onApplyMeasured = (measure: ApplyMeasure): void => {
    this.applySeconds.observe(measure.seconds);
    if (measure.conflicts) this.casConflicts.inc(measure.conflicts);
  };

  private count(event: StatusEvent): void {
    const outcome = taskOutcome(event);
    if (outcome && "role" in event) {
      this.tasks.inc({ role: event.role, outcome });
      const ms = "durationMs" in event ? event.durationMs : undefined;
      if (ms !== undefined) this.taskSeconds.observe({ role: event.role, outcome }, ms / 1000);
      if ("usage" in event && event.usage) this.countUsage(event.role, event.usage);
      return;
    }
    switch (event.kind) {
      case "task.dispatched":
        this.dispatches.inc({ role: event.role });
        return;
      case "gate.passed":
      case "gate.failed":
        this.gateRuns.inc({ gate: event.gate, result: event.kind === "gate.passed" ? "passed" : "failed" });
        this.gateSeconds.observe({ gate: event.gate }, event.durationMs / 1000);
        return;
      case "feature.accepted":
        this.featuresAccepted.inc();
        return;
      case "feature.completed":
      case "feature.failed":
      case "feature.cancelled":
        this.featureEnded(event.kind.slice("feature.".length), event.durationMs);
        return;
      case "feature.rejected":
        this.featureEnded("rejected");
        return;
      default:
    }
  }

  private featureEnded(outcome: string, durationMs?: number): void {
    this.features.inc({ outcome });
    if (durationMs !== undefined) this.featureSeconds.observe({ outcome }, durationMs / 1000);
  }

  private countUsage(role: string, usage: Usage): void {
    this.tokens.inc({ role, direction: "input" }, usage.inputTokens);
    this.tokens.inc({ role, direction: "output" }, usage.outputTokens);
    if (usage.cacheReadTokens) this.tokens.inc({ role, direction: "cache_read" }, usage.cacheReadTokens);
    if (usage.costUsd) this.cost.inc({ role }, usage.costUsd);
  }
}

export interface ServedCoordinatorMetrics {
  /** The counters: give it to the Coordinator as an observer and as its `onApplyMeasured`. */
  metrics: CoordinatorMetrics;
  /** Where /metrics answers (logged, and put in the heartbeat). */
  url: string;
  /** Stops the server. Same promise on every call; never rejects. */
  close(): Promise<void>;
}

/**
 * A registry with the coordinator's counters and deployment-wide gauges, served on `host:port` (0: any free port).
 * Rejects when the address cannot be bound.
 */
export async function serveCoordinatorMetrics(opts: GaugeSources & { host: string; port: number; log: Logger }): Promise<ServedCoordinatorMetrics> {
  const registry = metricsRegistry();
  const metrics = new CoordinatorMetrics(registry);
  registerDeploymentGauges(registry, opts);
  const server = await serveMetrics({ registry, host: opts.host, port: opts.port, log: opts.log });
  opts.log.info({ metricsUrl: server.url }, "serving Prometheus metrics");
  return { metrics, url: server.url, close: server.close };
}
