// Built-in executors for benchmarks and tests: `noop` completes at once, `sleep` waits and completes.
// They measure orchestration without process start-up; an operator selects them in the worker config.
import type { TaskAssigned } from "../../shared/protocol/index.ts";
import type { ExecOutcome, Executor } from "./executor.ts";

export function createNoopExecutor(): Executor {
  return {
    describe: "noop",
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
    const v = (JSON.parse(text) as { sleepMs?: unknown }).sleepMs;
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) return Math.min(v, 3_600_000);
  } catch {
    /* not JSON: use the default */
  }
  return defaultMs;
}

export function createSleepExecutor(defaultMs: number): Executor {
  return {
    describe: `sleep (default ${defaultMs} ms)`,
    run: (task, ctx) =>
      new Promise<ExecOutcome>((resolve) => {
        const done = (): void => resolve({ outcome: "completed", exitCode: 0 });
        const t = setTimeout(() => {
          ctx.signal.removeEventListener("abort", onAbort);
          done();
        }, sleepDuration(task, defaultMs));
        const onAbort = (): void => {
          clearTimeout(t);
          resolve({ outcome: "failed", exitCode: null, error: { name: "Aborted", code: "ABORTED", message: "sleep aborted" } });
        };
        if (ctx.signal.aborted) onAbort();
        else ctx.signal.addEventListener("abort", onAbort, { once: true });
      }),
  };
}
