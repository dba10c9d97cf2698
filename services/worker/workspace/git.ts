// Running git for worktrees and integration: one child process per command (argv, never a shell), a timeout, the
// C locale (so the messages this module matches are English), and the small queries the workspace modules share.
import { execFile } from "node:child_process";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname, posix, resolve } from "node:path";
import { wireError } from "../../../shared/protocol/errors.ts";
import type { WireError } from "../../../shared/protocol/index.ts";

const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_OUTPUT = 256 * 1024 * 1024;
/** Variables that would point git at another repository or index (set when Baton itself runs inside a git hook). */
const REPOSITORY_ENV = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_PREFIX", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES"];

export interface GitOptions {
  /** Exit codes that count as success (default `[0]`). */
  ok?: readonly number[];
  /** Written to git's stdin (stdin is always closed, so nothing git runs can wait for input). */
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface GitOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** A git command that exited with a code it was not allowed, or timed out. The message names the command and git's stderr. */
export class GitCommandError extends Error {
  override readonly name = "GitCommandError";
  constructor(message: string, readonly exitCode: number | undefined, readonly stderr: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The environment git runs with: ours minus repository overrides, C locale, no prompts, no editor. */
function gitEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of REPOSITORY_ENV) delete env[name];
  return { ...env, LC_ALL: "C", LANGUAGE: "C", GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true", GIT_MERGE_AUTOEDIT: "no", ...extra };
}

/**
 * What git says when it reads the admin folder of a worktree that another process is adding at that very moment
 * (`<git dir>/worktrees/<name>/` holds `gitdir` but `commondir` is still empty): `fatal: failed to read
 * .git/worktrees/t2/commondir: Success`. Any command that lists the worktrees (worktree add, list, remove; branch
 * moves) dies of it before it changes anything; workers add worktrees to one repository concurrently, so it happens.
 */
const WORKTREE_RACE = /failed to read \S*worktrees\/[^/\s]+\/(commondir|gitdir)\b/;
/** Runs of a command that met WORKTREE_RACE, in all; the pause before each rerun grows (25, 50, … ms, plus jitter). */
const RACE_RUNS = 6;

/**
 * Runs `git <args>` in `cwd` (argv, no shell; `--no-optional-locks`, so read-only commands never write the index under
 * an agent's feet). Resolves with the exit code and output when the code is one of `ok`; rejects with a
 * GitCommandError naming the command and git's stderr otherwise, or when it ran longer than `timeoutMs`. A run that
 * died of another process's half-made worktree (WORKTREE_RACE) is run again, a few times.
 */
export async function runGit(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitOutput> {
  for (let run = 1; ; run++) {
    const raced = (stderr: string, code: number | undefined) => run < RACE_RUNS && code !== 0 && WORKTREE_RACE.test(stderr);
    try {
      const out = await runGitOnce(cwd, args, options);
      if (!raced(out.stderr, out.code)) return out;
    } catch (error) {
      if (!(error instanceof GitCommandError) || !raced(error.stderr, error.exitCode)) throw error;
    }
    await new Promise((done) => setTimeout(done, 25 * run + Math.random() * 25));
  }
}

/** One run of `git <args>` (runGit without the reruns). */
function runGitOnce(cwd: string, args: readonly string[], options: GitOptions): Promise<GitOutput> {
  const ok = options.ok ?? [0];
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((done, fail) => {
    const child = execFile("git", ["--no-optional-locks", ...args], { cwd, timeout, maxBuffer: MAX_OUTPUT, encoding: "utf8", env: gitEnv(options.env) }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      if (typeof code === "number" && ok.includes(code) && !err?.killed) return done({ code, stdout, stderr });
      const why = err?.killed ? `timed out after ${timeout} ms` : `exit ${String(code)}: ${stderr.trim() || err?.message}`;
      fail(new GitCommandError(`git ${shownArgs(args)} in ${cwd} failed (${why})`, typeof code === "number" ? code : undefined, stderr, { cause: err }));
    });
    child.stdin?.on("error", () => {}); // EPIPE when git exits before reading its input
    child.stdin?.end(options.input ?? "");
  });
}

/** The command as a message shows it: long argument lists cut. */
const shownArgs = (args: readonly string[]): string => (args.length > 12 ? [...args.slice(0, 12), `… (${args.length - 12} more)`] : args).join(" ");

/** The bytes of `spec` (`<rev>:<path>`, `:<path>` for the index), or undefined when there is no such object. */
export function gitBlob(cwd: string, spec: string, env?: Record<string, string>): Promise<Buffer | undefined> {
  return new Promise((done, fail) => {
    execFile("git", ["cat-file", "blob", spec], { cwd, maxBuffer: MAX_OUTPUT, encoding: "buffer", timeout: DEFAULT_TIMEOUT_MS, env: gitEnv(env) }, (err, stdout, stderr) => {
      if (!err) return done(stdout);
      if ((err as { code?: unknown }).code === 128 && !err.killed) return done(undefined);
      fail(new GitCommandError(`git cat-file blob ${spec} in ${cwd} failed: ${stderr.toString().trim() || err.message}`, undefined, stderr.toString(), { cause: err }));
    });
  });
}

/** The full id of the commit `rev` names, or undefined when it names none. */
export async function commitOf(cwd: string, rev: string): Promise<string | undefined> {
  const verified = await runGit(cwd, ["rev-parse", "-q", "--verify", `${rev}^{commit}`], { ok: [0, 1] });
  return verified.code === 0 ? verified.stdout.trim() : undefined;
}

/** The head of branch `branch`, or undefined when it does not exist. */
export const branchHead = (cwd: string, branch: string): Promise<string | undefined> => commitOf(cwd, `refs/heads/${branch}`);

/** True when commit `ancestor` is `descendant` or one of its ancestors. */
export async function isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
  return (await runGit(cwd, ["merge-base", "--is-ancestor", ancestor, descendant], { ok: [0, 1] })).code === 0;
}

/** True when a merge is in progress in the work tree at `cwd` (MERGE_HEAD exists). */
export async function merging(cwd: string): Promise<boolean> {
  return (await runGit(cwd, ["rev-parse", "-q", "--verify", "MERGE_HEAD"], { ok: [0, 1] })).code === 0;
}

/** The folder's path inside its repository ("" at the top, else "sub/dir/"), or undefined when it is not in a work tree. */
export async function workTreePrefix(cwd: string): Promise<string | undefined> {
  const shown = await runGit(cwd, ["rev-parse", "--is-inside-work-tree", "--show-prefix"], { ok: [0, 128] });
  const [inside, prefix = ""] = shown.stdout.split("\n");
  return shown.code === 0 && inside === "true" ? prefix : undefined;
}

/**
 * Like workTreePrefix, but undefined too when git ignores the folder (a default workspace under an ignored `.baton/`
 * of the worker's own repository is not a git workspace: Baton must not make branches in the repository around it).
 */
export async function gitWorkspacePrefix(cwd: string): Promise<string | undefined> {
  const prefix = await workTreePrefix(cwd);
  if (prefix === undefined || prefix === "") return prefix;
  return (await runGit(cwd, ["check-ignore", "-q", "--", "."], { ok: [0, 1] })).code === 0 ? undefined : prefix;
}

/** A path relative to the repository's top, made relative to the workspace at `prefix` (`../` when outside it). */
export const workspacePath = (prefix: string, topPath: string): string => (prefix ? posix.relative(prefix, topPath) : topPath);

/** Splits `-z` output. */
export const nulList = (text: string): string[] => text.split("\0").filter((item) => item !== "");

/**
 * Paths with uncommitted changes below `cwd`, relative to the repository's top: tracked files modified, staged or
 * deleted, and (with `untracked`) untracked files that are not ignored (an untracked folder as one entry).
 */
export async function statusPaths(cwd: string, options: { untracked: boolean }): Promise<string[]> {
  const args = ["status", "--porcelain=v1", "-z", `--untracked-files=${options.untracked ? "normal" : "no"}`, "--", "."];
  const entries = nulList((await runGit(cwd, args)).stdout);
  const paths: string[] = [];
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    paths.push(entry.slice(3));
    if (/[RC]/.test(entry.slice(0, 2))) index++; // a rename's source follows; the new path is what changed here
  }
  return paths;
}

