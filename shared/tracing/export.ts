// Emits planned spans (span-tree.ts) through the OpenTelemetry SDK and its OTLP/HTTP (JSON) exporter, keeping their
// planned ids and times. Loaded only when traces are on (index.ts imports it on demand): off costs nothing.
import { ROOT_CONTEXT, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, RandomIdGenerator, TracerProvider, type IdGenerator, type SpanExporter } from "@opentelemetry/sdk-trace";
import type { Logger } from "../logging.ts";
import type { TracingOn } from "./settings.ts";
import type { PlannedSpan } from "./span-ids.ts";

/** Where a feature's spans go. */
export interface TraceSink {
  /** Emits the spans and exports them now (one OTLP request per 1024 spans). Resolves once the export finished or failed (a failure is logged). */
  emit(spans: readonly PlannedSpan[]): Promise<void>;
  /** Exports what is still queued, then stops. Same promise on every call. */
  close(): Promise<void>;
}

export interface TraceSinkOptions {
  /** Added to the resource of every span (e.g. the deployment's prefix). */
  resourceAttributes?: Record<string, string>;
  log: Logger;
  /** Instead of OTLP (tests). */
  exporter?: SpanExporter;
}

/** Hands out the ids planned for the next span; random ones when none is planned (no span of Baton's is). */
class PlannedIds implements IdGenerator {
  private planned?: { traceId: string; spanId: string };
  private readonly random = new RandomIdGenerator();

  /** The ids the next span gets (undefined: random again). The SDK asks for the span id before the trace id. */
  plan(ids: { traceId: string; spanId: string } | undefined): void {
    this.planned = ids;
  }

  generateTraceId(): string {
    return this.planned?.traceId ?? this.random.generateTraceId();
  }

  generateSpanId(): string {
    return this.planned?.spanId ?? this.random.generateSpanId();
  }
}

/** The exporter, with every failed export logged (the SDK reports them only to its silent diag logger). */
function loggedExporter(exporter: SpanExporter, log: Logger): SpanExporter {
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) log.debug({ spans: spans.length }, "traces: spans exported");
        else log.warn({ err: result.error, spans: spans.length }, "traces: export failed (the spans are dropped)");
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    ...(exporter.forceFlush ? { forceFlush: () => exporter.forceFlush!() } : {}),
  };
}

/**
 * Starts a tracer provider that exports to `settings.url` with OTLP/HTTP (JSON). The exporter also honours the other
 * standard variables it reads itself (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, _CERTIFICATE, … and their
 * _TRACES_ forms). The provider is not registered globally: only Baton's trace observer uses it.
 */
export function startTraceSink(settings: TracingOn, opts: TraceSinkOptions): TraceSink {
  const ids = new PlannedIds();
  const exporter = loggedExporter(opts.exporter ?? new OTLPTraceExporter({ url: settings.url }), opts.log);
  const resource = defaultResource().merge(resourceFromAttributes({ ...settings.resourceAttributes, ...opts.resourceAttributes, "service.name": settings.serviceName }));
  const provider = new TracerProvider({
    resource, idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: 16_384, maxExportBatchSize: 1024, scheduledDelayMillis: 1000 })],
    spanLimits: { eventCountLimit: 256, attributeValueLengthLimit: 4096 },
  });
  const tracer = provider.getTracer("baton");
  let closing: Promise<void> | undefined;
  return {
    async emit(spans) {
      if (closing) return;
      for (const planned of spans) {
        const parent = planned.parentSpanId
          ? trace.setSpanContext(ROOT_CONTEXT, { traceId: planned.traceId, spanId: planned.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: false })
          : ROOT_CONTEXT;
        ids.plan(planned);
        const span = tracer.startSpan(planned.name, { startTime: new Date(planned.startMs), attributes: planned.attributes, root: !planned.parentSpanId }, parent);
        ids.plan(undefined);
        for (const event of planned.events) span.addEvent(event.name, event.attributes, new Date(event.atMs));
        if (planned.status.code !== "unset") {
          span.setStatus(planned.status.code === "ok" ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, ...(planned.status.message ? { message: planned.status.message } : {}) });
        }
        span.end(new Date(planned.endMs));
      }
      await provider.forceFlush().catch((err: unknown) => opts.log.warn({ err }, "traces: flush failed"));
    },
    close() {
      closing ??= provider.shutdown().catch((err: unknown) => opts.log.warn({ err }, "traces: shutdown failed"));
      return closing;
    },
  };
}
