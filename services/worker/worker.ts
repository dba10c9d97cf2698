// The role worker's runtime: the puller on the role's shared durable consumer (it asks for tasks only for free
// slots), one slot per running task, cancellations, the heartbeat, and the drain on shutdown, driven by the lifecycle machine.
import { hostname } from "node:os";
import { jetstream, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { createActor, fromCallback, fromPromise, toPromise, waitFor } from "xstate";
import type { BatonConfig } from "../../shared/config.ts";
import type { Logger } from "../../shared/logging.ts";
import { ensureRoleConsumer, type NatsConnection } from "../../shared/nats.ts";
import { once } from "../../shared/process.ts";
import type { Names } from "../../shared/subjects.ts";
import { watchCancellations, type Cancellations } from "./cancellations.ts";
import type { Executor } from "./executor.ts";
import type { GateRunner } from "./gates.ts";
import { heartbeatKey, openWorkersBucket, startHeartbeat, type Heartbeat } from "./heartbeat.ts";
import { stateName, workerMachine, type TaskRef } from "./machine.ts";
import { startPuller, type Puller } from "./puller.ts";
import { handleTask, type AbortReason } from "./task.ts";

export interface WorkerOptions {
  nc: NatsConnection;
  names: Names;
  role: string;
  workerId: string;
  slots: number;
  settings: BatonConfig["worker"];
  executor: Executor | undefined;
  /** Runs the gates that task messages name (they are sent to the qa role). */
  gates: GateRunner;
  noExecutorMessage: string;
  log: Logger;
}

export interface Worker {
  /** Resolves once the worker pulls tasks; rejects if start-up failed. */
  start(): Promise<void>;
  /** Drains (see `drain`); resolves with the final state. Same promise on every call. */
  stop(): Promise<"stopped" | "failed">;
}

interface Running {
  ref?: TaskRef;
  ac: AbortController;
  done: Promise<void>;
}

export function createWorker(o: WorkerOptions): Worker {
  const { nc, names, role, workerId, log } = o;
  const js = jetstream(nc);
  const startedAt = new Date().toISOString();
  const running = new Map<number, Running>();
  let jsm: JetStreamManager | undefined;
  let puller: Puller | undefined;
  /** Resolves once the puller's inbox is closed (set when the drain begins). */
  let pullerStopped: Promise<void> = Promise.resolve();
  let heartbeat: Heartbeat | undefined;
  let cancellations: Cancellations | undefined;
  const cancelled: Pick<Cancellations, "known" | "check"> = {
    known: (featureId) => cancellations?.known(featureId) ?? false,
    check: (featureId, dispatchedAt) => cancellations?.check(featureId, dispatchedAt) ?? Promise.resolve(false),
  };

  /**
   * Makes sure the role consumer exists: one info request, and the consumer is created again when it is gone
   * (deleted, or lost with the server's store). Throws when JetStream does not answer (the puller retries).
   */
  async function ensureConsumer(): Promise<void> {
    jsm ??= await js.jetstreamManager(false);
    try {
      await jsm.consumers.info(names.streams.tasks, names.consumers.role(role));
    } catch (e) {
      if (!/not found/i.test(String((e as Error).message))) throw e;
      log.warn({ err: e }, "the role consumer is gone: creating it again");
      await ensureRoleConsumer(nc, names, role, o.settings.ackWaitSeconds);
    }
  }

  /** Runs a delivered task in the lowest free slot key (the puller counted it: at most `slots` run at once). */
  function onTask(m: JsMsg): void {
    let slot = 0;
    while (running.has(slot)) slot++;
    runSlot(slot, m);
  }

  function runSlot(slot: number, m: JsMsg): void {
    const entry: Running = { ac: new AbortController(), done: Promise.resolve() };
    running.set(slot, entry);
    // The slot is free once the message is settled (the ack and the next pull request share a socket write),
    // or at the latest when handling ends (a task left unacked for redelivery).
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      puller?.release();
    };
    entry.done = (async () => {
      try {
        const deps = { js, names, role, workerId, settings: o.settings, executor: o.executor, gates: o.gates, noExecutorMessage: o.noExecutorMessage, cancellations: cancelled, log };
        await handleTask(m, deps, {
          signal: entry.ac.signal,
          onRun: (ref) => {
            entry.ref = ref;
            actor.send({ type: "task.begin", slot: String(slot), ...ref });
          },
          onSettled: release,
        });
      } catch (e) {
        log.error({ err: e, slot }, "unexpected error handling a task; it will be delivered again");
      } finally {
        running.delete(slot);
        if (entry.ref) actor.send({ type: "task.end", slot: String(slot) });
        release();
      }
    })();
  }

  /** Kills the running tasks of a cancelled feature; handleTask answers them CANCELLED and acks them. */
  function cancelRunning(featureId: string): void {
    for (const t of running.values()) {
      if (t.ref?.featureId !== featureId || t.ac.signal.aborted) continue;
      log.warn({ featureId, taskId: t.ref.taskId }, "feature cancelled: killing its running task");
      t.ac.abort({ kind: "cancelled", featureId } satisfies AbortReason);
    }
  }

  async function prepare(): Promise<void> {
    await ensureRoleConsumer(nc, names, role, o.settings.ackWaitSeconds);
    cancellations = await watchCancellations({
      nc, names, log,
      onCancel: cancelRunning,
      running: () => [...running.values()].flatMap((r) => (r.ref ? [r.ref.featureId] : [])),
    });
    const kv = await openWorkersBucket(nc, names.buckets.workers, log);
    heartbeat = startHeartbeat({
      kv,
      key: heartbeatKey(role, workerId),
      everyMs: o.settings.heartbeatSeconds * 1000,
      log,
      snapshot: () => {
        const tasks = [...running.values()].flatMap((r) => (r.ref ? [r.ref] : []));
        const state = stateName(actor.getSnapshot().value);
        return { workerId, role, pid: process.pid, host: hostname(), slots: o.slots, busy: tasks.length, state, startedAt, at: new Date().toISOString(), tasks };
      },
    });
  }

  function startPulling(): () => void {
    const p = startPuller({
      nc, log, onTask, ensureConsumer,
      apiPrefix: js.apiPrefix,
      stream: names.streams.tasks,
      consumer: names.consumers.role(role),
      slots: o.slots,
      ackTimeoutMs: js.getOptions().timeout ?? 5000,
    });
    puller = p;
    log.info({ role, workerId, slots: o.slots }, "worker ready");
    return () => {
      pullerStopped = p.stop();
      log.info("drain: stopped pulling new tasks");
    };
  }

  /** Grace for running tasks, then abort + nak the rest; wait until the pull inbox is closed; delete the heartbeat. */
  async function drain(): Promise<void> {
    const graceMs = o.settings.drainGraceSeconds * 1000;
    const tasks = [...running.values()];
    if (tasks.length) {
      log.info({ tasks: tasks.map((t) => t.ref), graceSeconds: o.settings.drainGraceSeconds }, "drain: waiting for running tasks to finish");
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([
        Promise.all(tasks.map((t) => t.done)).then(() => true),
        new Promise<false>((r) => (timer = setTimeout(() => r(false), graceMs))),
      ]).finally(() => clearTimeout(timer));
      const left = [...running.values()];
      if (!inTime && left.length) {
        log.warn({ tasks: left.map((t) => t.ref) }, `drain: grace over, aborting ${left.length} task(s) and handing them back`);
        for (const t of left) t.ac.abort({ kind: "drain" } satisfies AbortReason);
        await Promise.all(left.map((t) => t.done));
      }
      log.info("drain: no tasks running");
    }
    await pullerStopped;
    log.info("drain: pull requests closed");
    await cancellations?.stop();
    await heartbeat?.stop();
  }

  const actor = createActor(
    workerMachine.provide({
      actors: {
        start: fromPromise(prepare),
        pull: fromCallback(startPulling),
        drain: fromPromise(drain),
      },
    }),
    { input: { role, workerId, slots: o.slots } },
  );
  // Log state changes; rewrite the heartbeat when the state changes (idle, working, draining), at most
  // once a second: a busy worker would otherwise write its heartbeat twice per task (seen in the benchmark).
  let last = "";
  let lastState = "";
  let lastBeat = 0;
  let pendingBeat: NodeJS.Timeout | undefined;
  const beatSoon = (): void => {
    const wait = lastBeat + 1000 - Date.now();
    if (wait <= 0) {
      lastBeat = Date.now();
      void heartbeat?.beat();
    } else {
      pendingBeat ??= setTimeout(() => {
        pendingBeat = undefined;
        lastBeat = Date.now();
        if (actor.getSnapshot().status === "active") void heartbeat?.beat();
      }, wait);
      pendingBeat.unref();
    }
  };
  actor.subscribe((s) => {
    const state = stateName(s.value);
    const seen = `${state} ${Object.keys(s.context.tasks).join(",")}`;
    if (seen === last) return;
    last = seen;
    log.debug({ state, busy: Object.keys(s.context.tasks).length }, "worker state");
    if (s.matches("failed")) log.error({ error: s.context.error }, "worker failed");
    if (s.status === "active" && state !== lastState) beatSoon();
    lastState = state;
  });

  let started = false;
  return {
    async start() {
      started = true;
      actor.start();
      const s = await waitFor(actor, (snap) => !snap.matches("starting"));
      if (s.matches("failed")) throw new Error(`worker failed to start: ${s.context.error}`);
    },
    stop: once(async () => {
      if (!started) return "stopped";
      actor.send({ type: "shutdown" });
      await toPromise(actor);
      return actor.getSnapshot().matches("failed") ? "failed" : "stopped";
    }),
  };
}
