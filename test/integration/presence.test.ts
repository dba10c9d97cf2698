// Who is live on a prefix, against a real nats-server: coordinators announce the fingerprint of the config they decide
// with (a second one with a different config warns, naming both and what differs), graceful stops remove entries at
// once, and a worker that died without deleting its entry is dropped after 3 missed heartbeats, before the bucket TTL.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveCoordinators, liveWorkers } from "../../shared/client/index.ts";
import { loadConfig } from "../../shared/config.ts";
import { kvKeys, openKv } from "../../shared/nats.ts";
import { names } from "../../shared/subjects.ts";
import { Coordinator } from "../../services/coordinator/coordinator.ts";
import { startPresence } from "../../services/coordinator/runtime/heartbeat.ts";
import { sleep } from "../../shared/process.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";
import { baton } from "../helpers/procs.ts";

let server: NatsServer;
let nc: NatsConnection;
let dir: string;
beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  dir = mkdtempSync(join(tmpdir(), "baton-presence-"));
});
afterAll(async () => {
  await nc?.close();
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A coordinator on its own connection whose warnings are collected as parsed pino lines. */
async function coordinator(prefix: string, file: string, warnings: Record<string, unknown>[]): Promise<Coordinator> {
  const config = loadConfig({ file, env: { NATS_URL: server.url, BATON_PREFIX: prefix } });
  const log = pino({ level: "warn" }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
  const own = await connect({ servers: server.url });
  const started = new Coordinator({ nc: own, config, log });
  await started.start();
  return started;
}

describe("several coordinators on one prefix", () => {
  it("a coordinator already running warns too, at its next peer check, about one that started later with another config", async () => {
    const prefix = uniquePrefix("pl");
    const n = names(prefix);
    const kv = await new Kvm(nc).create(n.buckets.coordinators, { history: 1, ttl: 30_000 });
    const collect = (into: Record<string, unknown>[]) => pino({ level: "warn" }, { write: (line: string) => void into.push(JSON.parse(line) as Record<string, unknown>) });
    const config = (roles: string) => {
      const file = join(dir, `${prefix}-${roles}.yaml`);
      writeFileSync(file, `knownRoles: [${roles}]\n`);
      return loadConfig({ env: { NATS_URL: server.url, BATON_PREFIX: prefix }, file });
    };
    const earlyWarnings: Record<string, unknown>[] = [];
    const early = await startPresence({ nc, kv, names: n, config: config("backend"), log: collect(earlyWarnings), everySeconds: 0.05 });
    const late = await startPresence({ nc, kv, names: n, config: config("docs"), log: collect([]), everySeconds: 0.05 });
    try {
      const deadline = Date.now() + 10_000;
      while (!earlyWarnings.some((line) => /config fingerprint/.test(String(line.msg))) && Date.now() < deadline) await sleep(50);
      const warnings = earlyWarnings.filter((line) => /config fingerprint/.test(String(line.msg)));
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]!.msg)).toContain(late.coordinatorId);
      await sleep(500); // more peer checks: the same peer is not warned about again
      expect(earlyWarnings.filter((line) => /config fingerprint/.test(String(line.msg)))).toHaveLength(1);
    } finally {
      await late.stop();
      await early.stop();
    }
  });

  it("a coordinator whose config differs from a live peer's warns, both fingerprints are listed, a graceful stop removes its entry", async () => {
    const prefix = uniquePrefix("pr");
    const first = join(dir, "first.yaml");
    const second = join(dir, "second.yaml");
    writeFileSync(first, "knownRoles: [backend, qa]\ngates:\n  unit: { run: [npm, test] }\n");
    writeFileSync(second, "knownRoles: [backend, docs]\ngates:\n  unit: { run: [npm, test] }\n  lint: { run: [npm, run, lint] }\n");
    const firstWarnings: Record<string, unknown>[] = [];
    const secondWarnings: Record<string, unknown>[] = [];
    const one = await coordinator(prefix, first, firstWarnings);
    const two = await coordinator(prefix, second, secondWarnings);
    try {
      const live = await liveCoordinators(nc, names(prefix));
      expect(live.map((beat) => beat.coordinatorId).sort()).toEqual([one.presence!.coordinatorId, two.presence!.coordinatorId].sort());
      const prints = new Set(live.map((beat) => beat.fingerprint));
      expect(prints).toEqual(new Set([one.presence!.fingerprint, two.presence!.fingerprint]));
      expect(prints.size).toBe(2);
      expect(live.find((beat) => beat.coordinatorId === two.presence!.coordinatorId)).toMatchObject({ roles: ["backend", "docs"], pid: process.pid });
      expect(Object.keys(live.find((beat) => beat.coordinatorId === two.presence!.coordinatorId)!.gates).sort()).toEqual(["lint", "unit"]);

      expect(firstWarnings.filter((line) => /config fingerprint/.test(String(line.msg)))).toEqual([]);
      const warning = secondWarnings.find((line) => /config fingerprint/.test(String(line.msg)));
      expect(warning, JSON.stringify(secondWarnings)).toBeDefined();
      const message = String(warning!.msg);
      expect(message).toContain(one.presence!.fingerprint);
      expect(message).toContain(two.presence!.fingerprint);
      expect(message).toContain(one.presence!.coordinatorId);
      expect(message).toContain("roles only here: docs");
      expect(message).toContain("gates only here: lint");
      expect(message).toContain("BATON_PREFIX");
    } finally {
      await two.close();
    }
    expect((await liveCoordinators(nc, names(prefix))).map((beat) => beat.coordinatorId)).toEqual([one.presence!.coordinatorId]);
    await one.close();
    expect(await liveCoordinators(nc, names(prefix))).toEqual([]);
  });

  it("coordinators with the same config do not warn", async () => {
    const prefix = uniquePrefix("pr");
    const file = join(dir, "same.yaml");
    writeFileSync(file, "knownRoles: [backend]\n");
    const warnings: Record<string, unknown>[] = [];
    const one = await coordinator(prefix, file, warnings);
    const two = await coordinator(prefix, file, warnings);
    try {
      expect(one.presence!.fingerprint).toBe(two.presence!.fingerprint);
      expect(warnings.filter((line) => /config fingerprint/.test(String(line.msg)))).toEqual([]);
      expect(await liveCoordinators(nc, names(prefix))).toHaveLength(2);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

/** Calls `read` until `done` holds for its answer (or 20 s pass, then returns the last answer). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

describe("live workers", () => {
  it("a worker that stops gracefully is gone at once; one killed is dropped after 3 missed heartbeats, before the bucket TTL", async () => {
    const prefix = uniquePrefix("pw");
    const n = names(prefix);
    const file = join(dir, `workers-${prefix}.yaml`);
    writeFileSync(file, "roles:\n  backend: { executor: noop }\nworker: { heartbeatSeconds: 1 }\n");
    const env = { NATS_URL: server.url, BATON_PREFIX: prefix };
    const polite = baton(["worker", "--role", "backend", "--config", file, "--id", "polite"], env);
    const killed = baton(["worker", "--role", "backend", "--config", file, "--id", "killed"], env);
    try {
      await Promise.all([polite.waitFor(/worker ready/, 30_000), killed.waitFor(/worker ready/, 30_000)]);
      // "worker ready" may come just before the first heartbeat write lands
      const before = await until(() => liveWorkers(nc, n), (list) => list.length === 2);
      expect(before.map((beat) => beat.workerId)).toEqual(["killed", "polite"]);
      expect(before.every((beat) => beat.heartbeatSeconds === 1)).toBe(true);

      expect(await polite.kill("SIGTERM")).toBe(0);
      expect((await liveWorkers(nc, n)).map((beat) => beat.workerId)).toEqual(["killed"]);

      await killed.kill("SIGKILL");
      const keys = await kvKeys(await jetstreamManager(nc), n.buckets.workers);
      expect(keys).toContain("backend.killed"); // still in the bucket: its TTL is 30 s
      const entry = await (await openKv(nc, n.buckets.workers)).get("backend.killed");
      const seen = Date.parse((entry!.json() as { at: string }).at);
      expect(await liveWorkers(nc, n, { now: () => seen + 3_000 })).toHaveLength(1);
      expect(await liveWorkers(nc, n, { now: () => seen + 3_001 })).toEqual([]);
    } finally {
      await Promise.all([polite.kill("SIGKILL"), killed.kill("SIGKILL")]);
    }
  }, 60_000);
});
