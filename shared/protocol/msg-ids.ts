// Every deterministic Nats-Msg-Id Baton publishes with, built in one place. JetStream drops a message whose id
// it saw within the stream's duplicate window, so republishing after a crash is harmless — as long as the
// same message always gets the same id and two different messages never do. The token counts keep the
// families apart: an id of one family can never equal an id of another.

/** Coordinator ids: status events (3 tokens), task dispatches (4), task gate runs (6), feature gate runs (4, "fgate"), baseline runs (4, "bgate"), workspace operations (5, "op"). */
export const coordinatorMsgId = {
  /** A feature's status event number `seq`. */
  statusEvent: (featureId: string, seq: number): string => `${featureId}.ev.${seq}`,
  /** Attempt `attempt` of a task, as dispatched to its role. */
  dispatch: (featureId: string, taskId: string, attempt: number): string => `${featureId}.task.${taskId}.${attempt}`,
  /** Run `run` of gate `gate` for attempt `attempt` of a task. */
  taskGate: (featureId: string, taskId: string, attempt: number, gate: string, run: number): string => `${featureId}.gate.${taskId}.${attempt}.${gate}.${run}`,
  /** Run `run` of one of the feature's own gates. */
  featureGate: (featureId: string, gate: string, run: number): string => `${featureId}.fgate.${gate}.${run}`,
  /** The baseline run of test gate `gate` (once per feature, before any task; 4 tokens, "bgate"). */
  baselineGate: (featureId: string, gate: string): string => `${featureId}.bgate.${gate}.1`,
  /** Run `run` of workspace operation `kind` about `taskId` (or FEATURE_OPS_TASK_ID) — 5 tokens, "op". */
  op: (featureId: string, kind: string, taskId: string, run: number): string => `${featureId}.op.${kind}.${taskId}.${run}`,
};

/**
 * A submission's id: the feature id and the request's hash (`requestHash`), so JetStream drops only a true
 * repeat (same id, same request) within its window; a different request under the same id reaches the
 * coordinator, which refuses it by name. (Submissions have a stream of their own: no other family shares it.)
 */
export const submissionMsgId = (featureId: string, requestHash: string): string => `${featureId}.${requestHash}`;

/** What a worker's messages about one delivery are keyed by (a gate run's messages get ids of their own). */
export interface WorkerMsgRef {
  featureId: string;
  taskId: string;
  attempt: number;
  gate?: { scope: string; name: string; run: number } | undefined;
  op?: { kind: string; run: number } | undefined;
}

const workerBase = (ref: WorkerMsgRef): string =>
  `${ref.featureId}.${ref.taskId}.${ref.attempt}` + (ref.gate ? `.gate.${ref.gate.scope}.${ref.gate.name}.${ref.gate.run}` : "") +
  (ref.op ? `.op.${ref.op.kind}.${ref.op.run}` : "");

/** Worker ids, on the results stream: one result per attempt (or gate run), one start, numbered log batches and progress messages per delivery. */
export const workerMsgId = {
  started: (r: WorkerMsgRef, delivery: number): string => `${workerBase(r)}.${delivery}.started`,
  log: (r: WorkerMsgRef, delivery: number, batch: number): string => `${workerBase(r)}.${delivery}.log.${batch}`,
  /** Progress message `seq` of a delivery (task_progress). */
  progress: (r: WorkerMsgRef, delivery: number, seq: number): string => `${workerBase(r)}.${delivery}.progress.${seq}`,
  result: (r: WorkerMsgRef): string => `${workerBase(r)}.result`,
};
