// The role worker's runtime: the puller on the role's shared durable consumer (it asks for tasks only for free
// slots), one slot per running task, cancellations and budget stops, the heartbeat, and the drain on shutdown, driven by the lifecycle machine.
import { hostname } from "node:os";
import { jetstream, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { createActor, fromCallback, fromPromise, toPromise, waitFor, type Actor, type SnapshotFrom } from "xstate";
import type { BatonConfig } from "../../shared/config.ts";
import type { Logger } from "../../shared/logging.ts";
import { ensureRoleConsumer, type NatsConnection } from "../../shared/nats.ts";
import { once } from "../../shared/process.ts";
import type { Names } from "../../shared/subjects.ts";
import { watchBudgetStops, type BudgetStops } from "./budget-stops.ts";
import { watchCancellations, type Cancellations } from "./cancellations.ts";
import { heartbeatBody, heartbeatKey, openWorkersBucket, startHeartbeat, type Heartbeat } from "./heartbeat.ts";
import { holdIdleGuards, type GuardPoolHold } from "./process/guard-pool.ts";
import { stateName, workerMachine } from "./machine.ts";
import { startPuller, type Puller } from "./puller.ts";
import { openResultsStore } from "./results-store.ts";
import type { Redactor } from "./redact.ts";
import type { Runners } from "./runners/registry.ts";
import { TaskSlots } from "./slots.ts";
import { SettledMessages } from "./settled.ts";
import { handleTask, type DeliveryEnd, type TaskDeps } from "./task.ts";
import type { DeliveryMetrics } from "./metrics.ts";
import { FileLocks } from "./locks.ts";
import type { Workspaces } from "./task-workspace.ts";
import { startStateFiles } from "./state-files/writer.ts";
import { workspaceRoots } from "./workspace/resolve.ts";
import { INTEGRATOR_ROLE } from "../../shared/protocol/workspace.ts";

/** The heartbeat is rewritten on a state change at most this often (a busy worker would write it twice per task). */
const STATE_BEAT_MIN_MS = 1000;

export interface WorkerOptions {
  nc: NatsConnection;
  names: Names;
  role: string;
  workerId: string;
  slots: number;
  settings: BatonConfig["worker"];
  /** What runs each task: built once at start-up from the operator's config (runners/registry.ts). */
  runners: Runners;
  /** Replaces the operator's secrets in every message the worker publishes about a task (redact.ts). */
  redact: Redactor;
  /** Workspace roots and worktree settings for git features' checkouts (absent: tasks run where their message says). */
  workspaces?: Workspaces["options"] | undefined;
  /** Told of each delivery and how it ended (metrics.ts), and where they are served (for the heartbeat). */
  metrics?: DeliveryMetrics | undefined;
  metricsUrl?: string | undefined;
  log: Logger;
}

export interface Worker {
  /** Resolves once the worker pulls tasks; rejects if start-up failed. */
  start(): Promise<void>;
  /** Drains (see `drain`), then closes the idle exec guards; resolves with the final state. Same promise on every call. */
  stop(): Promise<"stopped" | "failed">;
}

/** Builds a worker; nothing starts before `start()`. */
export function createWorker(options: WorkerOptions): Worker {
  return new RoleWorker(options);
}

class RoleWorker implements Worker {
  private readonly js: JetStreamClient;
  private readonly log: Logger;
  private readonly startedAt = new Date().toISOString();
  private readonly host = hostname();
  private readonly slots = new TaskSlots();
  private readonly actor: Actor<typeof workerMachine>;
  private readonly taskDeps: TaskDeps;
  private jsm: JetStreamManager | undefined;
  private puller: Puller | undefined;
  /** Resolves once the puller's inbox is closed (set when the drain begins). */
  private pullerStopped: Promise<void> = Promise.resolve();
  private heartbeat: Heartbeat | undefined;
  private cancellations: Cancellations | undefined;
  private budgetStops: BudgetStops | undefined;
  private locks: FileLocks | undefined;
  private stateFiles: { stop(): Promise<void> } | undefined;
  private started = false;
  /** Exec guards started ahead, so that a task's command does not wait for its guard's start (process/guard-pool.ts). */
  private guards: GuardPoolHold | undefined;
  private seen = { state: "", tasks: "", beatAt: 0, pendingBeat: undefined as NodeJS.Timeout | undefined };

  constructor(private readonly options: WorkerOptions) {
    const { nc, names, role, workerId, settings, runners, log } = options;
    this.log = log;
    this.js = jetstream(nc);
    this.taskDeps = {
      js: this.js, names, role, workerId, settings, runners, log, redact: options.redact,
      store: openResultsStore(nc, names, log),
      settled: new SettledMessages(),
      cancellations: {
        known: (featureId) => this.cancellations?.known(featureId) ?? false,
        check: (featureId, dispatchedAt) => this.cancellations?.check(featureId, dispatchedAt) ?? Promise.resolve(false),
      },
      budgetStops: {
        known: (run) => this.budgetStops?.known(run),
        check: (run, dispatchedAt) => this.budgetStops?.check(run, dispatchedAt) ?? Promise.resolve(undefined),
      },
    };
    if (options.workspaces) {
      const self = this;
      this.taskDeps.workspaces = { options: options.workspaces, workerId, get locks() { return self.locks; } };
    }
    this.actor = createActor(
      workerMachine.provide({
        actors: {
          start: fromPromise(() => this.prepare()),
          pull: fromCallback(() => this.startPulling()),
          drain: fromPromise(() => this.drain()),
        },
      }),
      { input: { role, workerId, slots: options.slots } },
    );
    this.actor.subscribe((snapshot) => this.onState(snapshot));
  }

  async start(): Promise<void> {
    this.started = true;
    this.guards = holdIdleGuards(Math.min(this.options.slots, 2));
    this.actor.start();
    const snapshot = await waitFor(this.actor, (snap) => !snap.matches("starting"));
    if (snapshot.matches("failed")) {
      await this.guards.release();
      throw new Error(`worker failed to start: ${snapshot.context.error}`);
    }
  }

  readonly stop = once(async (): Promise<"stopped" | "failed"> => {
    if (!this.started) return "stopped";
    try {
      this.actor.send({ type: "shutdown" });
      await toPromise(this.actor);
    } finally {
      await this.guards?.release(); // last: tasks given back by the drain may still have been starting commands
    }
    return this.actor.getSnapshot().matches("failed") ? "failed" : "stopped";
  });

  /**
   * Makes sure the role consumer exists: one info request, and the consumer is created again when it is gone
   * (deleted, or lost with the server's store). Throws when JetStream does not answer (the puller retries).
   */
  private async ensureConsumer(): Promise<void> {
    const { nc, names, role, settings, log } = this.options;
    this.jsm ??= await this.js.jetstreamManager(false);
    try {
      await this.jsm.consumers.info(names.streams.tasks, names.consumers.role(role));
    } catch (err) {
      if (!/not found/i.test(String((err as Error).message))) throw err;
      log.warn({ err }, "the role consumer is gone: creating it again");
      await ensureRoleConsumer(nc, names, role, settings.ackWaitSeconds);
    }
  }

  /** Runs a delivered task in the lowest free slot (the puller counted it: at most `slots` run at once). */
  private onTask(msg: JsMsg): void {
    const { slot, task } = this.slots.claim();
    const arrived = performance.now();
    let end: DeliveryEnd | "error" = "error";
    this.options.metrics?.delivered(msg.info.deliveryCount);
    // The slot is free once the message is settled (the ack and the next pull request share a socket write),
    // or at the latest when handling ends (a task left unacked for redelivery).
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.puller?.release();
    };
    task.done = (async () => {
      try {
        end = await handleTask(msg, this.taskDeps, {
          signal: task.abort.signal,
          onRun: (ref, run) => {
            task.ref = ref;
            task.run = run;
            this.actor.send({ type: "task.begin", slot: String(slot), ...ref });
          },
          onSettled: release,
        });
      } catch (err) {
        this.log.error({ err, slot }, "unexpected error handling a task; it will be delivered again");
      } finally {
        this.slots.free(slot);
        this.options.metrics?.ended(end, (performance.now() - arrived) / 1000);
        if (task.ref) this.actor.send({ type: "task.end", slot: String(slot) });
        release();
      }
    })();
  }

  /** The lifecycle's `start`: the role consumer, the cancellation and budget-stop watches, and the heartbeat. */
  private async prepare(): Promise<void> {
    const { nc, names, role, workerId, slots, settings, log } = this.options;
    await ensureRoleConsumer(nc, names, role, settings.ackWaitSeconds);
    this.cancellations = await watchCancellations({
      nc, names, log,
      onCancel: (featureId) => this.slots.abortFeature(featureId, log),
      running: () => this.slots.refs().map((ref) => ref.featureId),
    });
    this.budgetStops = await watchBudgetStops({
      nc, names, log,
      onStop: (run, reason) => this.slots.abortRun(run, reason, log),
      running: () => this.slots.refs().map((ref) => ref.featureId),
    });
    if (this.options.workspaces) this.locks = await FileLocks.open(nc, names, { log });
    // Integrators keep each git feature's readable state in its workspace (`.baton/<featureId>/`), from the status events.
    if (role === INTEGRATOR_ROLE && this.options.workspaces) {
      this.stateFiles = await startStateFiles({ nc, names, log, workspaceRoots: workspaceRoots(this.options.workspaces) });
    }
    const kv = await openWorkersBucket(nc, names.buckets.workers, log);
    this.heartbeat = startHeartbeat({
      kv,
      key: heartbeatKey(role, workerId),
      everyMs: settings.heartbeatSeconds * 1000,
      log,
      snapshot: () =>
        heartbeatBody({
          workerId, role, host: this.host, slots, startedAt: this.startedAt, metricsUrl: this.options.metricsUrl,
          state: stateName(this.actor.getSnapshot().value),
          tasks: this.slots.refs(),
        }),
    });
  }

  /** The lifecycle's `pull`: starts the puller; the returned cleanup stops it when the drain begins. */
  private startPulling(): () => void {
    const { nc, names, role, workerId, slots, log } = this.options;
    const puller = startPuller({
      nc, log,
      onTask: (msg) => this.onTask(msg),
      ensureConsumer: () => this.ensureConsumer(),
      waitingRequests: async () => {
        this.jsm ??= await this.js.jetstreamManager(false);
        return (await this.jsm.consumers.info(names.streams.tasks, names.consumers.role(role))).num_waiting;
      },
      apiPrefix: this.js.apiPrefix,
      stream: names.streams.tasks,
      consumer: names.consumers.role(role),
      slots,
      ackTimeoutMs: this.js.getOptions().timeout ?? 5000,
    });
    this.puller = puller;
    log.info({ role, workerId, slots }, "worker ready");
    return () => {
      this.pullerStopped = puller.stop();
      log.info("drain: stopped pulling new tasks");
    };
  }

  /** The lifecycle's `drain`: grace for running tasks, then abort + nak the rest; wait until the pull inbox is closed; delete the heartbeat. */
  private async drain(): Promise<void> {
    await this.slots.drain(this.options.settings.drainGraceSeconds * 1000, this.log);
    await this.pullerStopped;
    this.log.info("drain: pull requests closed");
    await this.cancellations?.stop();
    await this.budgetStops?.stop();
    await this.stateFiles?.stop();
    await this.heartbeat?.stop();
  }

  /** Logs state changes, and rewrites the heartbeat when the state changes (idle, working, draining). */
  private onState(snapshot: SnapshotFrom<typeof workerMachine>): void {
    const state = stateName(snapshot.value);
    const tasks = Object.keys(snapshot.context.tasks);
    if (state === this.seen.state && tasks.join(",") === this.seen.tasks) return;
    const stateChanged = state !== this.seen.state;
    this.seen.state = state;
    this.seen.tasks = tasks.join(",");
    this.log.debug({ state, busy: tasks.length }, "worker state");
    if (snapshot.matches("failed")) this.log.error({ error: snapshot.context.error }, "worker failed");
    if (snapshot.status === "active" && stateChanged) this.beatSoon();
  }

  /** Writes the heartbeat now, or once STATE_BEAT_MIN_MS have passed since the last such write. */
  private beatSoon(): void {
    const wait = this.seen.beatAt + STATE_BEAT_MIN_MS - Date.now();
    if (wait <= 0) {
      this.seen.beatAt = Date.now();
      void this.heartbeat?.beat();
      return;
    }
    this.seen.pendingBeat ??= setTimeout(() => {
      this.seen.pendingBeat = undefined;
      this.seen.beatAt = Date.now();
      if (this.actor.getSnapshot().status === "active") void this.heartbeat?.beat();
    }, wait);
    this.seen.pendingBeat.unref();
  }
}
