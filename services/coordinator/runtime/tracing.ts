// Traces (docs/observability.md): when this coordinator publishes the event that ends a feature, it reads the
// feature's whole history from the events stream and exports its span tree (shared/tracing) in one go.
import type { NatsConnection } from "@nats-io/nats-core";
import { featureHistory } from "../../../shared/client/history.ts";
import type { Logger } from "../../../shared/logging.ts";
import { once } from "../../../shared/process.ts";
import type { StatusEvent } from "../../../shared/protocol/events.ts";
import { names as buildNames, type Names } from "../../../shared/subjects.ts";
import { buildSpanTree, endsFeature, startTraceSink, type TraceSink, type TracingSettings } from "../../../shared/tracing/index.ts";
import type { StatusObserver } from "./effects.ts";

export interface TraceObserverOptions {
  nc: NatsConnection;
  names: Names;
  sink: TraceSink;
  log: Logger;
  /** How many exported features it remembers, so that one published again is not exported twice (default 10 000). */
  remember?: number;
}

/**
 * Exports a feature's trace when this coordinator publishes the event that ended it. Why at the end, from the stream:
 * coordinators are many and hold no state, and each event of a feature is published by whichever one applied it, so
 * no process saw the whole feature; its history in the events stream has every event with its time. The span ids are
 * derived from the feature (shared/tracing/span-ids.ts), so a trace exported again after a crash repeats the same ids.
 * Exports one feature at a time, each at most once per process.
 */
export class TraceObserver implements StatusObserver {
  private readonly exported = new Set<string>();
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: TraceObserverOptions) {}

  /** Never throws, never waits: the export runs behind the apply loop. */
  onStatus(event: StatusEvent): void {
    if (this.closed || !endsFeature(event) || this.exported.has(event.featureId)) return;
    this.remember(event.featureId);
    this.tail = this.tail.then(() => this.export(event.featureId));
  }

  /** Exports the feature's trace now (idempotent per process; used by onStatus). Logs, never throws. */
  async export(featureId: string): Promise<void> {
    const { nc, names, sink, log } = this.opts;
    try {
      const events: StatusEvent[] = [];
      const onInvalid = (subject: string, err: Error) => log.warn({ subject, err }, "traces: an invalid event in the history is left out");
      for await (const event of featureHistory(nc, names, featureId, { follow: false, onInvalid })) events.push(event);
      const tree = buildSpanTree(events, { namespace: names.prefix });
      if (!tree.ok) {
        log.warn({ featureId, reason: tree.reason }, "traces: no trace for this feature");
        return;
      }
      await sink.emit(tree.spans);
      log.info({ featureId, traceId: tree.traceId, spans: tree.spans.length }, "traces: feature trace exported");
    } catch (err) {
      // Read again if the end is published again (an outbox carried out after a crash).
      this.exported.delete(featureId);
      log.warn({ err, featureId }, "traces: reading the feature's history failed; no trace for it");
    }
  }

  private remember(featureId: string): void {
    this.exported.add(featureId);
    const limit = this.opts.remember ?? 10_000;
    for (const oldest of this.exported) {
      if (this.exported.size <= limit) break;
      this.exported.delete(oldest);
    }
  }

  /** Stops taking features, waits for the exports under way, then flushes and stops the sink. Same promise on every call. */
  readonly close = once(async () => {
    this.closed = true;
    await this.tail;
    await this.opts.sink.close();
  });
}

/**
 * The coordinator's trace observer for `settings`, or undefined when traces are off (then the OpenTelemetry SDK is
 * not even loaded). Logs whether traces are on, where they go, and any setting it did not take as given.
 */
export async function startTraces(opts: { settings: TracingSettings; nc: NatsConnection; prefix: string; log: Logger }): Promise<TraceObserver | undefined> {
  const { settings, log } = opts;
  for (const warning of settings.warnings) log.warn(`traces: ${warning}`);
  if (!settings.enabled) {
    log.info({ reason: settings.reason }, "traces off");
    return undefined;
  }
  const sink = await startTraceSink(settings, { log, resourceAttributes: { "baton.prefix": opts.prefix } });
  log.info({ url: settings.url, protocol: settings.protocol, service: settings.serviceName }, "traces on: a feature's trace is exported when it ends");
  return new TraceObserver({ nc: opts.nc, names: buildNames(opts.prefix), sink, log });
}
