// The `metrics:` and `ui:` sections of the operator's config file (shared/config.ts reads them): where coordinators
// and workers serve Prometheus metrics, and where `baton ui` serves the dashboard. Traces need no section: the
// standard OTEL_* environment variables switch them on (docs/observability.md).
import * as z from "zod";

/**
 * Prometheus metrics (`/metrics`). A port per process kind, because several workers on one machine cannot share one:
 * unset = off, 0 = any free port (the chosen address is logged and written in the process's heartbeat as `metricsUrl`,
 * where `baton workers` and the dashboard show it). `--metrics-port` on `baton coordinator` / `baton worker` overrides.
 */
export const MetricsSettings = z.strictObject({
  /** Address to bind; default loopback. Metrics name features and roles, never task text or secrets. */
  host: z.string().min(1).default("127.0.0.1"),
  coordinatorPort: z.int().min(0).max(65_535).optional(),
  workerPort: z.int().min(0).max(65_535).optional(),
});
export type MetricsSettings = z.infer<typeof MetricsSettings>;

/** The web dashboard (`baton ui`, also started by `baton up`). */
export const UiSettings = z.strictObject({
  /** Address to bind; default loopback. Any other address needs `token` (or BATON_UI_TOKEN). */
  host: z.string().min(1).default("127.0.0.1"),
  /** 0 = any free port (the URL is printed). */
  port: z.int().min(0).max(65_535).default(7420),
  /** Bearer token every request must carry (header `Authorization: Bearer …`, or `?token=` once, kept in a cookie). */
  token: z.string().min(16).optional(),
});
export type UiSettings = z.infer<typeof UiSettings>;

/** The port a `--port` / `--metrics-port` flag names (0-65535; 0 = any free port), or undefined when it names none. Pure. */
export function parsePort(text: string): number | undefined {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  return Number.isInteger(port) && port <= 65_535 ? port : undefined;
}

/** The host to put in a URL a browser on this machine opens: a wildcard bind is reached at 127.0.0.1, IPv6 bracketed. Pure. */
export function browserHost(host: string): string {
  if (["0.0.0.0", "::", "[::]"].includes(host)) return "127.0.0.1";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** True for an address only this machine can reach (where the dashboard may run without a token). Pure. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}
