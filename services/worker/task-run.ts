// Runs a valid task with the runner the registry picked: registers it as running, reports its output (the
// role's work) or keeps it for the gate's report (gate runs), and turns an abort into CANCELLED, BUDGET_EXCEEDED,
// or a hand-back when the drain's grace is over. Then the phantom-completion check (not for a planner run, nor for a
// run that asks a person a question).
import type { JsMsg } from "@nats-io/jetstream";
import type { BatonConfig } from "../../shared/config.ts";
import { toWireError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logging.ts";
import { wireError } from "../../shared/protocol/errors.ts";
import type { TaskAssigned, WireError } from "../../shared/protocol/index.ts";
import type { TaskRef } from "./machine.ts";
import { quietly } from "./quietly.ts";
import type { ExecContext, ExecOutcome, Runner } from "./runners/types.ts";
import { budgetStopOf, budgetStoppedOutcome, cancelledOutcome, isCancel } from "./task-guards.ts";
import type { TaskMessages } from "./task-messages.ts";
import { reportTaskOutput, UNREPORTED_OUTPUT } from "./task-output.ts";
import { expectsChanges, startChangeCheck, type ChangeCheck } from "./workspace/changes.ts";
import { prepareRun, type PreparedRun, type Workspaces } from "./task-workspace.ts";

export interface TaskHooks {
  /**
   * Aborted with an AbortReason (task-guards.ts): `drain` (grace over) kills the runner's work and hands the
   * task back; `cancelled` kills it and answers the task CANCELLED; `budget` kills it and answers BUDGET_EXCEEDED.
   */
  signal: AbortSignal;
  /**
   * Called once the task is valid and about to run, with its attempt and whether it is a gate run; a cancellation of
   * its feature, or a budget stop of this run of its work, from then on aborts `signal`.
   */
  onRun(ref: TaskRef, run: { attempt: number; gate: boolean }): void;
  /**
   * Called right after the message is acked, nak'ed or terminated, in the same tick: the worker frees the slot
   * there, so that its next pull request leaves in the same socket write as the ack. Not called when the
   * message is left unacked (the result could not be published).
   */
  onSettled?(): void;
}

/** The task went back to the stream (nak) for another worker: no result is published for this delivery. */
export const HANDED_BACK = "handed back";

export interface RunScope {
  msg: JsMsg;
  messages: TaskMessages;
  settings: BatonConfig["worker"];
  log: Logger;
  /** Checkouts and file-scope locks of git features (task-workspace.ts); absent: runs happen where the message says. */
  workspaces?: Workspaces | undefined;
}

/**
 * Runs `task` with `runner` and resolves with its outcome, or HANDED_BACK when the drain aborted it (the
 * message is then nak'ed and settled here). Calls `hooks.onRun` synchronously, before its first await.
 * Never rejects: a runner that throws gives a failed outcome.
 */
export async function runTask(task: TaskAssigned, runner: Runner, scope: RunScope, hooks: TaskHooks): Promise<ExecOutcome | typeof HANDED_BACK> {
  hooks.onRun({ featureId: task.featureId, taskId: task.taskId }, { attempt: task.attempt, gate: !!task.gate });
  const { log } = scope;
  const isWork = runner.reports === "task";
  const output = isWork ? reportTaskOutput(scope.messages, scope.settings, log) : UNREPORTED_OUTPUT;
  log.debug({ executor: runner.describe }, isWork ? "task started" : "gate run started");
  let out: ExecOutcome;
  let prepared: PreparedRun | undefined;
  try {
    const ready = await prepareSafely(task, isWork, scope, hooks.signal, (text) => output.onLine("stderr", text));
    if ("error" in ready) {
      out = { outcome: "failed", exitCode: null, error: ready.error };
    } else {
      prepared = ready;
      out = await runPrepared(ready.task, runner, { signal: hooks.signal, onLine: output.onLine, onProgress: output.onProgress, log }, isWork);
      if (!hooks.signal.aborted) out = await ready.finish(out);
    }
  } finally {
    await output.close();
    await prepared?.release();
  }
  if (hooks.signal.aborted) {
    if (isCancel(hooks.signal.reason)) return cancelledOutcome(task.featureId, out);
    const budget = budgetStopOf(hooks.signal.reason);
    if (budget !== undefined) return budgetStoppedOutcome(budget, out);
    return handBack(scope.msg, hooks, log, isWork ? "task" : "gate run");
  }
  return out;
}

/** The run's checkout and lock (task-workspace.ts); an abort while waiting for the lock gives ABORTED (the caller sees the signal). */
async function prepareSafely(task: TaskAssigned, isWork: boolean, scope: RunScope, signal: AbortSignal, onWait: (text: string) => void): Promise<PreparedRun | { error: WireError }> {
  if (!scope.workspaces || (!task.checkout && !(isWork && task.lock))) return { task, finish: async (out) => out, release: async () => {} };
  try {
    return await prepareRun(task, isWork, scope.workspaces, { signal, log: scope.log, onWait });
  } catch (err) {
    return { error: signal.aborted ? wireError("Aborted", "aborted while waiting for the file-scope lock") : toWireError(err) };
  }
}

/**
 * The runner, with the phantom-completion check (and, in shared mode, the list of changed paths) around the role's
 * work. A planner run is not checked (a planner changes nothing), nor is a run that stops to ask a person: it
 * changed nothing yet on purpose, and runs again with the answer.
 */
async function runPrepared(task: TaskAssigned, runner: Runner, ctx: ExecContext, isWork: boolean): Promise<ExecOutcome> {
  const check = isWork && !task.planning && (expectsChanges(task) || task.reportChanges);
  const changes = check ? await startPhantomCheck(task, runner, ctx.log) : undefined;
  const out = await runSafely(task, runner, ctx);
  if (!changes || ctx.signal.aborted || out.question) return out;
  const checked = expectsChanges(task) ? await applyPhantomCheck(out, changes) : out;
  return task.reportChanges && checked.outcome === "completed" ? { ...checked, changed: (await changes.changed()) ?? [] } : checked;
}

/** Runs the runner; one that throws (it must not) gives a failed outcome with its error. */
async function runSafely(task: TaskAssigned, runner: Runner, ctx: ExecContext): Promise<ExecOutcome> {
  try {
    return await runner.run(task, ctx);
  } catch (err) {
    ctx.log.error({ err }, "executor threw; reporting the task as failed");
    return { outcome: "failed", exitCode: null, error: toWireError(err) };
  }
}

/** The drain path: nak the message so that another worker takes the task at once, and free the slot. */
function handBack(msg: JsMsg, hooks: Pick<TaskHooks, "onSettled">, log: Logger, what: string): typeof HANDED_BACK {
  quietly(() => msg.nak());
  hooks.onSettled?.();
  log.warn(`${what} aborted by drain and handed back (nak); no result published`);
  return HANDED_BACK;
}

/** Starts the phantom-completion check in the runner's workspace; undefined when it has none (built-ins). Never rejects. */
async function startPhantomCheck(task: TaskAssigned, runner: Runner, log: Logger): Promise<ChangeCheck | undefined> {
  const ws = await runner.workspace?.(task);
  if (!ws || "error" in ws) return undefined; // no folder to look at; a bad workspace fails the task in `run`
  return startChangeCheck(task, ws.dir, log, expectsChanges(task));
}

/** Phantom completion: a task that had to change files and changed none fails (NO_CHANGES); a failure keeps its own error. */
async function applyPhantomCheck(out: ExecOutcome, changes: ChangeCheck): Promise<ExecOutcome> {
  if (out.outcome !== "completed") return out;
  const error = await changes.verdict();
  return error ? { ...out, outcome: "failed", error } : out;
}
