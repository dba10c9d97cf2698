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

/** Features reported on at once by one check. */
const REPORTS_AT_ONCE = 16;

export class UnservedWatcher {
  /** featureId → its runs waiting for a worker, as of its latest apply. */
  private readonly waiting = new Map<string, WaitingRun[]>();
  /** featureId → runKey → when this coordinator last reported it (ms); per feature, so an apply touches only its own. */
  private readonly reported = new Map<string, Map<string, number>>();
  private handle: NodeJS.Timeout | undefined;
  private busy = false;
  /** What the check under way reported: features, and the roles they wait for (for its one log line). */
  private reportedFeatures = 0;
  private readonly unservedRoles = new Set<string>();

  constructor(private readonly opts: UnservedOptions) {}

  /** Records the feature's waiting runs after an apply (call with every applied state). Cheap; never throws. */
  track(featureId: string, state: FeatureStateValue, context: FeatureContext): void {
    const runs = waitingRuns(state, context);
    if (runs.length) this.waiting.set(featureId, runs);
    else this.waiting.delete(featureId);
    const reported = this.reported.get(featureId);
    if (!reported) return;
    const keep = new Set(runs.map(runKey));
    for (const key of reported.keys()) if (!keep.has(key)) reported.delete(key);
    if (!reported.size) this.reported.delete(featureId);
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
    this.reportedFeatures = 0;
    this.unservedRoles.clear();
    try {
      const clock = () => (this.opts.now ?? (() => new Date()))().getTime();
      let roles = await this.liveRoles();
      let readAt = clock();
      // At most REPORTS_AT_ONCE features at a time: thousands of held features must not flood the loop (and NATS) at
      // once. Such a check takes a while, so the live workers are read again every second: workers that came up
      // meanwhile stop the reports at once, instead of thousands of stale "no worker" events slowing their work down.
      const queue = [...this.waiting];
      let taken = 0;
      const next = async (): Promise<void> => {
        while (taken < queue.length) {
          if (clock() - readAt > 1000) {
            readAt = clock();
            roles = await this.liveRoles();
          }
          const [featureId, runs] = queue[taken++]!;
          await this.report(featureId, runs, roles);
        }
      };
      await Promise.all(Array.from({ length: Math.min(REPORTS_AT_ONCE, queue.length) }, next));
      if (this.reportedFeatures) {
        // One line per check, not one per feature: thousands of held features would otherwise flood the log.
        const roleList = [...this.unservedRoles].sort();
        this.opts.log.warn({ features: this.reportedFeatures, roles: roleList }, `work waits for roles no live worker serves: ${roleList.join(", ")} (start one: baton worker --role ${roleList[0]})`);
      }
    } catch (err) {
      this.opts.log.warn({ err }, "checking for unserved tasks failed; will retry");
    } finally {
      this.busy = false;
    }
  }

  /** Live workers per role, from the heartbeats. */
  private async liveRoles(): Promise<Map<string, number>> {
    const { nc, names, log } = this.opts;
    const beats = await (this.opts.live ?? (() => liveWorkers(nc, names, { onInvalid: (key, err) => log.debug({ key, err: err.message }, "invalid heartbeat skipped") })))();
    const roles = new Map<string, number>();
    for (const beat of beats) roles.set(beat.role, (roles.get(beat.role) ?? 0) + 1);
    return roles;
  }

  private async report(featureId: string, runs: readonly WaitingRun[], roles: ReadonlyMap<string, number>): Promise<void> {
    const now = (this.opts.now ?? (() => new Date()))();
    const events: FeatureEvent[] = [];
    let reported = this.reported.get(featureId);
    for (const run of runs) {
      const key = runKey(run);
      const live = roles.get(run.role) ?? 0;
      if (live > 0) {
        reported?.delete(key); // served now: should it become unserved again, say so at once
        continue;
      }
      const last = reported?.get(key);
      if (last !== undefined && now.getTime() - last < this.opts.repeatSeconds * 1000) continue;
      if (!reported) this.reported.set(featureId, (reported = new Map()));
      reported.set(key, now.getTime());
      this.unservedRoles.add(run.role);
      events.push({ type: "task.unserved", run: { taskId: run.taskId, attempt: run.attempt, gate: run.gate, op: run.op }, liveWorkers: live, at: now.toISOString(), repeatSeconds: this.opts.repeatSeconds });
    }
    if (!events.length) return;
    this.reportedFeatures++;
    await this.opts.apply(featureId, events);
  }
}
