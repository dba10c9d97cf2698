// Validation of a delivered task message, and what happens to one that is not valid: it is failed back to the
// coordinator when it names a task (PROTOCOL), then terminated — never redelivered, never run.
import type { JsMsg } from "@nats-io/jetstream";
import { decode } from "../../shared/codec.ts";
import { ProtocolError, toWireError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logging.ts";
import { wireError } from "../../shared/protocol/errors.ts";
import { workerMsgId } from "../../shared/protocol/msg-ids.ts";
import { Id, TaskAssigned, type TaskResult } from "../../shared/protocol/index.ts";
import { quietly } from "./quietly.ts";
import { publishWithRetries, PUBLISH_TRIES, type Outbound } from "./task-messages.ts";

/** The task a message carries, or why it is not a valid task for this worker's role. Never throws. */
export function readTask(msg: Pick<JsMsg, "data" | "subject">, role: string): { task: TaskAssigned } | { invalid: unknown } {
  try {
    const task = decode(TaskAssigned, msg.data, `task message on ${msg.subject}`);
    if (task.role !== role) throw new ProtocolError(`task message on ${msg.subject} names role "${task.role}", but this worker serves role "${role}"`);
    return { task };
  } catch (err) {
    return { invalid: err };
  }
}

/**
 * Rejects a message that is not a valid task: publishes a failed task_result with a PROTOCOL error when the
 * message names a feature, task and attempt, then terminates it and calls `onSettled`. Never throws.
 */
export async function rejectInvalid(
  msg: JsMsg,
  why: unknown,
  deps: Outbound & { role: string; workerId: string; log: Logger },
  onSettled: (() => void) | undefined,
): Promise<void> {
  const { message, details } = toWireError(why);
  const error = wireError("ProtocolError", message, details);
  const raw = readRef(msg.data);
  deps.log.error({ subject: msg.subject, seq: msg.seq, delivery: msg.info.deliveryCount, error, task: raw }, "invalid task message");
  if (raw) {
    const now = new Date().toISOString();
    const result: TaskResult = {
      type: "baton.v1.task_result", ...raw, role: deps.role, workerId: deps.workerId,
      outcome: "failed", startedAt: now, finishedAt: now, exitCode: null, error,
    };
    await publishWithRetries(deps, result, workerMsgId.result(raw), deps.log, PUBLISH_TRIES.rejection);
  }
  quietly(() => msg.term());
  onSettled?.();
}

/** featureId, taskId and attempt of a message that failed validation, when they can be read. */
export function readRef(data: Uint8Array): { featureId: string; taskId: string; attempt: number } | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown>;
    const { featureId, taskId, attempt } = value ?? {};
    if (Id.safeParse(featureId).success && Id.safeParse(taskId).success && Number.isInteger(attempt) && (attempt as number) >= 1) {
      return { featureId: featureId as string, taskId: taskId as string, attempt: attempt as number };
    }
  } catch {
    // not JSON: nothing to report back to
  }
  return undefined;
}
