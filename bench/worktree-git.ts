// The git work of one task of a git feature, measured in-process with Baton's own functions on generated
// repositories: a fresh task worktree (ensureCheckout, node_modules linked), a one-file change committed on the task's
// branch (commitWork), and the integrator's merge into the integration branch (runWorkspaceOp integrate); then the
// feature's finish, which removes the worktrees. Also makes the repositories (git fast-import: one commit, no `git add`).
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { integrationBranch, taskBranch, type WorkspaceOp } from "../shared/protocol/workspace.ts";
import { runWorkspaceOp, type WorkspaceOpOptions } from "../services/worker/workspace/integrate.ts";
import { commitWork, ensureCheckout } from "../services/worker/workspace/worktrees.ts";
import { summarize, type Summary } from "./stats.ts";

const git = (cwd: string, ...args: string[]): string => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const now = () => performance.now();

/**
 * A repository at `dir` (created) with `folders` × `perFolder` small files under src/, a .gitignore naming
 * node_modules/, committed once on `main` by `git fast-import`, the work tree checked out, and an untracked
 * node_modules/ (which Baton links into every worktree). Returns the number of tracked files.
 */
export function makeRepo(dir: string, folders: number, perFolder: number): number {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  const width = (n: number) => String(n - 1).length;
  const parts = ["commit refs/heads/main\ncommitter Bench <bench@localhost> 1700000000 +0000\ndata 5\ninit\n"];
  const file = (path: string, text: string) => parts.push(`M 100644 inline ${path}\ndata ${Buffer.byteLength(text)}\n${text}\n`);
  file(".gitignore", "node_modules/\n");
  for (let folder = 0; folder < folders; folder++) {
    for (let index = 0; index < perFolder; index++) {
      const name = `src/d${String(folder).padStart(width(folders), "0")}/f${String(index).padStart(width(perFolder), "0")}.ts`;
      file(name, `// ${name}: one of the benchmark repository's files\nexport const value${folder}x${index} = ${folder * perFolder + index};\n`);
    }
  }
  execFileSync("git", ["fast-import", "--quiet"], { cwd: dir, input: parts.join(""), stdio: ["pipe", "ignore", "pipe"] });
  git(dir, "reset", "-q", "--hard", "main");
  mkdirSync(join(dir, "node_modules", "left-pad"), { recursive: true });
  writeFileSync(join(dir, "node_modules", "left-pad", "index.js"), "module.exports = (s) => s;\n");
  return folders * perFolder + 1;
}

/** One task's parts (ms): fresh worktree; the change and its commit; the integrator's merge. */
interface TaskSample {
  checkout: number;
  commit: number;
  integrate: number;
}

export interface GitTaskCosts {
  label: string;
  /** Tracked files of the repository. */
  files: number;
  tasks: number;
  /** ensureCheckout of a fresh task worktree at the integration head (node_modules linked). */
  checkout: Summary;
  /** Writing one new file, then commitWork (git add -A, commit, the changes listed). */
  commit: Summary;
  /** runWorkspaceOp integrate: the `--no-ff` merge of the task's branch in the integration worktree, its checkpoint. */
  integrate: Summary;
  /** The three, per task. */
  total: Summary;
  /** runWorkspaceOp prepare (integration branch and worktree), once (ms). */
  prepareMs: number;
  /** runWorkspaceOp finish at the end (every task worktree and branch removed), ms, and per task worktree. */
  finishMs: number;
  finishPerTaskMs: number;
  /** git processes each part starts (one extra task counted through a PATH shim). */
  gitProcesses: { checkout: number; commit: number; integrate: number } | null;
  /** Disk used by one task worktree (du -sk), KiB. */
  worktreeKiB: number | null;
}

/** One feature's worth of in-process git work on one repository: prepare, then tasks one at a time, then finish. */
export class GitFeatureRun {
  /** The integration branch's head. */
  head = "";
  /** Tasks run so far (kept or not). */
  taskCount = 0;
  readonly samples: TaskSample[] = [];
  prepareMs = 0;

  constructor(
    readonly repo: string,
    readonly featureId: string,
    private readonly options: WorkspaceOpOptions,
  ) {}