/**
 * The `-c` options that give Baton's commits an author when the repository (or the machine) has none configured,
 * so commits work on a fresh machine or CI. A configured identity is always used as it is.
 */
export async function identityArgs(cwd: string): Promise<string[]> {
  const configured = async (key: string) => (await runGit(cwd, ["config", "--get", key], { ok: [0, 1] })).stdout.trim() !== "";
  const [hasName, hasEmail] = await Promise.all([configured("user.name"), configured("user.email")]);
  return [...(hasName ? [] : ["-c", "user.name=Baton"]), ...(hasEmail ? [] : ["-c", "user.email=baton@localhost"])];
}

/**
 * `git commit <args>` with an identity when none is configured. Always `--no-verify`: these commits are Baton's own,
 * on Baton's branches, made unattended — a pre-commit or commit-msg hook that asks a question, opens a pager or
 * needs a person's credentials would hang or fail an integration that no one is watching. (Hooks still guard the
 * user's own commits, and the gates are where a feature's checks belong.) Signing follows the user's config.
 */
export async function gitCommit(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitOutput> {
  return runGit(cwd, [...(await identityArgs(cwd)), "commit", "--no-verify", ...args], options);
}

/** `git merge <args>` with an identity when none is configured (git wants one before it merges, even without committing). */
export async function gitMerge(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitOutput> {
  return runGit(cwd, [...(await identityArgs(cwd)), "merge", ...args], options);
}

const LOCK_CONTENTION = /index\.lock|could not lock|cannot lock ref|Unable to create '[^']*\.lock'|unable to lock/i;

/**
 * Runs `step`, retrying it (up to 8 times, backing off up to about a second) while it fails because another git
 * process holds a lock in the same repository — two worktrees made at once for one repository both succeed.
 * A name conflict between refs (`… exists; cannot create …`) is not contention and fails at once.
 */
export async function withLockRetry<Result>(step: () => Promise<Result>): Promise<Result> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const contended = err instanceof GitCommandError && LOCK_CONTENTION.test(err.stderr) && !/exists; cannot create/.test(err.stderr);
      if (!contended || attempt >= 8) throw err;
      await new Promise((wake) => setTimeout(wake, Math.min(1000, 25 * 2 ** attempt) + Math.random() * 50));
    }
  }
}

