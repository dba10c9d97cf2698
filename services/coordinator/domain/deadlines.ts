// Time in the domain: task deadlines, dispatch deadlines, retry backoffs and wall-time budgets are data in the
// context; `wakeUpAt` tells the runtime when the feature next needs a `timer.fired`, and `onTimer` does what came due. No clocks.
import { wireError } from "../../../shared/protocol/index.ts";
import { durationMs, editable, type FeatureContext, type FeatureStateValue, type TaskState } from "./context.ts";
import { anyFailed } from "./dag.ts";
import { scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { failTask } from "./failure-policy.ts";
import { HOLDS_SLOT, moveTask } from "./task-lifecycle.ts";
import { budgetDeadline } from "./budgets.ts";
import { expireQuestions, questionDeadline } from "./questions.ts";


/** Feature states in which time still matters (deadlines and retries run while paused and while verifying). */
const TIMED_STATES: ReadonlySet<FeatureStateValue> = new Set(["planning", "awaitingApproval", "executing", "paused", "verifying"]);

/**
 * When a dispatched task that no worker has started fails for want of one (the feature's
 * `dispatchTimeoutSeconds` after its dispatch), or undefined: not dispatched, or no limit. Pure.
 */
export function dispatchDeadline(ctx: FeatureContext, task: TaskState): string | undefined {
  if (task.status !== "dispatched" || !ctx.dispatchTimeoutSeconds || !task.dispatchedAt) return undefined;
  return new Date(Date.parse(task.dispatchedAt) + ctx.dispatchTimeoutSeconds * 1000).toISOString();
}

/** The task's own next deadline: its run deadline once started, its dispatch deadline before. */
function taskDeadline(ctx: FeatureContext, task: TaskState): string | undefined {
  return HOLDS_SLOT.has(task.status) ? (task.deadlineAt ?? dispatchDeadline(ctx, task)) : undefined;
}

/**
 * Fails every task whose deadline has passed at `at` (through its failure policy) — a started task's run
 * deadline, or a dispatched task's dispatch deadline — and sends the tasks whose retry is due back to
 * `ready`. Idempotent; a no-op when nothing is due.
 */
export function onTimer(before: FeatureContext, at: string, opts: ScheduleOptions): FeatureContext {
  const ctx = expireQuestions(before, at, opts); // questions past their timeout take their default, or are escalated
  const now = Date.parse(at);
  const due = ctx.order.filter((id) => {
    const task = ctx.tasks[id]!;
    const deadline = taskDeadline(ctx, task);
    return (deadline && Date.parse(deadline) <= now) || (task.status === "retrying" && task.retryAt && Date.parse(task.retryAt) <= now);
  });
  if (!due.length) return ctx;
  const draft = editable(ctx);
  for (const id of due) {
    const task = draft.tasks[id]!;
    if (task.status === "retrying") {
      // retryAt stays until the dispatch clears it: a paused feature's due retry still reads "retrying" in the read model
      draft.tasks[id] = moveTask(task, "due");
      continue;
    }
    const error = task.status === "dispatched" && !task.deadlineAt
      ? wireError("Unserved", `no worker of role ${task.role} took the task within ${ctx.dispatchTimeoutSeconds}s; start one with \`baton worker --role ${task.role}\``)
      : wireError("Deadline", `no result within ${task.timeoutSeconds}s of the task starting (deadline ${task.deadlineAt})`);
    failTask(draft, { ...task, finishedAt: at, deadlineAt: undefined }, error, at, { durationMs: durationMs(task.startedAt, at) });
  }
  if (!anyFailed(draft)) scheduleInto(draft, at, opts);
  return draft;
}

/** The earliest deadline (run or dispatch), retry time, question timeout, or wall-time budget alert (budgets.ts), or undefined. */
export function nextDeadline(ctx: FeatureContext): string | undefined {
  let min = budgetDeadline(ctx);
  const question = questionDeadline(ctx);
  if (question && (!min || question < min)) min = question;
  for (const id of ctx.order) {
    const task = ctx.tasks[id]!;
    const deadline = taskDeadline(ctx, task);
    if (deadline && (!min || deadline < min)) min = deadline;
    if (task.status === "retrying" && task.retryAt && (!min || task.retryAt < min)) min = task.retryAt;
  }
  return min;
}

/** When the runtime must send this feature `timer.fired` next (ISO time), or undefined: never, as things stand. */
export function wakeUpAt(state: FeatureStateValue, ctx: FeatureContext): string | undefined {
  return TIMED_STATES.has(state) ? nextDeadline(ctx) : undefined;
}
