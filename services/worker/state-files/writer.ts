// Keeps `.baton/<featureId>/` in each feature's workspace up to date (integrator workers run it): follows every
// feature's status events over core NATS, loads a feature's whole history the first time it is seen (or after a gap),
// and re-renders the state files after a short debounce, writing each atomically. Only for workspaces that exist on
// this machine under the worker's workspace roots.
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import type { Subscription } from "@nats-io/nats-core";
import { featureHistory } from "../../../shared/client/history.ts";
import { validate } from "../../../shared/codec.ts";
import type { Logger } from "../../../shared/logging.ts";
import type { NatsConnection } from "../../../shared/nats.ts";
import { StatusEvent } from "../../../shared/protocol/events.ts";
import type { Names } from "../../../shared/subjects.ts";
import { confine } from "../workspace/resolve.ts";
import { FeatureEvents, type TrackedFeature } from "./feature-events.ts";
import { renderStateFiles, STATE_FILE_NAMES } from "./render.ts";

export interface StateFilesDeps {
  nc: NatsConnection;
  names: Names;
  log: Logger;
  /** Resolved, absolute folders: a feature's files are written only when its workspace lies under one of them. */
  workspaceRoots: string[];
  /** Wait this long after an event before rewriting the files, so a burst of events gives one write (default 250). */
  debounceMs?: number;
  /** Bounds of the memory (FeatureEvents): default 500 features, ended ones forgotten after 10 minutes. */
  maxFeatures?: number;
  forgetAfterMs?: number;
}

export interface StateFilesWriter {
  /** Writes now what is due, and waits for history loads and writes under way. Never rejects. */
  flush(): Promise<void>;
  /** Unsubscribes, then flushes. Same promise on every call. */
  stop(): Promise<void>;
}

/** The folder of a feature's state files inside its workspace. */
export const stateDir = (workspace: string, featureId: string): string => join(workspace, ".baton", featureId);

/**
 * Starts following status events (resolves once the server has the subscription). The files are derived: each
 * write renders them from the feature's history as this worker has it; several writers (integrator workers) may
 * write the same files, each file is replaced whole (temp file + rename), never torn. Failures are logged, never thrown.
 */
export async function startStateFiles(deps: StateFilesDeps): Promise<StateFilesWriter> {
  const writer = new StateFileWriter(deps);
  await writer.subscribe();
  return { flush: () => writer.flush(), stop: () => writer.stop() };
}

class StateFileWriter {
  private readonly store: FeatureEvents;
  /** Features whose history is being loaded, with the live events that arrived meanwhile. */
  private readonly loading = new Map<string, StatusEvent[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per feature, the write under way (writes of one feature never overlap). */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly busy = new Set<Promise<void>>();
  private sub: Subscription | undefined;
  private pruner: NodeJS.Timeout | undefined;
  private statuses: AsyncIterable<{ type: string }> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly deps: StateFilesDeps) {
    this.store = new FeatureEvents({ maxFeatures: deps.maxFeatures, forgetAfterMs: deps.forgetAfterMs });
  }

  async subscribe(): Promise<void> {
    const { nc, names, log } = this.deps;
    this.sub = nc.subscribe(names.statusAll(), {
      callback: (err, msg) => {
        if (err) return log.warn({ err }, "state files: status subscription error");
        const event = this.parse(msg.subject, msg.data);
        if (event) this.onEvent(event);
      },
    });
    await nc.flush();
    this.pruner = setInterval(() => this.store.prune(), 60_000).unref();
    this.followReconnects();
  }

  /** Events published while disconnected never reach the subscription: reload the features still under way. */
  private followReconnects(): void {
    const statuses = this.deps.nc.status();
    this.statuses = statuses;
    void (async () => {
      for await (const status of statuses) {
        if (status.type !== "reconnect") continue;
        for (const feature of this.store.all()) if (feature.dir !== null && feature.endedAt === undefined) this.load(feature.featureId, [], true);
      }
    })().catch(() => {});
  }

  private parse(subject: string, data: Uint8Array): StatusEvent | undefined {
    try {
      const event = validate(StatusEvent, JSON.parse(new TextDecoder().decode(data)), "status event");
      const token = subject.split(".")[2]; // <prefix>.status.<featureId>.<kind>
      if (event.featureId !== token) throw new Error(`featureId "${event.featureId}" does not match the subject's "${token}"`);
      return event;
    } catch (err) {
      this.deps.log.warn({ subject, err: (err as Error).message }, "state files: ignoring an invalid status event");
      return undefined;
    }
  }

  private onEvent(event: StatusEvent): void {
    if (event.seq === 0 || this.stopping) return;
    const buffered = this.loading.get(event.featureId);
    if (buffered) return void buffered.push(event);
    const outcome = this.store.add(event);
    if (outcome === "added" && this.store.get(event.featureId)?.dir) this.schedule(event.featureId);
    // a feature first seen at its start needs no history
    else if (outcome === "unknown") this.load(event.featureId, [event], !(event.seq === 1 && event.kind === "feature.accepted"));
    else if (outcome === "gap") this.load(event.featureId, [event], true);
  }

