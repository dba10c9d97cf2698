// Task worktrees on real git repositories: fresh and reused checkouts, linked node_modules, committing a run's work
// (diffstat, the agent's own commits), conflict-fix checkouts and leftover markers, concurrency, subfolder workspaces.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { integrationBranch, taskBranch, type Checkout } from "../../shared/protocol/workspace.ts";
import { commitWork, ensureCheckout, worktreePaths } from "../../services/worker/workspace/worktrees.ts";
import { isWithin } from "../../services/worker/workspace/resolve.ts";
import { git, newRepo, read, useGitScratch, workerOptions, worktreesOf, write } from "../helpers/git-feature.ts";

const scratch = useGitScratch("git-worktrees");
const F = "feat1";

/** Checks out `checkout` for task `taskId` of feature F; fails the test on an error. */
async function checkOut(taskId: string, checkout: Checkout): Promise<{ dir: string; worktree: string }> {
  const made = await ensureCheckout({ featureId: F, taskId, checkout }, workerOptions(scratch.tmp));
  if ("error" in made) throw new Error(`checkout failed: ${made.error.message}`);
  return made;
}

const taskCheckout = (repo: string, taskId: string, at: string, extra: Partial<Checkout> = {}): Checkout => ({ repo, kind: "task", branch: taskBranch(F, taskId), at, ...extra });

