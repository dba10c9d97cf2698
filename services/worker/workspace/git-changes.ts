// What a range of commits changed, as git says it (not as an agent tells it): files with their status and line
// counts, totals, and conflict markers a merge resolution left behind.
import { MAX_CHANGED_FILES, type FileChange, type GitChanges } from "../../../shared/protocol/workspace.ts";
import { nulList, runGit, workTreePrefix, workspacePath } from "./git.ts";

const STATUS: Record<string, FileChange["status"]> = { A: "added", M: "modified", D: "deleted", R: "renamed" };

/**
 * The files `base..head` changed (renames detected), at most MAX_CHANGED_FILES of them (`more`: the rest), and the
 * total lines added and removed over all of them (binary files count no lines). Paths are relative to the workspace
 * `dir` is in (`../` for files outside it). Read-only.
 */
export async function changesBetween(dir: string, base: string, head: string): Promise<GitChanges> {
  const prefix = (await workTreePrefix(dir)) ?? "";
  const range = ["-M", "--no-ext-diff", "--no-textconv", base, head];
  const [numstat, nameStatus] = await Promise.all([
    runGit(dir, ["diff", "--numstat", "-z", ...range]),
    runGit(dir, ["diff", "--name-status", "-z", ...range]),
  ]);
  const statuses = parseNameStatus(nameStatus.stdout);
  const counted = parseNumstat(numstat.stdout);
  let insertions = 0;
  let deletions = 0;
  const files: FileChange[] = [];
  for (const [path, status] of statuses) {
    const lines = counted.get(path);
    insertions += lines?.insertions ?? 0;
    deletions += lines?.deletions ?? 0;
    if (files.length < MAX_CHANGED_FILES) files.push({ path: workspacePath(prefix, path), status, ...lines });
  }
  const more = statuses.size - files.length;
  return { base, head, files, ...(more > 0 ? { more } : {}), insertions, deletions };
}

/** `--name-status -z`: `S\0path\0`, or `R<score>\0old\0new\0` for a rename. Path (the new one) → status, in git's order. */
function parseNameStatus(text: string): Map<string, FileChange["status"]> {
  const fields = nulList(text);
  const statuses = new Map<string, FileChange["status"]>();
  for (let index = 0; index < fields.length; index++) {
    const letter = fields[index]!.charAt(0);
    if (letter === "R" || letter === "C") index++; // skip the source path
    const path = fields[++index];
    if (path !== undefined) statuses.set(path, STATUS[letter] ?? "other");
  }
  return statuses;
}

/** `--numstat -z`: `ins\tdel\tpath\0`, or `ins\tdel\t\0old\0new\0` for a rename; `-` counts for binary files. */
function parseNumstat(text: string): Map<string, { insertions?: number; deletions?: number }> {
  const fields = text.split("\0");
  const counts = new Map<string, { insertions?: number; deletions?: number }>();
  for (let index = 0; index < fields.length; index++) {
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(fields[index]!);
    if (!match) continue;
    let path = match[3]!;
    if (path === "") {
      index += 2; // a rename: old and new path follow
      path = fields[index] ?? "";
    }
    counts.set(path, match[1] === "-" ? {} : { insertions: Number(match[1]), deletions: Number(match[2]) });
  }
  return counts;
}

/**
 * Files whose lines added in `base..head` include conflict markers (`git diff --check`'s "leftover conflict
 * marker"), relative to the workspace `dir` is in, sorted. Whitespace problems the same check reports are ignored.
 */
export async function leftoverMarkers(dir: string, base: string, head: string): Promise<string[]> {
  const prefix = (await workTreePrefix(dir)) ?? "";
  const checked = await runGit(dir, ["diff", "--check", "--no-ext-diff", base, head], { ok: [0, 1, 2] });
  const files = new Set<string>();
  for (const line of checked.stdout.split("\n")) {
    const match = /^(.+):\d+: leftover conflict marker$/.exec(line);
    if (match) files.add(workspacePath(prefix, match[1]!));
  }
  return [...files].sort();
}

/** True when `base..head` holds a merge commit (the agent merged, or a conflict fix was committed). */
export async function rangeHasMerge(dir: string, base: string, head: string): Promise<boolean> {
  const counted = await runGit(dir, ["rev-list", "--merges", "--count", `${base}..${head}`]);
  return Number(counted.stdout.trim()) > 0;
}
