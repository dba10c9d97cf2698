// Handles one task message end to end: validate, guard (cancelled feature, redeliveries, missing executor),
// publish started → logs → result with deterministic msg ids, and only then ack. A drained task is nak'ed instead.
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { decode, encode } from "../../shared/codec.ts";
import type { BatonConfig } from "../../shared/config.ts";
import { ProtocolError, toWireError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logging.ts";
import { sleep } from "../../shared/process.ts";
import { Id, REVIEW_GATE, TaskAssigned, type TaskLog, type TaskResult, type TaskStarted, type WireError } from "../../shared/protocol/index.ts";
import type { Names } from "../../shared/subjects.ts";
import type { Cancellations } from "./cancellations.ts";
import { expectsChanges, startChangeCheck, type ChangeCheck } from "./changes.ts";
import type { ExecOutcome, Executor } from "./executor.ts";
import type { GateRunner } from "./gates.ts";
import { runReview } from "./review.ts";
import { LogBatcher } from "./log-batcher.ts";
import type { TaskRef } from "./machine.ts";

export interface TaskDeps {
  js: JetStreamClient;
  names: Names;
  role: string;
  workerId: string;
  settings: BatonConfig["worker"];
  executor: Executor | undefined;
  /** Runs the gates a task message names (qa workers); from the operator's config. */
  gates: GateRunner;
  /** Why there is no executor (shown to whoever submitted the task). */
  noExecutorMessage: string;
  cancellations: Pick<Cancellations, "known" | "check">;
  log: Logger;
}

/** Why the worker aborted a running task: its drain grace is over (hand it back), or its feature was cancelled. */
export type AbortReason = { kind: "drain" } | { kind: "cancelled"; featureId: string };

const isCancel = (reason: unknown): boolean => (reason as AbortReason | undefined)?.kind === "cancelled";

const cancelled = (featureId: string, exitCode: number | null): ExecOutcome => ({
  outcome: "failed",
  exitCode,
  error: { name: "Cancelled", code: "CANCELLED", message: `feature ${featureId} was cancelled` },
});

export interface TaskHooks {
  /**
   * Aborted with an AbortReason: `drain` (grace over) kills the executor and hands the task back;
   * `cancelled` kills it and answers the task CANCELLED.
   */
  signal: AbortSignal;
  /** Called once the task is valid and about to run; a cancellation of its feature from then on aborts `signal`. */
  onRun(ref: TaskRef): void;
  /**
   * Called right after the message is acked, nak'ed or terminated, in the same tick: the worker frees the slot
   * there, so that its next pull request leaves in the same socket write as the ack. Not called when the
   * message is left unacked (the result could not be published).
   */
  onSettled?(): void;
}

type Ref = Pick<TaskResult, "featureId" | "taskId" | "attempt" | "role" | "workerId" | "gate">;

/** Processes one delivery of a task message. Never throws; leaves the message unacked only if the result could not be published. */
export async function handleTask(m: JsMsg, d: TaskDeps, hooks: TaskHooks): Promise<void> {
  const delivery = m.info.deliveryCount;
  let task: TaskAssigned;
  try {
    task = decode(TaskAssigned, m.data, `task message on ${m.subject}`);
    if (task.role !== d.role) throw new ProtocolError(`task message on ${m.subject} names role "${task.role}", but this worker serves role "${d.role}"`);
  } catch (e) {
    return rejectInvalid(m, e, d, hooks);
  }
  const ref: Ref = { featureId: task.featureId, taskId: task.taskId, attempt: task.attempt, role: d.role, workerId: d.workerId, ...(task.gate ? { gate: task.gate } : {}) };
  const log = d.log.child({ featureId: task.featureId, taskId: task.taskId, role: d.role, attempt: task.attempt, delivery, ...(task.gate ? { gate: task.gate.name } : {}) });
  // A gate run's messages get msg ids of their own: the task's work has the same feature, task and attempt.
  const base = `${ref.featureId}.${ref.taskId}.${ref.attempt}` + (task.gate ? `.gate.${task.gate.scope}.${task.gate.name}.${task.gate.run}` : "");
  const startedAt = new Date().toISOString();
  const keepAlive = setInterval(() => safely(() => m.working()), (d.settings.ackWaitSeconds * 1000) / 3);
  try {
    let out: ExecOutcome;
    const cancelledEarlier = await d.cancellations.check(task.featureId, task.dispatchedAt);
    // No await from this check to onRun: a cancellation that arrives later finds the task registered as running.
    if (cancelledEarlier || d.cancellations.known(task.featureId)) {
      log.info("the task's feature was cancelled: answered CANCELLED without running it");
      out = cancelled(task.featureId, null);
    } else if (delivery > d.settings.maxDeliver) {
      const message = `worker lost: task was delivered ${delivery - 1} times without finishing (maxDeliver ${d.settings.maxDeliver})`;
      log.error(message);
      out = { outcome: "failed", exitCode: null, error: { name: "WorkerLost", code: "WORKER_LOST", message } };
    } else if (task.gate) {
      // A gate run: its output goes into its report (gate.passed / gate.failed), not into task.log events.
      hooks.onRun({ featureId: task.featureId, taskId: task.taskId });
      log.debug("gate run started");
      const ctx = { signal: hooks.signal, onLine: () => {}, log };
      // The review gate is the reviewer agent's verdict (the role's executor); the others are config commands.
      out = task.gate.name === REVIEW_GATE ? await runReview(task, d.executor, ctx) : await d.gates.run(task, ctx);
      if (hooks.signal.aborted && !isCancel(hooks.signal.reason)) {
        safely(() => m.nak());
        hooks.onSettled?.();
        log.warn("gate run aborted by drain and handed back (nak); no result published");
        return;
      }
      if (hooks.signal.aborted) out = { ...cancelled(task.featureId, out.exitCode), gateReport: out.gateReport };
    } else if (!d.executor) {
      log.error(d.noExecutorMessage);
      out = { outcome: "failed", exitCode: null, error: { name: "NoExecutor", code: "NO_EXECUTOR", message: d.noExecutorMessage } };
    } else {
      hooks.onRun({ featureId: task.featureId, taskId: task.taskId });
      // task_started goes out only once the task has run for startedDelayMs (or printed output): a
      // short task is reported by its result alone, and the coordinator records its start from it.
      const started: TaskStarted = { type: "baton.v1.task_started", ...ref, delivery, at: startedAt };
      let startedSent: Promise<void> | undefined;
      const sendStarted = (): Promise<void> =>
        (startedSent ??= publish(d, started, `${base}.${delivery}.started`, log, 3).then((ok) => {
          if (!ok) log.warn("task_started could not be published; running the task anyway");
        }));
      const startedTimer = setTimeout(() => void sendStarted(), d.settings.startedDelayMs);
      log.debug({ executor: d.executor.describe }, "task started");
      let changes: ChangeCheck | undefined;
      try {
        if (expectsChanges(task)) changes = await watchWorkspace(task, d.executor, log);
        out = await runExecutor(task, d.executor, d, ref, delivery, hooks.signal, log, sendStarted);
      } finally {
        clearTimeout(startedTimer);
      }
      if (startedSent) await startedSent; // keep the order: started before the result
      if (hooks.signal.aborted && isCancel(hooks.signal.reason)) {
        out = cancelled(task.featureId, out.exitCode);
      } else if (hooks.signal.aborted) {
        safely(() => m.nak());
        hooks.onSettled?.();
        log.warn("task aborted by drain and handed back (nak); no result published");
        return;
      }
      // Phantom completion: a task that had to change files and changed none fails; a failure keeps its own error.
      if (changes && out.outcome === "completed") {
        const error = await changes.verdict();
        if (error) out = { ...out, outcome: "failed", error };
      }
    }
    const result: TaskResult = { type: "baton.v1.task_result", ...ref, ...out, delivery, startedAt, finishedAt: new Date().toISOString() };
    if (!(await publish(d, result, `${base}.result`, log, 8))) {
      log.error("task result could not be published; leaving the task unacked so that it is delivered again");
      return;
    }
    safely(() => m.ack());
    hooks.onSettled?.();
    const durationMs = Date.now() - Date.parse(startedAt);
    const fields = { outcome: out.outcome, exitCode: out.exitCode, durationMs, error: out.error };
    // A success is recorded durably as task.completed (`baton watch`); the log line is for debugging.
    if (out.outcome === "completed") log.debug(fields, "task finished");
    else log.warn(fields, "task finished");
  } finally {
    clearInterval(keepAlive);
  }
}

/** Runs the executor with its output batched into TaskLog messages; all logs are published before it returns. */
async function runExecutor(task: TaskAssigned, ex: Executor, d: TaskDeps, ref: Ref, delivery: number, signal: AbortSignal, log: Logger, beforeLogs: () => Promise<void>): Promise<ExecOutcome> {
  let chain: Promise<unknown> = Promise.resolve();
  const batcher = new LogBatcher({
    maxLineChars: d.settings.logLineMaxChars,
    linesPerSecond: d.settings.logLinesPerSecond,
    onBatch: (b) => {
      const msg: TaskLog = { type: "baton.v1.task_log", ...ref, delivery, ...b, at: new Date().toISOString() };
      chain = chain.then(beforeLogs).then(() => publish(d, msg, `${ref.featureId}.${ref.taskId}.${ref.attempt}.${delivery}.log.${b.batch}`, log, 1));
    },
  });
  let out: ExecOutcome;
  try {
    out = await ex.run(task, { signal, onLine: (s, line) => batcher.push(s, line), log });
  } catch (e) {
    log.error({ err: e }, "executor threw; reporting the task as failed");
    out = { outcome: "failed", exitCode: null, error: toWireError(e) };
  }
  batcher.close();
  await chain;
  if (batcher.totals.dropped || batcher.totals.truncated) log.info(batcher.totals, "task output limited");
  return out;
}

/** Starts the phantom-completion check in the executor's workspace; undefined when it has none (built-ins). */
async function watchWorkspace(task: TaskAssigned, ex: Executor, log: Logger): Promise<ChangeCheck | undefined> {
  const ws = await ex.workspace?.(task);
  if (!ws || "error" in ws) return undefined; // no folder to look at; a bad workspace fails the task in `run`
  return startChangeCheck(task, ws.dir, log);
}

/** A message that is not a valid task: fail it back when it names a task, then terminate it. */
async function rejectInvalid(m: JsMsg, e: unknown, d: TaskDeps, hooks: Pick<TaskHooks, "onSettled">): Promise<void> {
  const error: WireError = { ...toWireError(e), name: "ProtocolError", code: "PROTOCOL" };
  const raw = readRef(m.data);
  d.log.error({ subject: m.subject, seq: m.seq, delivery: m.info.deliveryCount, error, task: raw }, "invalid task message");
  if (raw) {
    const now = new Date().toISOString();
    const result: TaskResult = {
      type: "baton.v1.task_result", ...raw, role: d.role, workerId: d.workerId,
      outcome: "failed", startedAt: now, finishedAt: now, exitCode: null, error,
    };
    await publish(d, result, `${raw.featureId}.${raw.taskId}.${raw.attempt}.result`, d.log, 3);
  }
  safely(() => m.term());
  hooks.onSettled?.();
}

/** featureId, taskId and attempt of a message that failed validation, when they can be read. */
export function readRef(data: Uint8Array): { featureId: string; taskId: string; attempt: number } | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
    const { featureId, taskId, attempt } = v ?? {};
    if (Id.safeParse(featureId).success && Id.safeParse(taskId).success && Number.isInteger(attempt) && (attempt as number) >= 1) {
      return { featureId: featureId as string, taskId: taskId as string, attempt: attempt as number };
    }
  } catch {
    // not JSON: nothing to report back to
  }
  return undefined;
}

/**
 * Publishes a worker→coordinator message with its deterministic msg id, retrying with backoff up
 * to `tries` times (JetStream drops the duplicates). Returns false when every try failed.
 */
async function publish(d: TaskDeps, msg: TaskStarted | TaskLog | TaskResult, msgID: string, log: Logger, tries: number): Promise<boolean> {
  const subject = d.names.result(msg.featureId, msg.taskId);
  for (let i = 1; ; i++) {
    try {
      const ack = await d.js.publish(subject, encode(msg), { msgID });
      if (ack.duplicate && msg.type === "baton.v1.task_result") {
        log.info({ msgID }, "task result already published (duplicate msg id): JetStream kept the first one");
      }
      return true;
    } catch (e) {
      if (i >= tries) {
        log.error({ err: e, msgID, tries }, `could not publish ${msg.type}`);
        return false;
      }
      const delay = Math.min(5000, 250 * 2 ** i);
      log.warn({ err: e, msgID, retryInMs: delay }, `publishing ${msg.type} failed; retrying`);
      await sleep(delay);
    }
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the connection is closing or gone: JetStream redelivers after ack wait
  }
}
