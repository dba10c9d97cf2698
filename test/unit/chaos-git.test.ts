// The chaos run's checks on git features (scripts/chaos/git-checks.ts, git-rollback-checks.ts) and on tasks completed
// twice: a completed task's work must be on the integration branch exactly once, with its file; nothing may be left
// after the finish; a rollback's undone tasks must be integrated again after the rollback point; a second completion
// is fine only after a rollback that undid the first.
import { describe, expect, it } from "vitest";
import { analyze } from "../../scripts/chaos/analyze.ts";
import type { GitFeature } from "../../scripts/chaos/git-checks.ts";
import { makeGitFeature, pairFile, taskFile, taskText } from "../../scripts/chaos/git-plan.ts";
import type { RepoSnapshot } from "../../scripts/chaos/git-repos.ts";
import type { SeenEvent } from "../../scripts/chaos/observer.ts";
import type { ChaosFeature } from "../../scripts/chaos/plan.ts";
import { Rng } from "../../scripts/chaos/random.ts";
import type { RollbackRecord } from "../../scripts/chaos/rollbacks.ts";

const REPO = "/tmp/repos/g1";
const sha = (label: string) => label.padEnd(40, "0");

/** A history builder: events of feature g1 with consecutive seqs. */
function history() {
  const events: SeenEvent[] = [];
  const add = (kind: string, extra: Partial<SeenEvent> = {}) => {
    const seq = events.length + 1;
    events.push({ featureId: "g1", seq, kind, at: 1000 + seq, ts: 1000 + seq, streamSeq: seq, ...extra });
  };
  const integrate = (taskId: string, commit: string) => {
    add("checkpoint.created", { taskId, attempt: 1, git: { commit: sha(commit) } });
    add("task.completed", { taskId, attempt: 1 });
  };
  return { events, add, integrate };
}

/** What git shows: the first-parent log (newest first), the files, nothing left but the repository and its branch. */
function snapshot(log: [string, string][], files: Record<string, string>, extra: Partial<RepoSnapshot> = {}): RepoSnapshot {
  return {
    repo: REPO, log: log.map(([commit, task]) => ({ commit: sha(commit), parents: task ? 2 : 1, task })), files,
    worktrees: [REPO], branches: ["baton/g1"], worktreeDirs: [], ...extra,
  };
}

const feature: GitFeature = { featureId: "g1", repo: REPO, tasks: ["a", "b"], pairs: [], rollback: false };
const files = { [taskFile("a")]: taskText("g1", "a"), [taskFile("b")]: taskText("g1", "b") };

function run(events: SeenEvent[], snap: RepoSnapshot, opts: { gitFeature?: GitFeature; rollbacks?: RollbackRecord[] } = {}) {
  return analyze({
    plannedFeatures: 1, submissions: [{ featureId: "g1", tasks: 2, ackedAt: 1 }], events, ledger: [], kills: [], restarts: [], chaosStart: 0,
    gitFeatures: [opts.gitFeature ?? feature], snapshots: new Map([["g1", snap]]), rollbacks: opts.rollbacks ?? [],
  });
}

