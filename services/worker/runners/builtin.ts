// Built-in executors for benchmarks and tests: `noop` completes at once, `sleep` waits and completes.
// They measure orchestration without process start-up; an operator selects them in the worker config.
import { wireError } from "../../../shared/protocol/errors.ts";
import type { TaskAssigned } from "../../../shared/protocol/index.ts";
import type { ExecOutcome, Executor } from "./types.ts";

/** Completes every task at once (exit code 0). */
export function createNoopExecutor(): Executor {
  return {
    kind: "noop",
    describe: "noop",
    reports: "task",
    run: async (): Promise<ExecOutcome> => ({ outcome: "completed", exitCode: 0 }),
  };
}

/** Duration: the task's instructions as milliseconds ("50", "50ms" or `{"sleepMs":50}`), else `defaultMs`. */
export function sleepDuration(task: Pick<TaskAssigned, "instructions">, defaultMs: number): number {
  const text = task.instructions?.trim();
  if (!text) return defaultMs;
  const plain = /^(\d{1,7})\s*(ms)?$/.exec(text);
  if (plain) return Number(plain[1]);
  try {
    const value = (JSON.parse(text) as { sleepMs?: unknown }).sleepMs;
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) return Math.min(value, 3_600_000);
  } catch {
    /* not JSON: use the default */
  }
  return defaultMs;
}

/** Completes each task after its `sleepDuration`; fails it ABORTED at once when the worker aborts it. */
export function createSleepExecutor(defaultMs: number): Executor {
  return {
    kind: "sleep",
    describe: `sleep (default ${defaultMs} ms)`,
    reports: "task",
    run: (task, ctx) =>
      new Promise<ExecOutcome>((resolve) => {
        const timer = setTimeout(() => {
          ctx.signal.removeEventListener("abort", onAbort);
          resolve({ outcome: "completed", exitCode: 0 });
        }, sleepDuration(task, defaultMs));
        const onAbort = (): void => {
          clearTimeout(timer);
          resolve({ outcome: "failed", exitCode: null, error: wireError("Aborted", "sleep aborted") });
        };
        if (ctx.signal.aborted) onAbort();
        else ctx.signal.addEventListener("abort", onAbort, { once: true });
      }),
  };
}
