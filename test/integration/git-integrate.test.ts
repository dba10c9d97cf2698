// Workspace operations on real git repositories: prepare, integrate (worktree and shared mode, conflicts, artifacts,
// moved, redone), finish (cleanup, fast-forward into the user's branch) and rollback (exact tree, refusals, tags).
import { existsSync, lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { integrationBranch, milestoneTag, taskBranch, type OpResult, type WorkspaceOp } from "../../shared/protocol/workspace.ts";
import { runWorkspaceOp, type ArtifactValidator } from "../../services/worker/workspace/integrate.ts";
import { commitWork, ensureCheckout } from "../../services/worker/workspace/worktrees.ts";
import { branches, git, newRepo, read, useGitScratch, workerOptions, worktreesOf, write } from "../helpers/git-feature.ts";

const scratch = useGitScratch("git-integrate");
const F = "feat2";
const BRANCH = integrationBranch(F);

/** A validator that flags empty files and missing ones. */
const rejectEmpty: ArtifactValidator = async (paths, readFile) => {
  const problems = [];
  for (const path of paths) {
    const bytes = await readFile(path);
    if (bytes === undefined) problems.push({ path, messages: ["missing"] });
    else if (bytes.length === 0) problems.push({ path, messages: ["empty file"] });
  }
  return problems;
};

async function run(op: WorkspaceOp): Promise<OpResult> {
  const answer = await runWorkspaceOp(F, op, workerOptions(scratch.tmp, { validateArtifacts: rejectEmpty }));
  if ("error" in answer) throw new Error(`${op.kind} failed: ${answer.error.message}`);
  return answer.result;
}

/** A repository with `files`, prepared for feature F; its integration head. */
async function prepared(files: Record<string, string>): Promise<{ repo: string; head: string; worktree: string }> {
  const repo = newRepo(scratch.tmp, files);
  const result = await run({ kind: "prepare", run: 1, repo, branch: BRANCH });
  if (result.kind !== "prepared") throw new Error(`not prepared: ${JSON.stringify(result)}`);
  return { repo, head: result.head, worktree: result.worktree! };
}

/** Task `taskId`'s work in its own fresh worktree at `at`: `edit` changes files, then it is committed; the task head. */
async function taskWork(repo: string, taskId: string, at: string, edit: (dir: string) => void): Promise<string> {
  const made = await ensureCheckout({ featureId: F, taskId, checkout: { repo, kind: "task", branch: taskBranch(F, taskId), at, fresh: true } }, workerOptions(scratch.tmp));
  if ("error" in made) throw new Error(made.error.message);
  edit(made.dir);
  const committed = await commitWork(made.dir, { base: at, message: `${taskId}: work` });
  if ("error" in committed) throw new Error(committed.error.message);
  return committed.changes.head;
}

type IntegrateOp = Extract<WorkspaceOp, { kind: "integrate" }>;
const integrateOp = (repo: string, taskId: string, expectedHead: string, extra: Partial<IntegrateOp>): IntegrateOp => ({
  kind: "integrate", run: 1, repo, branch: BRANCH, taskId, role: "backend", title: `task ${taskId}`, attempt: 1, expectedHead,
  message: `checkpoint: ${taskId} (backend)`, ...extra,
});

/** Integrates `taskHead` (worktree mode) and returns the new head; fails the test on any other result. */
async function integrated(repo: string, taskId: string, expectedHead: string, taskHead: string, extra: Partial<IntegrateOp> = {}): Promise<string> {
  const result = await run(integrateOp(repo, taskId, expectedHead, { taskBranch: taskBranch(F, taskId), taskHead, ...extra }));
  if (result.kind !== "integrated") throw new Error(`not integrated: ${JSON.stringify(result)}`);
  return result.commit;
}

describe("prepare", () => {
  it("answers not-git for a plain folder and for a repository without a commit", async () => {
    const plain = join(scratch.tmp, "plain");
    mkdirSync(plain, { recursive: true });
    expect(await run({ kind: "prepare", run: 1, repo: plain, branch: BRANCH })).toMatchObject({ kind: "not-git", message: expect.stringContaining("baton submit --init-git") });
    const empty = join(scratch.tmp, "empty");
    mkdirSync(empty, { recursive: true });
    git(empty, "init", "-q");
    expect(await run({ kind: "prepare", run: 1, repo: empty, branch: BRANCH })).toMatchObject({ kind: "not-git", message: expect.stringContaining("without a commit") });
    const outer = newRepo(scratch.tmp, { ".gitignore": ".baton/\n" });
    const inside = join(outer, ".baton", "workspaces", F);
    mkdirSync(inside, { recursive: true }); // a default workspace in the worker's own (ignored) state folder
    expect(await run({ kind: "prepare", run: 1, repo: inside, branch: BRANCH })).toMatchObject({ kind: "not-git" });
    expect(branches(outer)).toEqual(["main"]);
  });

  it("makes the branch at HEAD, lists the dirty files, ignores .baton/, and gives the same answer twice", async () => {
    const repo = newRepo(scratch.tmp, { "a.txt": "a\n", "b.txt": "b\n" });
    write(repo, "a.txt", "edited, not committed\n");
    write(repo, "notes/todo.txt", "untracked\n");
    write(repo, ".baton/feat2/current-phase.json", "{}\n");
    const head = git(repo, "rev-parse", "HEAD");
    const first = await run({ kind: "prepare", run: 1, repo, branch: BRANCH });
    const { integration } = await worktreesOf(repo, F);
    expect(first).toEqual({ kind: "prepared", base: head, head, dirty: ["a.txt", "notes/"], worktree: integration });
    expect(git(repo, "rev-parse", BRANCH)).toBe(head);
    expect(read(integration, "a.txt")).toBe("a\n"); // the committed state, not the dirty one
    expect(await run({ kind: "prepare", run: 2, repo, branch: BRANCH })).toEqual(first);
  });
});

describe("integrate (worktree mode)", () => {
  it("merges three tasks in the order given, one checkpoint commit each, and finds each again when redone", async () => {
    const { repo, head: base, worktree } = await prepared({ "README.md": "hello\n" });
    const heads: Record<string, string> = {};
    for (const id of ["t1", "t2", "t3"]) heads[id] = await taskWork(repo, id, base, (dir) => write(dir, `src/${id}.ts`, `export const ${id} = 1;\n`));
    const order = ["t2", "t1", "t3"];
    const commits: string[] = [];
    let head = base;
    for (const id of order) {
      const result = await run(integrateOp(repo, id, head, { taskBranch: taskBranch(F, id), taskHead: heads[id]! }));
      expect(result).toMatchObject({ kind: "integrated", changes: { base: head, files: [{ path: `src/${id}.ts`, status: "added", insertions: 1, deletions: 0 }] } });
      head = (result as Extract<OpResult, { kind: "integrated" }>).commit;
      commits.push(head);
    }
    const history = git(repo, "log", "--first-parent", "--format=%H %P", `${base}..${BRANCH}`).split("\n").reverse();
    expect(history.map((line) => line.split(" ")[0])).toEqual(commits);
    history.forEach((line, index) => expect(line.split(" ").slice(1)).toEqual([index ? commits[index - 1] : base, heads[order[index]!]]));
    expect(git(repo, "log", "-1", "--format=%B", commits[0]!)).toMatch(/^checkpoint: t2 \(backend\)\n\nBaton-Task: feat2\/t2\nBaton-Attempt: 1/);
    expect(git(repo, "ls-tree", "-r", "--name-only", BRANCH).split("\n").sort()).toEqual(["README.md", "src/t1.ts", "src/t2.ts", "src/t3.ts"]);
    expect(git(worktree, "status", "--porcelain")).toBe("");

    for (const [index, id] of order.entries()) {
      const redone = await run(integrateOp(repo, id, index ? commits[index - 1]! : base, { taskBranch: taskBranch(F, id), taskHead: heads[id]! }));
      expect(redone).toMatchObject({ kind: "integrated", already: true, commit: commits[index], changes: { files: [{ path: `src/${id}.ts` }] } });
    }
    expect(git(repo, "rev-parse", BRANCH)).toBe(commits[2]);
  });

  it("answers a conflict with both sides and leaves the branch and the worktree as they were", async () => {
    const { repo, head: base, worktree } = await prepared({ "config.ts": "export const port = 80;\nexport const host = 'a';\n" });
    const first = await taskWork(repo, "t1", base, (dir) => write(dir, "config.ts", "export const port = 8080;\nexport const host = 'a';\n"));
    const second = await taskWork(repo, "t2", base, (dir) => write(dir, "config.ts", "export const port = 9090;\nexport const host = 'a';\n"));
    const head = await integrated(repo, "t1", base, first);
    const result = await run(integrateOp(repo, "t2", head, { taskBranch: taskBranch(F, "t2"), taskHead: second }));
    expect(result).toMatchObject({ kind: "conflict", ours: head, theirs: second, files: [{ path: "config.ts" }] });
    const [file] = (result as Extract<OpResult, { kind: "conflict" }>).files;
    expect(file!.ours).toContain("+export const port = 8080;");
    expect(file!.theirs).toContain("+export const port = 9090;");
    expect(git(repo, "rev-parse", BRANCH)).toBe(head);
    expect(git(worktree, "status", "--porcelain")).toBe("");
    expect(existsSync(join(worktree, ".git"))).toBe(true);
    expect(() => git(worktree, "rev-parse", "-q", "--verify", "MERGE_HEAD")).toThrow();
  });

  it("finishes the merge a crashed attempt left half done", async () => {
    const { repo, head: base, worktree } = await prepared({ "a.txt": "a\n" });
    const taskHead = await taskWork(repo, "t1", base, (dir) => write(dir, "a.txt", "a by t1\n"));
    git(worktree, "merge", "--no-ff", "--no-commit", taskHead); // the integrator died here
    const commit = await integrated(repo, "t1", base, taskHead);
    expect(git(repo, "rev-list", "--parents", "-n", "1", commit).split(" ")).toEqual([commit, base, taskHead]);
    expect(git(worktree, "status", "--porcelain")).toBe("");
  });

  it("answers moved when the branch is not at the expected head", async () => {
    const { repo, head: base } = await prepared({ "a.txt": "a\n" });
    const first = await taskWork(repo, "t1", base, (dir) => write(dir, "b.txt", "b\n"));
    const second = await taskWork(repo, "t2", base, (dir) => write(dir, "c.txt", "c\n"));
    const head = await integrated(repo, "t1", base, first);
    expect(await run(integrateOp(repo, "t2", base, { taskHead: second }))).toEqual({ kind: "moved", head });
  });

  it("checks declared artifacts on the merged result: an invalid one integrates nothing", async () => {
    const { repo, head: base, worktree } = await prepared({ "a.txt": "a\n" });
    const bad = await taskWork(repo, "t1", base, (dir) => write(dir, "docs/openapi.yaml", ""));
    const result = await run(integrateOp(repo, "t1", base, { taskHead: bad, produces: ["docs/openapi.yaml", "docs/schema.json"] }));
    expect(result).toEqual({ kind: "artifacts", problems: [{ path: "docs/openapi.yaml", messages: ["empty file"] }, { path: "docs/schema.json", messages: ["missing"] }] });
    expect(git(repo, "rev-parse", BRANCH)).toBe(base);
    expect(git(worktree, "status", "--porcelain")).toBe("");
    const good = await taskWork(repo, "t1", base, (dir) => write(dir, "docs/openapi.yaml", "openapi: 3.0.0\n"));
    expect(await run(integrateOp(repo, "t1", base, { taskHead: good, produces: ["docs/openapi.yaml"], tag: milestoneTag(F, "api") }))).toMatchObject({ kind: "integrated", tag: milestoneTag(F, "api") });
    expect(git(repo, "rev-parse", `${milestoneTag(F, "api")}^{commit}`)).toBe(git(repo, "rev-parse", BRANCH));
  });
});

describe("integrate (shared mode)", () => {
  it("commits exactly the task's files from the integration worktree, and an empty checkpoint when it changed none", async () => {
    const { repo, head: base, worktree } = await prepared({ "a.txt": "a\n", "b.txt": "b\n", "d.txt": "d\n", ".gitignore": "*.log\n" });
    write(worktree, "a.txt", "a by s1\n");
    write(worktree, "c.txt", "new by s1\n");
    git(worktree, "rm", "-q", "d.txt");
    write(worktree, "b.txt", "b by another task, still running\n");
    git(worktree, "add", "b.txt"); // staged by someone else: must not be part of s1's checkpoint
    write(worktree, "debug.log", "ignored\n");
    const result = await run(integrateOp(repo, "s1", base, { files: ["a.txt", "c.txt", "d.txt", "debug.log", "never-existed.txt"] }));
    expect(result).toMatchObject({ kind: "integrated" });
    const commit = (result as Extract<OpResult, { kind: "integrated" }>).commit;
    expect(git(repo, "diff", "--name-status", base, commit).split("\n")).toEqual(["M\ta.txt", "A\tc.txt", "D\td.txt"]);
    expect(git(repo, "rev-parse", BRANCH)).toBe(commit);
    expect(git(worktree, "status", "--porcelain", "--untracked-files=no").split("\n")).toEqual(["M  b.txt"]);
    expect(read(worktree, "b.txt")).toBe("b by another task, still running\n");

    const empty = await run(integrateOp(repo, "s2", commit, { files: [] }));
    expect(empty).toMatchObject({ kind: "integrated", changes: { files: [], insertions: 0, deletions: 0 } });
    const emptyCommit = (empty as Extract<OpResult, { kind: "integrated" }>).commit;
    expect(git(repo, "rev-parse", `${emptyCommit}^{tree}`)).toBe(git(repo, "rev-parse", `${commit}^{tree}`));
    expect(git(repo, "log", "-1", "--format=%B", emptyCommit)).toContain("Baton-Task: feat2/s2");
    expect(await run(integrateOp(repo, "s1", base, { files: ["a.txt"] }))).toMatchObject({ kind: "integrated", already: true, commit });
  });

  it("leaves the worktree's files and index untouched when an artifact is invalid", async () => {
    const { repo, head: base, worktree } = await prepared({ "a.txt": "a\n" });
    write(worktree, "docs/api.yaml", "");
    const result = await run(integrateOp(repo, "s1", base, { files: ["docs/api.yaml"], produces: ["docs/api.yaml"] }));
    expect(result).toEqual({ kind: "artifacts", problems: [{ path: "docs/api.yaml", messages: ["empty file"] }] });
    expect(git(repo, "rev-parse", BRANCH)).toBe(base);
    expect(git(worktree, "status", "--porcelain")).toBe("?? docs/");
  });
});

describe("finish", () => {
  it("removes the feature's worktrees and task branches and fast-forwards the user's checked-out branch", async () => {
    const { repo, head: base } = await prepared({ "a.txt": "a\n", ".gitignore": "node_modules/\n" });
    write(repo, "node_modules/dep/index.js", "module.exports = 1;\n");
    const t1 = await taskWork(repo, "t1", base, (dir) => write(dir, "b.txt", "b\n"));
    const head = await integrated(repo, "t1", base, t1);
    await taskWork(repo, "t2", base, (dir) => write(dir, "c.txt", "c\n"));
    await taskWork(repo, "t3", base, (dir) => write(dir, "d.txt", "d\n"));
    const { feature } = await worktreesOf(repo, F);
    expect(existsSync(feature)).toBe(true);
    const finish: WorkspaceOp = { kind: "finish", run: 1, repo, branch: BRANCH, outcome: "completed", integrateInto: "main", keep: [taskBranch(F, "t3")] };
    // t1's worktree went when it was integrated: t2's, t3's and the integration worktree are left to remove
    expect(existsSync(join(feature, "tasks", "t1"))).toBe(false);
    expect(await run(finish)).toEqual({ kind: "finished", head, removed: 3, integrated: { into: "main", from: base, to: head } });
    expect(read(repo, "b.txt")).toBe("b\n"); // the user's working files moved with main
    expect(git(repo, "worktree", "list", "--porcelain").match(/^worktree /gm)).toHaveLength(1);
    expect(existsSync(feature)).toBe(false);
    expect(branches(repo).sort()).toEqual([BRANCH, taskBranch(F, "t3"), "main"].sort());
    expect(lstatSync(join(repo, "node_modules", "dep", "index.js")).isFile()).toBe(true); // links removed, not followed
    expect(await run(finish)).toMatchObject({ kind: "finished", head, removed: 0, integrated: { into: "main", to: head } });
  });

  it("refuses to fast-forward over conflicting local changes or a branch that moved on, changing nothing", async () => {
    const { repo, head: base } = await prepared({ "a.txt": "a\n" });
    const head = await integrated(repo, "t1", base, await taskWork(repo, "t1", base, (dir) => write(dir, "a.txt", "a by t1\n")));
    write(repo, "a.txt", "the user's own edit\n");
    const refused = await run({ kind: "finish", run: 1, repo, branch: BRANCH, outcome: "completed", integrateInto: "main" });
    expect(refused).toMatchObject({ kind: "finished", head, refused: expect.stringContaining("a.txt") });
    expect(read(repo, "a.txt")).toBe("the user's own edit\n");
    expect(git(repo, "rev-parse", "main")).toBe(base);

    git(repo, "commit", "-qam", "the user committed on main");
    const diverged = await run({ kind: "finish", run: 2, repo, branch: BRANCH, outcome: "completed", integrateInto: "main" });
    expect(diverged).toMatchObject({ refused: `main has commits the feature does not; merge ${BRANCH} yourself` });
    const created = await run({ kind: "finish", run: 3, repo, branch: BRANCH, outcome: "completed", integrateInto: "release" });
    expect(created).toMatchObject({ integrated: { into: "release", from: null, to: head } });
  });

  it("keeps the integration branch of a failed feature, and deletes it when asked (removeBranch)", async () => {
    const { repo, head: base } = await prepared({ "a.txt": "a\n" });
    const head = await integrated(repo, "t1", base, await taskWork(repo, "t1", base, (dir) => write(dir, "b.txt", "b\n")));
    const finish: WorkspaceOp = { kind: "finish", run: 1, repo, branch: BRANCH, outcome: "failed", integrateInto: "main" };
    expect(await run(finish)).toEqual({ kind: "finished", head, removed: 1 }); // t1's worktree went at its integration
    expect(branches(repo).sort()).toEqual([BRANCH, "main"].sort());
    expect(git(repo, "rev-parse", "main")).toBe(base); // a failed feature is never integrated into the user's branch
    expect(await run({ ...finish, run: 2, removeBranch: true })).toEqual({ kind: "finished", head, removed: 0 });
    expect(branches(repo)).toEqual(["main"]);
    expect(await run({ ...finish, run: 2, removeBranch: true })).toEqual({ kind: "finished", removed: 0 });
  });
});

describe("rollback", () => {
  /** A feature with three integrated tasks t1..t3 (t2 tagged m1, t3 tagged m2, t1 tagged m0): the checkpoints. */
  async function threeCheckpoints() {
    const { repo, head: base, worktree } = await prepared({ "a.txt": "a\n" });
    const checkpoints: string[] = [];
    let head = base;
    for (const [index, id] of ["t1", "t2", "t3"].entries()) {
      const taskHead = await taskWork(repo, id, head, (dir) => write(dir, `${id}.txt`, `${id}\n`));
      head = await integrated(repo, id, head, taskHead, { tag: milestoneTag(F, `m${index}`) });
      checkpoints.push(head);
    }
    return { repo, worktree, checkpoints };
  }

  it("restores the checkpoint's exact tree, removes later tasks and tags, and is idempotent", async () => {
    const { repo, worktree, checkpoints } = await threeCheckpoints();
    write(worktree, "untracked-notes.txt", "survives\n");
    const op: WorkspaceOp = { kind: "rollback", run: 1, repo, branch: BRANCH, to: checkpoints[0]!, expectedHead: checkpoints[2]!, tasks: ["t2", "t3"] };
    const tree = git(repo, "rev-parse", `${checkpoints[0]}^{tree}`);
    expect(await run(op)).toEqual({ kind: "rolled-back", head: checkpoints[0], tree, removed: 0 }); // integrated tasks' worktrees went at their integration
    expect(git(repo, "rev-parse", `${BRANCH}^{tree}`)).toBe(tree);
    expect(git(worktree, "rev-parse", "HEAD^{tree}")).toBe(tree);
    expect(existsSync(join(worktree, "t2.txt"))).toBe(false);
    expect(read(worktree, "untracked-notes.txt")).toBe("survives\n");
    expect(git(repo, "tag", "--list", `${milestoneTag(F, "")}*`)).toBe(milestoneTag(F, "m0"));
    expect(branches(repo).sort()).toEqual([BRANCH, taskBranch(F, "t1"), "main"].sort());
    expect(await run(op)).toEqual({ kind: "rolled-back", head: checkpoints[0], tree, removed: 0 });
  });

  it("refuses, changing nothing, when a commit on the branch did not come from the feature", async () => {
    const { repo, worktree, checkpoints } = await threeCheckpoints();
    write(worktree, "hand-made.txt", "by a person\n");
    git(worktree, "add", "hand-made.txt");
    git(worktree, "commit", "-qm", "a person's commit on the integration branch");
    const head = git(repo, "rev-parse", BRANCH);
    const result = await run({ kind: "rollback", run: 1, repo, branch: BRANCH, to: checkpoints[0]!, expectedHead: head, tasks: ["t2", "t3"] });
    expect(result).toMatchObject({ kind: "refused", files: ["hand-made.txt"] });
    expect(git(repo, "rev-parse", BRANCH)).toBe(head);
    expect(branches(repo)).toContain(taskBranch(F, "t3"));
    expect(git(repo, "tag", "--list", milestoneTag(F, "m2"))).toBe(milestoneTag(F, "m2"));
  });

  it("refuses when a tracked file in the integration worktree has uncommitted changes; answers moved for a stale head", async () => {
    const { repo, worktree, checkpoints } = await threeCheckpoints();
    write(worktree, "a.txt", "edited by hand\n");
    const op: WorkspaceOp = { kind: "rollback", run: 1, repo, branch: BRANCH, to: checkpoints[0]!, expectedHead: checkpoints[2]!, tasks: ["t2", "t3"] };
    expect(await run(op)).toMatchObject({ kind: "refused", files: ["a.txt"] });
    expect(read(worktree, "a.txt")).toBe("edited by hand\n");
    expect(git(repo, "rev-parse", BRANCH)).toBe(checkpoints[2]);
    expect(await run({ ...op, expectedHead: checkpoints[1]! })).toEqual({ kind: "moved", head: checkpoints[2] });
  });
});

it("confines operations to the worker's workspace roots", async () => {
  const answer = await runWorkspaceOp(F, { kind: "prepare", run: 1, repo: "/etc", branch: BRANCH }, workerOptions(scratch.tmp));
  expect("error" in answer && answer.error.code).toBe("WORKSPACE_OUTSIDE_ROOTS");
});
