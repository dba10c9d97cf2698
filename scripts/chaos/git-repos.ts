// The git side of the chaos run's git features: each one's repository (made before it is submitted), and after the
// run what git says — the integration branch's first-parent history with each commit's Baton-Task trailer, the files
// the checks need, the worktrees and the baton/* branches left.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { integrationBranch } from "../../shared/protocol/workspace.ts";

/** One commit of a branch's first-parent history (newest first): id, number of parents, `Baton-Task` trailer ("" if none). */
export interface LoggedCommit {
  commit: string;
  parents: number;
  task: string;
}

/** What git shows of a git feature's repository after the run. */
export interface RepoSnapshot {
  repo: string;
  /** `git log --first-parent baton/<feature>`; null when the branch does not exist. */
  log: LoggedCommit[] | null;
  /** Files on the branch whose content the checks read (tasks/*, conflict-*): path → text. */
  files: Record<string, string>;
  /** Every worktree of the repository (its own work tree included), by path. */
  worktrees: string[];
  /** Branches under baton/. */
  branches: string[];
  /** The feature's folders under the worktrees root (`<root>/<repo>-<hash>/<featureId>`): its worktrees' home. */
  worktreeDirs: string[];
  /** What went wrong reading it, if anything. */
  error?: string | undefined;
}

/** git as a person would run it (with an identity, no signing, no hooks config of the user's), stdout trimmed. */
function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=chaos", "-c", "user.email=chaos@localhost", "-c", "commit.gpgsign=false", ...args], {
    cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 16 * 2 ** 20,
  }).trimEnd();
}

/** Makes `dir` a repository on `main` holding `files` in one commit; returns its real path. */
export function createRepo(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "chaos: the feature's starting point");
  return realpathSync(dir);
}

/** The first-parent history of `ref`, newest first. */
function firstParentLog(repo: string, ref: string): LoggedCommit[] {
  const out = git(repo, "log", "--first-parent", "--format=%H %P%x09%(trailers:key=Baton-Task,valueonly,separator=%x2C)", ref);
  return out.split("\n").filter(Boolean).map((line) => {
    const [ids = "", task = ""] = line.split("\t");
    const [commit = "", ...parents] = ids.trim().split(" ");
    return { commit, parents: parents.length, task: task.trim() };
  });
}

/**
 * Reads what the checks need from the repository of feature `featureId`, and its folders under `worktreesRoot` (where
 * the workers make worktrees); never throws (errors go in `error`).
 */
export function inspectRepo(repo: string, featureId: string, worktreesRoot: string): RepoSnapshot {
  const snapshot: RepoSnapshot = { repo, log: null, files: {}, worktrees: [], branches: [], worktreeDirs: [] };
  try {
    const homes = existsSync(worktreesRoot) ? readdirSync(worktreesRoot).filter((name) => name.startsWith(`${basename(repo)}-`)) : [];
    snapshot.worktreeDirs = homes.map((name) => join(worktreesRoot, name, featureId)).filter((dir) => existsSync(dir));
    snapshot.worktrees = git(repo, "worktree", "list", "--porcelain").split("\n").flatMap((line) => (line.startsWith("worktree ") ? [line.slice(9)] : []));
    snapshot.branches = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/baton/").split("\n").filter(Boolean);
    const branch = integrationBranch(featureId);
    if (!snapshot.branches.includes(branch)) return snapshot;
    snapshot.log = firstParentLog(repo, branch);
    const paths = git(repo, "ls-tree", "-r", "--name-only", branch).split("\n").filter((path) => /^(tasks\/|conflict-)/.test(path));
    for (const path of paths) snapshot.files[path] = `${git(repo, "show", `${branch}:${path}`)}\n`;
  } catch (error) {
    snapshot.error = (error as Error).message.split("\n").slice(0, 3).join(" ");
  }
  return snapshot;
}
