// What a reviewer is shown: the workspace's git diff since the feature was submitted (committed and uncommitted
// changes, new files as additions), read without ever touching the index the agent owns.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
/** The diff handed to the reviewer is cut here (the reviewer can run git itself for more). */
export const MAX_DIFF_CHARS = 200_000;
/** At most this many new (untracked) files are added to the diff. */
const MAX_UNTRACKED_DIFFED = 500;
const GIT_TIMEOUT_MS = 30_000;

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

/**
 * `git diff` of the workspace `dir` (committed and uncommitted changes) since the last commit before `since`,
 * plus untracked files as additions; cut at MAX_DIFF_CHARS. Read-only. Outside git: an empty diff with a note.
 * Rejects when git fails in a work tree (callers turn that into a note).
 */
export async function reviewMaterial(dir: string, since: string): Promise<ReviewMaterial> {
  const git = async (...args: string[]) => (await execFileAsync("git", ["--no-optional-locks", ...args], { cwd: dir, maxBuffer: 64 * 1024 * 1024, timeout: GIT_TIMEOUT_MS })).stdout;
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
  for (const file of untracked.slice(0, MAX_UNTRACKED_DIFFED)) {
    if (diff.length > MAX_DIFF_CHARS) break;
    diff += await execFileAsync("git", ["diff", "--no-index", "--", "/dev/null", file], { cwd: dir, maxBuffer: 16 * 1024 * 1024, timeout: GIT_TIMEOUT_MS })
      .then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? "");
  }
  return { base: base || undefined, diff: diff.slice(0, MAX_DIFF_CHARS), untracked, truncated: diff.length > MAX_DIFF_CHARS };
}
