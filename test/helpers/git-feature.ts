// Test fixture for worktree and integration tests: temporary git repositories (real git), a git with no identity
// configured for the code under test (as on a fresh machine or CI), worktrees kept in a temporary cache folder,
// the worker options that confine to them, and where the worker puts a feature's worktrees.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { WorkspaceOpOptions } from "../../services/worker/workspace/integrate.ts";
import { worktreePaths, type WorktreePaths } from "../../services/worker/workspace/worktrees.ts";

/**
 * Registers hooks that give the file's tests a temp folder and make git (for the code under test) see no global or
 * system config — so no user.name/user.email: commits must still work. XDG_CACHE_HOME points at `<tmp>/cache`, so
 * the default worktrees (`$XDG_CACHE_HOME/baton/worktrees/…`) go there and nothing is left in the real ~/.cache.
 * The returned object's `tmp` and `cache` are set in beforeAll.
 */
export function useGitScratch(tag: string): { tmp: string; cache: string } {
  const scratch = { tmp: "", cache: "" };
  const saved = { global: process.env.GIT_CONFIG_GLOBAL, nosystem: process.env.GIT_CONFIG_NOSYSTEM, cache: process.env.XDG_CACHE_HOME };
  beforeAll(() => {
    scratch.tmp = realpathSync(mkdtempSync(join(tmpdir(), `baton-${tag}-`)));
    scratch.cache = join(scratch.tmp, "cache");
    writeFileSync(join(scratch.tmp, "empty-gitconfig"), "");
    process.env.GIT_CONFIG_GLOBAL = join(scratch.tmp, "empty-gitconfig");
    process.env.GIT_CONFIG_NOSYSTEM = "1";
    process.env.XDG_CACHE_HOME = scratch.cache;
  });
  afterAll(() => {
    for (const [name, value] of [["GIT_CONFIG_GLOBAL", saved.global], ["GIT_CONFIG_NOSYSTEM", saved.nosystem], ["XDG_CACHE_HOME", saved.cache]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(scratch.tmp, { recursive: true, force: true });
  });
  return scratch;
}

/** Runs git as a person would (with an identity of its own, no signing); returns stdout trimmed. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Tester", "-c", "user.email=tester@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export function write(dir: string, path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
}

export const read = (dir: string, path: string): string => readFileSync(join(dir, path), "utf8");

let counter = 0;

/** A new repository under `parent` on branch `main` with `files` committed; its real path. */
export function newRepo(parent: string, files: Record<string, string>): string {
  const dir = join(parent, `repo-${++counter}`);
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  for (const [path, text] of Object.entries(files)) write(dir, path, text);
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "start");
  return realpathSync(dir);
}

/** Worker options whose only workspace root is `root`, with node_modules linked into worktrees. */
export function workerOptions(root: string, extra: Partial<WorkspaceOpOptions> = {}): WorkspaceOpOptions {
  return { cwd: root, workspaceRoots: [root], worktrees: { link: ["node_modules"] }, ...extra };
}

/** Full names of the branches of `dir`'s repository. */
export const branches = (dir: string): string[] => git(dir, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split("\n").filter(Boolean);

/**
 * Where the worker makes feature `featureId`'s worktrees for `workspace` (worktreePaths, as the worker computes it),
 * given the XDG_CACHE_HOME the worker runs with (`cacheHome`; default: this process's, e.g. useGitScratch's).
 */
export async function worktreesOf(workspace: string, featureId: string, cacheHome = process.env.XDG_CACHE_HOME): Promise<WorktreePaths> {
  const saved = process.env.XDG_CACHE_HOME;
  if (cacheHome === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = cacheHome;
  try {
    return await worktreePaths(workspace, featureId);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
}
