// Git features in the pure coordinator (issue 12): the workspace is prepared first, tasks run in worktrees (or the
// shared integration worktree behind scopes), passed work is integrated one task at a time in a merge queue, a conflict
// becomes a fix task, rollback and `then: rollback` restore a checkpoint, and the feature's end finishes the workspace.
// The read model agrees with the folded history at every step.
import { describe, expect, it } from "vitest";
import { projectView, type Stepped } from "../../services/coordinator/domain/index.ts";
import { emptyView, foldEvent } from "../../shared/client/index.ts";
import { FeatureView, type GitChanges, type OpResult, type TaskAssigned, type TaskResult } from "../../shared/protocol/index.ts";
import { FeatureHarness } from "../helpers/feature-harness.ts";

const sha = (n: number): string => n.toString(16).padStart(40, "0");
const BASE = sha(1);
const TIMES = ["acceptedAt", "finishedAt", "durationMs", "dispatchedAt", "startedAt", "at", "retryAt"];

function sameViews(c: FeatureHarness, last: Stepped): FeatureView {
  const folded = emptyView(c.featureId);
  for (const e of c.events) foldEvent(folded, e);
  const projected = projectView(last.state, last.context);
  const norm = (v: FeatureView) => JSON.parse(JSON.stringify(v, (k, val: unknown) => (TIMES.includes(k) && val !== undefined ? true : val)));
  expect(FeatureView.safeParse(JSON.parse(JSON.stringify(projected))).error).toBeUndefined();
  expect(norm(projected)).toEqual(norm(folded));
  return projected;
}

/** The harness plus workspace operations answered as an integrator would. */
class GitHarness extends FeatureHarness {
  ops(kind?: string): TaskAssigned[] {
    return this.assigned.filter((a) => a.op && (!kind || a.op.kind === kind));
  }
  answer(kind: string, opResult: OpResult | undefined, error?: TaskResult["error"]): Stepped {
    const a = this.ops(kind).at(-1)!;
    const msg: TaskResult = {
      type: "baton.v1.task_result", featureId: a.featureId, taskId: a.taskId, attempt: a.attempt, role: a.role, workerId: "w-int",
      outcome: error ? "failed" : "completed", startedAt: a.dispatchedAt, finishedAt: this.now(), op: { kind: a.op!.kind, run: a.op!.run },
      ...(opResult ? { opResult } : {}), ...(error ? { error } : {}),
    };
    return this.send({ type: "task.result", at: this.now(), msg });
  }
  prepared(head = BASE): Stepped {
    return this.answer("prepare", { kind: "prepared", base: head, head, dirty: [] });
  }
  /** The task's work, committed on its branch at `head`, changing `files`. */
  workGit(taskId: string, head: string, files: string[]): Stepped {
    const a = this.latest((x) => x.taskId === taskId && !x.gate && !x.op);
    const git: GitChanges = { base: a.checkout?.at ?? BASE, head, files: files.map((path) => ({ path, status: "modified", insertions: 1, deletions: 0 })), insertions: files.length, deletions: 0 };
    const msg: TaskResult = {
      type: "baton.v1.task_result", featureId: a.featureId, taskId, attempt: a.attempt, role: a.role, workerId: `w-${a.role}`,
      outcome: "completed", startedAt: a.dispatchedAt, finishedAt: this.now(), summary: `did ${taskId}`, git,
    };
    return this.send({ type: "task.result", at: this.now(), msg });
  }
  integrated(commit: string, files: string[]): Stepped {
    return this.answer("integrate", { kind: "integrated", commit, changes: { base: BASE, head: commit, files: files.map((path) => ({ path, status: "modified" })), insertions: 2, deletions: 1 } });
  }
}

const worktreeRequest = (extra: Record<string, unknown> = {}) => ({
  title: "Git", workspace: "/srv/repo", maxParallel: 2,
  tasks: [
    { id: "a", role: "backend", title: "a" },
    { id: "b", role: "frontend", title: "b" },
    { id: "c", role: "qa", title: "c", dependsOn: ["a", "b"] },
  ],
  ...extra,
});