  /**
   * Remembers the feature from its whole history (when `readHistory`) and the live events (which arrive meanwhile
   * are buffered and merged), resolving its workspace; then schedules a write. At most one load per feature at a time.
   */
  private load(featureId: string, live: StatusEvent[], readHistory: boolean): void {
    if (this.loading.has(featureId)) return void this.loading.get(featureId)!.push(...live);
    this.loading.set(featureId, [...live]);
    this.track((async () => {
      const history = readHistory ? await this.history(featureId) : [];
      const known = [...history, ...(this.loading.get(featureId) ?? [])];
      const accepted = known.find((event) => event.kind === "feature.accepted");
      const dir = accepted?.kind === "feature.accepted" && accepted.workspace ? await this.workspaceDir(accepted.workspace) : null;
      // no await from here on: every event buffered so far is merged, later ones go to the store
      const feature = this.store.set(featureId, [...history, ...(this.loading.get(featureId) ?? [])], dir);
      this.loading.delete(featureId);
      if (feature.dir) this.schedule(featureId);
    })().finally(() => this.loading.delete(featureId)));
  }

  /** The feature's stored events; what could be read when reading fails part-way (logged). */
  private async history(featureId: string): Promise<StatusEvent[]> {
    const events: StatusEvent[] = [];
    try {
      const onInvalid = (subject: string, err: Error) => this.deps.log.warn({ subject, err: err.message }, "state files: skipping an invalid stored event");
      for await (const event of featureHistory(this.deps.nc, this.deps.names, featureId, { follow: false, onInvalid })) events.push(event);
    } catch (err) {
      this.deps.log.warn({ err, featureId }, "state files: cannot read the feature's history; using the events seen live");
    }
    return events;
  }

  /** The workspace's real path when it is an existing directory under the roots, else null (nothing is written). */
  private async workspaceDir(workspace: string): Promise<string | null> {
    if (!isAbsolute(workspace)) return null;
    const confined = await confine(workspace, this.deps.workspaceRoots);
    if ("error" in confined) return null;
    const found = await stat(confined.dir).catch(() => undefined);
    return found?.isDirectory() ? confined.dir : null;
  }

  private schedule(featureId: string): void {
    if (this.timers.has(featureId)) return;
    this.timers.set(featureId, setTimeout(() => {
      this.timers.delete(featureId);
      this.write(featureId);
    }, this.deps.debounceMs ?? 250));
  }

  /** Renders and writes the feature's files after any write of it under way. */
  private write(featureId: string): void {
    const previous = this.writing.get(featureId) ?? Promise.resolve();
    const next = previous.then(() => this.writeNow(featureId));
    this.writing.set(featureId, next);
    this.track(next.finally(() => {
      if (this.writing.get(featureId) === next) this.writing.delete(featureId);
    }));
  }

  private async writeNow(featureId: string): Promise<void> {
    const feature: TrackedFeature | undefined = this.store.get(featureId);
    if (!feature?.dir) return;
    const folder = stateDir(feature.dir, featureId);
    try {
      await mkdir(folder, { recursive: true });
      // `.baton` might be a symlink made in the workspace: write only where the roots allow.
      const confined = await confine(folder, this.deps.workspaceRoots);
      if ("error" in confined) throw new Error(confined.error.message);
      const files = renderStateFiles(feature.events);
      for (const name of STATE_FILE_NAMES) await writeAtomically(join(confined.dir, name), files[name]);
    } catch (err) {
      this.deps.log.warn({ err, featureId, folder }, "state files: cannot write the feature's state files");
    }
  }

  /** Keeps `work` among what flush waits for; logs (never throws) its failure. */
  private track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => this.deps.log.warn({ err }, "state files: unexpected failure"));
    this.busy.add(tracked);
    void tracked.finally(() => this.busy.delete(tracked));
  }

  async flush(): Promise<void> {
    while (this.busy.size || this.timers.size) {
      for (const [featureId, timer] of this.timers) {
        clearTimeout(timer);
        this.timers.delete(featureId);
        this.write(featureId);
      }
      await Promise.allSettled([...this.busy]);
    }
  }

  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      clearInterval(this.pruner);
      const statuses = this.statuses;
      if (statuses && "stop" in statuses && typeof statuses.stop === "function") statuses.stop();
      try {
        if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
      } catch (err) {
        this.deps.log.warn({ err }, "state files: cannot unsubscribe");
      }
      await this.flush();
    })());
  }
}

/** Writes `text` to `path` by way of a new temp file in the same folder and a rename: readers see the old file or the new one. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, text, { flag: "wx" });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => {});
    throw err;
  }
}
