// The coordinator's deployment-wide gauges, computed when scraped (and cached a few seconds): features by state
// (from the store), each role's backlog (its durable task consumer) and live workers (heartbeats). Every coordinator
// reports the same values: query them with max(), not sum().
import { Gauge, type Registry } from "prom-client";
import { roleBacklogs } from "../../../shared/client/backlog.ts";
import { liveCoordinators, liveWorkers } from "../../../shared/client/workers.ts";
import type { Logger } from "../../../shared/logging.ts";
import { cachedLoader } from "../../../shared/metrics/index.ts";
import type { NatsConnection } from "../../../shared/nats.ts";
import type { WorkerHeartbeat } from "../../../shared/protocol/workers.ts";
import type { Names } from "../../../shared/subjects.ts";
import { view } from "../domain/step.ts";
import type { FeatureStore } from "./journal-store.ts";
import { loadFeature } from "./load-feature.ts";

/** States a feature never leaves: remembered by id, so that a scrape reads only the features still running. */
const TERMINAL = new Set(["completed", "failed", "cancelled", "rejected"]);

export interface GaugeSources {
  nc: NatsConnection;
  names: Names;
  /** The feature store, once the coordinator started (no `baton_features` before). */
  store: () => FeatureStore | undefined;
  log: Logger;
  /** How long a reading of NATS is reused (default 5 s); the features' states, 3 times as long. */
  cacheMs?: number;
}

/**
 * The number of features in each state (the feature machine's state names), read from the store: every feature's
 * checkpoint and journal tail, except those `ended` remembers in a terminal state (it learns them here). A feature
 * that cannot be read counts as `unreadable`.
 */
export async function featureStates(store: FeatureStore, ended: Map<string, string>): Promise<Map<string, number>> {
  const keys = await store.keys();
  const counts = await store.journalCounts().catch(() => new Map<string, number>());
  const states = new Map<string, number>();
  const present = new Set(keys);
  for (const featureId of ended.keys()) if (!present.has(featureId)) ended.delete(featureId);
  for (const featureId of keys) {
    let state = ended.get(featureId);
    if (state === undefined) {
      try {
        const cur = await loadFeature(store, featureId, counts.get(featureId) ?? 0);
        if (!cur) continue;
        state = view(cur.snapshot).state;
        if (TERMINAL.has(state)) ended.set(featureId, state);
      } catch {
        state = "unreadable";
      }
    }
    states.set(state, (states.get(state) ?? 0) + 1);
  }
  return states;
}

/** Registers the deployment-wide gauges on `registry`; each reads its source when scraped. Never makes a scrape fail. */
export function registerDeploymentGauges(registry: Registry, sources: GaugeSources): void {
  const { nc, names, log } = sources;
  const cacheMs = sources.cacheMs ?? 5000;
  const ended = new Map<string, string>();
  const features = cachedLoader(async () => {
    const store = sources.store();
    return store ? featureStates(store, ended) : new Map<string, number>();
  }, cacheMs * 3);
  const backlogs = cachedLoader(() => roleBacklogs(nc, names), cacheMs);
  const workers = cachedLoader(() => liveWorkers(nc, names), cacheMs);
  const coordinators = cachedLoader(() => liveCoordinators(nc, names), cacheMs);
  const failing = new Set<string>();
  const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: (set: (labels: Record<L, string>, value: number) => void) => Promise<void>) => {
    const metric: Gauge<L> = new Gauge({
      name, help, labelNames, registers: [registry],
      async collect() {
        metric.reset();
        try {
          await fill((labels, value) => metric.set(labels as never, value));
          failing.delete(name);
        } catch (err) {
          if (!failing.has(name)) log.warn({ err, metric: name }, "a metrics gauge could not be read; it is left empty until it can");
          failing.add(name);
        }
      },
    });
  };
  gauge("baton_features", "Features by state (deployment-wide: use max() across coordinators)", ["state"], async (set) => {
    for (const [state, count] of await features()) set({ state }, count);
  });
  gauge("baton_role_backlog", "Task messages no worker of the role has taken yet (deployment-wide)", ["role"], async (set) => {
    for (const row of await backlogs()) set({ role: row.role }, row.pending);
  });
  gauge("baton_role_inflight", "Task messages taken by a worker of the role and not acknowledged yet (deployment-wide)", ["role"], async (set) => {
    for (const row of await backlogs()) set({ role: row.role }, row.inFlight);
  });
  gauge("baton_live_workers", "Workers of the role with a fresh heartbeat; 0 for a role with a task queue and none (deployment-wide)", ["role"], async (set) => {
    const [live, queues] = await Promise.all([workers(), backlogs()]);
    for (const row of queues) set({ role: row.role }, 0);
    for (const [role, count] of perRole(live, () => 1)) set({ role }, count);
  });
  gauge("baton_worker_slots", "Task slots of the role's live workers: kind=total or busy (deployment-wide)", ["role", "kind"], async (set) => {
    const live = await workers();
    for (const [role, count] of perRole(live, (beat) => beat.slots)) set({ role, kind: "total" }, count);
    for (const [role, count] of perRole(live, (beat) => beat.busy)) set({ role, kind: "busy" }, count);
  });
  gauge("baton_live_coordinators", "Coordinators with a fresh heartbeat (deployment-wide)", [], async (set) => {
    set({}, (await coordinators()).length);
  });
}

/** Sums `value` of each heartbeat per role. Pure. */
function perRole(beats: readonly WorkerHeartbeat[], value: (beat: WorkerHeartbeat) => number): Map<string, number> {
  const sums = new Map<string, number>();
  for (const beat of beats) sums.set(beat.role, (sums.get(beat.role) ?? 0) + value(beat));
  return sums;
}
