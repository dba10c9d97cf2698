// The Redis server for the BullMQ column: the one on 127.0.0.1:6379 if it answers, else a private
// `redis-server` on a free port without persistence (stopped at the end with everything else), else none.
import { spawnSync } from "node:child_process";
import { Redis } from "ioredis";
import { freePort, type World } from "./world.ts";

export const REDIS_INSTALL_HINT = "sudo apt-get install -y redis-server";

export interface RedisTarget {
  host: string;
  port: number;
  /** True when this run started it (and stops it at the end). */
  ownServer: boolean;
  version: string;
  /** What the server does to persist data (AOF and RDB settings), since that changes what a write costs. */
  persistence: string;
  /** redis-server's pid (INFO process_id), to measure its CPU when it runs on this machine. */
  pid?: number | undefined;
}

/** Connects once and answers PING within a second, or throws. */
async function ping(host: string, port: number): Promise<Redis> {
  const r = new Redis({ host, port, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  r.on("error", () => {});
  try {
    await r.connect();
    await r.ping();
    return r;
  } catch (e) {
    r.disconnect();
    throw e;
  }
}

async function describe(r: Redis): Promise<{ version: string; persistence: string; pid: number | undefined }> {
  const info = await r.info("server");
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]) || undefined;
  let persistence = "unknown (CONFIG GET refused)";
  try {
    const aof = (await r.config("GET", "appendonly")) as string[];
    const save = (await r.config("GET", "save")) as string[];
    const fsync = (await r.config("GET", "appendfsync")) as string[];
    persistence = `appendonly ${aof[1] ?? "?"}${aof[1] === "yes" ? ` (appendfsync ${fsync[1] ?? "?"})` : ""}, save "${save[1] ?? "?"}"`;
  } catch {
    // a managed server may refuse CONFIG
  }
  return { version, persistence, pid };
}

/** Finds (on `probePort`, 6379 unless testing) or starts Redis; returns why not when neither is possible. */
export async function findRedis(world: World, say: (line: string) => void, probePort = 6379): Promise<RedisTarget | { skipped: string }> {
  try {
    const r = await ping("127.0.0.1", probePort);
    const d = await describe(r);
    r.disconnect();
    say(`  peer: using the Redis ${d.version} that answers on 127.0.0.1:${probePort} (${d.persistence}); queues get a unique prefix and are removed after`);
    return { host: "127.0.0.1", port: probePort, ownServer: false, ...d };
  } catch {
    // nothing answers there: start our own
  }
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    return { skipped: `no Redis answers on 127.0.0.1:${probePort} and redis-server is not installed; install it with: ${REDIS_INSTALL_HINT}` };
  }
  const port = await freePort();
  await world.spawn({
    name: "redis", kind: "nats", command: "redis-server", env: process.env, ready: /Ready to accept connections/,
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
  });
  const r = await ping("127.0.0.1", port);
  const d = await describe(r);
  r.disconnect();
  say(`  peer: started redis-server ${d.version} on 127.0.0.1:${port} (${d.persistence})`);
  return { host: "127.0.0.1", port, ownServer: true, ...d };
}
