// The task lifecycle table (services/coordinator/domain/task-lifecycle.ts), state by state: every move that is
// allowed goes where the design says, every other move is refused. The reducers change a status only through
// moveTask, which throws on a refused move, so the machine and property tests (scheduling.test.ts) check them too.
import { describe, expect, it } from "vitest";
import { IllegalTaskMove, TASK_MOVES, TASK_STATUSES, moveTask, nextStatus, type TaskMove, type TaskStatus } from "../../services/coordinator/domain/index.ts";

/** The lifecycle as ARCHITECTURE.md draws it: blocked → ready → dispatched → running → verifying → done | failed, with retrying / fixing; a budget stop requeues (back to ready). */
const UNDO = { reset: "blocked", withdraw: "cancelled" } as const;
/** A git feature's task passes through integrating (merged into the integration branch) before it completes; a rollback resets or withdraws any task. */
const EXPECTED: Record<TaskStatus, Partial<Record<TaskMove, TaskStatus>>> = {
  blocked: { unblock: "ready", cancel: "cancelled", ...UNDO },
  ready: { dispatch: "dispatched", check: "verifying", cancel: "cancelled", ...UNDO },
  dispatched: { start: "running", verify: "verifying", integrate: "integrating", complete: "completed", retry: "retrying", fail: "failed", cancel: "cancelled", requeue: "ready", ask: "asking", ...UNDO },
  running: { start: "running", verify: "verifying", integrate: "integrating", complete: "completed", retry: "retrying", fail: "failed", cancel: "cancelled", requeue: "ready", ask: "asking", ...UNDO },
  verifying: { gate: "verifying", fix: "fixing", integrate: "integrating", complete: "completed", retry: "retrying", fail: "failed", cancel: "cancelled", ask: "asking", ...UNDO },
  fixing: { verify: "verifying", integrate: "integrating", fail: "failed", cancel: "cancelled", ask: "asking", ...UNDO },
  integrating: { complete: "completed", conflict: "fixing", retry: "retrying", fail: "failed", cancel: "cancelled", ask: "asking", ...UNDO },
  asking: { answer: "ready", complete: "completed", fail: "failed", cancel: "cancelled", ...UNDO },
  retrying: { due: "ready", cancel: "cancelled", ...UNDO },
  completed: { ...UNDO },
  failed: { ...UNDO },
  cancelled: { ...UNDO },
};

describe("the task lifecycle", () => {
  for (const from of TASK_STATUSES) {
    it(`from ${from}: ${Object.keys(EXPECTED[from]).join(", ") || "no move (it has ended)"}`, () => {
      for (const move of TASK_MOVES) {
        const to = EXPECTED[from][move];
        expect(nextStatus(from, move), `${from} --${move}-->`).toBe(to);
        const task = { id: "t", status: from, attempt: 1 };
        if (to) expect(moveTask(task, move, { attempt: 2 })).toEqual({ id: "t", status: to, attempt: 2 });
        else expect(() => moveTask(task, move)).toThrow(IllegalTaskMove);
      }
    });
  }

  it("never changes the task it is given", () => {
    const task = { id: "t", status: "ready" as const, attempt: 0 };
    moveTask(task, "dispatch", { attempt: 1 });
    expect(task).toEqual({ id: "t", status: "ready", attempt: 0 });
  });

  it("says which move is refused where", () => {
    expect(() => moveTask({ id: "api", status: "completed" }, "start")).toThrow('task "api": "start" is not allowed in state "completed"');
  });
});
