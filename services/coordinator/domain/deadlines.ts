// Time in the domain: task deadlines and retry backoffs are data in the context; `wakeUpAt` tells the runtime
// when the feature next needs a `timer.fired`, and `onTimer` does what came due. No clocks: `at` is given.
import { wireError } from "../../../shared/protocol/index.ts";
import { durationMs, editable, type FeatureContext, type FeatureStateValue } from "./context.ts";
import { anyFailed } from "./dag.ts";
import { scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { failTask } from "./failure-policy.ts";
import { HOLDS_SLOT, moveTask } from "./task-lifecycle.ts";


/** Feature states in which time still matters (deadlines and retries run while paused and while verifying). */
const TIMED_STATES: ReadonlySet<FeatureStateValue> = new Set(["executing", "paused", "verifying"]);

/**
 * Fails every task whose deadline has passed at `at` (through its failure policy), and sends the tasks whose
 * retry is due back to `ready`. Idempotent; a no-op when nothing is due.
 */
export function onTimer(ctx: FeatureContext, at: string, opts: ScheduleOptions): FeatureContext {
  const now = Date.parse(at);
  const due = ctx.order.filter((id) => {
    const task = ctx.tasks[id]!;
    return (HOLDS_SLOT.has(task.status) && task.deadlineAt && Date.parse(task.deadlineAt) <= now) || (task.status === "retrying" && task.retryAt && Date.parse(task.retryAt) <= now);
  });
  if (!due.length) return ctx;
  const draft = editable(ctx);
  for (const id of due) {
    const task = draft.tasks[id]!;
    if (task.status === "retrying") {
      draft.tasks[id] = moveTask(task, "due", { retryAt: undefined });
      continue;
    }
    const error = wireError("Deadline", `no result within ${task.timeoutSeconds}s of the task starting (deadline ${task.deadlineAt})`);
    failTask(draft, { ...task, finishedAt: at, deadlineAt: undefined }, error, at, { durationMs: durationMs(task.startedAt, at) });
  }
  if (!anyFailed(draft)) scheduleInto(draft, at, opts);
  return draft;
}

/** The earliest deadline or retry time among the feature's tasks, or undefined. */
export function nextDeadline(ctx: FeatureContext): string | undefined {
  let min: string | undefined;
  for (const id of ctx.order) {
    const task = ctx.tasks[id]!;
    if (HOLDS_SLOT.has(task.status) && task.deadlineAt && (!min || task.deadlineAt < min)) min = task.deadlineAt;
    if (task.status === "retrying" && task.retryAt && (!min || task.retryAt < min)) min = task.retryAt;
  }
  return min;
}

/** When the runtime must send this feature `timer.fired` next (ISO time), or undefined: never, as things stand. */
export function wakeUpAt(state: FeatureStateValue, ctx: FeatureContext): string | undefined {
  return TIMED_STATES.has(state) ? nextDeadline(ctx) : undefined;
}
