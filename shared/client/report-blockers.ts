// The execution report's blockers: why tasks of a feature do not move (a question, an approval, a file-scope lock,
// a role with no live worker, a budget, a pause, a stream's gates, a fix, a retry), grouped, each with what to do.
import type { FeatureView, ViewQuestion, ViewTask, ViewUnserved, WaitingFor } from "../protocol/views.ts";
import { BUDGET_PAUSE } from "../protocol/waiting.ts";
import type { Blocker, BlockerKind } from "./report-types.ts";

/** The order blockers are listed in: what a person must do first, first. */
const KIND_ORDER: readonly BlockerKind[] = ["approval", "question", "budget", "paused", "worker", "lock", "stream", "fix", "retry"];

const clock = (iso: string) => iso.slice(11, 19);

/** A text's first line, at most `max` characters. */
function firstLine(text: string, max = 80): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Collects blockers under a key (kind plus what they wait on), merging the tasks held by the same cause. */
class Blockers {
  private readonly byKey = new Map<string, Blocker>();

  add(key: string, blocker: Blocker): void {
    const known = this.byKey.get(`${blocker.kind}:${key}`);
    if (!known) this.byKey.set(`${blocker.kind}:${key}`, { ...blocker, taskIds: [...blocker.taskIds] });
    else for (const taskId of blocker.taskIds) if (!known.taskIds.includes(taskId)) known.taskIds.push(taskId);
  }

  list(): Blocker[] {
    return [...this.byKey.values()].sort((left, right) => KIND_ORDER.indexOf(left.kind) - KIND_ORDER.indexOf(right.kind));
  }
}

function questionDetail(featureId: string, question: ViewQuestion): string {
  const whose = question.taskId ? `task ${question.taskId}` : "the feature";
  const state = question.state === "escalated" ? "escalated question" : "question";
  return `${state} ${question.questionId} (${whose}): ${JSON.stringify(firstLine(question.question))} — baton answer ${featureId} ${question.questionId} "…"`;
}

/** A run waiting for a worker of `role`: none alive, or (unserved) none took it. */
function workerDetail(what: string, role: string, live: number, unserved: ViewUnserved | undefined): string {
  const fails = unserved?.failsAt ? ` (fails at ${clock(unserved.failsAt)} if none does)` : "";
  if (live === 0) return `no live ${role} worker for ${what} — start one: baton worker --role ${role}${fails}`;
  return `${live} live ${role} worker${live === 1 ? "" : "s"}, none took ${what} yet — ${unserved?.remedy ?? `check them: baton workers`}${fails}`;
}

/** The blocker a task's wait makes, if that wait is one (dependencies, a free place, gates running… are not). */
function taskBlocker(view: FeatureView, task: ViewTask, waiting: WaitingFor, liveWorkers: Record<string, number> | undefined): [string, Blocker] | undefined {
  const featureId = view.featureId;
  const taskIds = [task.id];
  switch (waiting.kind) {
    case "question": {
      const question = view.questions?.find((entry) => entry.questionId === waiting.questionId);
      if (question) return [question.questionId, { kind: "question", taskIds, detail: questionDetail(featureId, question), since: question.askedAt }];
      return [waiting.questionId, { kind: "question", taskIds, detail: `question ${waiting.questionId} (task ${task.id}) — baton answer ${featureId} ${waiting.questionId} "…"` }];
    }
    case "scope":
      return [waiting.taskIds.join(","), { kind: "lock", taskIds, detail: `file-scope lock: its files may overlap those of ${waiting.taskIds.join(", ")} — it starts once they are integrated or ended` }];
    case "worker": {
      // given live counts, a role missing from them has none
      const live = task.unserved?.liveWorkers ?? (liveWorkers ? (liveWorkers[waiting.role] ?? 0) : undefined);
      if (!waiting.unserved && live !== 0) return undefined;
      const what = waiting.gate ? `gate ${waiting.gate} of ${task.id}` : task.id;
      return [`${waiting.role}:${waiting.gate ?? ""}`, { kind: "worker", taskIds, detail: workerDetail(what, waiting.role, live ?? 0, task.unserved), ...(task.unserved ? { since: task.unserved.at } : {}) }];
    }
    case "stream":
      return [waiting.stream, { kind: "stream", taskIds, detail: `stream ${waiting.stream}'s gates have not passed yet (run by task ${waiting.taskId})` }];
    case "fix":
      return [waiting.fixTaskId, {
        kind: "fix", taskIds,
        detail: waiting.conflict ? `merge conflict of ${task.id}: fix task ${waiting.fixTaskId} resolves it, then it is integrated again` : `a gate of ${task.id} failed: fix task ${waiting.fixTaskId} runs, then the gates again`,
      }];
    case "retry":
      return [task.id, { kind: "retry", taskIds, detail: `${task.id} retries at ${clock(waiting.until)} (attempt ${task.attempt + 1})${task.error ? `: ${firstLine(task.error)}` : ""}` }];
    default:
      return undefined;
  }
}

