// The state-files writer against a real nats-server: status events published on the status subjects (and stored
// in the events stream) become `.baton/<featureId>/` files in the feature's workspace, rewritten as events arrive;
// nothing is written outside the worker's workspace roots; a writer started late reads the feature's history.
import { mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startStateFiles, stateDir, type StateFilesWriter } from "../../services/worker/state-files/writer.ts";
import { encode } from "../../shared/codec.ts";
import { silentLogger } from "../../shared/logging.ts";
import { ensureTopology } from "../../shared/nats.ts";
import type { StatusEvent } from "../../shared/protocol/events.ts";
import { names as namesFor, type Names } from "../../shared/subjects.ts";
import { uniquePrefix } from "../helpers/nats-server.ts";
import { useScratch } from "../helpers/scratch.ts";
import { featureHistory, SHA } from "../helpers/state-history.ts";

const scratch = useScratch("state-files");
let nc: NatsConnection;
let js: JetStreamClient;
let roots: string[];
const writers: StateFilesWriter[] = [];

beforeAll(async () => {
  nc = await connect({ servers: scratch.nats.url });
  js = jetstream(nc);
  mkdirSync(join(scratch.tmp, "roots"));
  mkdirSync(join(scratch.tmp, "elsewhere"));
  roots = [realpathSync(join(scratch.tmp, "roots"))];
});
afterAll(async () => {
  for (const writer of writers) await writer.stop();
  await nc?.close();
});

/** A fresh deployment (its own prefix) with the events stream. */
async function deployment(): Promise<Names> {
  const names = namesFor(uniquePrefix("sf"));
  await ensureTopology(nc, names);
  return names;
}

async function writer(names: Names): Promise<StateFilesWriter> {
  const started = await startStateFiles({ nc, names, log: silentLogger, workspaceRoots: roots, debounceMs: 20 });
  writers.push(started);
  return started;
}

async function publish(names: Names, events: readonly StatusEvent[]): Promise<void> {
  for (const event of events) await js.publish(names.status(event.featureId, event.kind), encode(event), { msgID: `${event.featureId}.ev.${event.seq}` });
}

/** A new workspace folder under the roots (or `elsewhere`). */
function workspace(name: string, under: "roots" | "elsewhere" = "roots"): string {
  const dir = join(scratch.tmp, under, name);
  mkdirSync(dir);
  return dir;
}

const read = (dir: string, featureId: string, file: string): string => readFileSync(join(stateDir(dir, featureId), file), "utf8");
const phase = (dir: string, featureId: string) => JSON.parse(read(dir, featureId, "current-phase.json")) as { lastEvent: { seq: number }; head: string; tasks: { completed: number } };
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 15_000, interval: 50 });

describe("state files", () => {
  it("appear in the workspace and are rewritten as the feature moves", async () => {
    const names = await deployment();
    const dir = workspace("moving");
    const history = featureHistory("moving", dir);
    await writer(names);
    await publish(names, history.slice(0, 8)); // up to api's task.completed
    await eventually(() => {
      expect(phase(dir, "moving").lastEvent.seq).toBe(8);
      expect(read(dir, "moving", "completed-changes.md")).toContain("## 1. api (backend): Build the API");
    });
    expect(read(dir, "moving", "pending-changes.md")).toContain("## docs (writer): Write the docs — waiting");

    await publish(names, history.slice(8));
    await eventually(() => expect(phase(dir, "moving").lastEvent.seq).toBe(history.length));
    expect(phase(dir, "moving").head).toBe(SHA.api);
    expect(read(dir, "moving", "pending-changes.md")).toMatch(/Merge conflict .* in `src\/api.ts`/);
    expect(read(dir, "moving", "rollback-plan.md")).toContain("baton rollback moving --to api");
    // every file replaced whole: no temp file left behind
    expect(readdirSync(stateDir(dir, "moving")).sort()).toEqual(["completed-changes.md", "current-phase.json", "pending-changes.md", "rollback-plan.md"]);
  });

  it("are not written for a workspace outside the worker's roots", async () => {
    const names = await deployment();
    const outside = workspace("outside", "elsewhere");
    const inside = workspace("inside");
    const started = await writer(names);
    await publish(names, featureHistory("outside", outside).slice(0, 8));
    await publish(names, featureHistory("inside", inside).slice(0, 8));
    await eventually(() => expect(phase(inside, "inside").lastEvent.seq).toBe(8));
    await started.flush();
    expect(readdirSync(outside)).toEqual([]);
  });

  it("are written by a writer started after the events were published: it reads the history", async () => {
    const names = await deployment();
    const dir = workspace("late");
    const history = featureHistory("late", dir);
    await publish(names, history.slice(0, 8));
    await writer(names);
    await publish(names, history.slice(8, 9)); // web dispatched: the first event the writer sees
    await eventually(() => expect(phase(dir, "late").lastEvent.seq).toBe(9));
    expect(phase(dir, "late").tasks.completed).toBe(1);
    expect(read(dir, "late", "completed-changes.md")).toContain("Files (2, +40 −2): `src/api.ts`, `src/db.ts`");
  });
});
