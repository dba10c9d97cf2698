// The dashboard's server in process against a real nats-server: a feature's event stream replays the history and
// follows it, and its ordered consumer goes away when the browser does; `close()` ends open streams; `baton up`'s
// dashboard moves to a free port when the configured one is taken.
import { request, type ClientRequest } from "node:http";
import { createServer, type Server } from "node:net";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardPort } from "../../services/cli/up-dashboard.ts";
import { startUiServer, type UiServer } from "../../services/ui/server.ts";
import { loadStaticFiles, publicDir } from "../../services/ui/static.ts";
import { encode } from "../../shared/codec.ts";
import { silentLogger } from "../../shared/logging.ts";
import { ensureTopology } from "../../shared/nats.ts";
import { names, type Names } from "../../shared/subjects.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";

let nats: NatsServer;
let nc: NatsConnection;
let n: Names;
let server: UiServer;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  n = names(uniquePrefix("uisrv"));
  await ensureTopology(nc, n);
  server = await startUiServer({ nc, names: n, log: silentLogger, actionWaitMs: 2000, files: loadStaticFiles(publicDir()), host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await server?.close();
  await nc?.close();
  await nats?.dispose();
});

const event = (seq: number, kind: string, extra: Record<string, unknown> = {}) => ({
  type: "baton.v1.status_event", featureId: "f1", seq, at: new Date().toISOString(), kind, ...extra,
});

/** Opens an SSE stream; resolves with the request and a reader of what arrived so far. */
function openStream(path: string): Promise<{ req: ClientRequest; text: () => string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let text = "";
    const req = request(new URL(path, server.url), (res) => {
      expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
      const ended = new Promise<void>((done) => res.once("close", () => done()));
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      resolve({ req, text: () => text, ended });
    });
    req.once("error", reject);
    req.end();
  });
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const consumers = async () => (await (await jetstreamManager(nc)).consumers.list(n.streams.events).next()).length;

describe("a feature's event stream", () => {
  it("replays the history, follows new events, and leaves no consumer behind once the client is gone", async () => {
    const js = jetstream(nc);
    await js.publish(n.status("f1", "feature.accepted"), encode(event(1, "feature.accepted", { title: "T", maxParallel: 1, tasks: [] })));
    const stream = await openStream("/api/features/f1/stream");
    await until(() => stream.text().includes("id: 1\nevent: status\n"), "the replayed event");
    await js.publish(n.status("f1", "feature.paused"), encode(event(2, "feature.paused", { by: "ana" })));
    await until(() => stream.text().includes("id: 2\nevent: status\n"), "the followed event");
    expect(stream.text()).toContain('"by":"ana"');
    expect(await consumers()).toBe(1);

    stream.req.destroy();
    await until(async () => (await consumers()) === 0, "the ordered consumer to be removed");
  });

  it("skips what a reconnecting client has (Last-Event-ID)", async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(new URL("/api/features/f1/stream", server.url), { headers: { "Last-Event-ID": "1" } }, (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
          if (body.includes("id: 2\n")) (req.destroy(), resolve(body));
        });
      });
      req.once("error", reject);
      req.end();
    });
    expect(text).not.toContain("id: 1\n");
  });

  it("close() ends the streams still open", async () => {
    const other = await startUiServer({ nc, names: n, log: silentLogger, actionWaitMs: 2000, files: loadStaticFiles(publicDir()), host: "127.0.0.1", port: 0 });
    const original = server;
    server = other;
    try {
      const list = await openStream("/api/stream");
      const feature = await openStream("/api/features/f1/stream");
      await until(() => list.text().includes("event: hello"), "the list stream's hello");
      await other.close();
      await Promise.all([list.ended, feature.ended]);
    } finally {
      server = original;
    }
    await until(async () => (await consumers()) === 0, "the ordered consumer to be removed");
  });
});

describe("baton up's dashboard port", () => {
  it("is the configured port when free, another one when it is taken", async () => {
    const holder: Server = createServer();
    const taken = await new Promise<number>((resolve) => holder.listen(0, "127.0.0.1", () => resolve((holder.address() as { port: number }).port)));
    try {
      const moved = await dashboardPort("127.0.0.1", taken);
      expect(moved.fallback).toBe(true);
      expect(moved.port).not.toBe(taken);
      await new Promise<void>((resolve) => holder.close(() => resolve()));
      expect(await dashboardPort("127.0.0.1", taken)).toEqual({ port: taken, fallback: false });
    } finally {
      holder.close();
    }
  });
});
