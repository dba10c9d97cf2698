// The final report of `npm run demo`: once the feature has ended and Baton has finished its git work, what it left —
// the integration branch's history (a merge commit per task), the handoffs as `baton status` shows them, what the
// feature changed and a file the agents wrote (read from the branch), the readable state in .baton/<id>/, and how to
// take the work. The user's checkout is never touched: the demo's request sets no `integrateInto`.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** How long to wait for `feature.integrated` (the finish operation) after the feature ended. */
const FINISH_TIMEOUT_MS = 30_000;
/** The file of the feature whose first lines the report prints from the branch (the review's verdict). */
const SHOWN_FILE = "docs/review.md";

export interface ReportInput {
  root: string;
  bin: string;
  featureId: string;
  /** The demo's workspace: the user's checkout the request named. */
  workspace: string;
  /**
   * The folder the workers made the feature's worktrees in (absolute): `<worker.worktrees.dir>/<featureId>`, by default
   * `$XDG_CACHE_HOME/baton/worktrees/<repo>-<hash>/<featureId>` (else under ~/.cache), outside the workspace.
   */
  worktrees: string;
  say: (line: string) => void;
}

/** The feature's git fields as `baton status --json` has them. */
interface GitView {
  branch: string;
  base: string;
  head: string;
  into?: string;
  fastForwarded?: boolean;
}

const indent = (text: string, lines = Infinity) => {
  const all = text.trimEnd().split("\n");
  const shown = all.slice(0, lines).map((line) => `    ${line}`);
  if (all.length > lines) shown.push(`    … (${all.length - lines} more lines)`);
  return text.trim() ? shown.join("\n") : "    (none)";
};

/** `git args` in `cwd`: its stdout, or undefined when it fails (the report shows what it can). */
function git(cwd: string, args: string[]): string | undefined {
  const run = spawnSync("git", ["-c", "color.ui=never", ...args], { cwd, encoding: "utf8" });
  return run.status === 0 ? run.stdout : undefined;
}

/** Runs `baton ARGS` with the terminal as its output; resolves when it exits. */
function baton(input: ReportInput, args: string[]): Promise<void> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [input.bin, ...args], { cwd: input.root, stdio: "inherit" });
    child.once("exit", () => resolvePromise());
    child.once("error", () => resolvePromise());
  });
}

/**
 * The feature's git view once Baton has finished its git work (`feature.integrated`: worktrees removed, state files
 * final), polled with `baton status --json`; undefined for a feature without git, or when it does not come in time.
 */
async function finishedGit(input: ReportInput): Promise<GitView | undefined> {
  const deadline = Date.now() + FINISH_TIMEOUT_MS;
  for (;;) {
    const run = spawnSync(process.execPath, [input.bin, "status", input.featureId, "--json"], { cwd: input.root, encoding: "utf8" });
    let view: { git?: GitView } | undefined;
    try {
      view = JSON.parse(run.stdout) as { git?: GitView };
    } catch {
      view = undefined;
    }
    if (view && (!view.git || view.git.fastForwarded !== undefined)) return view.git;
    if (Date.now() > deadline) return view?.git;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 500));
  }
}

/** Prints the report. Never throws for a missing piece: it says what is not there. */
export async function showReport(input: ReportInput): Promise<void> {
  const { featureId, workspace, say } = input;
  const gitView = await finishedGit(input);
  say(`baton status ${featureId} --verbose: each task, its checkpoint on the integration branch and its handoff (files git saw change, summary)`);
  await baton(input, ["status", featureId, "--verbose"]);
  if (!gitView) {
    say(`files the agents changed in ${relative(input.root, workspace)}`);
    console.log(indent(git(workspace, ["status", "--porcelain", "--untracked-files=all"]) ?? ""));
    return;
  }
  const { branch, base } = gitView;
  const onBranch = git(workspace, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]) !== undefined;
  if (onBranch) showBranch(workspace, branch, base, say);
  else say(`${branch} is gone: a failed or cancelled feature's branches are removed unless the request sets keepBranches`);
  showStateFiles(input);
  showCheckout(input, branch, base, onBranch);
}

/** The integration branch: its graph, its diffstat since the feature's start, and one file the agents wrote, read from it. */
function showBranch(workspace: string, branch: string, base: string, say: (line: string) => void): void {
  say(`the integration branch: git log --oneline --graph --decorate ${branch} (one checkpoint commit per task: the merge of its branch, whose own commits show on the right)`);
  console.log(indent(git(workspace, ["log", "--oneline", "--graph", "--decorate", branch]) ?? "(cannot read it)"));
  say(`what the feature changed: git diff --stat ${base.slice(0, 10)} ${branch}`);
  console.log(indent(git(workspace, ["diff", "--stat", base, branch]) ?? "(cannot read it)"));
  const shown = git(workspace, ["show", `${branch}:${SHOWN_FILE}`]);
  if (shown === undefined) return;
  say(`a file the agents wrote, read from the branch: git show ${branch}:${SHOWN_FILE}`);
  console.log(indent(shown, 8));
}

/** The readable state Baton's integrator keeps in the workspace (git-ignored): the files, and completed-changes.md's start. */
function showStateFiles(input: ReportInput): void {
  const dir = join(input.workspace, ".baton", input.featureId);
  if (!existsSync(dir)) return;
  input.say(`readable state in ${relative(input.root, dir)}/ (git-ignored; derived from Baton's events): ${readdirSync(dir).sort().join(", ")}`);
  const completed = join(dir, "completed-changes.md");
  if (existsSync(completed)) console.log(indent(readFileSync(completed, "utf8"), 14));
}

/** The user's checkout: untouched (its HEAD is where the feature started), and how to take the work. */
function showCheckout(input: ReportInput, branch: string, base: string, onBranch: boolean): void {
  const { workspace, say } = input;
  const current = git(workspace, ["symbolic-ref", "--quiet", "--short", "HEAD"])?.trim() ?? "HEAD";
  const head = git(workspace, ["rev-parse", "HEAD"])?.trim() ?? "";
  const dirty = git(workspace, ["status", "--porcelain"])?.trim();
  const untouched = head === base && !dirty;
  say(`your checkout: ${current} ${untouched ? `is untouched at ${base.slice(0, 10)}` : `is at ${head.slice(0, 10)}${dirty ? " with uncommitted changes" : ""}`}; the agents worked in git worktrees under ${input.worktrees}/ (removed now)`);
  if (onBranch) console.log(indent(`to take the work: cd ${workspace} && git merge ${branch}   (a fast-forward while ${current} has not moved)\n(a request with \`integrateInto: ${current}\` has Baton fast-forward ${current} itself when the feature completes)`));
}
