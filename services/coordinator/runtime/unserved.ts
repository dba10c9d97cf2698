// Watches the work that waits for a worker (domain/unserved.ts `waitingRuns`) against the live workers (the
// heartbeats, shared/client/workers.ts) and sends a feature `task.unserved` for each run whose role has no live
// worker: when first seen, then every `repeatSeconds` while it stays so. What it remembers is only when it last
// reported: a restart reports again, which is harmless (the event says the same thing).
import type { NatsConnection } from "@nats-io/nats-core";
import { liveWorkers } from "../../../shared/client/workers.ts";
import type { Logger } from "../../../shared/logging.ts";
import type { WorkerHeartbeat } from "../../../shared/protocol/index.ts";
import type { Names } from "../../../shared/subjects.ts";
import type { FeatureContext, FeatureStateValue } from "../domain/context.ts";
import type { FeatureEvent } from "../domain/machine.ts";
import { runKey, waitingRuns, type WaitingRun } from "../domain/unserved.ts";

export interface UnservedOptions {
  nc: NatsConnection;
  names: Names;
  log: Logger;
  /** Applies events to a feature (the FeatureLoop). */
  apply: (featureId: string, events: FeatureEvent[]) => Promise<unknown>;
  /** Report a run still unserved again after this long. */
  repeatSeconds: number;
  /** How often to compare waiting runs with live workers (default: every 2 s, or `repeatSeconds` if shorter). */
  checkEveryMs?: number;
  /** The live workers (default: the heartbeats in the workers bucket). */
  live?: () => Promise<WorkerHeartbeat[]>;
  now?: () => Date;
}

export class UnservedWatcher {
  /** featureId → its runs waiting for a worker, as of its latest apply. */
  private readonly waiting = new Map<string, WaitingRun[]>();
  /** `featureId runKey` → when it was last reported (ms). */
  private readonly reported = new Map<string, number>();
  private handle: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly opts: UnservedOptions) {}

  /** Records the feature's waiting runs after an apply (call with every applied state). Cheap; never throws. */
  track(featureId: string, state: FeatureStateValue, context: FeatureContext): void {
    const runs = waitingRuns(state, context);
    if (runs.length) this.waiting.set(featureId, runs);
    else this.waiting.delete(featureId);
    const keep = new Set(runs.map((run) => `${featureId} ${runKey(run)}`));
    for (const key of this.reported.keys()) if (key.startsWith(`${featureId} `) && !keep.has(key)) this.reported.delete(key);
  }

  start(): void {
    const every = this.opts.checkEveryMs ?? Math.min(2000, this.opts.repeatSeconds * 1000);
    this.handle ??= setInterval(() => void this.check(), every);
  }

  stop(): void {
    if (this.handle) clearInterval(this.handle);
    this.handle = undefined;
  }

  /** One comparison of waiting runs with live workers; sends task.unserved where due. Safe to call at any time. */
  async check(): Promise<void> {
    if (this.busy || !this.waiting.size) return;
    this.busy = true;
    try {
      const { nc, names, log } = this.opts;
      const beats = await (this.opts.live ?? (() => liveWorkers(nc, names, { onInvalid: (key, err) => log.debug({ key, err: err.message }, "invalid heartbeat skipped") })))();
      const roles = new Map<string, number>();
      for (const beat of beats) roles.set(beat.role, (roles.get(beat.role) ?? 0) + 1);
      await Promise.all([...this.waiting].map(([featureId, runs]) => this.report(featureId, runs, roles)));
    } catch (err) {
      this.opts.log.warn({ err }, "checking for unserved tasks failed; will retry");
    } finally {
      this.busy = false;
    }
  }

  private async report(featureId: string, runs: readonly WaitingRun[], roles: ReadonlyMap<string, number>): Promise<void> {
    const now = (this.opts.now ?? (() => new Date()))();
    const events: FeatureEvent[] = [];
    for (const run of runs) {
      const key = `${featureId} ${runKey(run)}`;
      const live = roles.get(run.role) ?? 0;
      if (live > 0) {
        this.reported.delete(key); // served now: should it become unserved again, say so at once
        continue;
      }
      const last = this.reported.get(key);
      if (last !== undefined && now.getTime() - last < this.opts.repeatSeconds * 1000) continue;
      this.reported.set(key, now.getTime());
      events.push({ type: "task.unserved", run: { taskId: run.taskId, attempt: run.attempt, gate: run.gate }, liveWorkers: live, at: now.toISOString(), repeatSeconds: this.opts.repeatSeconds });
    }
    if (!events.length) return;
    this.opts.log.warn({ featureId, runs: events.length }, "work waits for a role no live worker serves");
    await this.opts.apply(featureId, events);
  }
}
