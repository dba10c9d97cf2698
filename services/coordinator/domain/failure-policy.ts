// Failure policies: what happens when a task fails (its work, its deadline, or a gate with no fix left) —
// retry with backoff, fail, or ask a person (`escalate`, questions.ts) — and the
// fix rounds a failed gate gets: a new task for the fix role, given the gate's output.
import { wireError, type TaskResult, type Usage, type WireError } from "../../../shared/protocol/index.ts";
import { durationMs, type FeatureContext, type TaskState } from "./context.ts";
import { scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { emitInto } from "./status-events.ts";
import { moveTask } from "./task-lifecycle.ts";
import { planPolicyRollback } from "./rollback.ts";
import { escalate } from "./questions.ts";

/** Longest wait between two attempts. */
const MAX_BACKOFF_MS = 3600_000;

/** When attempt `attempt` failed at `at`, when the next one starts under `retry` (backoff doubles each time). */
export function retryAt(retry: { backoffSeconds?: number | undefined }, attempt: number, at: string): string {
  const backoffMs = Math.min(MAX_BACKOFF_MS, (retry.backoffSeconds ?? 5) * 1000 * 2 ** (attempt - 1));
  return new Date(Date.parse(at) + backoffMs).toISOString();
}

export interface FailureFacts {
  workerId?: string | undefined;
  durationMs?: number | undefined;
  exitCode?: number | null | undefined;
  /** What the agent reported using in the failed run (shown on task.failed). */
  usage?: Usage | undefined;
}

/**
 * A task failed (work, deadline or gate): its policy retries it (`retrying` until `retryAt`, then a new
 * attempt), or it fails. A failed fix task also fails the task whose gate it was fixing. Attempts a budget stopped
 * (budgets.ts `requeueStopped`) do not count against `maxAttempts`.
 */
export function failTask(draft: FeatureContext, task: TaskState, error: WireError, at: string, facts: FailureFacts = {}): void {
  const retry = task.policy?.retry;
  const ended = { finishedAt: at, deadlineAt: undefined, verify: task.verify?.fixRounds ? { fixRounds: task.verify.fixRounds } : undefined };
  const counted = task.attempt - (task.budgetStops ?? 0) - (task.undoneAttempts ?? 0) - (task.asks ?? 0);
  if (retry && counted < retry.maxAttempts) {
    const next = retryAt(retry, counted, at);
    draft.tasks[task.id] = moveTask(task, "retry", { ...ended, retryAt: next, error });
    emitInto(draft, { kind: "task.retrying", taskId: task.id, role: task.role, attempt: task.attempt, nextAttempt: task.attempt + 1, retryAt: next, reason: error.message }, at);
    return;
  }
  // escalate: a person decides (questions.ts); a fix task's failure is its owner's to escalate
  if (task.policy?.then === "escalate" && !task.fixFor && !task.conflictFor && !task.planner) {
    escalate(draft, task, error, at, ended);
    return;
  }
  const escalated = error;
  draft.tasks[task.id] = moveTask(task, "fail", { ...ended, error: escalated });
  if (task.policy?.then === "rollback") planPolicyRollback(draft, task); // sent once no workspace operation is under way
  emitInto(draft, {
    kind: "task.failed", taskId: task.id, role: task.role, attempt: task.attempt, workerId: facts.workerId ?? task.workerId,
    durationMs: facts.durationMs ?? durationMs(task.startedAt, at), exitCode: facts.exitCode, error: escalated, usage: facts.usage,
  }, at);
  const owner = task.fixFor?.taskId ? draft.tasks[task.fixFor.taskId] : undefined;
  if (owner && owner.status === "fixing") {
    const ownerError = wireError("FixFailed", `fix round ${task.fixFor!.round} for gate "${task.fixFor!.gate}" (task ${task.id}) failed: ${escalated.message}`);
    if (owner.policy?.then === "escalate") {
      escalate(draft, owner, ownerError, at, { finishedAt: at, verify: { fixRounds: owner.verify?.fixRounds } });
      return;
    }
    draft.tasks[owner.id] = moveTask(owner, "fail", { error: ownerError, finishedAt: at, verify: { fixRounds: owner.verify?.fixRounds } });
    emitInto(draft, { kind: "task.failed", taskId: owner.id, role: owner.role, attempt: owner.attempt, workerId: owner.workerId, error: ownerError }, at);
  }
}

/** A task id for a fix task that no task of the feature has: `<task>-fix-<round>`. */
function freshId(ctx: FeatureContext, base: string): string {
  let id = base;
  for (let suffix = 2; ctx.tasks[id]; suffix++) id = `${base}-${suffix}`;
  return id;
}

/** What the fix task is told: the gate, its command and output, the reviewer's comments, the task's own instructions. */
function fixInstructions(owner: TaskState | undefined, result: TaskResult, reason: string): string {
  const gate = result.gate!.name;
  const report = result.gateReport;
  return [
    `The gate "${gate}" failed${owner ? ` for task "${owner.id}" (${owner.title})` : " for the feature"}: ${reason}.`,
    report?.command.length ? `Command: ${report.command.join(" ")} (exit code ${report.exitCode ?? "none"})` : "",
    report?.outputTail ? `Its output (last lines):\n${report.outputTail}` : "",
    report?.review?.comments.length ? `The reviewer's comments:\n${report.review.comments.map((c) => `- ${c.file ? `${c.file}${c.line ? `:${c.line}` : ""}: ` : ""}${c.message}`).join("\n")}` : "",
    "Change the code in the workspace so that this gate passes; it runs again when you are done.",
    owner?.instructions ? `The task's own instructions were:\n${owner.instructions}` : "",
  ].filter(Boolean).join("\n\n");
}

/**
 * A gate failed and the policy has fix rounds left: a new task for the fix role runs now (it takes the gated
 * task's place under maxParallel); when it completes the gate runs again (gates.ts `afterFix`).
 * `owner` undefined: one of the feature's own gates.
 */
export function startFix(draft: FeatureContext, owner: TaskState | undefined, result: TaskResult, fix: { role: string; round: number; reason: string }, at: string, opts: ScheduleOptions): void {
  const gate = result.gate!.name;
  const { role, round, reason } = fix;
  const fixId = freshId(draft, `${(owner?.id ?? "feature").slice(0, 48)}-fix-${round}`);
  const title = `Fix gate ${gate} for ${owner ? `task ${owner.id}` : "the feature"} (round ${round})`;
  draft.tasks[fixId] = {
    // the task's own dependencies (all completed): the fix task gets the same handoffs
    id: fixId, role, title, instructions: fixInstructions(owner, result, reason), dependsOn: owner ? [...owner.dependsOn] : [], status: "ready", attempt: 0,
    timeoutSeconds: owner?.timeoutSeconds ?? 4 * 3600, fixFor: { taskId: owner?.id, gate, round },
    // the fix continues the owner's agent session (its work's, or its previous fix round's) where a worker can
    ...(owner?.session ? { session: owner.session } : {}),
  };
  draft.order = [...draft.order, fixId];
  const fixing = { fixTaskId: fixId, gate, round };
  if (owner) draft.tasks[owner.id] = moveTask(owner, "fix", { verify: { ...owner.verify, fixRounds: round, fixing } });
  else draft.featureGates = { ...draft.featureGates!, fixRounds: round, fixing };
  emitInto(draft, { kind: "task.fixing", taskId: owner?.id, attempt: owner?.attempt, gate, round, fixTaskId: fixId, fixRole: role, title, reason }, at);
  scheduleInto(draft, at, opts);
}
