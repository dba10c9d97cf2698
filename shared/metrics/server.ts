// The HTTP endpoint Prometheus scrapes: GET /metrics answers the registry's text exposition; anything else is 404.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import type { Registry } from "prom-client";
import type { Logger } from "../logging.ts";
import { once } from "../process.ts";

export interface MetricsServer {
  /** Where it answers, e.g. `http://127.0.0.1:9464/metrics` (a wildcard bind address is given as this host's name). */
  readonly url: string;
  /** Stops listening and closes open connections. Same promise on every call; never rejects. */
  close(): Promise<void>;
}

export interface ServeOptions {
  registry: Registry;
  host: string;
  /** 0: any free port (the chosen one is in `url`). */
  port: number;
  log: Logger;
}

/** The address others can reach the server at: a wildcard bind address becomes this host's name. Pure apart from hostname(). */
export function metricsUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" || host === "::" || host === "[::]" ? hostname() : host;
  const bracketed = reachable.includes(":") && !reachable.startsWith("[") ? `[${reachable}]` : reachable;
  return `http://${bracketed}:${port}/metrics`;
}

/**
 * Listens on `host:port` and answers GET (or HEAD) /metrics with the registry's metrics. Resolves once it listens;
 * rejects when the address cannot be bound (e.g. the port is taken), so that the process fails at start-up.
 */
export async function serveMetrics(opts: ServeOptions): Promise<MetricsServer> {
  const { registry, log } = opts;
  const server = createServer((req, res) => {
    answer(registry, req, res).catch((err: unknown) => {
      log.warn({ err }, "metrics scrape failed");
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("metrics could not be collected\n");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => log.warn({ err }, "metrics server error"));
  const url = metricsUrl(opts.host, (server.address() as AddressInfo).port);
  const close = once(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  return { url, close };
}

async function answer(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found: metrics are at GET /metrics\n");
    return;
  }
  const text = await registry.metrics();
  res.writeHead(200, { "content-type": registry.contentType });
  res.end(req.method === "HEAD" ? undefined : text);
}
