// The coordinator's durable, idempotent event loop for one feature:
// load snapshot → apply events → CAS write → publish outbox with deterministic msg ids → clear outbox (CAS).
import type { JetStreamClient } from "@nats-io/jetstream";
import { encode } from "../../shared/codec.ts";
import type { FAULT_POINTS } from "../../shared/config.ts";
import type { Logger } from "../../shared/logging.ts";
import type { Names } from "../../shared/subjects.ts";
import type { EventBody, StatusEvent } from "../../shared/protocol/index.ts";
import { step, view, type StoredFeature } from "./actor.ts";
import type { FeatureEvent, FeatureStateValue } from "./machine.ts";
import type { FeatureContext, OutboxEntry } from "./model.ts";
import type { FeatureStore } from "./store.ts";

export type ApplyResult =
  | { kind: "applied"; state: FeatureStateValue; context: FeatureContext }
  | { kind: "missing" }
  | { kind: "exists"; state: FeatureStateValue; context: FeatureContext };

export interface ApplyOptions {
  /** Create the feature if it does not exist; with `onlyIfNew`, leave an existing one untouched. */
  create?: boolean;
  onlyIfNew?: boolean;
}

const MAX_CAS_TRIES = 50;

/** Places where a test may crash the process on purpose (BATON_FAULTS; see docs/reliability.md). */
export type FaultPoint = (typeof FAULT_POINTS)[number];

export interface LoopHooks {
  /** Called with the feature's latest context after every apply (e.g. to arm its deadline timer). */
  onApplied?: (featureId: string, context: FeatureContext, state: FeatureStateValue) => void;
  /** Fault injection for crash tests; a no-op in production. */
  fault?: (point: FaultPoint) => void;
}

export class FeatureLoop {
  /** Per-feature FIFO so one process never races itself; other processes are handled by CAS. */
  private readonly chains = new Map<string, Promise<unknown>>();

  private readonly onApplied: (featureId: string, context: FeatureContext, state: FeatureStateValue) => void;
  private readonly fault: (point: FaultPoint) => void;

  constructor(
    private readonly store: FeatureStore,
    private readonly js: JetStreamClient,
    private readonly names: Names,
    private readonly log: Logger,
    hooks: LoopHooks = {},
  ) {
    this.onApplied = hooks.onApplied ?? (() => {});
    this.fault = hooks.fault ?? (() => {});
  }

  /**
   * Applies `events` to the feature and publishes what they produced. Idempotent: the machine
   * ignores duplicate events, and outbox messages carry deterministic msg ids. A crash at any
   * point leaves either the old snapshot (the redelivered message re-applies) or the new one
   * with a non-empty outbox (the next apply or the start-up scan publishes it again).
   */
  apply(featureId: string, events: FeatureEvent[], opts: ApplyOptions = {}): Promise<ApplyResult> {
    const prev = this.chains.get(featureId) ?? Promise.resolve();
    const run = prev.then(() => this.applyNow(featureId, events, opts), () => this.applyNow(featureId, events, opts));
    const tail = run.catch(() => {});
    this.chains.set(featureId, tail);
    void tail.then(() => {
      if (this.chains.get(featureId) === tail) this.chains.delete(featureId);
    });
    return run;
  }

  private async applyNow(featureId: string, events: FeatureEvent[], opts: ApplyOptions): Promise<ApplyResult> {
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const cur = await this.store.load(featureId);
      if (!cur && !opts.create) return { kind: "missing" };
      if (cur && opts.onlyIfNew) {
        const r = step(featureId, cur.stored, []);
        await this.flush(featureId, r.context.outbox);
        this.onApplied(featureId, r.context, r.state);
        return { kind: "exists", state: r.state, context: r.context };
      }
      const r = step(featureId, cur?.stored ?? null, events);
      if (r.changed) {
        const rev = cur ? await this.store.update(featureId, r.stored, cur.revision) : await this.store.create(featureId, r.stored);
        if (rev === null) {
          this.log.debug({ featureId, try: i }, "snapshot write lost compare-and-swap; reloading");
          await backoff(i);
          continue;
        }
        this.fault("after-write");
      }
      await this.flush(featureId, r.context.outbox);
      this.onApplied(featureId, r.context, r.state);
      return { kind: "applied", state: r.state, context: r.context };
    }
    throw new Error(`feature ${featureId}: gave up after ${MAX_CAS_TRIES} compare-and-swap conflicts`);
  }

  /** Publishes outbox entries (JetStream drops duplicates by msg id), then removes them under CAS. */
  async flush(featureId: string, outbox: readonly OutboxEntry[]): Promise<void> {
    if (!outbox.length) return;
    // In order: the first entry alone, so a crash can land between two publishes (mid-dispatch).
    await this.publish(outbox[0]!);
    this.fault("mid-publish");
    await Promise.all(outbox.slice(1).map((e) => this.publish(e)));
    this.fault("after-publish");
    const msgIds = outbox.map((e) => e.msgId);
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const cur = await this.store.load(featureId);
      if (!cur) return;
      const r = step(featureId, cur.stored, [{ type: "outbox.flushed", msgIds }]);
      if (!r.changed) return;
      if ((await this.store.update(featureId, r.stored, cur.revision)) !== null) return;
      await backoff(i);
    }
    // Leaving entries in the outbox is safe: they are republished with the same msg ids later.
    this.log.warn({ featureId }, "could not clear outbox after repeated conflicts; it will be retried");
  }

  private async publish(e: OutboxEntry): Promise<void> {
    const subject = e.to === "task" ? this.names.task(e.role) : this.names.status(e.payload.featureId, e.kind);
    await this.js.publish(subject, encode(e.payload), { msgID: e.msgId });
  }

  /** Publishes a notice outside any feature's history (seq 0), for messages about unknown features. */
  async notice(featureId: string, at: string, body: EventBody): Promise<void> {
    const payload = { ...body, type: "baton.v1.status_event", featureId, seq: 0, at } as StatusEvent;
    await this.js.publish(this.names.status(featureId, body.kind), encode(payload));
  }

  /**
   * Visits every feature: publishes any outbox a crashed coordinator left behind and reports each
   * feature to `onApplied` (which re-arms its deadline). Safe to run at any time, by any number of
   * coordinators at once.
   */
  async recover(): Promise<{ scanned: number; flushed: number }> {
    let flushed = 0;
    const keys = await this.store.keys();
    for (const id of keys) {
      const cur = await this.store.load(id);
      if (!cur) continue;
      const { context, state } = view(cur.stored);
      if (context.outbox.length) {
        await this.apply(id, []);
        flushed++;
      } else {
        this.onApplied(id, context, state);
      }
    }
    return { scanned: keys.length, flushed };
  }
}

function backoff(i: number): Promise<void> {
  const ms = Math.min(200, 2 ** Math.min(i, 7)) * (0.5 + Math.random());
  return new Promise((r) => setTimeout(r, ms));
}

export type { StoredFeature };