  private async op(op: WorkspaceOp) {
    const answer = await runWorkspaceOp(this.featureId, op, this.options);
    if ("error" in answer) throw new Error(`${op.kind} in ${this.repo}: ${answer.error.message}`);
    return answer.result;
  }

  async prepare(): Promise<void> {
    const started = now();
    const result = await this.op({ kind: "prepare", run: 1, repo: this.repo, branch: integrationBranch(this.featureId) });
    this.prepareMs = now() - started;
    if (result.kind !== "prepared") throw new Error(`prepare of ${this.repo}: ${result.kind}`);
    this.head = result.head;
  }

  /**
   * Runs one task as the worker and the integrator would, sequentially (each task's worktree is made at the head
   * the previous one left); `keep` records its sample; `between` is called before each part and after the last.
   * Returns its worktree.
   */
  async task(keep: boolean, between: () => void = () => {}): Promise<string> {
    const taskId = `t${String(this.taskCount++).padStart(3, "0")}`;
    const branch = taskBranch(this.featureId, taskId);
    const message = `benchmark task ${taskId}`;
    between();
    const started = now();
    const made = await ensureCheckout(
      { featureId: this.featureId, taskId, checkout: { repo: this.repo, kind: "task", branch, at: this.head, fresh: true, commit: { message } } },
      this.options,
    );
    if ("error" in made) throw new Error(`checkout of ${taskId} in ${this.repo}: ${made.error.message}`);
    const checkedOut = now();
    between();
    mkdirSync(join(made.dir, "bench"), { recursive: true });
    writeFileSync(join(made.dir, "bench", `${taskId}.txt`), `written by ${taskId}\n`);
    const committed = await commitWork(made.dir, { base: this.head, message });
    if ("error" in committed) throw new Error(`commit of ${taskId} in ${this.repo}: ${committed.error.message}`);
    const commitDone = now();
    between();
    const result = await this.op({
      kind: "integrate", run: 1, repo: this.repo, branch: integrationBranch(this.featureId), taskId, role: "writer", title: message, attempt: 1,
      expectedHead: this.head, taskBranch: branch, taskHead: committed.changes.head, message,
    });
    const integrated = now();
    between();
    if (result.kind !== "integrated") throw new Error(`integrate of ${taskId} in ${this.repo}: ${result.kind}`);
    this.head = result.commit;
    if (keep) this.samples.push({ checkout: checkedOut - started, commit: commitDone - checkedOut, integrate: integrated - commitDone });
    return made.worktree;
  }

  /** Removes the feature's worktrees and task branches; resolves with the time it took (ms). */
  async finish(): Promise<number> {
    const started = now();
    await this.op({ kind: "finish", run: 1, repo: this.repo, branch: integrationBranch(this.featureId), outcome: "completed" });
    return now() - started;
  }
}

/**
 * Runs one more task of `run` (not kept) and counts the git processes each part starts: `git` is shimmed first on
 * the bench process's PATH (runGit's children inherit it) by a script that logs a line, then runs the real git.
 */
export async function countGitProcesses(run: GitFeatureRun, shimDir: string): Promise<{ checkout: number; commit: number; integrate: number }> {
  const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  const log = join(shimDir, "git.log");
  mkdirSync(shimDir, { recursive: true });
  writeFileSync(log, "");
  writeFileSync(join(shimDir, "git"), `#!/bin/sh\necho "$1" >> '${log}'\nexec '${realGit}' "$@"\n`);
  chmodSync(join(shimDir, "git"), 0o755);
  const marks: number[] = [];
  const path = process.env.PATH;
  process.env.PATH = `${shimDir}:${path ?? ""}`;
  try {
    await run.task(false, () => void marks.push(readFileSync(log, "utf8").split("\n").filter(Boolean).length));
  } finally {
    process.env.PATH = path;
  }
  const [a = 0, b = 0, c = 0, d = 0] = marks;
  return { checkout: b - a, commit: c - b, integrate: d - c };
}

