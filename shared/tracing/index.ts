// Traces of features (OpenTelemetry): settings from OTEL_* variables, the span tree built from a feature's history,
// and the sink that exports it. The SDK is loaded only by `startTraceSink`, so a process with traces off never loads it.
import type { TracingOn } from "./settings.ts";
import type { TraceSink, TraceSinkOptions } from "./export.ts";

export { DEFAULT_SERVICE_NAME, parseResourceAttributes, tracingSettingsFromEnv, type TracingOff, type TracingOn, type TracingSettings } from "./settings.ts";
export { buildSpanTree, completeHistory, endsFeature, type SpanTree } from "./span-tree.ts";
export { SpanIds, type PlannedSpan, type SpanAttributes } from "./span-ids.ts";
export type { TraceSink, TraceSinkOptions } from "./export.ts";

/** Loads the OpenTelemetry SDK and starts a sink exporting to `settings.url` (export.ts `startTraceSink`). */
export async function startTraceSink(settings: TracingOn, opts: TraceSinkOptions): Promise<TraceSink> {
  const { startTraceSink: start } = await import("./export.ts");
  return start(settings, opts);
}
