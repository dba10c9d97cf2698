// The `review` gate on a reviewer worker: the role's own executor (the reviewer agent) gets the task with the
// feature's git diff since it was submitted and the handoffs, and must answer a verdict in its result file:
// { "review": { "verdict": "approve" | "changes_requested", "comments": [{ "file", "line", "message" }] } }.
import { outputTail } from "../../../shared/gates/parsers.ts";
import { wireError } from "../../../shared/protocol/errors.ts";
import type { GateReport, TaskAssigned } from "../../../shared/protocol/index.ts";
import { reviewMaterial, type ReviewMaterial } from "../workspace/review-material.ts";
import type { ExecContext, ExecOutcome, Executor, Runner } from "./types.ts";

/** The runner of review gate runs, by the role's executor; without one, every review fails NO_EXECUTOR. */
export function createReviewRunner(executor: Executor | undefined): Runner {
  return {
    kind: "review",
    describe: `review by ${executor?.describe ?? "no executor"}`,
    reports: "gate",
    run: (task, ctx) => runReview(task, executor, ctx),
  };
}

/** Runs the reviewer on a review gate run and turns its verdict into a gate report. Never throws. */
export async function runReview(task: TaskAssigned, executor: Executor | undefined, ctx: ExecContext): Promise<ExecOutcome> {
  const ref = task.gate!;
  const started = Date.now();
  const report = (passed: boolean, extra: Partial<GateReport>): GateReport => ({
    ...ref, passed, expect: "pass", command: [executor?.describe ?? "no executor"], exitCode: null, durationMs: Date.now() - started, outputTail: "", ...extra,
  });
  if (!executor) {
    const message = "this reviewer worker has no executor for its role: nobody to review";
    return { outcome: "failed", exitCode: null, error: wireError("NoExecutor", message), gateReport: report(false, { reason: message }) };
  }
  const ws = executor.workspace ? await executor.workspace(task) : undefined;
  if (ws && "error" in ws) return { outcome: "failed", exitCode: null, error: ws.error, gateReport: report(false, { reason: ws.error.message }) };
  const material: ReviewMaterial = ws
    ? await reviewMaterial(ws.dir, task.review?.since ?? task.dispatchedAt).catch((err: Error) => ({ diff: "", untracked: [], truncated: false, note: `could not read the diff: ${err.message}` }))
    : { diff: "", untracked: [], truncated: false, note: "no workspace" };
  // The reviewer gets the task message (handoffs included) plus the diff, on stdin like any exec task.
  const lines: string[] = [];
  const onLine: ExecContext["onLine"] = (stream, line) => {
    lines.push(line);
    ctx.onLine(stream, line);
  };
  const out = await executor.run({ ...task, review: { ...task.review, ...material } } as TaskAssigned, { ...ctx, onLine });
  const tail = outputTail(lines.join("\n"));
  const exitCode = out.exitCode;
  if (out.outcome !== "completed") {
    const reason = `the reviewer failed: ${out.error?.message ?? "no verdict"}`;
    return { ...out, gateReport: report(false, { exitCode, reason, outputTail: tail }) };
  }
  if (!out.review) {
    const message = 'the reviewer gave no verdict (write { "review": { "verdict": "approve" | "changes_requested", "comments": [...] } } to $BATON_RESULT_FILE)';
    return { outcome: "failed", exitCode, error: wireError("NoVerdict", message), gateReport: report(false, { exitCode, reason: message, outputTail: tail }) };
  }
  const verdict = out.review;
  if (verdict.verdict === "approve") return { ...out, gateReport: report(true, { exitCode, review: verdict, outputTail: tail }) };
  const first = verdict.comments[0]?.message;
  const more = verdict.comments.length > 1 ? ` (+${verdict.comments.length - 1} more)` : "";
  const reason = `changes requested${first ? `: ${first}` : ""}${more}`;
  return { outcome: "failed", exitCode, summary: out.summary, error: wireError("ChangesRequested", reason), gateReport: report(false, { exitCode, review: verdict, reason, outputTail: tail }) };
}