/** Disk used by `dir` in KiB (du -sk, symlinks not followed), or null when du fails. */
export function diskKiB(dir: string): number | null {
  try {
    return Number(execFileSync("du", ["-sk", dir], { encoding: "utf8" }).split("\t")[0]);
  } catch {
    return null;
  }
}

/** Wall time of one trivial git process (`git rev-parse HEAD`), ms: what each of the parts' git processes costs at least. */
export function gitSpawn(cwd: string): Promise<number> {
  const started = now();
  return new Promise((resolve, reject) => execFile("git", ["rev-parse", "HEAD"], { cwd }, (err) => (err ? reject(err) : resolve(now() - started))));
}

/** The figures of a run's kept samples. */
export function costsOf(label: string, files: number, run: GitFeatureRun, finishMs: number, extra: Pick<GitTaskCosts, "gitProcesses" | "worktreeKiB">): GitTaskCosts {
  const pick = (part: keyof TaskSample) => summarize(run.samples.map((sample) => sample[part]));
  return {
    label, files, tasks: run.samples.length,
    checkout: pick("checkout"), commit: pick("commit"), integrate: pick("integrate"),
    total: summarize(run.samples.map((sample) => sample.checkout + sample.commit + sample.integrate)),
    prepareMs: run.prepareMs, finishMs, finishPerTaskMs: finishMs / Math.max(1, run.taskCount), ...extra,
  };
}

const execGit = (cwd: string, args: string[]) => new Promise<void>((resolve, reject) => execFile("git", args, { cwd }, (err) => (err ? reject(err) : resolve())));

/**
 * Bare git on a repository, for comparison with Baton's checkout. The trees it adds stay until `removeAll()`: on ext4,
 * creating files right after many were deleted is slower (new inodes skip recently deleted ones), so a removal
 * between the samples would slow down the tasks measured beside them.
 */
export class BareGit {
  readonly samples = { full: [] as number[], remove: [] as number[], noCheckout: [] as number[], recycle: [] as number[] };
  private readonly kept: { path: string; full: boolean }[] = [];
  private recycled: string | undefined;
  private flip = false;

  constructor(
    readonly repo: string,
    /** Where the bare worktrees go (outside the repository). */
    readonly dir: string,
  ) {}

  /**
   * One sample of each: `git worktree add -q --detach <path> <head>` (every file checked out), the same with
   * `--no-checkout`, and, in a worktree kept for it, `git checkout -q --detach` alternating between `head` and `other`
   * (a recycled worktree: only the files that differ are written). `full: false` takes only the first.
   */
  async sample(head: string, other: string, all = true): Promise<void> {
    const index = this.kept.length;
    const timed = async (step: () => Promise<void>) => {
      const started = now();
      await step();
      return now() - started;
    };
    const full = join(this.dir, `full-${index}`);
    this.samples.full.push(await timed(() => execGit(this.repo, ["worktree", "add", "-q", "--detach", full, head])));
    this.kept.push({ path: full, full: true });
    if (!all) return;
    const bare = join(this.dir, `no-checkout-${index}`);
    this.samples.noCheckout.push(await timed(() => execGit(this.repo, ["worktree", "add", "-q", "--detach", "--no-checkout", bare, head])));
    this.kept.push({ path: bare, full: false });
    if (this.recycled === undefined) {
      this.recycled = join(this.dir, "recycled");
      await execGit(this.repo, ["worktree", "add", "-q", "--detach", this.recycled, head]);
    }
    this.flip = !this.flip;
    const recycled = this.recycled;
    this.samples.recycle.push(await timed(() => execGit(recycled, ["checkout", "-q", "--detach", this.flip ? other : head])));
  }

  /** Removes every tree it added (`git worktree remove --force`), timing the removal of each full one. */
  async removeAll(): Promise<void> {
    for (const { path, full } of this.kept) {
      const started = now();
      await execGit(this.repo, ["worktree", "remove", "--force", path]);
      if (full) this.samples.remove.push(now() - started);
    }
    if (this.recycled !== undefined) await execGit(this.repo, ["worktree", "remove", "--force", this.recycled]);
    this.kept.length = 0;
    this.recycled = undefined;
  }
}
