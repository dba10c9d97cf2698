// A Prometheus registry per process (never prom-client's global one, so that tests can run several in one process),
// with Node's process metrics, and a cache for gauges that are computed when scraped.
import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * A new, empty registry with the standard process and Node.js metrics (`process_*`, `nodejs_*`) collected on it.
 * Baton's own metrics are named `baton_*` by the modules that register them.
 */
export function metricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * `load` behind a cache: a call within `maxAgeMs` of the last successful load returns its value; concurrent calls
 * share one load. A failed load is not cached (the next call tries again) and rejects every caller waiting for it.
 */
export function cachedLoader<T>(load: () => Promise<T>, maxAgeMs: number, now: () => number = Date.now): () => Promise<T> {
  let last: { value: T; at: number } | undefined;
  let loading: Promise<T> | undefined;
  return () => {
    if (last && now() - last.at < maxAgeMs) return Promise.resolve(last.value);
    loading ??= load().then(
      (value) => {
        last = { value, at: now() };
        loading = undefined;
        return value;
      },
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  };
}