describe("chaos analysis of git features", () => {
  it("accepts a feature whose completed tasks each have one checkpoint on the branch, their file, and nothing left", () => {
    const { events, add, integrate } = history();
    add("feature.accepted");
    integrate("a", "ca");
    integrate("b", "cb");
    add("feature.completed");
    add("feature.integrated", { git: { head: sha("cb") } });
    const result = run(events, snapshot([["cb", "g1/b"], ["ca", "g1/a"], ["base", ""]], files));
    expect(result.reasons).toEqual([]);
    expect(result.git).toMatchObject({ features: 1, completed: 1, tasksCompleted: 2, tasksOnBranch: 2, finished: 1, notOnBranch: [], leftovers: [] });
  });

  it("fails the run for a task completed whose work is not on the branch, a checkpoint twice, a missing file and leftovers", () => {
    const { events, add, integrate } = history();
    add("feature.accepted");
    integrate("a", "ca");
    integrate("b", "cb");
    add("feature.completed");
    add("feature.integrated", { git: { head: sha("ca2") } });
    const snap = snapshot([["ca2", "g1/a"], ["ca", "g1/a"], ["base", ""]], { [taskFile("a")]: taskText("g1", "a") }, {
      worktrees: [REPO, "/cache/baton/worktrees/g1-0123/g1/tasks/b"], branches: ["baton/g1", "baton/g1.tasks/b"], worktreeDirs: ["/cache/baton/worktrees/g1-0123/g1"],
    });
    const result = run(events, snap);
    expect(result.git.notOnBranch).toEqual(["g1/b: completed, no checkpoint on baton/g1"]);
    expect(result.git.duplicateCheckpoints).toEqual(["g1/a: 2 checkpoint commits"]);
    expect(result.git.missingFiles).toEqual(["g1/b: tasks/b.txt missing"]);
    expect(result.git.leftovers).toHaveLength(3);
    expect(result.reasons).toContainEqual(expect.stringContaining("1 task(s) completed whose work is not on the integration branch: g1/b"));
    expect(result.reasons).toContainEqual(expect.stringContaining("worktrees or task branches left after feature.integrated"));
  });

  it("fails the run for a conflict file left with markers", () => {
    const { events, add, integrate } = history();
    add("feature.accepted");
    integrate("a", "ca");
    integrate("b", "cb");
    add("feature.completed");
    add("feature.integrated", { git: { head: sha("cb") } });
    const paired = { ...feature, pairs: [["a", "b"]] as [string, string][] };
    const marked = { ...files, [pairFile(0)]: "<<<<<<< ours\nfrom a\n=======\nfrom b\n>>>>>>> theirs\n" };
    expect(run(events, snapshot([["cb", "g1/b"], ["ca", "g1/a"], ["base", ""]], marked), { gitFeature: paired }).git.markers).toEqual([`g1: ${pairFile(0)} holds conflict markers`]);
    const resolved = { ...files, [pairFile(0)]: "from a\nfrom b\n" };
    expect(run(events, snapshot([["cb", "g1/b"], ["ca", "g1/a"], ["base", ""]], resolved), { gitFeature: paired }).reasons).toEqual([]);
  });

  it("after a rollback: a task completed again is not 'completed twice', and its new checkpoint must be after the rollback point", () => {
    const { events, add, integrate } = history();
    add("feature.accepted");
    integrate("a", "ca");
    integrate("b", "cb");
    add("feature.rolled_back", { git: { to: sha("ca"), toTask: "a", tasks: ["b"] } });
    const rolledSeq = events.length;
    integrate("b", "cb2");
    add("feature.completed");
    add("feature.integrated", { git: { head: sha("cb2") } });
    const record: RollbackRecord = { featureId: "g1", outcome: "done", toTask: "a", seq: rolledSeq, tasks: ["b"] };
    const good = run(events, snapshot([["cb2", "g1/b"], ["ca", "g1/a"], ["base", ""]], files), { gitFeature: { ...feature, rollback: true }, rollbacks: [record] });
    expect(good.reasons).toEqual([]);
    expect(good.tasks).toMatchObject({ completedTwice: 0, completedAgainAfterRollback: 1 });
    expect(good.git.rollbacks).toMatchObject({ planned: 1, done: 1, tasksUndone: 1, reintegrated: 1, problems: [] });

    // the same history without the rollback event: b completed twice
    const plain = run(events.filter((event) => event.kind !== "feature.rolled_back"), snapshot([["cb2", "g1/b"], ["ca", "g1/a"], ["base", ""]], files));
    expect(plain.reasons).toContainEqual(expect.stringContaining("task(s) completed twice: g1/b"));
    // a branch whose b is older than the rollback point: b was not integrated again after it
    const stale = run(events, snapshot([["ca", "g1/a"], ["cb2", "g1/b"], ["base", ""]], files), { gitFeature: { ...feature, rollback: true }, rollbacks: [record] });
    expect(stale.git.rollbacks.problems).toEqual(["g1/b: undone by the rollback (seq 6) but not integrated again after it"]);
    // a refused rollback fails the run
    const refused = run(events, snapshot([["cb2", "g1/b"], ["ca", "g1/a"], ["base", ""]], files), { gitFeature: { ...feature, rollback: true }, rollbacks: [{ featureId: "g1", outcome: "refused", detail: "INVALID_STATE" }] });
    expect(refused.reasons).toContainEqual(expect.stringContaining("planned rollback(s) refused or unanswered: g1: refused (INVALID_STATE)"));
  });
});

describe("chaos plan of a git feature", () => {
  it("pairs only tasks that do not depend on each other, and gives each task its own file", () => {
    const plain: ChaosFeature = {
      id: "f3", title: "t", maxParallel: 1,
      tasks: [
        { id: "t1", role: "api", title: "1", dependsOn: [] }, { id: "t2", role: "api", title: "2", dependsOn: ["t1"] },
        { id: "t3", role: "api", title: "3", dependsOn: [] }, { id: "t4", role: "api", title: "4", dependsOn: ["t2"] },
      ],
    };
    for (const seed of ["1", "2", "3", "4", "5"]) {
      const { feature, git } = makeGitFeature(new Rng(seed), plain, false);
      expect(feature).toMatchObject({ isolation: "worktree" });
      expect(feature.maxParallel).toBeGreaterThanOrEqual(2);
      expect(git.pairs.length).toBeGreaterThanOrEqual(1);
      for (const pair of git.pairs) expect(pair.includes("t3")).toBe(true); // t1 → t2 → t4 is a chain: only t3 is independent of them
      for (const task of feature.tasks) expect(JSON.parse(task.instructions!).write[taskFile(task.id)]).toBe(taskText("f3", task.id));
    }
  });
});
