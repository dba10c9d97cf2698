// The same integrate operation delivered twice at once (a redelivery while the first delivery still merges, as the
// chaos run saw around a NATS restart): one workspace operation at a time per feature, so neither aborts the other's
// merge; both answer the one checkpoint, and the task's work is on the branch.
import { describe, expect, it } from "vitest";
import { integrationBranch, taskBranch, type OpResult, type WorkspaceOp } from "../../shared/protocol/workspace.ts";
import { runWorkspaceOp } from "../../services/worker/workspace/integrate.ts";
import { commitWork, ensureCheckout } from "../../services/worker/workspace/worktrees.ts";
import { git, newRepo, useGitScratch, workerOptions } from "../helpers/git-feature.ts";

const scratch = useGitScratch("git-integrate-race");
const ROUNDS = 6;

async function run(featureId: string, op: WorkspaceOp): Promise<OpResult> {
  const answer = await runWorkspaceOp(featureId, op, workerOptions(scratch.tmp));
  if ("error" in answer) throw new Error(`${op.kind} failed: ${answer.error.message}`);
  return answer.result;
}

/** A prepared feature with one task's work committed on its branch: the integrate op that merges it. */
async function featureWithWork(featureId: string): Promise<{ repo: string; op: Extract<WorkspaceOp, { kind: "integrate" }> }> {
  const files: Record<string, string> = { "README.md": "hello\n" };
  for (let index = 0; index < 200; index++) files[`src/module${index}.js`] = `export const value${index} = ${index};\n`;
  const repo = newRepo(scratch.tmp, files);
  const branch = integrationBranch(featureId);
  const prepared = await run(featureId, { kind: "prepare", run: 1, repo, branch });
  if (prepared.kind !== "prepared") throw new Error(`not prepared: ${JSON.stringify(prepared)}`);
  const made = await ensureCheckout({ featureId, taskId: "t1", checkout: { repo, kind: "task", branch: taskBranch(featureId, "t1"), at: prepared.head, fresh: true } }, workerOptions(scratch.tmp));
  if ("error" in made) throw new Error(made.error.message);
  for (let index = 0; index < 200; index++) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(`${made.dir}/src/module${index}.js`, `export const value${index} = ${index * 2};\n`);
  }
  const committed = await commitWork(made.dir, { base: prepared.head, message: "t1: work" });
  if ("error" in committed) throw new Error(committed.error.message);
  return {
    repo,
    op: {
      kind: "integrate", run: 1, repo, branch, taskId: "t1", role: "backend", title: "task t1", attempt: 1,
      expectedHead: prepared.head, message: "checkpoint: t1 (backend)", taskBranch: taskBranch(featureId, "t1"), taskHead: committed.changes.head,
    },
  };
}

describe("one integrate operation delivered twice at once", () => {
  it("merges once: both deliveries answer the same checkpoint, which holds the task's work", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const featureId = `race${round}`;
      const { repo, op } = await featureWithWork(featureId);
      const [first, second] = await Promise.all([run(featureId, op), run(featureId, op)]);
      expect(first.kind, `round ${round}`).toBe("integrated");
      expect(second.kind, `round ${round}`).toBe("integrated");
      const commits = [first, second].map((result) => (result.kind === "integrated" ? result.commit : ""));
      expect(commits[0], `round ${round}: both answer one checkpoint`).toBe(commits[1]);
      expect(git(repo, "rev-parse", op.branch)).toBe(commits[0]);
      expect(git(repo, "show", `${op.branch}:src/module7.js`), `round ${round}: the work is on the branch`).toContain("14");
      expect(git(repo, "log", "--first-parent", "--format=%H", `${op.expectedHead}..${op.branch}`).split("\n").filter(Boolean)).toHaveLength(1);
    }
  }, 120_000);
});
