// Around a run in a git feature (issue 12): before it, the checkout the message asks for (the task's worktree or the
// feature's integration worktree) and the file-scope lock (a lease in KV); after the work, its commit on the task's
// branch with git's list of changes, and the check of the artifacts it declares. The runner only sees a workspace.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../shared/logging.ts";
import { wireError } from "../../shared/protocol/errors.ts";
import type { TaskAssigned, WireError } from "../../shared/protocol/index.ts";
import type { FileLocks, Lease } from "./locks.ts";
import type { ExecOutcome } from "./runners/types.ts";
import { validateArtifacts } from "./workspace/artifacts.ts";
import { isWithin } from "./workspace/resolve.ts";
import { commitWork, ensureCheckout, type WorktreeSettings } from "./workspace/worktrees.ts";
import type { WorkspaceOptions } from "./workspace/resolve.ts";

/** What the worker gives every run: its workspace roots and worktree settings, and its file locks (absent: none taken). */
export interface Workspaces {
  options: WorkspaceOptions & { worktrees: WorktreeSettings };
  locks?: Pick<FileLocks, "acquire"> | undefined;
  workerId: string;
}

/** A run made ready: the task as the runner sees it (its workspace is the checkout), and what to do after it. */
export interface PreparedRun {
  task: TaskAssigned;
  /** After the runner (the role's work only): commit, artifacts. Never rejects. */
  finish(out: ExecOutcome): Promise<ExecOutcome>;
  /** Releases the lock, if one is held. Never rejects. */
  release(): Promise<void>;
}

const NOTHING: Pick<PreparedRun, "finish" | "release"> = { finish: async (out) => out, release: async () => {} };

/**
 * Prepares `task`'s run: its checkout (a git feature) and, for the role's work (`isWork`), its lock — waiting, with
 * `onWait` told who holds it, until it is free or `signal` aborts (then it rejects with the abort's reason).
 */
export async function prepareRun(
  task: TaskAssigned, isWork: boolean, ws: Workspaces,
  scope: { signal: AbortSignal; log: Logger; onWait?: (text: string) => void },
): Promise<PreparedRun | { error: WireError }> {
  let runTask = task;
  if (task.checkout) {
    const made = await ensureCheckout({ featureId: task.featureId, taskId: task.taskId, checkout: task.checkout }, ws.options);
    if ("error" in made) return made;
    runTask = { ...task, workspace: made.dir };
  }
  if (!isWork) return { task: runTask, ...NOTHING };
  let lease: Lease | undefined;
  if (task.lock && ws.locks) {
    lease = await ws.locks.acquire(task.lock, { featureId: task.featureId, taskId: task.taskId, attempt: task.attempt, workerId: ws.workerId }, {
      signal: scope.signal,
      onWait: (held) => scope.onWait?.(`waiting for the file-scope lock: task ${held.taskId} (attempt ${held.attempt}, worker ${held.workerId}) holds ${held.scope ? held.scope.join(", ") : "the whole workspace"}`),
      onLost: () => scope.log.warn({ lock: task.lock }, "file-scope lock lease lost while the task ran (renewals failed): others may hold its scope now"),
    });
  }
  return {
    task: runTask,
    finish: (out) => afterWork(runTask, out, scope.log),
    release: async () => {
      await lease?.release();
    },
  };
}

/**
 * After completed work: the commit on the task's branch (worktree mode), then the declared artifacts. Neither for a
 * planner run (it changes nothing) nor for a run that asks a question (it is not the task's work yet: the task runs
 * again with the answer, in the same kind of checkout).
 */
async function afterWork(task: TaskAssigned, out: ExecOutcome, log: Logger): Promise<ExecOutcome> {
  if (out.outcome !== "completed" || out.question || task.planning) return out;
  let done = out;
  const commit = task.checkout?.commit;
  if (commit && task.workspace) {
    const committed = await commitWork(task.workspace, { base: task.checkout!.at!, message: commit.message });
    if ("error" in committed) {
      log.warn({ error: committed.error }, "the task's work could not be committed on its branch");
      return { ...out, outcome: "failed", error: committed.error };
    }
    done = { ...out, git: committed.changes };
  }
  if (!task.produces?.length || !task.workspace) return done;
  const dir = task.workspace;
  const problems = await validateArtifacts(task.produces, async (path) => {
    const full = join(dir, path);
    if (!isWithin(full, dir)) return undefined;
    return readFile(full).catch(() => undefined);
  });
  if (!problems.length) return done;
  const text = problems.map((problem) => `${problem.path}: ${problem.messages[0]}`).join("; ");
  return { ...done, outcome: "failed", artifacts: problems, error: wireError("ArtifactInvalid", `declared artifacts missing or invalid: ${text}`, { problems }) };
}
