// The worker's Prometheus metrics (docs/observability.md): deliveries it took (redeliveries among them), how each
// ended and how long it took, and its busy slots. Per process: sum() across workers.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Logger } from "../../shared/logging.ts";
import { metricsRegistry, serveMetrics } from "../../shared/metrics/index.ts";
import type { DeliveryEnd } from "./task.ts";

const TASK_BUCKETS = [0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

/** What the worker tells its metrics about one delivery: when it starts and when it has ended. Never throws. */
export interface DeliveryMetrics {
  /** A task message was delivered (`deliveryCount` > 1: a redelivery) and takes a slot. */
  delivered(deliveryCount: number): void;
  /** The delivery ended (`end`) after `seconds`, and freed its slot. */
  ended(end: DeliveryEnd | "error", seconds: number): void;
}

/** The worker's counters on `registry`, for role `role` with `slots` slots. */
export class WorkerMetrics implements DeliveryMetrics {
  private readonly tasks: Counter<"role" | "outcome">;
  private readonly seconds: Histogram<"role">;
  private readonly redeliveries: Counter<"role">;
  private readonly busy: Gauge<"role">;

  constructor(registry: Registry, private readonly role: string, slots: number) {
    const registers = [registry];
    const labelNames = ["role"] as const;
    this.tasks = new Counter({
      name: "baton_worker_tasks_total", help: "Deliveries this worker handled, by how they ended (completed, failed, cancelled, handed_back, invalid, unpublished, duplicate, error)",
      labelNames: ["role", "outcome"], registers,
    });
    this.seconds = new Histogram({ name: "baton_worker_task_duration_seconds", help: "Time from a delivery's arrival to its end (gate runs included)", labelNames, buckets: TASK_BUCKETS, registers });
    this.redeliveries = new Counter({ name: "baton_worker_redeliveries_total", help: "Task messages delivered to this worker more than once (a worker died, or a result could not be published)", labelNames, registers });
    this.busy = new Gauge({ name: "baton_worker_slots_busy", help: "Slots holding a delivery now", labelNames, registers });
    const total = new Gauge({ name: "baton_worker_slots_total", help: "Slots of this worker (tasks it runs at once)", labelNames, registers });
    total.set({ role }, slots);
    this.busy.set({ role }, 0);
    this.redeliveries.inc({ role }, 0);
  }

  delivered(deliveryCount: number): void {
    this.busy.inc({ role: this.role });
    if (deliveryCount > 1) this.redeliveries.inc({ role: this.role });
  }

  ended(end: DeliveryEnd | "error", seconds: number): void {
    this.busy.dec({ role: this.role });
    this.tasks.inc({ role: this.role, outcome: end });
    this.seconds.observe({ role: this.role }, seconds);
  }
}

export interface ServedWorkerMetrics {
  metrics: WorkerMetrics;
  /** Where /metrics answers (logged, and put in the heartbeat). */
  url: string;
  /** Stops the server. Same promise on every call; never rejects. */
  close(): Promise<void>;
}

/** A registry with the worker's metrics, served on `host:port` (0: any free port). Rejects when the address cannot be bound. */
export async function serveWorkerMetrics(opts: { role: string; slots: number; host: string; port: number; log: Logger }): Promise<ServedWorkerMetrics> {
  const registry = metricsRegistry();
  const metrics = new WorkerMetrics(registry, opts.role, opts.slots);
  const server = await serveMetrics({ registry, host: opts.host, port: opts.port, log: opts.log });
  opts.log.info({ metricsUrl: server.url }, "serving Prometheus metrics");
  return { metrics, url: server.url, close: server.close };
}