/**
 * Adds `pattern` as a line of the repository's `info/exclude` (shared by all its worktrees) unless it is there:
 * git then ignores it in every work tree of the repository, without editing the user's `.gitignore`. Idempotent.
 */
export async function addExclude(cwd: string, pattern: string): Promise<void> {
  const file = resolve(cwd, (await runGit(cwd, ["rev-parse", "--git-path", "info/exclude"])).stdout.trim());
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? "" : Promise.reject(err)));
  if (text.split("\n").some((line) => line.trim() === pattern)) return;
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, `${text === "" || text.endsWith("\n") ? "" : "\n"}${pattern}\n`);
}

/** One work tree of a repository, from `git worktree list --porcelain`. */
export interface WorktreeEntry {
  path: string;
  head?: string;
  /** `refs/heads/<name>`, or undefined when detached. */
  branch?: string;
}

/** Every work tree of the repository at `cwd` (the main one first). */
export async function listWorktrees(cwd: string): Promise<WorktreeEntry[]> {
  const listed = await runGit(cwd, ["worktree", "list", "--porcelain"]);
  const entries: WorktreeEntry[] = [];
  for (const line of listed.stdout.split("\n")) {
    if (line.startsWith("worktree ")) entries.push({ path: line.slice("worktree ".length) });
    const current = entries.at(-1);
    if (current && line.startsWith("HEAD ")) current.head = line.slice("HEAD ".length);
    if (current && line.startsWith("branch ")) current.branch = line.slice("branch ".length);
  }
  return entries;
}

/** The wire error for a failed step: GitError for git's own failures (with its stderr), WorkspaceError for the rest. */
export function gitWireError(err: unknown, doing: string): WireError {
  if (err instanceof GitCommandError) return wireError("GitError", `${doing}: ${err.message}`, { stderr: err.stderr.slice(0, 4000) });
  return wireError("WorkspaceError", `${doing}: ${(err as Error)?.message ?? String(err)}`);
}
