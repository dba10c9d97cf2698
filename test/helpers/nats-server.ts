// Test harness: a real `nats-server -js` on a free port with its own temporary store directory.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** SIGTERM (or SIGKILL with `hard`) and wait for exit. */
  stop(hard?: boolean): Promise<void>;
  /** Starts again on the same port and store directory. */
  start(): Promise<void>;
  /** Stops and removes the store directory. Safe to call twice. */
  dispose(): Promise<void>;
}

/** Starts nats-server with JetStream; resolves once it accepts connections. */
export async function startNatsServer(): Promise<NatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), "baton-nats-"));
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], { stdio: "ignore" });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`nats-server exited with ${proc.exitCode}`);
      if (await portOpen(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("nats-server did not start within 10s");
  };
  const stop = async (hard = false) => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill(hard ? "SIGKILL" : "SIGTERM");
    await exited;
  };
  let disposed = false;
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    start,
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** A prefix unique to one test so that tests never share streams, consumers or buckets. */
export function uniquePrefix(tag = "t"): string {
  return `${tag}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.toLowerCase().slice(0, 30);
}