describe("a git feature", () => {
  it("prepares its workspace before any task, then runs tasks in fresh worktrees from the integration head", () => {
    const c = new GitHarness("g1");
    c.submit(worktreeRequest());
    expect(c.assigned.map((a) => a.op?.kind ?? a.taskId)).toEqual(["prepare"]);
    expect(c.ops("prepare")[0]).toMatchObject({ role: "integrator", taskId: "feature-ops", op: { kind: "prepare", repo: "/srv/repo", branch: "baton/g1" } });
    sameViews(c, c.last);
    expect(projectView(c.last.state, c.last.context).tasks[0]!.waitingFor).toEqual({ kind: "workspace" });
    c.prepared();
    const a = c.latest((x) => x.taskId === "a");
    expect(a.checkout).toEqual({
      repo: "/srv/repo", kind: "task", branch: "baton/g1.tasks/a", at: BASE, fresh: true,
      commit: { message: expect.stringContaining("Baton-Task: g1/a") },
    });
    expect(a.lock).toBeUndefined(); // worktree mode: no locks unless `locks: strict`
    expect(c.kinds).toContain("workspace.prepared");
    sameViews(c, c.last);
  });

  it("integrates passed work one task at a time, completes a task only once it is merged, and hands git's facts on", () => {
    const c = new GitHarness("g2");
    c.submit(worktreeRequest());
    c.prepared();
    c.workGit("a", sha(10), ["src/a.ts"]);
    c.workGit("b", sha(11), ["src/b.ts"]);
    expect(c.last.context.tasks.a!.status).toBe("integrating");
    expect(c.ops("integrate").map((o) => o.taskId)).toEqual(["a"]); // one at a time
    expect(c.ops("integrate")[0]!.op).toMatchObject({ expectedHead: BASE, taskHead: sha(10), taskBranch: "baton/g2.tasks/a" });
    sameViews(c, c.last);
    c.integrated(sha(20), ["src/a.ts"]);
    expect(c.last.context.tasks.a!.status).toBe("completed");
    expect(c.ops("integrate").at(-1)!.op).toMatchObject({ expectedHead: sha(20), taskHead: sha(11) });
    c.integrated(sha(21), ["src/b.ts"]);
    const kinds = c.kinds.filter((k) => k === "checkpoint.created" || k === "task.completed" || k === "task.integrating");
    expect(kinds).toEqual(["task.integrating", "task.integrating", "checkpoint.created", "task.completed", "checkpoint.created", "task.completed"]);
    const dependent = c.latest((x) => x.taskId === "c");
    expect(dependent.checkout?.at).toBe(sha(21)); // it starts from the integrated work of its dependencies
    expect(dependent.handoffs.map((h) => [h.taskId, h.commit, h.changes?.files])).toEqual([["a", sha(20), ["src/a.ts"]], ["b", sha(21), ["src/b.ts"]]]);
    const view = sameViews(c, c.last);
    expect(view.git).toEqual({ branch: "baton/g2", base: BASE, head: sha(21) });
  });

  it("re-sends the merge from where the branch is when it moved", () => {
    const c = new GitHarness("g3");
    c.submit(worktreeRequest());
    c.prepared();
    c.workGit("a", sha(10), ["x"]);
    c.answer("integrate", { kind: "moved", head: sha(99) });
    expect(c.ops("integrate").at(-1)!.op).toMatchObject({ taskId: "a", expectedHead: sha(99) });
    expect(c.ops("integrate")).toHaveLength(2);
  });

  it("turns a conflict into a fix task of the task's role on its branch, then integrates it again; too many rounds fail it", () => {
    const c = new GitHarness("g4");
    c.submit(worktreeRequest({ onFailure: { fix: { maxRounds: 1 } } }));
    c.prepared();
    c.workGit("a", sha(10), ["f"]);
    c.workGit("b", sha(11), ["f"]);
    c.integrated(sha(20), ["f"]);
    c.answer("integrate", { kind: "conflict", ours: sha(20), theirs: sha(11), files: [{ path: "f", ours: "-1\n+2", theirs: "-1\n+3" }] });
    expect(c.kinds).toContain("task.conflict");
    const fix = c.latest((x) => x.taskId === "b-merge-1");
    expect(fix.role).toBe("frontend");
    expect(fix.instructions).toContain("conflict");
    expect(fix.checkout).toMatchObject({ kind: "task", branch: "baton/g4.tasks/b", at: sha(11), merge: { from: sha(20) } });
    sameViews(c, c.last);
    expect(projectView(c.last.state, c.last.context).tasks.find((t) => t.id === "b")!.waitingFor).toEqual({ kind: "fix", fixTaskId: "b-merge-1", conflict: true });
    c.workGit("b-merge-1", sha(12), ["f"]);
    expect(c.last.context.tasks.b!.status).toBe("integrating");
    expect(c.ops("integrate").at(-1)!.op).toMatchObject({ taskId: "b", taskHead: sha(12), expectedHead: sha(20) });
    sameViews(c, c.last);
    c.answer("integrate", { kind: "conflict", ours: sha(20), theirs: sha(12), files: [{ path: "f", ours: "", theirs: "" }] });
    expect(c.last.context.tasks.b).toMatchObject({ status: "failed", error: { code: "MERGE_CONFLICT" } });
    expect(c.last.state).toBe("failed");
    expect(c.ops("finish").at(-1)!.op).toMatchObject({ outcome: "failed", removeBranch: true });
    sameViews(c, c.last);
  });

  it("is rejected when its workspace is not a git repository", () => {
    const c = new GitHarness("g5");
    c.submit(worktreeRequest());
    c.answer("prepare", { kind: "not-git", message: "/srv/repo is not a git repository" });
    expect(c.last.state).toBe("rejected");
    expect(c.events.at(-1)).toMatchObject({ kind: "feature.rejected", errors: [{ path: "workspace", message: "/srv/repo is not a git repository" }] });
    expect(c.assigned.filter((a) => !a.op)).toHaveLength(0);
    sameViews(c, c.last);
  });

  it("finishes the workspace when it completes, fast-forwarding integrateInto", () => {
    const c = new GitHarness("g6");
    c.submit({ title: "one", workspace: "/srv/repo", integrateInto: "main", tasks: [{ id: "a", role: "backend", title: "a" }] });
    c.prepared();
    const a = c.latest((x) => x.taskId === "a");
    expect(a.checkout).toEqual({ repo: "/srv/repo", kind: "integration", branch: "baton/g6" }); // maxParallel 1: shared
    expect(a.reportChanges).toBe(true);
    expect(a.lock).toMatchObject({ scope: null });
    const msg: TaskResult = { type: "baton.v1.task_result", featureId: "g6", taskId: "a", attempt: 1, role: "backend", workerId: "w", outcome: "completed", startedAt: a.dispatchedAt, finishedAt: c.now(), changed: ["src/a.ts"] };
    c.send({ type: "task.result", at: c.now(), msg });
    expect(c.ops("integrate").at(-1)!.op).toMatchObject({ files: ["src/a.ts"] });
    c.integrated(sha(30), ["src/a.ts"]);
    expect(c.last.state).toBe("completed");
    expect(c.ops("finish").at(-1)!.op).toMatchObject({ outcome: "completed", integrateInto: "main" });
    c.answer("finish", { kind: "finished", head: sha(30), removed: 1, integrated: { into: "main", from: BASE, to: sha(30) } });
    expect(c.events.at(-1)).toMatchObject({ kind: "feature.integrated", into: "main", fastForwarded: true });
    expect(sameViews(c, c.last).git).toMatchObject({ head: sha(30), into: "main", fastForwarded: true });
  });
});

