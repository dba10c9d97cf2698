// `baton submit`'s look at a request's workspace on this machine: a git feature needs a git repository with a commit
// (each task is integrated as a commit on a branch), and `--init-git` makes a plain folder one. Runs git, never a shell.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";

/** What the workspace is here: absent (left to the workers), a git work tree with a commit, or short of one. */
export type WorkspaceState =
  | { kind: "absent" }
  | { kind: "no-git" }
  | { kind: "not-git" }
  | { kind: "no-commit"; toplevel: string }
  | { kind: "ready"; toplevel: string; head: string };

const GIT_TIMEOUT_MS = 30_000;
const FALLBACK_IDENTITY = { "user.name": "Baton", "user.email": "baton@localhost" } as const;
export const INITIAL_COMMIT_MESSAGE = "baton: initial commit";

function git(dir: string, args: readonly string[]): { ok: boolean; out: string; missing: boolean } {
  const run = spawnSync("git", ["-C", dir, ...args], { encoding: "utf8", timeout: GIT_TIMEOUT_MS });
  const missing = (run.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
  return { ok: !run.error && run.status === 0, out: `${run.stdout ?? ""}${run.error ? run.error.message : (run.stderr ?? "")}`.trim(), missing };
}

/** The state of `workspace` (an absolute path) on this machine. Read-only. */
export function workspaceState(workspace: string): WorkspaceState {
  if (!existsSync(workspace) || !statSync(workspace).isDirectory()) return { kind: "absent" };
  const inside = git(workspace, ["rev-parse", "--show-toplevel"]);
  if (inside.missing) return { kind: "no-git" };
  if (!inside.ok) return { kind: "not-git" };
  const toplevel = inside.out.split("\n")[0]!;
  const head = git(workspace, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
  return head.ok ? { kind: "ready", toplevel, head: head.out } : { kind: "no-commit", toplevel };
}

/** Why a workspace that is not ready cannot be submitted as it is, with the remedy (`baton submit` exits 2 with it). */
export function notReadyMessage(workspace: string, state: Extract<WorkspaceState, { kind: "not-git" | "no-commit" }>): string {
  const why = "Baton integrates each task as a commit on a branch";
  return state.kind === "not-git"
    ? `workspace ${workspace} is not a git repository: ${why}; run \`git init\` there or submit with --init-git`
    : `workspace ${workspace} is a git repository without a commit: ${why}; commit its files (\`git add -A && git commit\`) or submit with --init-git`;
}

/** Adds `.baton/` (Baton's run-time files) to the repository's info/exclude, once. */
function excludeBaton(toplevel: string): void {
  const found = git(toplevel, ["rev-parse", "--git-path", "info/exclude"]);
  if (!found.ok) throw new Error(`cannot find the repository's info/exclude: ${found.out}`);
  const path = isAbsolute(found.out) ? found.out : resolve(toplevel, found.out);
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  if (text.split("\n").some((line) => line.trim() === ".baton/" || line.trim() === ".baton")) return;
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${text && !text.endsWith("\n") ? "\n" : ""}# Baton's run-time files (baton submit --init-git)\n.baton/\n`);
}

/** `-c user.name=Baton -c user.email=baton@localhost` for whichever of the two git has no value for here. */
function fallbackIdentity(dir: string): string[] {
  return Object.entries(FALLBACK_IDENTITY).flatMap(([key, value]) => (git(dir, ["config", key]).ok ? [] : ["-c", `${key}=${value}`]));
}

/**
 * Makes `workspace` a git repository with a commit: `git init` when it is in none, `.baton/` in info/exclude, every
 * file staged (`git add -A`) and committed as "baton: initial commit" (under Baton's name where git has no identity;
 * an empty folder gets an empty commit). A workspace inside a repository without a commit gets the commit at the
 * repository's top. Returns what it did, in one line; throws when git fails (nothing is rolled back).
 */
export function initGitWorkspace(workspace: string, state: Extract<WorkspaceState, { kind: "not-git" | "no-commit" }>): string {
  const fail = (what: string, out: string) => new Error(`--init-git: ${what} in ${workspace} failed: ${out}`);
  let toplevel = workspace;
  if (state.kind === "not-git") {
    const init = git(workspace, ["init", "-q"]);
    if (!init.ok) throw fail("git init", init.out);
  } else {
    toplevel = state.toplevel;
  }
  excludeBaton(toplevel);
  const add = git(toplevel, ["add", "-A"]);
  if (!add.ok) throw fail("git add -A", add.out);
  const commit = git(toplevel, [...fallbackIdentity(toplevel), "commit", "-q", "--allow-empty", "-m", INITIAL_COMMIT_MESSAGE]);
  if (!commit.ok) throw fail("git commit", commit.out);
  const head = git(toplevel, ["rev-parse", "--short", "HEAD"]).out;
  const files = git(toplevel, ["ls-files"]).out.split("\n").filter(Boolean).length;
  const made = state.kind === "not-git" ? `made ${workspace} a git repository` : `gave the repository ${toplevel} its first commit`;
  return `--init-git: ${made}: commit ${head} "${INITIAL_COMMIT_MESSAGE}" with ${files} file${files === 1 ? "" : "s"} (.baton/ excluded)`;
}
