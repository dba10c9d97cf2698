// What a conflict fix task is told (issue 12 item 2): which files conflict and what each side changed in them, so
// the agent can resolve the conflict markers left in its worktree. Pure.
import type { TaskResult } from "../../../shared/protocol/index.ts";
import type { FeatureContext, TaskState } from "./context.ts";

/** Characters of each side's diff shown per file (the whole diff is in the worktree's git history). */
const SIDE_CHARS = 6000;

const cut = (text: string): string => (text.length > SIDE_CHARS ? `${text.slice(0, SIDE_CHARS)}\n… (cut)` : text);

/** The instructions of the fix task for `task`'s conflict in `files` (both sides' diffs since their merge base). */
export function conflictInstructions(ctx: FeatureContext, task: TaskState, files: readonly { path: string; ours: string; theirs: string }[], _msg: TaskResult): string {
  const sections = files.slice(0, 20).map((file) => [
    `## ${file.path}`,
    `What the integration branch (${ctx.git?.branch ?? "the feature's branch"}) changed:\n\`\`\`diff\n${cut(file.ours) || "(nothing: the file is new or was removed there)"}\n\`\`\``,
    `What task ${task.id} changed:\n\`\`\`diff\n${cut(file.theirs) || "(nothing: the file is new or was removed here)"}\n\`\`\``,
  ].join("\n\n"));
  return [
    `Task "${task.id}" (${task.title}) could not be merged into the integration branch: its changes conflict with work integrated since it started, in ${files.length} file(s): ${files.map((file) => file.path).join(", ")}.`,
    "Your worktree is the task's branch with the integration branch merged in; the conflicting files hold conflict markers (<<<<<<< ======= >>>>>>>). Resolve every conflict so that both sides' intent is kept, remove all markers, and make sure the code still builds and its tests pass. Do not abort the merge. Baton commits the result and merges the task again.",
    ...sections,
    files.length > 20 ? `… and ${files.length - 20} more file(s) (see \`git status\`).` : "",
    task.instructions ? `The task's own instructions were:\n${task.instructions}` : "",
  ].filter(Boolean).join("\n\n");
}
