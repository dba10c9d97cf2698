// Git features (issue 12) as `baton watch` and `baton status` show them: the workspace events as lines, and in the
// status report the integration branch, each task's checkpoint, conflict and scope violation, and the handoffs.
import type { StatusEvent } from "../../shared/protocol/events.ts";
import type { FeatureView, ViewTask } from "../../shared/protocol/views.ts";
import { bold, cyan, dim, green, red, yellow } from "./colors.ts";

const WORKSPACE_EVENT_KINDS = [
  "workspace.prepared", "task.integrating", "checkpoint.created", "task.conflict", "scope.violation", "artifact.invalid",
  "feature.rolled_back", "feature.integrated",
] as const;
export type WorkspaceEvent = Extract<StatusEvent, { kind: (typeof WORKSPACE_EVENT_KINDS)[number] }>;

export const isWorkspaceEvent = (event: StatusEvent): event is WorkspaceEvent => (WORKSPACE_EVENT_KINDS as readonly string[]).includes(event.kind);

/** Completed tasks whose handoffs `status` lists without --verbose; with more, it says how to see them. */
export const FEW_HANDOFFS = 4;
/** Files of a handoff listed without --verbose. */
export const FEW_FILES = 10;

const short = (commit: string) => commit.slice(0, 10);

/** `files` joined, at most `max` of them, then "and N more". */
function fileList(files: readonly string[], max: number): string {
  return files.slice(0, max).join(", ") + (files.length > max ? dim(` and ${files.length - max} more`) : "");
}

/** One line (a few for invalid artifacts) per workspace event; `at` is the formatted time, `who` the task. */
export function renderWorkspaceEvent(event: WorkspaceEvent, at: string, step: string, who: string): string {
  switch (event.kind) {
    case "workspace.prepared":
      return `${at} ${cyan("workspace")} integration branch ${bold(event.branch)} at ${short(event.head)}${event.dirty.length ? dim(` (${event.dirty.length} uncommitted files in the workspace are not part of it)`) : ""}`;
    case "task.integrating":
      return `${at} ${step} ${cyan("integrating")} ${who} ${dim(`into ${event.branch}`)}`;
    case "checkpoint.created":
      return `${at} ${step} ${green("checkpoint")} ${who} ${short(event.commit)} ${dim(`${event.files.length} file${event.files.length === 1 ? "" : "s"}, +${event.insertions} -${event.deletions}`)}${event.tag ? ` ${cyan(`tag ${event.tag}`)}` : ""}`;
    case "task.conflict":
      return `${at} ${step} ${yellow("conflict")}   ${who} ${dim(`round ${event.round}: ${event.files.join(", ")}`)}${event.fixTaskId ? ` — fix task ${event.fixTaskId}` : ""}`;
    case "scope.violation":
      return `${at} ${step} ${event.strict ? red("scope violation") : yellow("scope violation")} ${who} ${dim(`changed outside ${event.scope.join(", ")}:`)} ${fileList(event.files, 10)}`;
    case "artifact.invalid":
      return [`${at} ${step} ${red("artifact invalid")} ${who}`, ...event.problems.flatMap((p) => p.messages.slice(0, 5).map((m) => `    ${red("✗")} ${p.path}: ${m}`))].join("\n");
    case "feature.rolled_back":
      return `${at} ${yellow("rolled back")} to ${event.toTask ? `task ${bold(event.toTask)}'s checkpoint` : "the feature's start"} ${short(event.to)} — ${event.tasks.length} tasks ${event.cancelled ? "cancelled" : "pending again"}${event.reason ? `: ${event.reason}` : ""}${event.by ? dim(` (by ${event.by})`) : ""}`;
    case "feature.integrated":
      return `${at} ${cyan("integrated")} ${bold(event.branch)}${event.head ? ` at ${short(event.head)}` : ""}${event.into ? (event.fastForwarded ? ` — ${green(`${event.into} fast-forwarded`)}` : ` — ${yellow(`${event.into} not moved`)}: ${event.refused ?? ""}`) : ""}${event.removed ? dim(` (${event.removed} worktrees removed)`) : ""}`;
  }
}