/** Feature-wide causes: a plan awaiting approval, a pause (for a budget or not), a feature gate run no worker takes, open questions. */
function featureBlockers(view: FeatureView, blockers: Blockers): void {
  const held = (kind: WaitingFor["kind"]) => view.tasks.filter((task) => task.waitingFor?.kind === kind).map((task) => task.id);
  const featureId = view.featureId;
  if (view.state === "awaitingApproval") {
    const since = view.plan?.readyAt;
    blockers.add("", { kind: "approval", taskIds: held("approval"), detail: `the plan (${view.tasks.length} tasks) awaits approval — baton approve ${featureId} (or baton reject ${featureId} --reason …)`, ...(since ? { since } : {}) });
  }
  if (view.state === "paused") {
    const reason = view.paused?.reason;
    const since = view.paused?.at ? { since: view.paused.at } : {};
    if (reason?.startsWith(BUDGET_PAUSE)) {
      blockers.add("", { kind: "budget", taskIds: held("budget"), detail: `paused for a budget (${reason.slice(BUDGET_PAUSE.length).trim()}) — raise it: baton budget ${featureId} --tokens N | --cost-usd X | --wall-seconds S, then baton resume ${featureId}`, ...since });
    } else {
      blockers.add("", { kind: "paused", taskIds: held("paused"), detail: `paused${view.paused?.by ? ` by ${view.paused.by}` : ""}${reason ? `: ${firstLine(reason)}` : ""} — baton resume ${featureId}`, ...since });
    }
  }
  if (view.unserved) {
    const what = `the feature's ${view.unserved.gate ? `gate ${view.unserved.gate}` : "workspace operation"}`;
    blockers.add(`${view.unserved.role}:feature`, { kind: "worker", taskIds: [], detail: workerDetail(what, view.unserved.role, view.unserved.liveWorkers, view.unserved), since: view.unserved.at });
  }
  for (const question of view.questions ?? []) {
    if (question.state === "answered") continue;
    blockers.add(question.questionId, { kind: "question", taskIds: question.taskId ? [question.taskId] : [], detail: questionDetail(featureId, question), since: question.askedAt });
  }
}

/**
 * What holds the feature's tasks, one blocker per cause (tasks held by the same cause grouped), most pressing kind
 * first. A task merely queued for a worker is a blocker only when a task.unserved event said none took it, or
 * `liveWorkers` shows no live worker of its role. Nothing blocks an ended feature. Pure.
 */
export function blockersOf(view: FeatureView, liveWorkers?: Record<string, number>): Blocker[] {
  if (["completed", "failed", "rejected", "cancelled"].includes(view.state)) return [];
  const blockers = new Blockers();
  featureBlockers(view, blockers);
  for (const task of view.tasks) {
    const found = task.waitingFor ? taskBlocker(view, task, task.waitingFor, liveWorkers) : undefined;
    if (found) blockers.add(...found);
  }
  return blockers.list();
}
