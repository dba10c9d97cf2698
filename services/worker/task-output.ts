// What the worker publishes while a task's work runs: task_started once the task has run startedDelayMs (or
// printed output), its output lines batched into task_log messages and an agent's progress into rate-limited
// task_progress messages — in order, task_started first.
import type { BatonConfig } from "../../shared/config.ts";
import type { Logger } from "../../shared/logging.ts";
import { LogBatcher, type LogStream } from "./log-batcher.ts";
import { ProgressLimiter } from "./progress-limiter.ts";
import type { AgentProgress } from "./runners/types.ts";
import type { TaskMessages } from "./task-messages.ts";

export interface TaskOutput {
  /** The runner's `onLine`: never throws, never blocks. */
  onLine(stream: LogStream, line: string): void;
  /** The runner's `onProgress` (absent for gate runs): at most ~2 messages a second, merged, never throws. */
  onProgress?: ((progress: AgentProgress) => void) | undefined;
  /**
   * Call once, when the run is over: publishes the last batches and the pending progress (its latest usage), cancels a task_started not sent yet, and
   * resolves once everything sent so far is published (or given up). Never rejects.
   */
  close(): Promise<void>;
}

/** Output of a gate run: it goes into the gate's report, so nothing is published while it runs. */
export const UNREPORTED_OUTPUT: TaskOutput = { onLine: () => {}, close: async () => {} };

/**
 * Starts reporting a task's work. A short task is reported by its result alone (the coordinator records its
 * start from it); a longer one, or one that prints, gets task_started first.
 */
export function reportTaskOutput(messages: TaskMessages, settings: BatonConfig["worker"], log: Logger): TaskOutput {
  let startedSent: Promise<void> | undefined;
  const sendStarted = (): Promise<void> =>
    (startedSent ??= messages.started().then((ok) => {
      if (!ok) log.warn("task_started could not be published; running the task anyway");
    }));
  const startedTimer = setTimeout(() => void sendStarted(), settings.startedDelayMs);
  let chain: Promise<unknown> = Promise.resolve();
  const batcher = new LogBatcher({
    maxLineChars: settings.logLineMaxChars,
    linesPerSecond: settings.logLinesPerSecond,
    onBatch: (batch) => {
      chain = chain.then(sendStarted).then(() => messages.log(batch));
    },
  });
  const progress = new ProgressLimiter({
    onStep: (step) => {
      chain = chain.then(sendStarted).then(() => messages.progress(step));
    },
  });
  return {
    onLine: (stream, line) => batcher.push(stream, line),
    onProgress: (step) => progress.push(step),
    async close() {
      batcher.close();
      progress.close();
      await chain;
      if (batcher.totals.dropped || batcher.totals.truncated) log.info(batcher.totals, "task output limited");
      clearTimeout(startedTimer);
      if (startedSent) await startedSent; // keep the order: started before the result
    },
  };
}
