// The three Markdown state files (completed changes, pending changes, rollback plan), rendered from a Ledger for a
// person or an agent working in the feature's workspace. Pure.
import type { ViewTask, WaitingFor } from "../../../shared/protocol/views.ts";
import { isTerminal } from "../../../shared/client/feature-view.ts";
import { dependentsOf, type Checkpoint, type Ledger, type TaskNotes } from "./ledger.ts";

/** How many file names a list shows before "and N more". */
const MAX_LISTED_FILES = 50;
const short = (sha: string): string => sha.slice(0, 10);
const code = (text: string): string => `\`${text.replace(/`/g, "'")}\``;
const quote = (text: string): string => text.trimEnd().split("\n").map((line) => `> ${line}`.trimEnd()).join("\n");

/** The heading and the derived-from note every file opens with. */
function header(ledger: Ledger, what: string): string[] {
  const { view, lastEvent } = ledger;
  const upTo = lastEvent ? ` (up to event #${lastEvent.seq}, ${lastEvent.kind} at ${lastEvent.at})` : "";
  return [
    `# ${what} — ${view.featureId}${view.title ? `: ${view.title}` : ""}`,
    "",
    `_Derived from Baton's status events${upTo}; never read back. \`baton status ${view.featureId}\` is the source of truth._`,
    "",
  ];
}

function fileList(files: readonly string[]): string {
  const shown = files.slice(0, MAX_LISTED_FILES).map(code).join(", ");
  return files.length > MAX_LISTED_FILES ? `${shown} and ${files.length - MAX_LISTED_FILES} more` : shown;
}

const taskOf = (ledger: Ledger, id: string): ViewTask | undefined => ledger.view.tasks.find((t) => t.id === id);