const ENDED = new Set<FeatureView["state"]>(["completed", "failed", "cancelled"]);

/**
 * The status report's lines about the feature's git branch: where it stands, and once the feature ended, whether the
 * branch a request's `integrateInto` named was fast-forwarded (or why not), or where the work is left for the user.
 */
export function gitLines(view: FeatureView): string[] {
  const git = view.git;
  if (!git) return [];
  const checkpoints = view.tasks.filter((task) => task.checkpoint).length;
  const lines = [`integration branch ${bold(git.branch)} at ${short(git.head)} ${dim(`(from ${short(git.base)}, ${checkpoints} checkpoint${checkpoints === 1 ? "" : "s"})`)}`];
  if (git.into && git.fastForwarded) lines.push(green(`${git.into} fast-forwarded to ${short(git.head)}`));
  else if (git.into && (git.fastForwarded === false || git.refused)) lines.push(yellow(`${git.into} not fast-forwarded${git.refused ? `: ${git.refused}` : ""}`) + dim(` (the work is on ${git.branch})`));
  else if (view.state === "completed" && !git.into) lines.push(dim(`the work is on ${git.branch}: \`git log ${git.branch}\`, then merge it when you like (\`git merge ${git.branch}\`)`));
  else if (git.into && !ENDED.has(view.state)) lines.push(dim(`when it completes, ${git.into} is fast-forwarded to it (if it can be)`));
  return lines;
}

/**
 * What the DETAIL column adds for a git task: its checkpoint ("1a2b3c4d5e +12 -3, 4 files") once integrated, a conflict
 * that is not being fixed right now, and files changed outside its declared scope. "" when there is nothing.
 */
export function gitDetail(task: ViewTask): string {
  const parts: string[] = [];
  const point = task.checkpoint;
  if (point && task.state === "completed") parts.push(`${cyan(short(point.commit))} ${dim(`+${point.insertions} -${point.deletions}, ${point.files.length} file${point.files.length === 1 ? "" : "s"}${point.tag ? `, tag ${point.tag}` : ""}`)}`);
  const fixingConflict = task.waitingFor?.kind === "fix" && task.waitingFor.conflict;
  if (task.conflict && !fixingConflict && task.state !== "completed") parts.push(yellow(`merge conflict (round ${task.conflict.round}) in ${fileList(task.conflict.files, 5)}`));
  if (task.scopeViolation?.length) parts.push(yellow(`changed outside its files: ${fileList(task.scopeViolation, 5)}`));
  return parts.join("; ");
}

/**
 * The handoffs of the integrated tasks (what dependents receive): per task its checkpoint, the files git saw change and
 * its summary. All of them with `verbose` (every file, one per line); otherwise up to FEW_HANDOFFS tasks with
 * FEW_FILES files each, or one line saying how to see more.
 */
export function handoffLines(view: FeatureView, verbose: boolean): string[] {
  const done = view.tasks.filter((task): task is ViewTask & { checkpoint: NonNullable<ViewTask["checkpoint"]> } => task.state === "completed" && task.checkpoint !== undefined);
  if (!done.length) return [];
  if (!verbose && done.length > FEW_HANDOFFS) return [dim(`${done.length} handoffs: \`baton status ${view.featureId} --verbose\` lists each task's files and summary`)];
  const lines = ["", bold("handoffs")];
  for (const task of done) {
    const point = task.checkpoint;
    const summary = verbose ? (task.summary ?? "") : (task.summary ?? "").split("\n")[0]!.slice(0, 200);
    lines.push(`  ${bold(task.id)} ${dim(`(${task.role})`)} ${short(point.commit)} ${dim(`+${point.insertions} -${point.deletions}`)}${summary ? ` — ${summary}` : ""}`);
    if (!point.files.length) lines.push(dim("    no files changed"));
    else if (verbose) lines.push(...point.files.map((file) => `    ${file}`));
    else lines.push(`    ${fileList(point.files, FEW_FILES)}`);
  }
  return lines;
}
