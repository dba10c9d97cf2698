// Prometheus metrics shared by coordinators and workers: a registry per process and the /metrics endpoint.
export { cachedLoader, metricsRegistry } from "./registry.ts";
export { metricsUrl, serveMetrics, type MetricsServer, type ServeOptions } from "./server.ts";