/** completed-changes.md: what is on the integration branch, one section per checkpoint in merge order. */
export function renderCompleted(ledger: Ledger): string {
  const out = header(ledger, "Completed changes");
  const { git, checkpoints } = ledger;
  if (git) out.push(`Integration branch ${code(git.branch)}: started at ${code(short(git.base))}, now at ${code(short(git.head))}.`);
  out.push(`${checkpoints.length} of ${ledger.view.tasks.length} tasks integrated, in the order they were merged.`, "");
  if (ledger.lastRollback) {
    const back = ledger.lastRollback;
    out.push(`Rolled back at ${back.at} to ${back.toTask ? `${code(back.toTask)}'s checkpoint` : "the feature's start"} ${code(short(back.to))}; undone: ${back.tasks.map(code).join(", ") || "nothing"}.`, "");
  }
  if (!checkpoints.length) out.push(git ? "Nothing is integrated yet." : "No integration branch yet.", "");
  checkpoints.forEach((checkpoint, index) => out.push(...completedSection(ledger, checkpoint, index + 1)));
  return `${out.join("\n").trimEnd()}\n`;
}

function completedSection(ledger: Ledger, checkpoint: Checkpoint, number: number): string[] {
  const task = taskOf(ledger, checkpoint.taskId);
  const lines = [
    `## ${number}. ${checkpoint.taskId} (${checkpoint.role})${task ? `: ${task.title}` : ""}`,
    "",
    `- Checkpoint: ${code(short(checkpoint.commit))}${checkpoint.tag ? ` (tag ${code(checkpoint.tag)})` : ""}, integrated ${checkpoint.at} (attempt ${checkpoint.attempt})`,
    `- Files (${checkpoint.files.length}, +${checkpoint.insertions} −${checkpoint.deletions}): ${checkpoint.files.length ? fileList(checkpoint.files) : "none"}`,
  ];
  if (task?.fixes) lines.push(`- Fixes: ${code(task.fixes)}`);
  if (task?.summary) lines.push("- Summary:", "", quote(task.summary));
  lines.push("");
  return lines;
}

/** pending-changes.md: every task that has not completed, with what it waits for and what went wrong. */
export function renderPending(ledger: Ledger): string {
  const out = header(ledger, "Pending changes");
  const pending = ledger.view.tasks.filter((t) => t.state !== "completed");
  out.push(pending.length ? `${pending.length} of ${ledger.view.tasks.length} tasks not completed (feature ${ledger.view.state}).` : "Nothing is pending: every task is completed.", "");
  for (const task of pending) out.push(...pendingSection(ledger, task));
  return `${out.join("\n").trimEnd()}\n`;
}

function pendingSection(ledger: Ledger, task: ViewTask): string[] {
  const lines = [`## ${task.id} (${task.role}): ${task.title} — ${task.state}`, ""];
  if (task.fixes) lines.push(`- Fixes: ${code(task.fixes)}`);
  if (task.dependsOn.length) {
    lines.push(`- Depends on: ${task.dependsOn.map((dep) => `${code(dep)} (${taskOf(ledger, dep)?.state ?? "unknown"})`).join(", ")}`);
  }
  if (task.waitingFor) lines.push(`- Waits for: ${describeWait(ledger, task.waitingFor)}`);
  if (task.attempt > 0) lines.push(`- Attempt: ${task.attempt}`);
  if (task.error) lines.push(`- Last error: ${task.error}`);
  lines.push(...noteLines(ledger.notes.get(task.id)), "");
  return lines;
}

function noteLines(notes: TaskNotes | undefined): string[] {
  if (!notes) return [];
  const lines: string[] = [];
  const { conflict, scopeViolation, artifacts, rolledBack } = notes;
  if (conflict) {
    lines.push(`- Merge conflict (round ${conflict.round}, ${conflict.at}) in ${fileList(conflict.files)}${conflict.fixTaskId ? `: fix task ${code(conflict.fixTaskId)} resolves it` : ": no fix round left, its failure policy applies"}`);
  }
  if (scopeViolation) {
    lines.push(`- Scope violation${scopeViolation.strict ? " (strict: the task fails for it)" : ""}: changed ${fileList(scopeViolation.files)} outside ${scopeViolation.scope.map(code).join(", ")}`);
  }
  if (artifacts) {
    lines.push(`- Artifact problems (${artifacts.at}):`);
    for (const problem of artifacts.problems) lines.push(...problem.messages.map((message) => `  - ${code(problem.path)}: ${message}`));
  }
  if (rolledBack) lines.push(`- Rolled back at ${rolledBack.at}${rolledBack.toTask ? ` (to ${code(rolledBack.toTask)}'s checkpoint)` : " (to the feature's start)"}: ${rolledBack.cancelled ? "cancelled" : "pending again"}`);
  return lines;
}

/** A task's WaitingFor in words. */
export function describeWait(ledger: Ledger, wait: WaitingFor): string {
  const ids = (list: readonly string[]) => list.map(code).join(", ");
  switch (wait.kind) {
    case "dependencies": return `its dependencies ${ids(wait.taskIds)}`;
    case "paused": return `the feature to be resumed (\`baton resume ${ledger.view.featureId}\`)`;
    case "budget": return `a budget to be raised (${wait.reason})`;
    case "parallel": return `a free place (maxParallel ${wait.maxParallel}, ${wait.running} under way)`;
    case "baseline": return "its dispatch: it is ready (the feature's baseline gate runs, if any, come first)";
    case "worker": return `a worker of role ${code(wait.role)}${wait.gate ? ` to run gate ${code(wait.gate)}` : ""}${wait.unserved ? " (none has taken it: start one)" : ""}`;
    case "retry": return `its next attempt at ${wait.until}`;
    case "gates": return `its gates ${ids(wait.gates)}`;
    case "fix": return `fix task ${code(wait.fixTaskId)}${wait.conflict ? " (merge conflict)" : ""}`;
    case "scope": return `tasks whose files may overlap its own: ${ids(wait.taskIds)}`;
    case "workspace": return "the workspace to be prepared";
    case "integration": return `its turn to be merged${wait.ahead.length ? ` (after ${ids(wait.ahead)})` : ""}`;
    case "question": return `an answer to question ${code(wait.questionId)} (\`baton questions ${ledger.view.featureId}\`, then \`baton answer ${ledger.view.featureId} ${wait.questionId} "…"\`)`;
    case "approval": return `the plan's approval (\`baton approve ${ledger.view.featureId}\`)`;
    case "stream": return `stream ${code(wait.stream)}'s gates (run by ${code(wait.taskId)})`;
  }
}

/** rollback-plan.md: each checkpoint newest first, the command that goes back to it, and what that undoes. */
export function renderRollbackPlan(ledger: Ledger): string {
  const out = header(ledger, "Rollback plan");
  const { git, checkpoints, view } = ledger;
  if (!git) return `${[...out, "No integration branch yet: there is nothing to roll back."].join("\n")}\n`;
  out.push(
    `The integration branch ${code(git.branch)} is at ${code(short(git.head))}. Each point below, newest first, is one it can go back to:`,
    "the tasks integrated after it are undone and become pending again (with `--cancel`: cancelled, and the feature fails), and so do the tasks that depend on them.",
    "",
    "> **Warning:** rollback refuses, and changes nothing, when the feature's integration worktree holds changes that did not come from the feature",
    "> (edits by hand or by another tool). Commit or discard them first.",
    "",
  );
  if (isTerminal(view.state)) {
    out.push(`The feature has ended (${view.state}).`, "");
  }
  const points = [...checkpoints].reverse();
  points.forEach((checkpoint, index) => out.push(...rollbackSection(ledger, `After ${code(checkpoint.taskId)}: checkpoint ${code(short(checkpoint.commit))}${index === 0 ? " (the current head)" : ""}`, checkpoint.taskId, points.slice(0, index))));
  out.push(...rollbackSection(ledger, `The feature's start: ${code(short(git.base))}${points.length ? "" : " (the current head)"}`, "base", points));
  return `${out.join("\n").trimEnd()}\n`;
}

/** One point to go back to: `later` are the checkpoints after it (newest first). */
function rollbackSection(ledger: Ledger, title: string, target: string, later: readonly Checkpoint[]): string[] {
  const undone = [...later].reverse().map((c) => c.taskId);
  const dependents = dependentsOf(ledger.view, undone);
  const lines = [`## ${title}`, "", "```sh", `baton rollback ${ledger.view.featureId} --to ${target}`, "```", ""];
  if (!undone.length) lines.push("Undoes nothing: the branch is there now.");
  else lines.push(`Undoes ${undone.map(code).join(", ")} (integrated after it)${dependents.length ? `, and with them the tasks that depend on them, which go back to pending (stopped if under way): ${dependents.map(code).join(", ")}` : ""}.`);
  lines.push("");
  return lines;
}