describe("task worktrees", () => {
  it("makes a fresh worktree at a commit outside the repository, links node_modules and never commits the link", async () => {
    const repo = newRepo(scratch.tmp, { ".gitignore": "node_modules/\n", "src/app.ts": "export const a = 1;\n" });
    write(repo, "node_modules/left-pad/index.js", "module.exports = 1;\n");
    const base = git(repo, "rev-parse", "HEAD");
    const { dir, worktree } = await checkOut("t1", taskCheckout(repo, "t1", base, { fresh: true }));
    expect(worktree).toBe((await worktreesOf(repo, F)).task("t1"));
    // by default neither under the repository's .git (agents refuse to edit there) nor in its work tree
    expect(isWithin(worktree, join(repo, ".git"))).toBe(false);
    expect(isWithin(worktree, repo)).toBe(false);
    expect(isWithin(worktree, join(scratch.cache, "baton", "worktrees"))).toBe(true);
    expect(dir).toBe(worktree);
    expect(git(worktree, "symbolic-ref", "HEAD")).toBe(`refs/heads/${taskBranch(F, "t1")}`);
    expect(git(worktree, "rev-parse", "HEAD")).toBe(base);
    expect(lstatSync(join(worktree, "node_modules")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(worktree, "node_modules"))).toBe(join(repo, "node_modules"));
    expect(read(worktree, "node_modules/left-pad/index.js")).toContain("module.exports");
    expect(git(repo, "status", "--porcelain")).toBe(""); // the user's work tree does not see the worktrees

    write(worktree, "src/app.ts", "export const a = 2;\n");
    const committed = await commitWork(dir, { base, message: "t1 work" });
    if ("error" in committed) throw new Error(committed.error.message);
    expect(committed.changes.files).toEqual([{ path: "src/app.ts", status: "modified", insertions: 1, deletions: 1 }]);
    expect(git(worktree, "ls-tree", "-r", "--name-only", "HEAD").split("\n")).not.toContain("node_modules");
    // No identity is configured anywhere for the code under test: Baton's fallback wrote the commit.
    expect(git(worktree, "log", "-1", "--format=%an <%ae>")).toBe("Baton <baton@localhost>");
  });

  it("commits past a pre-commit hook that would stop or hang an unattended run", async () => {
    const repo = newRepo(scratch.tmp, { "a.txt": "a\n" });
    write(repo, ".git/hooks/pre-commit", "#!/bin/sh\necho 'tests must pass first' >&2\nexit 1\n");
    chmodSync(join(repo, ".git/hooks/pre-commit"), 0o755);
    const base = git(repo, "rev-parse", "HEAD");
    const { dir } = await checkOut("t1", taskCheckout(repo, "t1", base, { fresh: true }));
    write(dir, "a.txt", "b\n");
    expect(() => git(dir, "commit", "-qam", "a person's commit")).toThrow(/tests must pass first/);
    const committed = await commitWork(dir, { base, message: "work" });
    expect("changes" in committed && committed.changes.files).toEqual([{ path: "a.txt", status: "modified", insertions: 1, deletions: 1 }]);
  });

  it("reuses a worktree on its branch at the commit asked for, and remakes it otherwise or when fresh", async () => {
    const repo = newRepo(scratch.tmp, { "a.txt": "a\n" });
    const base = git(repo, "rev-parse", "HEAD");
    const { worktree } = await checkOut("t1", taskCheckout(repo, "t1", base, { fresh: true }));
    write(worktree, "a.txt", "changed\n");
    const committed = await commitWork(worktree, { base, message: "work" });
    if ("error" in committed) throw new Error(committed.error.message);
    const head = committed.changes.head;
    writeFileSync(join(worktree, "scratch.log"), "left by the run\n");

    await checkOut("t1", taskCheckout(repo, "t1", head)); // a gate run: same branch, same commit
    expect(existsSync(join(worktree, "scratch.log"))).toBe(true);

    await checkOut("t1", taskCheckout(repo, "t1", base)); // at another commit: remade there
    expect(existsSync(join(worktree, "scratch.log"))).toBe(false);
    expect(git(worktree, "rev-parse", "HEAD")).toBe(base);
    expect(read(worktree, "a.txt")).toBe("a\n");

    writeFileSync(join(worktree, "scratch.log"), "again\n");
    await checkOut("t1", taskCheckout(repo, "t1", base, { fresh: true })); // fresh: always remade
    expect(existsSync(join(worktree, "scratch.log"))).toBe(false);
    expect(git(repo, "worktree", "list").split("\n")).toHaveLength(2);
  });

  it("rebuilds a task's tree from its branch when the worktree is gone (another worker)", async () => {
    const repo = newRepo(scratch.tmp, { "a.txt": "a\n" });
    const base = git(repo, "rev-parse", "HEAD");
    const { worktree } = await checkOut("t1", taskCheckout(repo, "t1", base, { fresh: true }));
    write(worktree, "b.txt", "b\n");
    const committed = await commitWork(worktree, { base, message: "work" });
    if ("error" in committed) throw new Error(committed.error.message);
    git(repo, "worktree", "remove", "--force", worktree);
    const again = await checkOut("t1", taskCheckout(repo, "t1", committed.changes.head));
    expect(read(again.worktree, "b.txt")).toBe("b\n");
  });

  it("commits the run's work with a correct diffstat, including commits the agent made itself", async () => {
    const repo = newRepo(scratch.tmp, { "keep.txt": "1\n2\n3\n", "gone.txt": "x\n", "old-name.txt": "same content here\nand more\n" });
    const base = git(repo, "rev-parse", "HEAD");
    const { dir } = await checkOut("t2", taskCheckout(repo, "t2", base, { fresh: true }));
    write(dir, "agent.txt", "one\ntwo\n");
    git(dir, "add", "agent.txt");
    git(dir, "commit", "-qm", "the agent's own commit");
    write(dir, "keep.txt", "1\nTWO\n3\n4\n");
    write(dir, "new.txt", "a\nb\nc\n");
    git(dir, "rm", "-q", "gone.txt");
    git(dir, "mv", "old-name.txt", "new-name.txt");
    writeFileSync(join(dir, "image.bin"), Buffer.from([0, 1, 2, 0, 255, 0]));

    const committed = await commitWork(dir, { base, message: "t2: work" });
    if ("error" in committed) throw new Error(committed.error.message);
    const { changes } = committed;
    expect(changes.base).toBe(base);
    expect(changes.head).toBe(git(dir, "rev-parse", "HEAD"));
    const byPath = Object.fromEntries(changes.files.map((file) => [file.path, file]));
    expect(byPath["agent.txt"]).toEqual({ path: "agent.txt", status: "added", insertions: 2, deletions: 0 });
    expect(byPath["keep.txt"]).toEqual({ path: "keep.txt", status: "modified", insertions: 2, deletions: 1 });
    expect(byPath["new.txt"]).toEqual({ path: "new.txt", status: "added", insertions: 3, deletions: 0 });
    expect(byPath["gone.txt"]).toEqual({ path: "gone.txt", status: "deleted", insertions: 0, deletions: 1 });
    expect(byPath["new-name.txt"]).toEqual({ path: "new-name.txt", status: "renamed", insertions: 0, deletions: 0 });
    expect(byPath["image.bin"]).toEqual({ path: "image.bin", status: "added" });
    expect(changes.files).toHaveLength(6);
    expect([changes.insertions, changes.deletions]).toEqual([7, 2]);
    expect(git(dir, "status", "--porcelain")).toBe("");

    const again = await commitWork(dir, { base, message: "t2: work" }); // nothing new: no commit, same changes
    expect(again).toEqual(committed);
  });

  it("checks out a conflict fix with the conflict left for the agent; resolving it commits a merge", async () => {
    const repo = newRepo(scratch.tmp, { "a.txt": "line 1\nline 2\nline 3\n" });
    const base = git(repo, "rev-parse", "HEAD");
    const integration = integrationBranch(F);
    git(repo, "branch", integration, base);
    const first = await checkOut("t1", taskCheckout(repo, "t1", base, { fresh: true }));
    write(first.dir, "a.txt", "line 1\nline 2 by t1\nline 3\n");
    const t1 = await commitWork(first.dir, { base, message: "t1" });
    if ("error" in t1) throw new Error(t1.error.message);
    git(repo, "update-ref", `refs/heads/${integration}`, t1.changes.head); // stands in for t1's integration

    const second = await checkOut("t2", taskCheckout(repo, "t2", base, { fresh: true }));
    write(second.dir, "a.txt", "line 1\nline 2 by t2\nline 3\n");
    const t2 = await commitWork(second.dir, { base, message: "t2" });
    if ("error" in t2) throw new Error(t2.error.message);

    const fix = taskCheckout(repo, "t2", t2.changes.head, { merge: { from: t1.changes.head } });
    const { dir } = await checkOut("t2", fix);
    expect(read(dir, "a.txt")).toMatch(/<<<<<<< [^\n]*\nline 2 by t2\n=======\nline 2 by t1\n>>>>>>> /);
    expect(git(dir, "rev-parse", "MERGE_HEAD")).toBe(t1.changes.head);
    write(dir, "a.txt", "line 1\nline 2 by t2 (half resolved)\nline 3\n");
    await checkOut("t2", fix); // redelivered: the merge in progress (and the agent's edit) stay
    expect(read(dir, "a.txt")).toContain("half resolved");

    write(dir, "a.txt", "line 1\nline 2 by t1 and t2\nline 3\n");
    const resolved = await commitWork(dir, { base: t2.changes.head, message: "t2: resolve conflict" });
    if ("error" in resolved) throw new Error(resolved.error.message);
    expect(git(dir, "rev-list", "--parents", "-n", "1", "HEAD").split(" ")).toEqual([resolved.changes.head, t2.changes.head, t1.changes.head]);
    expect(resolved.changes.files.map((file) => file.path)).toEqual(["a.txt"]);
  });

  it("reports CONFLICT_MARKERS when a conflict fix commits files that still hold markers", async () => {
    const repo = newRepo(scratch.tmp, { "a.txt": "1\n2\n3\n", "README.md": "Title\n=====\n" });
    const base = git(repo, "rev-parse", "HEAD");
    const first = await checkOut("t1", taskCheckout(repo, "t1", base, { fresh: true }));
    write(first.dir, "a.txt", "1\ntwo\n3\n");
    const t1 = await commitWork(first.dir, { base, message: "t1" });
    const second = await checkOut("t2", taskCheckout(repo, "t2", base, { fresh: true }));
    write(second.dir, "a.txt", "1\nzwei\n3\n");
    const t2 = await commitWork(second.dir, { base, message: "t2" });
    if ("error" in t1 || "error" in t2) throw new Error("setup commit failed");
    const { dir } = await checkOut("t2", taskCheckout(repo, "t2", t2.changes.head, { merge: { from: t1.changes.head } }));
    write(dir, "b.txt", "an unrelated edit\n"); // the agent did something, but left the markers
    const committed = await commitWork(dir, { base: t2.changes.head, message: "t2: fix" });
    expect("error" in committed && committed.error).toMatchObject({ code: "CONFLICT_MARKERS", details: { files: ["a.txt"] } });
  });

  it("makes worktrees for several tasks of one repository at once", async () => {
    const repo = newRepo(scratch.tmp, { "a.txt": "a\n" });
    const base = git(repo, "rev-parse", "HEAD");
    const ids = ["c1", "c2", "c3", "c4", "c5"];
    const made = await Promise.all(ids.map((id) => ensureCheckout({ featureId: F, taskId: id, checkout: taskCheckout(repo, id, base, { fresh: true }) }, workerOptions(scratch.tmp))));
    expect(made.filter((result) => "error" in result)).toEqual([]);
    for (const id of ids) expect(git(repo, "rev-parse", taskBranch(F, id))).toBe(base);
  });

  it("runs a workspace that is a subfolder of its repository in the same subfolder of the worktree", async () => {
    const repo = newRepo(scratch.tmp, { "pkg/src/a.ts": "export {};\n", "other/b.ts": "export {};\n" });
    const workspace = join(repo, "pkg");
    mkdirSync(join(workspace, "node_modules", "dep"), { recursive: true });
    const base = git(repo, "rev-parse", "HEAD");
    const paths = await worktreePaths(workspace, F);
    // the default root: one folder per repository (its name and a hash of its real git common dir) in the cache
    const hash = createHash("sha256").update(join(repo, ".git")).digest("hex").slice(0, 12);
    expect([paths.top, paths.prefix, paths.root]).toEqual([repo, "pkg/", join(scratch.cache, "baton", "worktrees", `${basename(repo)}-${hash}`)]);
    expect((await worktreePaths(repo, F)).root).toBe(paths.root);
    const { dir, worktree } = await checkOut("t1", taskCheckout(workspace, "t1", base, { fresh: true }));
    expect(dir).toBe(join(worktree, "pkg"));
    expect(lstatSync(join(dir, "node_modules")).isSymbolicLink()).toBe(true);
    write(dir, "src/a.ts", "export const a = 1;\n");
    write(worktree, "other/b.ts", "export const b = 1;\n");
    const committed = await commitWork(dir, { base, message: "work" });
    if ("error" in committed) throw new Error(committed.error.message);
    expect(committed.changes.files.map((file) => file.path).sort()).toEqual(["../other/b.ts", "src/a.ts"]);
  });

  it("makes worktrees under worktrees.dir when it is set, git-ignored there when it is inside the work tree", async () => {
    const repo = newRepo(scratch.tmp, { "a.txt": "a\n" });
    const base = git(repo, "rev-parse", "HEAD");
    const settings = { dir: ".baton/worktrees", link: [] };
    const made = await ensureCheckout({ featureId: F, taskId: "t1", checkout: taskCheckout(repo, "t1", base, { fresh: true }) }, { ...workerOptions(scratch.tmp), worktrees: settings });
    if ("error" in made) throw new Error(made.error.message);
    expect(made.worktree).toBe(join(repo, ".baton", "worktrees", F, "tasks", "t1"));
    expect(read(repo, ".git/info/exclude")).toMatch(/^\/\.baton\/worktrees\/$/m);
    expect(git(repo, "status", "--porcelain", "--untracked-files=all")).toBe("");
  });

  it("keeps an integration worktree's uncommitted work when it is checked out again", async () => {
    const repo = newRepo(scratch.tmp, { "a.txt": "a\n" });
    git(repo, "branch", integrationBranch(F));
    const checkout: Checkout = { repo, kind: "integration", branch: integrationBranch(F) };
    const { worktree } = await checkOut("s1", checkout);
    expect(worktree).toBe((await worktreesOf(repo, F)).integration);
    write(worktree, "a.txt", "shared-mode work in progress\n");
    await checkOut("s2", checkout);
    expect(read(worktree, "a.txt")).toBe("shared-mode work in progress\n");
  });

  it("answers NOT_GIT for a folder outside git and WORKSPACE_OUTSIDE_ROOTS outside the roots", async () => {
    const plain = join(scratch.tmp, "plain");
    mkdirSync(plain, { recursive: true });
    const notGit = await ensureCheckout({ featureId: F, taskId: "t1", checkout: { repo: plain, kind: "integration", branch: "x" } }, workerOptions(scratch.tmp));
    expect("error" in notGit && notGit.error.code).toBe("NOT_GIT");
    const outside = await ensureCheckout({ featureId: F, taskId: "t1", checkout: { repo: "/etc", kind: "integration", branch: "x" } }, workerOptions(scratch.tmp));
    expect("error" in outside && outside.error.code).toBe("WORKSPACE_OUTSIDE_ROOTS");
  });
});
