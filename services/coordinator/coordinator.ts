// The coordinator process: consumes submissions and worker messages, drives feature actors, answers the API.
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { Subscription } from "@nats-io/nats-core";
import type { BatonConfig } from "../../shared/config.ts";
import { consumeLoop, type ConsumeLoop } from "../../shared/consume.ts";
import type { Logger } from "../../shared/logging.ts";
import { ensureTopology, type NatsConnection } from "../../shared/nats.ts";
import { once, steps } from "../../shared/process.ts";
import { names as buildNames, type Names } from "../../shared/subjects.ts";
import { Ingress } from "./ingress.ts";
import { FeatureLoop } from "./loop.ts";
import { FeatureStore } from "./store.ts";

export interface CoordinatorOptions {
  nc: NatsConnection;
  config: Readonly<BatonConfig>;
  log: Logger;
}

export class Coordinator {
  readonly names: Names;
  private readonly js: JetStreamClient;
  private loops: ConsumeLoop[] = [];
  private api?: Subscription;
  loop?: FeatureLoop;

  constructor(private readonly o: CoordinatorOptions) {
    this.names = buildNames(o.config.prefix);
    this.js = jetstream(o.nc);
  }

  /** Creates the topology (idempotent), flushes outboxes left by a crash, then starts consuming. */
  async start(): Promise<void> {
    const { nc, config, log } = this.o;
    const n = this.names;
    const topo = await ensureTopology(nc, n, { eventsMaxAgeHours: config.coordinator.eventsMaxAgeHours });
    const store = new FeatureStore(topo.features);
    const loop = new FeatureLoop(store, this.js, n, log);
    this.loop = loop;
    const ingress = new Ingress({
      names: n, loop, js: this.js, log,
      maxRequestBytes: config.coordinator.maxRequestBytes, knownRoles: config.knownRoles,
    });
    const concurrency = config.coordinator.concurrency;
    this.loops.push(
      await consumeLoop(await this.js.consumers.get(n.streams.features, n.consumers.coordinatorFeatures), {
        concurrency, log, name: "submissions", handler: (m) => ingress.onSubmission(m),
      }),
      await consumeLoop(await this.js.consumers.get(n.streams.results, n.consumers.coordinatorResults), {
        concurrency, log, name: "results", handler: (m) => ingress.onWorkerMessage(m),
      }),
    );
    this.api = nc.subscribe(n.apiSubmit(), {
      queue: n.coordinatorQueue,
      callback: (err, m) => {
        if (err) return log.error({ err }, "api subscription error");
        ingress.onApiSubmit(m).catch((e) => log.error({ err: e }, "api submit failed"));
      },
    });
    const r = await loop.recover();
    log.info({ prefix: n.prefix, features: r.scanned, outboxesFlushed: r.flushed, roles: config.knownRoles }, "coordinator ready");
  }

  /** Stops intake, waits for in-flight messages, drains the connection. Same promise on every call. */
  readonly close = once(async () => {
    const { nc, log } = this.o;
    await steps(
      [
        ["stop api", () => this.api?.unsubscribe()],
        ["stop consumers", () => Promise.all(this.loops.map((l) => l.stop()))],
        ["drain nats", () => (nc.isClosed() ? undefined : nc.drain())],
      ],
      (name, e) => log.error({ err: e }, `close: ${name} failed`),
    );
    log.info("coordinator stopped");
  });
}
