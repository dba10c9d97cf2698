// The tasks a worker runs now, one per slot: which task each slot runs once it runs, how to abort it, and the
// drain's wait for them. The puller makes sure that at most `slots` deliveries are held; this keeps the books.
import type { Logger } from "../../shared/logging.ts";
import type { TaskRef } from "./machine.ts";
import type { AbortReason } from "./task-guards.ts";

export interface RunningTask {
  /** Set once the task is valid and runs (before that the slot holds a delivery being checked). */
  ref?: TaskRef;
  /** Set with `ref`: the task's attempt, and whether this is a gate run (never stopped for a budget). */
  run?: { attempt: number; gate: boolean };
  abort: AbortController;
  /** Resolves once the delivery is handled, whatever happened to it. Never rejects. */
  done: Promise<void>;
}

export class TaskSlots {
  private readonly running = new Map<number, RunningTask>();

  /** Claims the lowest free slot key for a delivery; `free` it when the delivery is handled. */
  claim(): { slot: number; task: RunningTask } {
    let slot = 0;
    while (this.running.has(slot)) slot++;
    const task: RunningTask = { abort: new AbortController(), done: Promise.resolve() };
    this.running.set(slot, task);
    return { slot, task };
  }

  free(slot: number): void {
    this.running.delete(slot);
  }

  /** The tasks that run now (deliveries still being checked are not listed). */
  refs(): TaskRef[] {
    return [...this.running.values()].flatMap((task) => (task.ref ? [task.ref] : []));
  }

  /** Aborts the running tasks of a cancelled feature (their handler answers them CANCELLED). Safe to repeat. */
  abortFeature(featureId: string, log: Logger): void {
    for (const task of this.running.values()) {
      if (task.ref?.featureId !== featureId || task.abort.signal.aborted) continue;
      log.warn({ featureId, taskId: task.ref.taskId }, "feature cancelled: killing its running task");
      task.abort.abort({ kind: "cancelled", featureId } satisfies AbortReason);
    }
  }

  /** Aborts the run of a task's work that a budget stopped (its handler answers it BUDGET_EXCEEDED). Safe to repeat. */
  abortRun(stop: TaskRef & { attempt: number }, reason: string, log: Logger): void {
    for (const task of this.running.values()) {
      const { ref, run } = task;
      if (!ref || !run || run.gate || ref.featureId !== stop.featureId || ref.taskId !== stop.taskId || run.attempt !== stop.attempt) continue;
      if (task.abort.signal.aborted) continue;
      log.warn({ ...stop, reason }, "budget exceeded: killing the task's run");
      task.abort.abort({ kind: "budget", reason } satisfies AbortReason);
    }
  }

  /**
   * The drain's wait: lets the deliveries held now finish within `graceMs`, then aborts the rest (their handler
   * hands them back) and waits for those too. Resolves once no delivery is held; never rejects.
   * `baton up` turns its three "drain: …" log lines into progress for the user (services/cli/supervisor.ts):
   * keep their wording and the `tasks` / `graceSeconds` fields.
   */
  async drain(graceMs: number, log: Logger): Promise<void> {
    const held = [...this.running.values()];
    if (!held.length) return;
    log.info({ tasks: held.map((task) => task.ref), graceSeconds: graceMs / 1000 }, "drain: waiting for running tasks to finish");
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      Promise.all(held.map((task) => task.done)).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]).finally(() => clearTimeout(timer));
    const left = [...this.running.values()];
    if (!inTime && left.length) {
      log.warn({ tasks: left.map((task) => task.ref) }, `drain: grace over, aborting ${left.length} task(s) and handing them back`);
      for (const task of left) task.abort.abort({ kind: "drain" } satisfies AbortReason);
      await Promise.all(left.map((task) => task.done));
    }
    log.info("drain: no tasks running");
  }
}
