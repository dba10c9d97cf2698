// `baton up`'s dashboard: the `baton ui` child it starts beside the stack, on the config's port when that is free,
// else on any free port, so that a taken port never stops `baton up`.
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { browserHost, isLoopback } from "../../shared/config-observe.ts";
import type { BatonConfig } from "../../shared/config.ts";
import type { Child } from "./supervisor.ts";

/** Resolves with the port a listener got on host:port (0 = any), or rejects with the listen error. */
function tryListen(host: string, port: number): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(port, host, () => {
      const bound = (probe.address() as { port: number }).port;
      probe.close(() => done(bound));
    });
  });
}

/**
 * The port for the dashboard: `port` when it can be bound on `host` now, else (taken, or 0) one the system picks.
 * A moment passes between this probe and the child's listen: a port taken in between fails that child, which the
 * supervisor restarts. Rejects only when `host` itself cannot be bound.
 */
export async function dashboardPort(host: string, port: number): Promise<{ port: number; fallback: boolean }> {
  if (port !== 0) {
    try {
      return { port: await tryListen(host, port), fallback: false };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" && (err as NodeJS.ErrnoException).code !== "EACCES") throw err;
    }
  }
  return { port: await tryListen(host, 0), fallback: port !== 0 };
}

export type DashboardPlan =
  | { child: Child; url: string; note?: string }
  | { skipped: string };

/**
 * The `baton ui` child for `cfg` (its log in `logDir`/ui.log) and the URL to print — with `?token=` when a token is
 * set, so that the printed link opens it — or why it is not started (a non-loopback address without a token).
 */
export async function planDashboard(cfg: Readonly<BatonConfig>, logDir: string): Promise<DashboardPlan> {
  const { host, token } = cfg.ui;
  if (!isLoopback(host) && !token) return { skipped: `ui.host is ${host} and no token is set (ui.token or BATON_UI_TOKEN)` };
  let chosen;
  try {
    chosen = await dashboardPort(host, cfg.ui.port);
  } catch (err) {
    return { skipped: `cannot bind ${host}: ${(err as Error).message}` };
  }
  const cfgArgs = cfg.configPath ? ["--config", cfg.configPath] : [];
  const child: Child = {
    name: "ui",
    args: ["ui", ...cfgArgs, "--host", host, "--port", String(chosen.port)],
    ready: /"msg":"dashboard ready"/,
    restarts: [],
    log: createWriteStream(resolve(logDir, "ui.log"), { flags: "a" }),
  };
  const url = `http://${browserHost(host)}:${chosen.port}/${token ? `?token=${encodeURIComponent(token)}` : ""}`;
  return { child, url, ...(chosen.fallback ? { note: `port ${cfg.ui.port} is taken` } : {}) };
}
