// The runner of workspace operations (task messages with `op`, for the integrator role): prepare, integrate, finish
// and rollback of a git feature's workspace (workspace/integrate.ts), with declared artifacts checked by the
// artifact validators. Any worker can run them; the integrator role is where the coordinator sends them.
import { validateArtifacts } from "../workspace/artifacts.ts";
import { runWorkspaceOp } from "../workspace/integrate.ts";
import type { WorkspaceOptions } from "../workspace/resolve.ts";
import type { WorktreeSettings } from "../workspace/worktrees.ts";
import type { Runner } from "./types.ts";

/** Builds the runner of workspace operations for a worker with these workspace roots and worktree settings. */
export function createWorkspaceOpRunner(options: WorkspaceOptions & { worktrees: WorktreeSettings }): Runner {
  return {
    kind: "workspace-op",
    describe: "workspace operations (git)",
    reports: "gate",
    async run(task, ctx) {
      const op = task.op!;
      ctx.log.debug({ op: op.kind, run: op.run }, "workspace operation");
      const answer = await runWorkspaceOp(task.featureId, op, { ...options, validateArtifacts: (paths, read) => validateArtifacts(paths, read), log: ctx.log });
      if ("error" in answer) return { outcome: "failed", exitCode: null, error: answer.error };
      return { outcome: "completed", exitCode: 0, opResult: answer.result };
    },
  };
}
