// The coordinator process: consumes submissions, worker messages and control messages, drives each feature
// through the apply loop (runtime/), answers the request/reply APIs, and re-arms timers from the domain's data.
import { jetstream, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import type { Subscription } from "@nats-io/nats-core";
import type { BatonConfig } from "../../shared/config.ts";
import { consumeLoop, type ConsumeLoop } from "../../shared/consume.ts";
import { ensureTopology, type NatsConnection } from "../../shared/nats.ts";
import type { Logger } from "../../shared/logging.ts";
import { once, steps } from "../../shared/process.ts";
import { names as buildNames, type Names } from "../../shared/subjects.ts";
import { wakeUpAt } from "./domain/deadlines.ts";
import { FeatureLoop, type FaultPoint, type LoopHooks } from "./runtime/apply-loop.ts";
import { natsEffects, observedEffects, type StatusObserver } from "./runtime/effects.ts";
import { startPresence, type CoordinatorPresence } from "./runtime/heartbeat.ts";
import { Ingress } from "./runtime/ingress.ts";
import { loadPlanningKit } from "./runtime/planning-kit.ts";
import { FeatureStore } from "./runtime/journal-store.ts";
import { serveReadModel } from "./runtime/read-api.ts";
import { Timers } from "./runtime/timers.ts";
import { UnservedWatcher } from "./runtime/unserved.ts";

export interface CoordinatorOptions {
  nc: NatsConnection;
  config: Readonly<BatonConfig>;
  log: Logger;
  /** Fault injection for crash tests (BATON_FAULTS); absent in normal runs. */
  fault?: (point: FaultPoint) => void;
  /** Told of every status event this coordinator publishes (metrics, traces). */
  observers?: StatusObserver[];
  /** Told how long each apply took and how many journal writes it lost to another coordinator (metrics). */
  onApplyMeasured?: LoopHooks["onApplyMeasured"];
  /** Where this coordinator serves Prometheus metrics, for its heartbeat. */
  metricsUrl?: string | undefined;
}

export class Coordinator {
  readonly names: Names;
  private readonly js: JetStreamClient;
  private loops: ConsumeLoop[] = [];
  private subscriptions: Subscription[] = [];
  private timers?: Timers;
  private unserved?: UnservedWatcher;
  private rescan?: NodeJS.Timeout;
  /** This coordinator's heartbeat (with its config fingerprint) in the coordinators bucket. */
  presence?: CoordinatorPresence;
  loop?: FeatureLoop;
  /** The features' store, once started (the metrics' `baton_features` gauge reads it). */
  store?: FeatureStore;

  constructor(private readonly opts: CoordinatorOptions) {
    this.names = buildNames(opts.config.prefix);
    this.js = jetstream(opts.nc);
  }

  /** Creates the topology (idempotent), carries out outboxes left by a crash, then starts consuming. */
  async start(): Promise<void> {
    const { nc, config, log } = this.opts;
    const names = this.names;
    const cc = config.coordinator;
    const topo = await ensureTopology(nc, names, { eventsMaxAgeHours: cc.eventsMaxAgeHours, ackWaitSeconds: cc.ackWaitSeconds });
    const store = new FeatureStore(topo.features, topo.jsm, names);
    this.store = store;
    const timers = new Timers(async (featureId) => {
      await loop.apply(featureId, [{ type: "timer.fired", at: new Date().toISOString() }]);
    }, log);
    this.timers = timers;
    // Work for a role no live worker serves is reported (task.unserved), when first seen and then periodically.
    const unserved = new UnservedWatcher({ nc, names, log, repeatSeconds: cc.unservedRepeatSeconds, apply: (featureId, events) => loop.apply(featureId, events) });
    this.unserved = unserved;
    if (!config.knownRoles) log.warn("the config names no roles (`roles:` or `knownRoles:`): any well-formed role is accepted; work for a role no worker serves is reported as task.unserved");
    const loop = new FeatureLoop(store, this.js, names, log, {
      // Only when faults are injected: the loop then carries out the first outbox entry alone (a crash point).
      fault: this.opts.fault,
      onApplyMeasured: this.opts.onApplyMeasured,
      effects: observedEffects(natsEffects(this.js, names), this.opts.observers ?? [], (err) => log.warn({ err }, "a status observer failed")),
      onApplied: (featureId, context, state) => {
        timers.arm(featureId, wakeUpAt(state, context));
        unserved.track(featureId, state, context);
      },
    });
    this.loop = loop;
    const ingress = new Ingress({
      names, loop, js: this.js, log,
      maxRequestBytes: cc.maxRequestBytes, knownRoles: config.knownRoles, knownGates: Object.keys(config.gates), taskTimeoutSeconds: cc.taskTimeoutSeconds,
      dispatchTimeoutSeconds: cc.dispatchTimeoutSeconds, lockLeaseSeconds: cc.lockLeaseSeconds,
      testGates: Object.entries(config.gates).flatMap(([name, gate]) => (gate.tests || gate.junit ? [name] : [])),
      planning: loadPlanningKit(config, log), approval: config.planning.approval, questionTimeoutSeconds: config.planning.questionTimeoutSeconds,
    });
    await this.consume(names.streams.features, names.consumers.coordinatorFeatures, "submissions", (m) => ingress.onSubmission(m));
    await this.consume(names.streams.results, names.consumers.coordinatorResults, "results", (m) => ingress.onWorkerMessage(m));
    await this.consume(names.streams.control, names.consumers.coordinatorControl, "control", (m) => ingress.onControl(m));
    this.subscriptions.push(
      nc.subscribe(names.apiSubmit(), {
        queue: names.coordinatorQueue,
        callback: (err, msg) => {
          if (err) return log.error({ err }, "api subscription error");
          ingress.onApiSubmit(msg).catch((e) => log.error({ err: e }, "api submit failed"));
        },
      }),
      ...serveReadModel({ nc, names, store, log }),
    );
    const recovered = await loop.recover();
    timers.start();
    unserved.start();
    // Timers and outboxes of features last touched by a coordinator that has since died.
    this.rescan = setInterval(() => {
      loop.recover().catch((e) => log.warn({ err: e }, "periodic rescan failed"));
    }, cc.rescanSeconds * 1000);
    this.presence = await startPresence({ nc, kv: topo.coordinators, names, config, log, metricsUrl: this.opts.metricsUrl });
    log.info({ prefix: names.prefix, features: recovered.scanned, outboxesFlushed: recovered.flushed, timers: timers.size, roles: config.knownRoles, gates: Object.keys(config.gates) }, "coordinator ready");
  }

  /** A durable consumer feeding `handler`; a message is acked once the handler resolved. */
  private async consume(stream: string, durable: string, name: string, handler: (msg: JsMsg) => Promise<void>): Promise<void> {
    const { config, log } = this.opts;
    const fault = this.opts.fault ?? (() => {});
    this.loops.push(await consumeLoop(await this.js.consumers.get(stream, durable), {
      concurrency: config.coordinator.concurrency, log, name,
      handler: async (msg) => {
        await handler(msg);
        fault("before-ack");
      },
    }));
  }

  /** Stops intake, waits for in-flight messages, drains the connection. Same promise on every call. */
  readonly close = once(async () => {
    const { nc, log } = this.opts;
    await steps(
      [
        ["delete heartbeat", () => this.presence?.stop()],
        ["stop timers", () => {
          this.timers?.stop();
          this.unserved?.stop();
          clearInterval(this.rescan);
        }],
        ["stop api", () => this.subscriptions.forEach((s) => s.unsubscribe())],
        ["stop consumers", () => Promise.all(this.loops.map((l) => l.stop()))],
        ["clear published outboxes", () => this.loop?.settle()],
        // A trace observer reads a feature's history from NATS to export it: let it finish before the drain.
        ["close observers", () => Promise.all((this.opts.observers ?? []).map((observer) => observer.close?.()))],
        ["drain nats", () => (nc.isClosed() ? undefined : nc.drain())],
      ],
      (name, e) => log.error({ err: e }, `close: ${name} failed`),
    );
    log.info("coordinator stopped");
  });
}
