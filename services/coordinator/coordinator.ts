// The coordinator process: consumes submissions and worker messages, drives feature actors, answers the API.
import { jetstream, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import type { Subscription } from "@nats-io/nats-core";
import type { BatonConfig } from "../../shared/config.ts";
import { consumeLoop, type ConsumeLoop } from "../../shared/consume.ts";
import type { Logger } from "../../shared/logging.ts";
import { ensureTopology, type NatsConnection } from "../../shared/nats.ts";
import { once, steps } from "../../shared/process.ts";
import { names as buildNames, type Names } from "../../shared/subjects.ts";
import { Ingress } from "./ingress.ts";
import { FeatureLoop, type FaultPoint } from "./loop.ts";
import { nextDeadline } from "./scheduling.ts";
import { Timers } from "./timers.ts";
import { FeatureStore } from "./store.ts";

export interface CoordinatorOptions {
  nc: NatsConnection;
  config: Readonly<BatonConfig>;
  log: Logger;
  /** Fault injection for crash tests (see faults.ts); absent in normal runs. */
  fault?: (point: FaultPoint) => void;
}

export class Coordinator {
  readonly names: Names;
  private readonly js: JetStreamClient;
  private loops: ConsumeLoop[] = [];
  private api?: Subscription;
  private timers?: Timers;
  private rescan?: NodeJS.Timeout;
  loop?: FeatureLoop;

  constructor(private readonly o: CoordinatorOptions) {
    this.names = buildNames(o.config.prefix);
    this.js = jetstream(o.nc);
  }

  /** Creates the topology (idempotent), flushes outboxes left by a crash, then starts consuming. */
  async start(): Promise<void> {
    const { nc, config, log } = this.o;
    const n = this.names;
    const cc = config.coordinator;
    const topo = await ensureTopology(nc, n, { eventsMaxAgeHours: cc.eventsMaxAgeHours, ackWaitSeconds: cc.ackWaitSeconds });
    const store = new FeatureStore(topo.features, topo.jsm, n);
    const fault = this.o.fault ?? (() => {});
    const timers = new Timers(async (featureId) => {
      await loop.apply(featureId, [{ type: "timer.fired", at: new Date().toISOString() }]);
    }, log);
    this.timers = timers;
    const loop = new FeatureLoop(store, this.js, n, log, {
      // Only when faults are injected: the loop then publishes the first outbox entry alone (a crash point).
      fault: this.o.fault,
      onApplied: (featureId, context, state) =>
        timers.arm(featureId, state === "executing" || state === "paused" || state === "verifying" ? nextDeadline(context) : undefined),
    });
    this.loop = loop;
    const ingress = new Ingress({
      names: n, loop, js: this.js, log,
      maxRequestBytes: cc.maxRequestBytes, knownRoles: config.knownRoles, knownGates: Object.keys(config.gates), taskTimeoutSeconds: cc.taskTimeoutSeconds,
    });
    const consume = async (stream: string, durable: string, name: string, handler: (m: JsMsg) => Promise<void>) =>
      consumeLoop(await this.js.consumers.get(stream, durable), {
        concurrency: cc.concurrency, log, name,
        handler: async (m) => {
          await handler(m);
          fault("before-ack");
        },
      });
    this.loops.push(
      await consume(n.streams.features, n.consumers.coordinatorFeatures, "submissions", (m) => ingress.onSubmission(m)),
      await consume(n.streams.results, n.consumers.coordinatorResults, "results", (m) => ingress.onWorkerMessage(m)),
      await consume(n.streams.control, n.consumers.coordinatorControl, "control", (m) => ingress.onControl(m)),
    );
    this.api = nc.subscribe(n.apiSubmit(), {
      queue: n.coordinatorQueue,
      callback: (err, m) => {
        if (err) return log.error({ err }, "api subscription error");
        ingress.onApiSubmit(m).catch((e) => log.error({ err: e }, "api submit failed"));
      },
    });
    const r = await loop.recover();
    timers.start();
    // Deadlines and outboxes of features last touched by a coordinator that has since died.
    this.rescan = setInterval(() => {
      loop.recover().catch((e) => log.warn({ err: e }, "periodic rescan failed"));
    }, cc.rescanSeconds * 1000);
    log.info({ prefix: n.prefix, features: r.scanned, outboxesFlushed: r.flushed, timers: timers.size, roles: config.knownRoles, gates: Object.keys(config.gates) }, "coordinator ready");
  }

  /** Stops intake, waits for in-flight messages, drains the connection. Same promise on every call. */
  readonly close = once(async () => {
    const { nc, log } = this.o;
    await steps(
      [
        ["stop timers", () => {
          this.timers?.stop();
          clearInterval(this.rescan);
        }],
        ["stop api", () => this.api?.unsubscribe()],
        ["stop consumers", () => Promise.all(this.loops.map((l) => l.stop()))],
        ["clear published outboxes", () => this.loop?.settle()],
        ["drain nats", () => (nc.isClosed() ? undefined : nc.drain())],
      ],
      (name, e) => log.error({ err: e }, `close: ${name} failed`),
    );
    log.info("coordinator stopped");
  });
}
