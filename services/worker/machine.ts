// The worker process's lifecycle as an xstate v5 machine: starting → idle ⇄ working → draining → stopped | failed.
// It does no I/O itself: starting, pulling and draining are actors that worker.ts provides.
import { assign, fromCallback, fromPromise, setup } from "xstate";

export interface TaskRef {
  featureId: string;
  taskId: string;
}

export interface WorkerContext {
  role: string;
  workerId: string;
  slots: number;
  /** Tasks running now, by slot key. */
  tasks: Record<string, TaskRef>;
  /** A shutdown arrived while starting: drain as soon as start-up is done. */
  stopRequested: boolean;
  error?: string;
}

export type WorkerEvent =
  | ({ type: "task.begin"; slot: string } & TaskRef)
  | { type: "task.end"; slot: string }
  | { type: "shutdown" };

export type WorkerInput = Pick<WorkerContext, "role" | "workerId" | "slots">;

const notProvided = (name: string) => () => {
  throw new Error(`worker machine: actor "${name}" was not provided`);
};

export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    events: {} as WorkerEvent,
    input: {} as WorkerInput,
  },
  actors: {
    /** Prepares the role's consumer and the heartbeat. */
    start: fromPromise<void>(async () => notProvided("start")()),
    /** Pulls tasks while invoked; stopping the actor stops pulling (running tasks go on). */
    pull: fromCallback(() => notProvided("pull")()),
    /** Lets running tasks finish within the grace period, hands back the rest, deletes the heartbeat. */
    drain: fromPromise<void>(async () => notProvided("drain")()),
  },
  actions: {
    addTask: assign({
      tasks: ({ context, event }) =>
        event.type === "task.begin" ? { ...context.tasks, [event.slot]: { featureId: event.featureId, taskId: event.taskId } } : context.tasks,
    }),
    removeTask: assign({
      tasks: ({ context, event }) => {
        if (event.type !== "task.end") return context.tasks;
        const { [event.slot]: _gone, ...rest } = context.tasks;
        return rest;
      },
    }),
    requestStop: assign({ stopRequested: true }),
    recordError: assign({ error: ({ event }) => String((event as { error?: unknown }).error ?? "unknown error") }),
  },
  guards: {
    stopRequested: ({ context }) => context.stopRequested,
    /** The task that ends is the last one running. */
    lastTask: ({ context, event }) =>
      event.type === "task.end" && Object.keys(context.tasks).every((slot) => slot === event.slot),
  },
}).createMachine({
  id: "worker",
  context: ({ input }) => ({ ...input, tasks: {}, stopRequested: false }),
  initial: "starting",
  states: {
    starting: {
      invoke: {
        src: "start",
        onDone: [{ guard: "stopRequested", target: "draining" }, { target: "running" }],
        onError: { target: "failed", actions: "recordError" },
      },
      on: { shutdown: { actions: "requestStop" } },
    },
    running: {
      invoke: { src: "pull" },
      initial: "idle",
      on: { shutdown: "draining" },
      states: {
        idle: {
          on: { "task.begin": { target: "working", actions: "addTask" } },
        },
        working: {
          on: {
            "task.begin": { actions: "addTask" },
            "task.end": [{ guard: "lastTask", target: "idle", actions: "removeTask" }, { actions: "removeTask" }],
          },
        },
      },
    },
    draining: {
      invoke: {
        src: "drain",
        onDone: "stopped",
        onError: { target: "failed", actions: "recordError" },
      },
      on: { "task.end": { actions: "removeTask" } },
    },
    stopped: { type: "final" },
    failed: { type: "final" },
  },
});

/** The state name reported in heartbeats and logs: starting, idle, working, draining, stopped, failed. */
export function stateName(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") return Object.values(value as Record<string, unknown>).map(stateName).join(".");
  return String(value);
}
