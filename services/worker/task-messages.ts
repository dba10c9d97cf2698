// Publishes what a worker says about one delivery of a task — task_started, task_log batches, task_result — on
// the results stream with deterministic msg ids (shared/protocol/msg-ids.ts), retrying with backoff:
// JetStream drops the copies a retry or a redelivery publishes again.
import type { JetStreamClient } from "@nats-io/jetstream";
import { encode } from "../../shared/codec.ts";
import type { Logger } from "../../shared/logging.ts";
import { sleep } from "../../shared/process.ts";
import { workerMsgId } from "../../shared/protocol/msg-ids.ts";
import type { TaskLog, TaskResult, TaskStarted } from "../../shared/protocol/index.ts";
import type { Names } from "../../shared/subjects.ts";
import type { LogBatch } from "./log-batcher.ts";
import type { ExecOutcome } from "./runners/types.ts";

/** Tries per message kind: a result must get through (else the task stays unacked); a log batch is best effort. */
export const PUBLISH_TRIES = { started: 3, log: 1, result: 8, rejection: 3 } as const;

/** What every message about one delivery carries. */
export type TaskMessageRef = Pick<TaskResult, "featureId" | "taskId" | "attempt" | "role" | "workerId" | "gate">;

export interface Outbound {
  js: JetStreamClient;
  names: Names;
}

export interface TaskMessages {
  /** task_started; resolves false when every try failed (the task runs anyway). Call at most once. */
  started(): Promise<boolean>;
  /** One task_log batch (one try); resolves false when it could not be published. */
  log(batch: LogBatch): Promise<boolean>;
  /** The task_result; resolves false when every try failed (then the message must stay unacked). */
  result(out: ExecOutcome): Promise<boolean>;
}

/** The publisher of one delivery's messages. `startedAt` is the delivery's start, as every message reports it. */
export function taskMessages(options: Outbound & { ref: TaskMessageRef; delivery: number; startedAt: string; log: Logger }): TaskMessages {
  const { ref, delivery, startedAt, log } = options;
  const outbound: Outbound = { js: options.js, names: options.names };
  return {
    started() {
      const msg: TaskStarted = { type: "baton.v1.task_started", ...ref, delivery, at: startedAt };
      return publishWithRetries(outbound, msg, workerMsgId.started(ref, delivery), log, PUBLISH_TRIES.started);
    },
    log(batch) {
      const msg: TaskLog = { type: "baton.v1.task_log", ...ref, delivery, ...batch, at: new Date().toISOString() };
      return publishWithRetries(outbound, msg, workerMsgId.log(ref, delivery, batch.batch), log, PUBLISH_TRIES.log);
    },
    result(out) {
      const msg: TaskResult = { type: "baton.v1.task_result", ...ref, ...out, delivery, startedAt, finishedAt: new Date().toISOString() };
      return publishWithRetries(outbound, msg, workerMsgId.result(ref), log, PUBLISH_TRIES.result);
    },
  };
}

/**
 * Publishes a worker→coordinator message with its deterministic msg id, retrying with backoff (500 ms, 1 s,
 * 2 s, 4 s, then 5 s) up to `tries` times. Resolves false when every try failed; never rejects.
 */
export async function publishWithRetries(outbound: Outbound, msg: TaskStarted | TaskLog | TaskResult, msgID: string, log: Logger, tries: number): Promise<boolean> {
  const subject = outbound.names.result(msg.featureId, msg.taskId);
  for (let attempt = 1; ; attempt++) {
    try {
      const ack = await outbound.js.publish(subject, encode(msg), { msgID });
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
