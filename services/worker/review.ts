// The `review` gate on a reviewer worker: the role's own executor (the reviewer agent) gets the task with the
// feature's git diff since it was submitted and the handoffs, and must answer a verdict in its result file:
// { "review": { "verdict": "approve" | "changes_requested", "comments": [{ "file", "line", "message" }] } }.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { outputTail } from "../../shared/gates/parsers.ts";
import type { GateReport, TaskAssigned } from "../../shared/protocol/index.ts";
import type { ExecContext, ExecOutcome, Executor } from "./executor.ts";

const run = promisify(execFile);
/** The diff handed to the reviewer is cut here (the reviewer can run git itself for more). */
export const MAX_DIFF_CHARS = 200_000;

export interface ReviewMaterial {
  /** The commit the diff starts from (the last before the feature was submitted), if the workspace is in git. */
  base?: string | undefined;
  diff: string;
  /** Files git does not track yet (they are not in `git diff`). */
  untracked: string[];
  truncated: boolean;
  /** Why there is no diff, when there is none. */
  note?: string | undefined;
}

/** `git diff` of the workspace (committed and uncommitted changes) since the last commit before `since`. */
export async function reviewMaterial(dir: string, since: string): Promise<ReviewMaterial> {
  const git = async (...args: string[]) => (await run("git", ["--no-optional-locks", ...args], { cwd: dir, maxBuffer: 64 * 1024 * 1024, timeout: 30_000 })).stdout;
  try {
    await git("rev-parse", "--is-inside-work-tree");
  } catch {
    return { diff: "", untracked: [], truncated: false, note: "the workspace is not a git repository: no diff" };
  }
  let base = (await git("rev-list", "-1", `--before=${since}`, "HEAD").catch(() => "")).trim();
  // No commit before the feature started (a repository created for it): diff from its first commit.
  if (!base) base = (await git("rev-list", "--max-parents=0", "HEAD").catch(() => "")).trim().split("\n")[0] ?? "";
  let diff = base ? await git("diff", base, "--", ".") : "";
  const untracked = (await git("ls-files", "--others", "--exclude-standard", "-z", "--", ".")).split("\0").filter(Boolean);
  // New files are not in `git diff` (they are not in the index, which the agent owns): add them as
  // additions, without touching the index (`git diff --no-index` exits 1 when the files differ).
  for (const f of untracked.slice(0, 500)) {
    if (diff.length > MAX_DIFF_CHARS) break;
    diff += await run("git", ["diff", "--no-index", "--", "/dev/null", f], { cwd: dir, maxBuffer: 16 * 1024 * 1024, timeout: 30_000 })
      .then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? "");
  }
  return { base: base || undefined, diff: diff.slice(0, MAX_DIFF_CHARS), untracked, truncated: diff.length > MAX_DIFF_CHARS };
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
    return { outcome: "failed", exitCode: null, error: { name: "NoExecutor", code: "NO_EXECUTOR", message }, gateReport: report(false, { reason: message }) };
  }
  const ws = executor.workspace ? await executor.workspace(task) : undefined;
  if (ws && "error" in ws) return { outcome: "failed", exitCode: null, error: ws.error, gateReport: report(false, { reason: ws.error.message }) };
  const material = ws ? await reviewMaterial(ws.dir, task.review?.since ?? task.dispatchedAt).catch((e: Error) => ({ diff: "", untracked: [], truncated: false, note: `could not read the diff: ${e.message}` }) as ReviewMaterial) : { diff: "", untracked: [], truncated: false, note: "no workspace" };
  // The reviewer gets the task message (handoffs included) plus the diff, on stdin like any exec task.
  const lines: string[] = [];
  const out = await executor.run({ ...task, review: { ...task.review, ...material } } as TaskAssigned, { ...ctx, onLine: (_s, l) => (lines.push(l), ctx.onLine(_s, l)) });
  const tail = outputTail(lines.join("\n"));
  const exitCode = out.exitCode;
  if (out.outcome !== "completed") {
    const reason = `the reviewer failed: ${out.error?.message ?? "no verdict"}`;
    return { ...out, gateReport: report(false, { exitCode, reason, outputTail: tail }) };
  }
  if (!out.review) {
    const message = 'the reviewer gave no verdict (write { "review": { "verdict": "approve" | "changes_requested", "comments": [...] } } to $BATON_RESULT_FILE)';
    return { outcome: "failed", exitCode, error: { name: "NoVerdict", code: "NO_VERDICT", message }, gateReport: report(false, { exitCode, reason: message, outputTail: tail }) };
  }
  const v = out.review;
  if (v.verdict === "approve") return { ...out, gateReport: report(true, { exitCode, review: v, outputTail: tail }) };
  const first = v.comments[0]?.message;
  const reason = `changes requested${first ? `: ${first}` : ""}${v.comments.length > 1 ? ` (+${v.comments.length - 1} more)` : ""}`;
  return { outcome: "failed", exitCode, summary: out.summary, error: { name: "ChangesRequested", code: "CHANGES_REQUESTED", message: reason }, gateReport: report(false, { exitCode, review: v, reason, outputTail: tail }) };
}
