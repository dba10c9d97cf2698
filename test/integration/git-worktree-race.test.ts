// Workers add worktrees to one repository at the same time (a git feature's parallel tasks): git dies with "failed to
// read .git/worktrees/<name>/commondir: Success" when it lists the worktrees while another process is half-way through
// adding one. runGit runs such a command again (found by the chaos run: a task failed GIT for it). Real git.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runGit } from "../../services/worker/workspace/git.ts";
import { git, newRepo, useGitScratch } from "../helpers/git-feature.ts";

const scratch = useGitScratch("wtrace");

/** What `git worktree add` has written of `<repo>/.git/worktrees/<name>/` a moment after it began: `gitdir`, and `commondir` still empty. */
function halfMadeWorktree(repo: string, name: string): string {
  const admin = join(repo, ".git", "worktrees", name);
  mkdirSync(admin, { recursive: true });
  writeFileSync(join(admin, "gitdir"), `${join(scratch.tmp, name)}/.git\n`);
  writeFileSync(join(admin, "commondir"), "");
  return admin;
}

describe("git commands meeting another process's half-made worktree", () => {
  it("are run again until the other worktree is complete (or gone)", async () => {
    const repo = newRepo(scratch.tmp, { "README.md": "race\n" });
    const admin = halfMadeWorktree(repo, "other");
    // as git itself does, plainly: the same command fails now
    expect(() => git(repo, "worktree", "list", "--porcelain")).toThrow(/failed to read .*worktrees\/other\/commondir/);
    setTimeout(() => rmSync(admin, { recursive: true, force: true }), 60);
    const listed = await runGit(repo, ["worktree", "list", "--porcelain"]);
    expect(listed.stdout).toContain(`worktree ${repo}`);

    halfMadeWorktree(repo, "again");
    setTimeout(() => rmSync(join(repo, ".git", "worktrees", "again"), { recursive: true, force: true }), 60);
    await runGit(repo, ["worktree", "add", "-q", "-B", "task-a", join(scratch.tmp, "wt-a"), "HEAD"]);
    expect(git(join(scratch.tmp, "wt-a"), "branch", "--show-current")).toBe("task-a");
  });

  it("give up after a few runs when the folder stays half-made, with git's message", async () => {
    const repo = newRepo(scratch.tmp, { "README.md": "stuck\n" });
    halfMadeWorktree(repo, "stuck");
    await expect(runGit(repo, ["worktree", "list", "--porcelain"])).rejects.toThrow(/failed to read .*worktrees\/stuck\/commondir/);
  });

  it("ten worktrees added to one repository at once all succeed", async () => {
    const repo = newRepo(scratch.tmp, { "README.md": "many\n" });
    const names = Array.from({ length: 10 }, (_, index) => `many-${index}`);
    await Promise.all(names.map((name) => runGit(repo, ["worktree", "add", "-q", "-B", name, join(scratch.tmp, name), "HEAD"])));
    const listed = git(repo, "worktree", "list", "--porcelain").split("\n").filter((line) => line.startsWith("worktree "));
    expect(listed).toHaveLength(11);
  });
});
