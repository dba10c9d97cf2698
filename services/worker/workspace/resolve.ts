// Where a task runs: the workspace its message names (it must already exist on this worker), else a default
// folder per feature that the worker creates. Shared by every runner that works in a folder.
import { mkdir, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { wireError } from "../../../shared/protocol/errors.ts";
import type { TaskAssigned, WireError } from "../../../shared/protocol/index.ts";

export interface WorkspaceOptions {
  /** Workspace for tasks that name none; default `<cwd>/.baton/workspaces/<featureId>`. */
  workspace?: string | undefined;
  /** Folder under which default workspaces are made. */
  cwd: string;
}

/** The task's working directory, or why there is none (a WORKSPACE error for whoever submitted the task). */
export type WorkspaceResult = { dir: string } | { error: WireError };

/**
 * Resolves (and for default workspaces creates) the task's working directory. Idempotent; never rejects.
 * A workspace the task names is used only if it is an absolute path to an existing directory.
 */
export async function workspaceFor(task: Pick<TaskAssigned, "workspace" | "featureId">, options: WorkspaceOptions): Promise<WorkspaceResult> {
  const error = (message: string): { error: WireError } => ({ error: wireError("WorkspaceError", message) });
  if (task.workspace !== undefined) {
    if (!isAbsolute(task.workspace)) return error(`workspace "${task.workspace}" named by the task is not an absolute path`);
    const st = await stat(task.workspace).catch(() => undefined);
    if (!st) return error(`workspace "${task.workspace}" named by the task does not exist on this worker`);
    if (!st.isDirectory()) return error(`workspace "${task.workspace}" named by the task is not a directory`);
    return { dir: task.workspace };
  }
  const dir = options.workspace ?? join(options.cwd, ".baton", "workspaces", task.featureId);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    return error(`cannot create workspace "${dir}": ${(err as Error).message}`);
  }
  return { dir };
}
