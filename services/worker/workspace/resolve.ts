// Where a task runs: the workspace its message names (it must already exist on this worker and lie, symlinks
// resolved, under one of the operator's workspace roots), else a default folder per feature that the worker creates.
// Shared by every runner that works in a folder (exec, agents, gates, review), so nothing runs anywhere else.
import { mkdir, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { wireError } from "../../../shared/protocol/errors.ts";
import type { TaskAssigned, WireError } from "../../../shared/protocol/index.ts";

export interface WorkspaceOptions {
  /** Workspace for tasks that name none; default `<cwd>/.baton/workspaces/<featureId>`. */
  workspace?: string | undefined;
  /** Folder under which default workspaces are made. */
  cwd: string;
  /**
   * Absolute folders under which a workspace named by a task must lie (after resolving symlinks);
   * undefined: `workspace` (when set) and `<cwd>/.baton/workspaces`.
   */
  workspaceRoots?: readonly string[] | undefined;
}

/** The task's working directory, or why there is none (an error for whoever submitted the task). */
export type WorkspaceResult = { dir: string } | { error: WireError };

/**
 * Resolves (and for default workspaces creates) the task's working directory. Idempotent; never rejects.
 * A workspace the task names is used only if it is an absolute path whose real path (every symlink resolved) lies
 * under the real path of one of the roots — else WORKSPACE_OUTSIDE_ROOTS, decided before its existence is looked at,
 * so a task cannot probe the worker's disk — and is an existing directory (else WORKSPACE). The directory returned
 * is the real path, so swapping a symlink after this check cannot move the task elsewhere. A default workspace
 * is the operator's own choice and is not checked against the roots.
 */
export async function workspaceFor(task: Pick<TaskAssigned, "workspace" | "featureId">, options: WorkspaceOptions): Promise<WorkspaceResult> {
  const error = (message: string): { error: WireError } => ({ error: wireError("WorkspaceError", message) });
  if (task.workspace !== undefined) {
    const named = task.workspace;
    if (!isAbsolute(named)) return error(`workspace "${named}" named by the task is not an absolute path`);
    const confined = await confine(named, workspaceRoots(options));
    if ("error" in confined) return confined;
    const st = await stat(confined.dir).catch(() => undefined);
    if (!st) return error(`workspace "${named}" named by the task does not exist on this worker`);
    if (!st.isDirectory()) return error(`workspace "${named}" named by the task is not a directory`);
    return confined;
  }
  const dir = options.workspace ?? join(options.cwd, ".baton", "workspaces", task.featureId);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    return error(`cannot create workspace "${dir}": ${(err as Error).message}`);
  }
  return { dir };
}

/** The roots in force: the configured ones, else the default workspace and `<cwd>/.baton/workspaces`. Pure. */
export function workspaceRoots(options: WorkspaceOptions): string[] {
  // Baton's own worktrees (git features) are always a root: the worker makes them, no message names them
  if (options.workspaceRoots) return [...options.workspaceRoots.map((root) => resolve(options.cwd, root)), defaultWorktreesRoot()];
  const roots = [join(options.cwd, ".baton", "workspaces"), defaultWorktreesRoot()];
  if (options.workspace !== undefined) roots.unshift(resolve(options.cwd, options.workspace));
  return roots;
}

/**
 * Where git features' worktrees go by default: `$XDG_CACHE_HOME/baton/worktrees` (else `~/.cache/baton/worktrees`),
 * one folder per repository below it. Outside every repository, so test runners, watchers and editors in a workspace
 * never see them — and not under `.git`, where coding agents refuse to edit files (Claude Code treats any path
 * with a `.git` segment as sensitive).
 */
export function defaultWorktreesRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "baton", "worktrees");
}

/**
 * `path`'s real path when it lies under the real path of one of `roots` (the root itself counts), else a
 * WORKSPACE_OUTSIDE_ROOTS error naming the path, what it resolved to and the roots. Never rejects.
 */
export async function confine(path: string, roots: readonly string[]): Promise<WorkspaceResult> {
  const real = await realPathOf(path);
  const realRoots = await Promise.all(roots.map((root) => realPathOf(root)));
  if (realRoots.some((root) => isWithin(real, root))) return { dir: real };
  const shown = roots.map((root, index) => (realRoots[index] === root ? root : `${root} (${realRoots[index]})`));
  const resolvedNote = real === path ? "" : ` (resolved to "${real}")`;
  const message = `workspace "${path}"${resolvedNote} is outside this worker's workspace roots: ${shown.length ? shown.join(", ") : "none configured"}` +
    " — use a workspace under one of them, or have the worker's operator add a root (workspaceRoots in its config)";
  return { error: wireError("WorkspaceOutsideRoots", message, { workspace: path, resolved: real, roots: realRoots }) };
}

/** True when `path` is `root` or lies below it (both absolute and normalised). Pure. */
export function isWithin(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The real path of `path` (absolute): every symlink resolved. When the path does not exist, the real path of its
 * deepest existing ancestor with the rest appended, so a missing folder is judged where it would be created. Never rejects.
 */
export async function realPathOf(path: string): Promise<string> {
  const whole = await realpath(path).catch(() => undefined);
  if (whole !== undefined) return whole;
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const real = await realpath(dir).catch(() => undefined);
    if (real !== undefined) return join(real, ...missing.reverse());
    if (dirname(dir) === dir) return resolve(path);
    missing.push(basename(dir));
  }
}
