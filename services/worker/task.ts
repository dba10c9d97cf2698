// Handles one delivery of a task message end to end: validate it (task-intake.ts), screen it (task-guards.ts),
// read its stored handoffs (results-store.ts), run it with the runner the registry picks (task-run.ts), publish its
// result (task-messages.ts; a large one goes to the results store first), then ack it.
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { BatonConfig } from "../../shared/config.ts";
import type { Logger } from "../../shared/logging.ts";
import type { TaskAssigned, WireError } from "../../shared/protocol/index.ts";
import type { Names } from "../../shared/subjects.ts";
import type { BudgetStops } from "./budget-stops.ts";
import type { Cancellations } from "./cancellations.ts";
import { quietly } from "./quietly.ts";
import { resolveHandoffs, type ResultsStore } from "./results-store.ts";
import type { Runners } from "./runners/registry.ts";
import type { ExecOutcome } from "./runners/types.ts";
import { screenTask } from "./task-guards.ts";
import { readTask, rejectInvalid } from "./task-intake.ts";
import { taskMessages, type TaskMessageRef, type TaskMessages } from "./task-messages.ts";
import { HANDED_BACK, runTask, type TaskHooks } from "./task-run.ts";
import type { Redactor } from "./redact.ts";
import type { Workspaces } from "./task-workspace.ts";
import { WIRE_ERRORS } from "../../shared/protocol/errors.ts";
import type { SettledKey, SettledMessages } from "./settled.ts";

export interface TaskDeps {
  js: JetStreamClient;
  names: Names;
  role: string;
  workerId: string;
  settings: BatonConfig["worker"];
  /** What runs each task (built once from the operator's config). */
  runners: Pick<Runners, "for">;
  cancellations: Pick<Cancellations, "known" | "check">;
  /** Runs stopped for a budget (budget-stops.ts): such a run is answered BUDGET_EXCEEDED without running. */
  budgetStops: Pick<BudgetStops, "known" | "check">;
  /** Where large results are written and stored handoffs read. */
  store: ResultsStore;
  /** Replaces the operator's secrets in everything published about a task (redact.ts). */
  redact: Redactor;
  /** Git features' checkouts and file-scope locks (task-workspace.ts). */
  workspaces?: Workspaces | undefined;
  /** Messages this worker settled: a redelivery of one (its ack was lost) is acked again, not run again. */
  settled?: SettledMessages | undefined;
  log: Logger;
}

/** How one delivery ended (worker metrics): its result's outcome, or what happened instead of a result. */
export type DeliveryEnd = "completed" | "failed" | "cancelled" | "handed_back" | "invalid" | "unpublished" | "duplicate";

/**
 * Processes one delivery of a task message and says how it ended. Never throws. Acks only once the result is published;
 * leaves the message unacked only if it could not be (JetStream delivers it again, and the result's msg id dedups it).
 */