describe("file scopes in shared mode", () => {
  const req = {
    title: "scopes", workspace: "/srv/repo", maxParallel: 4, isolation: "shared",
    tasks: [
      { id: "a1", role: "backend", title: "a1", files: ["src/a/**"] },
      { id: "a2", role: "backend", title: "a2", files: ["src/a/x.ts"] },
      { id: "b", role: "backend", title: "b", files: ["src/b/**"] },
      { id: "all", role: "backend", title: "all" },
    ],
  };

  it("never runs tasks whose scopes may overlap at once; a task without files runs alone", () => {
    const c = new GitHarness("s1");
    c.submit(req);
    c.prepared();
    expect(c.assigned.filter((a) => !a.op).map((a) => a.taskId)).toEqual(["a1", "b"]);
    const view = sameViews(c, c.last);
    expect(view.tasks.find((t) => t.id === "a2")!.waitingFor).toEqual({ kind: "scope", taskIds: ["a1"] });
    expect(view.tasks.find((t) => t.id === "all")!.waitingFor).toEqual({ kind: "scope", taskIds: ["a1", "b"] });
    const done = (id: string, changed: string[]) => {
      const a = c.latest((x) => x.taskId === id && !x.op);
      c.send({ type: "task.result", at: c.now(), msg: { type: "baton.v1.task_result", featureId: "s1", taskId: id, attempt: 1, role: "backend", workerId: "w", outcome: "completed", startedAt: a.dispatchedAt, finishedAt: c.now(), changed } });
    };
    // b's run saw a1's file change too: a1's scope claims it, so b commits only its own
    done("b", ["src/b/y.ts", "src/a/z.ts"]);
    expect(c.ops("integrate").at(-1)!.op).toMatchObject({ taskId: "b", files: ["src/b/y.ts"] });
    c.integrated(sha(40), ["src/b/y.ts"]);
    expect(c.assigned.filter((a) => !a.op).map((a) => a.taskId)).toEqual(["a1", "b"]); // a1 still holds src/a
    done("a1", ["src/a/z.ts", "README.md"]);
    expect(c.events.find((e) => e.kind === "scope.violation")).toMatchObject({ taskId: "a1", files: ["README.md"], strict: false });
    c.integrated(sha(41), ["src/a/z.ts", "README.md"]);
    // a1 is integrated: a2 may start; `all` (no files) waits for a2
    expect(c.assigned.filter((a) => !a.op).map((a) => a.taskId)).toEqual(["a1", "b", "a2"]);
    sameViews(c, c.last);
  });

  it("fails a task that changed files outside its scope when the feature's scope is strict", () => {
    const c = new GitHarness("s2");
    c.submit({ ...req, scope: "strict", tasks: [req.tasks[0]] });
    c.prepared();
    const a = c.latest((x) => x.taskId === "a1");
    c.send({ type: "task.result", at: c.now(), msg: { type: "baton.v1.task_result", featureId: "s2", taskId: "a1", attempt: 1, role: "backend", workerId: "w", outcome: "completed", startedAt: a.dispatchedAt, finishedAt: c.now(), changed: ["other.ts"] } });
    expect(c.last.context.tasks.a1).toMatchObject({ status: "failed", error: { code: "SCOPE_VIOLATION" } });
    sameViews(c, c.last);
  });
});

