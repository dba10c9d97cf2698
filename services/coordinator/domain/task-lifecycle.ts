// A task's lifecycle, in one table: which move takes a task from which state to which. Every reducer that
// changes a task's status goes through `moveTask`, so this table is the whole story of how a task can move.
//
//   blocked ──unblock──▶ ready ──dispatch──▶ dispatched ──start──▶ running
//                          ▲  ▲                  │                    │
//                          │  └──── requeue ─────┴──── work ends ─────┤ (complete | verify | retry | fail | requeue)
//                          │ due                                      │
//                      retrying ◀──retry── verifying ◀─verify─ fixing ◀─fix─┘ (a gate failed, a fix task runs)
//                                              │
//                                              └─ complete ▶ completed      fail ▶ failed      cancel ▶ cancelled
//
//   A git feature's task passes through `integrating` (its work, then gates, passed; it is merged into the integration
//   branch): integrate ▶ integrating ─complete▶ completed, or ─conflict▶ fixing (a conflict fix runs) ─integrate▶ …
//   A rollback (rollback.ts) moves any task back: reset ▶ blocked, or withdraw ▶ cancelled.
//   Questions (questions.ts): ask ▶ asking (its work asked a person, or its failure was escalated) ─answer▶ ready
//   (dispatched again with the answer), or ─complete▶ (skipped) / ─fail▶. A stream's gate task (streams.ts) has no
//   work: check ▶ verifying as soon as it is ready.

export const TASK_STATUSES = ["blocked", "ready", "dispatched", "running", "verifying", "fixing", "integrating", "retrying", "asking", "completed", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TASK_MOVES = ["unblock", "dispatch", "start", "verify", "gate", "fix", "integrate", "conflict", "complete", "retry", "due", "fail", "cancel", "requeue", "reset", "withdraw", "ask", "answer", "check"] as const;
/**
 * unblock: every dependency completed · dispatch: sent to its role · start: a worker reported it started (again,
 * after a redelivery) · verify: its work (or a fix round) is done and its gates run · gate: one gate passed and the
 * next runs · fix: a gate failed and a fix task runs · complete: done (work, or every gate, passed) · retry: it
 * failed and its policy tries again later · due: the retry's time came · fail: it failed for good · cancel: its
 * feature was cancelled · requeue: a worker stopped its work for a budget (budgets.ts); it waits to be dispatched
 * again (a new attempt that its retry policy does not count) · integrate: its work and gates passed in a git
 * feature; it is merged into the integration branch · conflict: the merge conflicted and a conflict fix runs ·
 * reset: a rollback undid it; it waits to run again · withdraw: a rollback undid it and it is cancelled · ask: it
 * waits for a person's answer · answer: the answer came; it runs again with it · check: a stream's gates start.
 */
export type TaskMove = (typeof TASK_MOVES)[number];

/** From a state where the task's work runs: how the work can end. */
const WORK_ENDS = { start: "running", verify: "verifying", integrate: "integrating", complete: "completed", retry: "retrying", fail: "failed", cancel: "cancelled", requeue: "ready", ask: "asking" } as const;
/** A rollback may move a task in any state back (reset) or cancel it (withdraw). */
const UNDO = { reset: "blocked", withdraw: "cancelled" } as const;

/** state → move → next state. A move missing from a state's row is not allowed there. */
export const TASK_TRANSITIONS: { readonly [S in TaskStatus]: Readonly<Partial<Record<TaskMove, TaskStatus>>> } = {
  blocked: { unblock: "ready", cancel: "cancelled", ...UNDO },
  ready: { dispatch: "dispatched", check: "verifying", cancel: "cancelled", ...UNDO },
  dispatched: { ...WORK_ENDS, ...UNDO },
  running: { ...WORK_ENDS, ...UNDO },
  verifying: { gate: "verifying", fix: "fixing", integrate: "integrating", complete: "completed", retry: "retrying", fail: "failed", cancel: "cancelled", ask: "asking", ...UNDO },
  fixing: { verify: "verifying", integrate: "integrating", fail: "failed", cancel: "cancelled", ask: "asking", ...UNDO },
  integrating: { complete: "completed", conflict: "fixing", retry: "retrying", fail: "failed", cancel: "cancelled", ask: "asking", ...UNDO },
  asking: { answer: "ready", complete: "completed", fail: "failed", cancel: "cancelled", ...UNDO },
  retrying: { due: "ready", cancel: "cancelled", ...UNDO },
  completed: { ...UNDO },
  failed: { ...UNDO },
  cancelled: { ...UNDO },
};

export class IllegalTaskMove extends Error {
  override name = "IllegalTaskMove";
}

/** The state `move` takes a task in `from` to, or undefined when the move is not allowed there. Pure. */
export function nextStatus(from: TaskStatus, move: TaskMove): TaskStatus | undefined {
  return TASK_TRANSITIONS[from][move];
}

/**
 * `task` moved by `move`, with `patch` applied (a new object; `task` is not changed). Throws IllegalTaskMove
 * when the table does not allow the move: callers check staleness first, so a throw is a bug, never input.
 */
export function moveTask<T extends { id: string; status: TaskStatus }>(task: T, move: TaskMove, patch: Partial<T> = {}): T {
  const status = nextStatus(task.status, move);
  if (status === undefined) throw new IllegalTaskMove(`task "${task.id}": "${move}" is not allowed in state "${task.status}"`);
  return { ...task, ...patch, status };
}

/** States that hold one of the feature's `maxParallel` places (a task's gates run in its workspace; a retry keeps its place). */
export const HOLDS_SLOT: ReadonlySet<TaskStatus> = new Set(["dispatched", "running", "verifying", "retrying"]);
/** States in which the task (its work, gates, a fix, its integration) is under way: a rollback waits until none is. */
export const UNDER_WAY: ReadonlySet<TaskStatus> = new Set(["dispatched", "running", "verifying", "fixing", "integrating"]);
/** States in which the task's own work (not its gates) is under way: a worker's start or result counts only here. */
export const WORKING: ReadonlySet<TaskStatus> = new Set(["dispatched", "running"]);
/** States a task never leaves. */
export const ENDED_STATES: ReadonlySet<TaskStatus> = new Set(["completed", "failed", "cancelled"]);
