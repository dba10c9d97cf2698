// The results of workspace operations (integrator workers), routed by kind: prepare (the workspace is ready, or not
// a git repository: the feature is rejected), integrate (integration.ts), finish (workspace.ts), rollback
// (rollback.ts). Only the result of the operation the feature awaits counts; any other changes nothing. Pure.
import type { TaskResult } from "../../../shared/protocol/index.ts";
import { editable, type FeatureContext } from "./context.ts";
import { scheduleInto, type ScheduleOptions } from "./dispatch.ts";
import { onIntegrateResult, pumpIntegration } from "./integration.ts";
import { onRollbackResult } from "./rollback.ts";
import { emitInto } from "./status-events.ts";
import { baselinesAfterWorkspace } from "./test-counts.ts";
import { isAwaitedOp, markEnding, onFinished } from "./workspace.ts";

/** A workspace operation's result. */
export function onOpResult(ctx: FeatureContext, msg: TaskResult, at: string, opts: ScheduleOptions): FeatureContext {
  if (!isAwaitedOp(ctx, msg)) return ctx;
  switch (msg.op!.kind) {
    case "prepare":
      return onPrepared(ctx, msg, at, opts);
    case "integrate":
      return onIntegrateResult(ctx, msg, at, opts);
    case "finish": {
      const draft = editable(ctx);
      onFinished(draft, msg, at);
      return draft;
    }
    case "rollback": {
      const draft = onRollbackResult(ctx, msg, at, opts);
      if (draft.git && !draft.git.pending) pumpIntegration(draft, at); // a policy rollback is followed by the finish
      return draft;
    }
  }
}

/** The feature ended (the machine's complete, fail and cancel): its workspace is finished once no operation is under way. */
export function endWorkspace(ctx: FeatureContext, outcome: "completed" | "failed" | "cancelled", at: string): FeatureContext {
  const marked = markEnding(ctx, outcome);
  if (marked === ctx || marked.git!.pending) return marked;
  const draft = editable(marked);
  pumpIntegration(draft, at);
  return draft;
}

/**
 * The workspace is prepared: its integration branch exists (workspace.prepared), the baselines run in its integration
 * worktree, then tasks start. Not a git repository, or the operation failed (outside the worker's roots, git failed):
 * the feature is rejected with the reason (the machine moves to `rejected` on `git.rejected`).
 */
function onPrepared(ctx: FeatureContext, msg: TaskResult, at: string, opts: ScheduleOptions): FeatureContext {
  const draft = editable(ctx);
  const git = ctx.git!;
  const found = msg.outcome === "completed" ? msg.opResult : undefined;
  if (found?.kind !== "prepared") {
    const message = found?.kind === "not-git" ? found.message : `the workspace could not be prepared: ${msg.error?.message ?? "no result"}`;
    draft.git = { ...git, pending: undefined, rejected: message };
    return draft;
  }
  draft.git = { ...git, pending: undefined, prepared: true, base: found.base, head: found.head };
  emitInto(draft, { kind: "workspace.prepared", branch: git.branch, base: found.base, head: found.head, dirty: found.dirty }, at);
  baselinesAfterWorkspace(draft, at);
  scheduleInto(draft, at, opts);
  return draft;
}