describe("rollback", () => {
  function twoIntegrated(id: string, extra: Record<string, unknown> = {}): GitHarness {
    const c = new GitHarness(id);
    c.submit({
      title: "rb", workspace: "/srv/repo", isolation: "worktree",
      tasks: [{ id: "a", role: "backend", title: "a" }, { id: "b", role: "backend", title: "b", dependsOn: ["a"] }, { id: "c", role: "backend", title: "c", dependsOn: ["b"] }],
      ...extra,
    });
    c.prepared();
    c.workGit("a", sha(10), ["a"]);
    c.integrated(sha(20), ["a"]);
    c.workGit("b", sha(11), ["b"]);
    c.integrated(sha(21), ["b"]);
    return c;
  }

  it("is refused while a task is under way, and for a target that is no checkpoint", () => {
    const c = twoIntegrated("r1");
    c.send({ type: "feature.rollback", to: "a", at: c.now() }); // c is dispatched
    expect(c.events.at(-1)).toMatchObject({ kind: "message.rejected", error: { code: "INVALID_STATE" } });
    c.send({ type: "feature.pause", at: c.now() });
    c.workGit("c", sha(12), ["c"]);
    c.integrated(sha(22), ["c"]);
    expect(c.last.state).toBe("completed");
    c.send({ type: "feature.rollback", to: "a", at: c.now() });
    expect(c.events.at(-1)).toMatchObject({ kind: "message.rejected", error: { code: "INVALID_STATE" } });
  });

  it("goes back to a task's checkpoint: later tasks wait again, the feature pauses, resume runs them again", () => {
    const c = twoIntegrated("r2");
    c.send({ type: "feature.pause", at: c.now() });
    c.send({ type: "task.result", at: c.now(), msg: { type: "baton.v1.task_result", featureId: "r2", taskId: "c", attempt: 1, role: "backend", workerId: "w", outcome: "failed", startedAt: c.now(), finishedAt: c.now(), error: { name: "ExitCode", code: "EXIT_CODE", message: "x" } } });
    expect(c.last.state).toBe("failed");
    const d = twoIntegrated("r3", { onFailure: { retry: { maxAttempts: 3, backoffSeconds: 1 } } });
    d.send({ type: "feature.pause", at: d.now() });
    d.send({ type: "task.result", at: d.now(), msg: { type: "baton.v1.task_result", featureId: "r3", taskId: "c", attempt: 1, role: "backend", workerId: "w", outcome: "failed", startedAt: d.now(), finishedAt: d.now(), error: { name: "ExitCode", code: "EXIT_CODE", message: "x" } } });
    expect(d.last.context.tasks.c!.status).toBe("retrying");
    d.send({ type: "feature.rollback", to: "zzz", at: d.now() });
    expect(d.events.at(-1)).toMatchObject({ kind: "message.rejected", error: { code: "ROLLBACK_REFUSED" } });
    d.send({ type: "feature.rollback", to: "a", by: "ann", at: d.now() });
    expect(d.ops("rollback").at(-1)!.op).toMatchObject({ to: sha(20), expectedHead: sha(21), tasks: ["b", "c"] });
    // a resume before the rollback's result is refused: the result resets the undone tasks, whatever started meanwhile
    const dispatchedBefore = d.assigned.length;
    d.send({ type: "feature.resume", at: d.now() });
    expect(d.events.at(-1)).toMatchObject({ kind: "message.rejected", error: { code: "INVALID_STATE", message: expect.stringContaining("rolling back to task a's checkpoint") } });
    expect([d.last.state, d.assigned.length]).toEqual(["paused", dispatchedBefore]);
    d.answer("rollback", { kind: "rolled-back", head: sha(20), tree: sha(50), removed: 2 });
    expect(d.events.find((e) => e.kind === "feature.rolled_back")).toMatchObject({ to: sha(20), toTask: "a", tasks: ["b", "c"], cancelled: false, by: "ann" });
    expect(d.last.state).toBe("paused");
    expect(d.last.context.tasks.b!.status).toBe("ready");
    expect(d.last.context.git!.checkpoints.map((p) => p.taskId)).toEqual(["a"]);
    sameViews(d, d.last);
    d.send({ type: "feature.resume", at: d.now() });
    expect(d.latest((x) => x.taskId === "b").checkout).toMatchObject({ at: sha(20), fresh: true });
    sameViews(d, d.last);
  });

  it("a refused rollback changes nothing and says which files", () => {
    const c = twoIntegrated("r4", { onFailure: { retry: { maxAttempts: 3, backoffSeconds: 1 } } });
    c.send({ type: "feature.pause", at: c.now() });
    const a = c.latest((x) => x.taskId === "c");
    c.send({ type: "task.result", at: c.now(), msg: { type: "baton.v1.task_result", featureId: "r4", taskId: "c", attempt: a.attempt, role: "backend", workerId: "w", outcome: "failed", startedAt: a.dispatchedAt, finishedAt: c.now(), error: { name: "ExitCode", code: "EXIT_CODE", message: "x" } } });
    const before = c.last.context;
    c.send({ type: "feature.rollback", to: "base", at: c.now() });
    expect(c.ops("rollback").at(-1)!.op).toMatchObject({ to: BASE, tasks: ["a", "b", "c"] });
    c.answer("rollback", { kind: "refused", reason: "tracked files in the integration worktree have changes that did not come from the feature", files: ["src/hand-edit.ts"] });
    expect(c.events.at(-1)).toMatchObject({ kind: "message.rejected", error: { code: "ROLLBACK_REFUSED", details: { files: ["src/hand-edit.ts"] } } });
    expect(c.last.context.tasks).toEqual(before.tasks);
    expect(c.last.context.git!.head).toBe(sha(21));
    expect(c.last.context.git!.rollback ?? c.last.context.git!.pending).toBeUndefined();
    expect(c.last.state).toBe("paused");
    sameViews(c, c.last);
  });

  it("a conflict met while paused does not hold a rollback back: its fix task has not started", () => {
    const c = new GitHarness("r6");
    c.submit(worktreeRequest());
    c.prepared();
    c.workGit("a", sha(10), ["f"]);
    c.workGit("b", sha(11), ["f"]);
    c.send({ type: "feature.pause", at: c.now() });
    c.integrated(sha(20), ["f"]);
    c.answer("integrate", { kind: "conflict", ours: sha(20), theirs: sha(11), files: [{ path: "f", ours: "", theirs: "" }] });
    expect(c.last.context.tasks.b!.status).toBe("fixing");
    expect(c.last.context.tasks["b-merge-1"]!.status).toBe("ready"); // held by the pause
    c.send({ type: "feature.rollback", to: "a", at: c.now() });
    expect(c.ops("rollback")).toHaveLength(1);
    c.answer("rollback", { kind: "rolled-back", head: sha(20), tree: sha(50), removed: 1 });
    expect(c.last.context.tasks.b!.status).toBe("ready"); // pending again (its dependencies are integrated)
    expect(c.last.context.tasks["b-merge-1"]).toMatchObject({ status: "cancelled", withdrawn: true });
    sameViews(c, c.last);
  });

  it("a rollback whose result comes after the feature ended does not pause it: the history ends as the feature did", () => {
    // found by the chaos run (seed 1, under load): the rollback's result came after the feature had failed
    const c = twoIntegrated("r8", { onFailure: { retry: { maxAttempts: 3, backoffSeconds: 1 } } });
    c.send({ type: "feature.pause", at: c.now() });
    const a = c.latest((x) => x.taskId === "c");
    c.send({ type: "task.result", at: c.now(), msg: { type: "baton.v1.task_result", featureId: "r8", taskId: "c", attempt: a.attempt, role: "backend", workerId: "w", outcome: "failed", startedAt: a.dispatchedAt, finishedAt: c.now(), error: { name: "ExitCode", code: "EXIT_CODE", message: "x" } } });
    c.send({ type: "feature.rollback", to: "a", at: c.now() });
    expect(c.ops("rollback")).toHaveLength(1);
    c.send({ type: "feature.cancel", at: c.now() });
    expect(c.last.state).toBe("cancelled");
    c.answer("rollback", { kind: "rolled-back", head: sha(20), tree: sha(50), removed: 2 });
    expect(c.events.map((e) => e.kind).slice(-2)).toEqual(["feature.cancelled", "feature.rolled_back"]);
    expect(c.last.state).toBe("cancelled");
    expect(c.ops("finish").at(-1)!.op).toMatchObject({ outcome: "cancelled" });
    sameViews(c, c.last);
  });

  it("then: rollback cancels the tasks after the checkpoint, fails the feature, then finishes the workspace", () => {
    const c = twoIntegrated("r5", { onFailure: { then: "rollback", rollbackTo: "a" } });
    const a = c.latest((x) => x.taskId === "c");
    c.send({ type: "task.result", at: c.now(), msg: { type: "baton.v1.task_result", featureId: "r5", taskId: "c", attempt: a.attempt, role: "backend", workerId: "w", outcome: "failed", startedAt: a.dispatchedAt, finishedAt: c.now(), error: { name: "ExitCode", code: "EXIT_CODE", message: "boom" } } });
    expect(c.last.state).toBe("failed");
    expect(c.ops("rollback").at(-1)!.op).toMatchObject({ to: sha(20), expectedHead: sha(21) });
    expect(c.ops("finish")).toHaveLength(0); // after the rollback
    c.answer("rollback", { kind: "rolled-back", head: sha(20), tree: sha(50), removed: 2 });
    expect(c.events.find((e) => e.kind === "feature.rolled_back")).toMatchObject({ tasks: ["b"], cancelled: true });
    expect(c.last.context.tasks.b!.status).toBe("cancelled");
    expect(c.last.context.tasks.c!.status).toBe("failed");
    expect(c.ops("finish").at(-1)!.op).toMatchObject({ outcome: "failed" });
    sameViews(c, c.last);
  });
});
