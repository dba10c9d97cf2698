// Publishes what a worker says about one delivery of a task — task_started, task_log batches, task_progress, task_result — on
// the results stream with deterministic msg ids (shared/protocol/msg-ids.ts), retrying with backoff:
// JetStream drops the copies a retry or a redelivery publishes again.
import type { JetStreamClient } from "@nats-io/jetstream";
import { encode } from "../../shared/codec.ts";
import type { Logger } from "../../shared/logging.ts";
import { sleep } from "../../shared/process.ts";
import { workerMsgId } from "../../shared/protocol/msg-ids.ts";
import type { TaskLog, TaskProgress, TaskResult, TaskStarted } from "../../shared/protocol/index.ts";
import type { Names } from "../../shared/subjects.ts";
import type { LogBatch } from "./log-batcher.ts";
import type { ProgressStep } from "./progress-limiter.ts";
import { offloadResult, type ResultsStore } from "./results-store.ts";
import type { ExecOutcome } from "./runners/types.ts";
import { NO_SECRETS, type Redactor } from "./redact.ts";

/** Tries per message kind: a result must get through (else the task stays unacked); a log batch is best effort. */
export const PUBLISH_TRIES = { started: 3, log: 1, progress: 1, result: 8, rejection: 3 } as const;

/** What every message about one delivery carries. */
export type TaskMessageRef = Pick<TaskResult, "featureId" | "taskId" | "attempt" | "role" | "workerId" | "gate" | "op">;

export interface Outbound {
  js: JetStreamClient;
  names: Names;
  /** Replaces the operator's secrets in every string of every message (and stored result) before it leaves; absent: none known. */
  redact?: Redactor | undefined;
}

export interface TaskMessages {
  /** task_started; resolves false when every try failed (the task runs anyway). Call at most once. */
  started(): Promise<boolean>;
  /** One task_log batch (one try); resolves false when it could not be published. */
  log(batch: LogBatch): Promise<boolean>;
  /** One task_progress message (one try, like a log batch); resolves false when it could not be published. */
  progress(step: ProgressStep): Promise<boolean>;
  /**
   * The task_result; a large summary + handoff is written to the results store first and referenced (`stored`).
   * Resolves false when the store write or every publish try failed (then the message must stay unacked).
   */
  result(out: ExecOutcome): Promise<boolean>;
}

/** The publisher of one delivery's messages. `startedAt` is the delivery's start, as every message reports it. */
export function taskMessages(options: Outbound & { ref: TaskMessageRef; delivery: number; startedAt: string; log: Logger; store?: Pick<ResultsStore, "put"> }): TaskMessages {
  const { ref, delivery, startedAt, log } = options;
  const outbound: Outbound = { js: options.js, names: options.names, redact: options.redact };
  return {
    started() {
      const msg: TaskStarted = { type: "baton.v1.task_started", ...ref, delivery, at: startedAt };
      return publishWithRetries(outbound, msg, workerMsgId.started(ref, delivery), log, PUBLISH_TRIES.started);
    },
    log(batch) {
      const msg: TaskLog = { type: "baton.v1.task_log", ...ref, delivery, ...batch, at: new Date().toISOString() };
      return publishWithRetries(outbound, msg, workerMsgId.log(ref, delivery, batch.batch), log, PUBLISH_TRIES.log);
    },
    progress(step) {
      const msg: TaskProgress = { type: "baton.v1.task_progress", ...ref, delivery, ...step, at: new Date().toISOString() };
      return publishWithRetries(outbound, msg, workerMsgId.progress(ref, delivery, step.seq), log, PUBLISH_TRIES.progress);
    },
    async result(raw) {
      // Redacted before the results store too: nothing stored or published holds a secret.
      const out = (options.redact ?? NO_SECRETS).value(raw);
      const finishedAt = new Date().toISOString();
      // `store` absent (tests): everything inline
      const offloaded = await offloadResult(options.store, ref, out, log);
      if (!offloaded) return false;
      const msg: TaskResult = { type: "baton.v1.task_result", ...ref, ...out, ...offloaded, delivery, startedAt, finishedAt };
      return publishWithRetries(outbound, msg, workerMsgId.result(ref), log, PUBLISH_TRIES.result);
    },
  };
}

/**
 * Publishes a worker→coordinator message, its secrets redacted (`outbound.redact`), with its deterministic msg id,
 * retrying with backoff (500 ms, 1 s, 2 s, 4 s, then 5 s) up to `tries` times. Resolves false when every try failed;
 * never rejects.
 */
export async function publishWithRetries(outbound: Outbound, msg: TaskStarted | TaskLog | TaskProgress | TaskResult, msgID: string, log: Logger, tries: number): Promise<boolean> {
  const subject = outbound.names.result(msg.featureId, msg.taskId);
  const body = encode((outbound.redact ?? NO_SECRETS).value(msg));
  for (let attempt = 1; ; attempt++) {
    try {
      const ack = await outbound.js.publish(subject, body, { msgID });
      if (ack.duplicate && msg.type === "baton.v1.task_result") {
        log.info({ msgID }, "task result already published (duplicate msg id): JetStream kept the first one");
      }
      return true;
    } catch (err) {
      if (attempt >= tries) {
        log.error({ err, msgID, tries }, `could not publish ${msg.type}`);
        return false;
      }
      const delay = Math.min(5000, 250 * 2 ** attempt);
      log.warn({ err, msgID, retryInMs: delay }, `publishing ${msg.type} failed; retrying`);
      await sleep(delay);
    }
  }
}