export async function handleTask(msg: JsMsg, deps: TaskDeps, hooks: TaskHooks): Promise<DeliveryEnd> {
  const read = readTask(msg, deps.role);
  if ("invalid" in read) {
    await rejectInvalid(msg, read.invalid, deps, hooks.onSettled);
    return "invalid";
  }
  const { task } = read;
  const delivery = msg.info.deliveryCount;
  const ref: TaskMessageRef = { featureId: task.featureId, taskId: task.taskId, attempt: task.attempt, role: deps.role, workerId: deps.workerId, ...(task.gate ? { gate: task.gate } : {}), ...(task.op ? { op: { kind: task.op.kind, run: task.op.run } } : {}) };
  const log = deps.log.child({ featureId: task.featureId, taskId: task.taskId, role: deps.role, attempt: task.attempt, delivery, ...(task.gate ? { gate: task.gate.name } : {}) });
  const settledKey: SettledKey = { seq: msg.seq, featureId: task.featureId, taskId: task.taskId, attempt: task.attempt, run: task.gate?.name ?? (task.op ? `${task.op.kind}.${task.op.run}` : undefined) };
  if (delivery > 1 && deps.settled?.has(settledKey)) {
    log.info("delivered again after this worker had published its result and acked it (the ack was lost): acked again, not run again");
    quietly(() => msg.ack());
    hooks.onSettled?.();
    return "duplicate";
  }
  const startedAt = new Date().toISOString();
  const messages = taskMessages({ js: deps.js, names: deps.names, redact: deps.redact, ref, delivery, startedAt, log, store: deps.store });
  const keepAlive = setInterval(() => quietly(() => msg.working()), (deps.settings.ackWaitSeconds * 1000) / 3);
  try {
    // Stored handoffs are read first; a failure to read them counts only for a task that passes the screening.
    const resolved = await resolveHandoffs(task, deps.store);
    const cancelled = await deps.cancellations.check(task.featureId, task.dispatchedAt);
    // a gate run is never stopped for a budget (it shares its task's id and attempt)
    const budget = task.gate ? undefined : await deps.budgetStops.check(task, task.dispatchedAt);
    // No await from these checks to onRun (in runTask): a cancellation or stop that arrives later finds the task registered as running.
    const screened = screenTask(task, delivery, { cancelled, budget }, {
      maxDeliver: deps.settings.maxDeliver, known: (featureId) => deps.cancellations.known(featureId),
      budgetStop: (run) => (run.gate ? undefined : deps.budgetStops.known(run)),
    }, log)
      ?? ("error" in resolved ? unreadableHandoffs(resolved.error, log) : undefined);
    const out = screened ?? (await run("task" in resolved ? resolved.task : task, deps, { msg, messages, log }, hooks));
    if (out === HANDED_BACK) return "handed_back";
    const end = await finish(msg, out, messages, startedAt, hooks, log);
    if (end !== "unpublished") deps.settled?.add(settledKey);
    return end;
  } finally {
    clearInterval(keepAlive);
  }
}

/** The outcome of a task whose stored handoffs could not be read: failed RESULT_STORE, before anything ran. */
function unreadableHandoffs(error: WireError, log: Logger): ExecOutcome {
  log.error({ error }, "a stored handoff could not be read; the task fails without running");
  return { outcome: "failed", exitCode: null, error };
}

/** Runs the task with the runner the registry picks; NO_EXECUTOR when it has none for it. */
async function run(task: TaskAssigned, deps: TaskDeps, scope: { msg: JsMsg; messages: TaskMessages; log: Logger }, hooks: TaskHooks): Promise<ExecOutcome | typeof HANDED_BACK> {
  const resolved = deps.runners.for(task);
  if ("error" in resolved) {
    scope.log.error(resolved.error.message);
    return { outcome: "failed", exitCode: null, error: resolved.error };
  }
  return runTask(task, resolved.runner, { ...scope, settings: deps.settings, workspaces: deps.workspaces }, hooks);
}

/** Publishes the result, then acks; leaves the message unacked when the result could not be published. */
async function finish(msg: JsMsg, out: ExecOutcome, messages: TaskMessages, startedAt: string, hooks: Pick<TaskHooks, "onSettled">, log: Logger): Promise<DeliveryEnd> {
  if (!(await messages.result(out))) {
    log.error("task result could not be published; leaving the task unacked so that it is delivered again");
    return "unpublished";
  }
  quietly(() => msg.ack());
  hooks.onSettled?.();
  const fields = { outcome: out.outcome, exitCode: out.exitCode, durationMs: Date.now() - Date.parse(startedAt), error: out.error };
  // A success is recorded durably as task.completed (`baton watch`); the log line is for debugging.
  if (out.outcome === "completed") log.debug(fields, "task finished");
  else log.warn(fields, "task finished");
  return out.error?.code === WIRE_ERRORS.Cancelled.code ? "cancelled" : out.outcome;
}
