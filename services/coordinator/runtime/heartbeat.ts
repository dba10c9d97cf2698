// The coordinator's heartbeat: a KV entry `<coordinatorId>` in the coordinators bucket with the fingerprint of the
// config it decides with, rewritten every few seconds and deleted on a graceful stop; a warning per live peer that
// decides differently (checked at start and every 30 s).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { KV } from "@nats-io/kv";
import { liveCoordinators } from "../../../shared/client/workers.ts";
import type { BatonConfig } from "../../../shared/config.ts";
import { configDifferences, configFingerprint, decisionConfig, type DecisionConfig } from "../../../shared/fingerprint.ts";
import type { Logger } from "../../../shared/logging.ts";
import type { NatsConnection } from "../../../shared/nats.ts";
import type { CoordinatorHeartbeat } from "../../../shared/protocol/workers.ts";
import type { Names } from "../../../shared/subjects.ts";

export const COORDINATOR_HEARTBEAT_SECONDS = 5;
/** Live peers' fingerprints are compared again every this many heartbeats (every 30 s by default). */
const PEER_CHECK_BEATS = 6;

export interface CoordinatorPresence {
  readonly coordinatorId: string;
  readonly fingerprint: string;
  /** Stops the ticks and deletes the entry at once. Same promise on every call; never throws. */
  stop(): Promise<void>;
}

export interface PresenceOptions {
  nc: NatsConnection;
  kv: KV;
  names: Names;
  config: Readonly<BatonConfig>;
  log: Logger;
  everySeconds?: number;
  /** Where this coordinator serves Prometheus metrics (in the heartbeat as `metricsUrl`). */
  metricsUrl?: string | undefined;
}

/** The Baton version from the package.json above this module (the sources' or dist/'s); "unknown" if none is found. */
function batonVersion(): string {
  let dir = new URL(".", import.meta.url);
  for (let depth = 0; depth < 6; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "baton" && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look one folder up
    }
    dir = new URL("..", dir);
  }
  return "unknown";
}

/** The heartbeat of this coordinator, stamped `at`. Pure apart from the defaults. */
export function coordinatorBody(
  self: { coordinatorId: string; startedAt: string; version: string; heartbeatSeconds: number; decision: DecisionConfig; metricsUrl?: string | undefined },
  at: Date = new Date(),
): CoordinatorHeartbeat {
  const { coordinatorId, startedAt, version, heartbeatSeconds, decision, metricsUrl } = self;
  return {
    coordinatorId, pid: process.pid, host: hostname(), version, startedAt, at: at.toISOString(), heartbeatSeconds,
    fingerprint: configFingerprint(decision), roles: decision.roles, gates: decision.gates, settings: decision.settings,
    ...(metricsUrl ? { metricsUrl } : {}),
  };
}

/** One warning line's worth for each live peer whose fingerprint is not `mine`. */
export function peerWarnings(mine: CoordinatorHeartbeat, peers: readonly CoordinatorHeartbeat[]): { peer: CoordinatorHeartbeat; differences: string[] }[] {
  return peers
    .filter((peer) => peer.coordinatorId !== mine.coordinatorId && peer.fingerprint !== mine.fingerprint)
    .map((peer) => ({ peer, differences: configDifferences(mine, peer, ["here", `in ${peer.coordinatorId}`]) }));
}

/**
 * Announces this coordinator: warns about each live peer on the prefix whose config fingerprint differs (they would
 * decide requests differently), then writes the heartbeat now and every `everySeconds`. A failed write is logged
 * once and retried on the next tick; it never stops the coordinator.
 */
export async function startPresence(opts: PresenceOptions): Promise<CoordinatorPresence> {
  const { kv, log } = opts;
  const everySeconds = opts.everySeconds ?? COORDINATOR_HEARTBEAT_SECONDS;
  const coordinatorId = `${hostname().replace(/[^-\w]/g, "_").slice(0, 40)}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const self = { coordinatorId, startedAt: new Date().toISOString(), version: batonVersion(), heartbeatSeconds: everySeconds, decision: decisionConfig(opts.config), metricsUrl: opts.metricsUrl };
  const mine = coordinatorBody(self);
  // Peers are checked at start and then every PEER_CHECK_BEATS beats, each differing peer warned about once: a
  // coordinator with another config that starts later is reported by the ones already running too.
  const warned = new Set<string>();
  const checkPeers = async () => {
    const peers = await liveCoordinators(opts.nc, opts.names).catch((err: Error) => {
      log.warn({ err }, "could not read the coordinators' heartbeats; config differences are not checked");
      return [];
    });
    for (const { peer, differences } of peerWarnings(mine, peers)) {
      if (warned.has(peer.coordinatorId)) continue;
      warned.add(peer.coordinatorId);
      log.warn(
        { fingerprint: mine.fingerprint, peer: { coordinatorId: peer.coordinatorId, host: peer.host, pid: peer.pid, fingerprint: peer.fingerprint }, differences },
        `config fingerprint ${mine.fingerprint} differs from ${peer.fingerprint} of live coordinator ${peer.coordinatorId} (pid ${peer.pid} on ${peer.host}) on prefix ${opts.names.prefix}: ` +
          `${differences.join("; ") || "no difference visible (another Baton version?)"}. Requests will be judged by whichever coordinator takes them; give each stack its own BATON_PREFIX or the same config`,
      );
    }
  };
  await checkPeers();
  let beats = 0;
  let failing = false;
  let inflight: Promise<void> = Promise.resolve();
  let stopped = false;
  const beat = () => {
    inflight = inflight.then(async () => {
      if (stopped) return;
      try {
        await kv.put(coordinatorId, JSON.stringify(coordinatorBody(self)));
        failing = false;
        if (++beats % PEER_CHECK_BEATS === 0) await checkPeers();
      } catch (err) {
        if (!failing) log.warn({ err, coordinatorId }, "coordinator heartbeat write failed; will keep trying");
        failing = true;
      }
    });
  };
  beat();
  await inflight;
  const timer = setInterval(beat, everySeconds * 1000);
  timer.unref();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(timer);
      stopped = true;
      await inflight;
      await kv.delete(coordinatorId).catch((err: Error) => log.warn({ err, coordinatorId }, "could not delete the coordinator heartbeat; it expires with the bucket TTL"));
    })());
  log.info({ coordinatorId, fingerprint: mine.fingerprint, bucket: opts.names.buckets.coordinators }, "coordinator heartbeat started");
  return { coordinatorId, fingerprint: mine.fingerprint, stop };
}
