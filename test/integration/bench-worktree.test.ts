// The worktree benchmark's git parts (bench/worktree-git.ts) on small real repositories: the generated repository is
// one commit holding every file, the in-process tasks integrate as checkpoint merges and finish leaves nothing behind,
// the git-process count sees every part, and the bare-git samples remove what they add.
import { existsSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BareGit, countGitProcesses, GitFeatureRun, makeRepo } from "../../bench/worktree-git.ts";
import { git, useGitScratch } from "../helpers/git-feature.ts";

const scratch = useGitScratch("bench-worktree");

/** The options a worker would have, with the worktrees in the scratch folder. */
const options = () => {
  const worktrees = join(scratch.tmp, "worktrees");
  return { cwd: scratch.tmp, workspaceRoots: [join(scratch.tmp, "ws"), worktrees], worktrees: { dir: worktrees, link: ["node_modules"] } };
};

describe("the worktree benchmark's git parts", () => {
  it("makes a repository of folders × files in one commit, checked out, with an untracked node_modules", () => {
    const repo = join(scratch.tmp, "ws", "made");
    expect(makeRepo(repo, 3, 4)).toBe(13);
    expect(git(repo, "ls-files").split("\n")).toHaveLength(13);
    expect(git(repo, "rev-list", "--count", "HEAD")).toBe("1");
    expect(git(repo, "status", "--porcelain")).toBe(""); // node_modules/ is ignored, everything else committed
    expect(existsSync(join(repo, "src", "d2", "f3.ts"))).toBe(true);
    expect(existsSync(join(repo, "node_modules", "left-pad", "index.js"))).toBe(true);
  });

  it("runs tasks as the worker and the integrator would: one checkpoint merge each, node_modules linked; finish removes the worktrees", async () => {
    const repo = join(scratch.tmp, "ws", "tasks");
    makeRepo(repo, 2, 2);
    const run = new GitFeatureRun(repo, "bench-f", options());
    await run.prepare();
    const worktree = await run.task(true);
    expect(existsSync(worktree)).toBe(false); // a task's worktree goes once it is integrated (node_modules links: git-worktrees.test.ts)
    await run.task(false);
    const counted = await countGitProcesses(run, join(scratch.tmp, "shim"));
    expect(run.samples).toHaveLength(1);
    expect(run.taskCount).toBe(3);
    expect(counted.checkout).toBeGreaterThan(0);
    expect(counted.commit).toBeGreaterThan(0);
    expect(counted.integrate).toBeGreaterThan(0);
    const log = git(repo, "log", "--first-parent", "--format=%P%x09%(trailers:key=Baton-Task,valueonly,separator=%x2C)", "baton/bench-f").split("\n").filter(Boolean);
    expect(log.slice(0, 3).map((line) => line.split("\t")[1])).toEqual(["bench-f/t002", "bench-f/t001", "bench-f/t000"]);
    expect(log.slice(0, 3).every((line) => line.split("\t")[0]!.split(" ").length === 2)).toBe(true); // merge commits
    expect(git(repo, "show", "baton/bench-f:bench/t001.txt")).toBe("written by t001");
    await run.finish();
    expect(git(repo, "worktree", "list", "--porcelain").match(/^worktree /gm)).toHaveLength(1);
    expect(git(repo, "branch", "--list", "baton/bench-f.tasks/*")).toBe("");
  });

  it("bare git samples keep their trees until removeAll, which removes every one", async () => {
    const repo = join(scratch.tmp, "ws", "bare");
    makeRepo(repo, 1, 3);
    const head = git(repo, "rev-parse", "HEAD");
    const bare = new BareGit(repo, join(scratch.tmp, "bare"));
    await bare.sample(head, head);
    await bare.sample(head, head, false);
    expect(bare.samples.full).toHaveLength(2);
    expect(bare.samples.noCheckout).toHaveLength(1);
    expect(bare.samples.recycle).toHaveLength(1);
    expect(readdirSync(join(scratch.tmp, "bare")).sort()).toEqual(["full-0", "full-2", "no-checkout-0", "recycled"]);
    await bare.removeAll();
    expect(bare.samples.remove).toHaveLength(2);
    expect(readdirSync(join(scratch.tmp, "bare"))).toEqual([]);
    expect(git(repo, "worktree", "list", "--porcelain").match(/^worktree /gm)).toHaveLength(1);
  });
});
