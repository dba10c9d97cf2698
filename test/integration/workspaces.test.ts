// Git features end to end (issue 12) with real processes: a real nats-server, `baton coordinator`, an exec-role
// worker whose script edits files in its worktree, a qa worker and an integrator worker, on real git repositories.
// Parallel tasks integrate as one merge commit each in DAG order; a conflict becomes a fix task; a failed gate is
// never integrated; declared artifacts are checked; a workspace that is not a git repository is rejected.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { encode } from "../../shared/codec.ts";
import { emptyView, featureHistory, foldEvent, type StatusEvent } from "../../shared/client/index.ts";
import type { FeatureView, TaskAssigned } from "../../shared/protocol/index.ts";
import { isWithin } from "../../services/worker/workspace/resolve.ts";
import { worktreesOf } from "../helpers/git-feature.ts";
import { gitRepo } from "../helpers/git-repo.ts";
import { useStack } from "../helpers/stack.ts";

/**
 * The backend role's script. It saves its stdin (the task message) and times under records/, then: when its
 * worktree has unmerged files (a conflict fix), resolves each by keeping both sides without markers; otherwise
 * follows its instructions ({"write": {path: text}, "sleepMs": n}). Its result names next steps.
 */
const AGENT = `
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
const stdin = readFileSync(0, "utf8");
const task = JSON.parse(stdin);
const records = fileURLToPath(new URL("./records/", import.meta.url));
const tag = task.featureId + "." + task.taskId + "." + task.attempt;
writeFileSync(join(records, tag + ".stdin.json"), stdin);
const startedAt = Date.now();
const unmerged = execFileSync("git", ["diff", "--name-only", "--diff-filter=U"], { encoding: "utf8" }).split("\\n").filter(Boolean);
if (unmerged.length) {
  for (const file of unmerged) {
    let base = false;
    const kept = [];
    for (const line of readFileSync(file, "utf8").split("\\n")) {
      if (line.startsWith("<<<<<<<") || line.startsWith(">>>>>>>")) base = false;
      else if (line.startsWith("|||||||")) base = true;
      else if (line.startsWith("=======")) base = false;
      else if (!base) kept.push(line);
    }
    writeFileSync(file, kept.join("\\n"));
    writeFileSync(join(records, tag + ".resolved.txt"), kept.join("\\n"));
  }
} else {
  const plan = JSON.parse(task.instructions || "{}");
  await new Promise((done) => setTimeout(done, plan.sleepMs ?? 0));
  for (const [path, text] of Object.entries(plan.write ?? {})) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}
writeFileSync(join(records, tag + ".times.json"), JSON.stringify({ startedAt, endedAt: Date.now(), unmerged, cwd: process.cwd() }));
writeFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: "did " + task.taskId, nextSteps: ["build on " + task.taskId] }));
`;

const CONFIG = `
workspaceRoots: [./ws]
knownRoles: [qa]
roles:
  backend:
    exec: ["node", "./agent.mjs"]
    concurrency: 4
    timeoutSeconds: 60
gates:
  broken:
    run: ["node", "-e", "process.exit(1)"]
    timeoutSeconds: 60
`;

const stack = useStack({
  tag: "wsint", config: CONFIG, files: { "agent.mjs": AGENT }, dirs: ["ws", "records"],
  workers: [["backend", "backend-1"], ["qa", "qa-1"], ["integrator", "integrator-1"]],
});

/** git in `dir`, stdout trimmed. */
const git = (dir: string, ...args: string[]): string => execFileSync("git", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

/** A fresh repository under the workspace root holding `files`, one commit; its real path. */
const repo = (name: string, files: Record<string, string>): string => realpathSync(gitRepo(join(stack.dir, "ws", name), files));
/** The user's checkout as they see it: HEAD, the branch it is on, and `git status` with untracked files. */
const checkout = (dir: string) => ({ head: git(dir, "rev-parse", "HEAD"), branch: git(dir, "branch", "--show-current"), status: git(dir, "status", "--porcelain", "--untracked-files=all") });

/** Instructions for the backend script. */
const plan = (write: Record<string, string>, sleepMs = 300): string => JSON.stringify({ write, sleepMs });

/** The task message a run of the backend script got on stdin. */
const stdinOf = (featureId: string, taskId: string): TaskAssigned => record(`${featureId}.${taskId}.1.stdin.json`) as TaskAssigned;
/** A JSON file the backend script wrote under records/. */
const record = (name: string): unknown => JSON.parse(readFileSync(join(stack.dir, "records", name), "utf8"));

/** Runs of the backend script for the feature (task ids, attempts), from its records. */
const runsOf = (featureId: string): string[] => readdirSync(join(stack.dir, "records")).filter((f) => f.startsWith(`${featureId}.`) && f.endsWith(".stdin.json")).map((f) => f.slice(featureId.length + 1, -".stdin.json".length));

/**
 * Publishes `request` on the submit subject and follows its history until it ended and its workspace was finished
 * (feature.integrated), or it was rejected.
 */
async function run(request: Record<string, unknown>, timeoutMs = 60_000): Promise<{ view: FeatureView; events: StatusEvent[] }> {
  const featureId = String(request.id);
  await jetstream(stack.nc).publish(stack.n.featureSubmit(), encode(request));
  const view = emptyView(featureId);
  const events: StatusEvent[] = [];
  const done = (e: StatusEvent) => e.kind === "feature.integrated" || e.kind === "feature.rejected";
  for await (const e of featureHistory(stack.nc, stack.n, featureId, { follow: true, until: done, signal: AbortSignal.timeout(timeoutMs) })) {
    events.push(e);
    foldEvent(view, e);
  }
  if (!events.some(done)) throw new Error(`${featureId} did not finish within ${timeoutMs} ms; events: ${events.map((e) => e.kind).join(", ")}`);
  return { view, events };
}

/** A history's failures and rejections, as a failed assertion's message. */
const endings = (events: StatusEvent[]): string => JSON.stringify(events.filter((e) => /failed|rejected/.test(e.kind)));
const ofKind = <K extends StatusEvent["kind"]>(events: StatusEvent[], kind: K) => events.filter((e): e is Extract<StatusEvent, { kind: K }> => e.kind === kind);

/** The integration branch's first-parent history, newest first: commit, parents, Baton-Task trailer. */
const firstParents = (dir: string, branch: string) =>
  git(dir, "log", "--first-parent", "--format=%H%x09%P%x09%(trailers:key=Baton-Task,valueonly,separator=)", branch).split("\n")
    .map((line) => line.split("\t")).map(([commit, parents, task]) => ({ commit: commit!, parents: (parents ?? "").split(" ").filter(Boolean), task: task?.trim() ?? "" }));

/** Worktrees of the repository (their paths) and its branches under baton/. */
const worktrees = (dir: string): string[] => git(dir, "worktree", "list", "--porcelain").split("\n").flatMap((l) => (l.startsWith("worktree ") ? [l.slice(9)] : []));
const batonBranches = (dir: string): string[] => git(dir, "branch", "--list", "baton/*", "--format=%(refname:short)").split("\n").filter(Boolean);

describe("git features with real workers, worktrees and an integrator", () => {
  it("three parallel tasks in worktrees and one depending on them: one merge commit each, in DAG order; the user's checkout untouched; nothing left behind", async () => {
    const dir = repo("three", { "README.md": "three\n" });
    const before = checkout(dir);
    const tasks = ["a", "b", "c"].map((id) => ({ id, role: "backend", title: `write ${id}`, instructions: plan({ [`src/${id}.txt`]: `from ${id}\n` }, 1000) }));
    const last = { id: "d", role: "backend", title: "write d", dependsOn: ["a", "b", "c"], instructions: plan({ "src/d.txt": "from d\n" }, 0) };
    const { view, events } = await run({ id: "three", title: "three in parallel", workspace: dir, maxParallel: 3, tasks: [...tasks, last] });
    expect(view.state, endings(events)).toBe("completed");

    // the three ran at once, each in its own worktree on its own branch
    const times = ["a", "b", "c"].map((id) => record(`three.${id}.1.times.json`) as { startedAt: number; endedAt: number; cwd: string });
    expect(Math.max(...times.map((t) => t.startedAt))).toBeLessThan(Math.min(...times.map((t) => t.endedAt)));
    expect(new Set(times.map((t) => t.cwd)).size).toBe(3);
    // in the worker's default place: the cache folder it was given (XDG_CACHE_HOME), not the repository's .git nor its work tree
    const paths = await worktreesOf(dir, "three", stack.env.XDG_CACHE_HOME);
    expect(times.map((t) => t.cwd).sort()).toEqual(["a", "b", "c"].map((id) => paths.task(id)));
    for (const t of times) expect(isWithin(t.cwd, join(dir, ".git")) || isWithin(t.cwd, dir), t.cwd).toBe(false);

    // first-parent history: the start, then one --no-ff merge per task, d's last; each checkpoint names its commit
    const history = firstParents(dir, "baton/three");
    expect(history).toHaveLength(5);
    expect(history.at(-1)!.commit).toBe(before.head);
    const merges = history.slice(0, -1).reverse();
    expect(merges.map((m) => m.task).slice(0, 3).sort()).toEqual(["three/a", "three/b", "three/c"]);
    expect(merges.map((m) => m.task)[3]).toBe("three/d");
    for (const m of merges) expect(m.parents).toHaveLength(2);
    const checkpoints = ofKind(events, "checkpoint.created");
    const dispatchedD = events.findIndex((e) => e.kind === "task.dispatched" && e.taskId === "d");
    for (const c of checkpoints.filter((c) => c.taskId !== "d")) expect(events.indexOf(c)).toBeLessThan(dispatchedD);
    expect(checkpoints.map((c) => [c.taskId, c.commit]).sort()).toEqual(merges.map((m) => [m.task.slice("three/".length), m.commit]).sort());
    for (const c of checkpoints) expect(c.files).toEqual([`src/${c.taskId}.txt`]);
    // a task completes only after its checkpoint
    for (const c of checkpoints) expect(events.indexOf(c)).toBeLessThan(events.findIndex((e) => e.kind === "task.completed" && e.taskId === c.taskId));
    for (const id of ["a", "b", "c", "d"]) expect(git(dir, "show", `baton/three:src/${id}.txt`)).toBe(`from ${id}`);

    // the user's checkout: same HEAD and branch, clean, none of the files
    expect(checkout(dir)).toEqual(before);
    for (const id of ["a", "b", "c", "d"]) expect(existsSync(join(dir, "src", `${id}.txt`))).toBe(false);

    // after the finish: only the main worktree, only the integration branch
    expect(ofKind(events, "feature.integrated")).toMatchObject([{ branch: "baton/three", head: merges[3]!.commit }]);
    expect(worktrees(dir)).toEqual([dir]);
    expect(batonBranches(dir)).toEqual(["baton/three"]);

    // d was handed what git says each dependency changed, its checkpoint and its next steps
    const handoffs = stdinOf("three", "d").handoffs;
    expect(handoffs.map((h) => h.taskId).sort()).toEqual(["a", "b", "c"]);
    for (const h of handoffs) {
      expect(h.changes).toMatchObject({ files: [`src/${h.taskId}.txt`], insertions: 1, deletions: 0 });
      expect(h.commit).toBe(checkpoints.find((c) => c.taskId === h.taskId)!.commit);
      expect(h.nextSteps).toEqual([`build on ${h.taskId}`]);
    }
  }, 90_000);

  it("two parallel tasks editing the same line: the second to merge conflicts, a fix task of its role resolves it, then it integrates", async () => {
    const dir = repo("clash", { "shared.txt": "original\n" });
    const before = checkout(dir);
    const tasks = ["x", "y"].map((id) => ({ id, role: "backend", title: `edit as ${id}`, instructions: plan({ "shared.txt": `from ${id}\n` }) }));
    const { view, events } = await run({ id: "clash", title: "same line", workspace: dir, maxParallel: 2, tasks });
    expect(view.state, endings(events)).toBe("completed");

    const conflicts = ofKind(events, "task.conflict");
    expect(conflicts).toHaveLength(1);
    const loser = conflicts[0]!.taskId;
    const winner = loser === "x" ? "y" : "x";
    expect(conflicts[0]).toMatchObject({ files: ["shared.txt"], round: 1, fixTaskId: `${loser}-merge-1`, role: "backend" });
    // the winner was integrated first; the fix task ran for the same role, in the loser's worktree with the conflict left in
    const fix = stdinOf("clash", `${loser}-merge-1`);
    expect(fix.role).toBe("backend");
    const fixTimes = record(`clash.${loser}-merge-1.1.times.json`) as { unmerged: string[]; cwd: string };
    expect(fixTimes.unmerged).toEqual(["shared.txt"]);
    expect(fixTimes.cwd).toBe((await worktreesOf(dir, "clash", stack.env.XDG_CACHE_HOME)).task(loser)); // git checks a branch out in one worktree only

    const checkpoints = ofKind(events, "checkpoint.created");
    expect(checkpoints.map((c) => c.taskId)).toEqual([winner, loser]);
    const resolved = readFileSync(join(stack.dir, "records", `clash.${loser}-merge-1.1.resolved.txt`), "utf8");
    expect(resolved).not.toMatch(/^(<<<<<<<|=======|>>>>>>>)/m);
    expect(resolved).toContain("from x");
    expect(resolved).toContain("from y");
    expect(execFileSync("git", ["show", "baton/clash:shared.txt"], { cwd: dir, encoding: "utf8" })).toBe(resolved);
    const history = firstParents(dir, "baton/clash");
    expect(history.map((h) => h.task)).toEqual([`clash/${loser}`, `clash/${winner}`, ""]);
    expect(history[0]!.commit).toBe(checkpoints[1]!.commit);

    expect(checkout(dir)).toEqual(before);
    expect(worktrees(dir)).toEqual([dir]);
    expect(batonBranches(dir)).toEqual(["baton/clash"]);
  }, 90_000);

  it("a task whose gate fails is never integrated: the feature fails and its branches and worktrees are removed", async () => {
    const dir = repo("gatefail", { "README.md": "gate\n" });
    const before = checkout(dir);
    const { view, events } = await run({
      id: "gatefail", title: "broken gate", workspace: dir, maxParallel: 2,
      tasks: [
        { id: "bad", role: "backend", title: "write bad", gates: ["broken"], instructions: plan({ "src/bad.txt": "bad\n" }, 0) },
        { id: "after", role: "backend", title: "after bad", dependsOn: ["bad"], instructions: plan({ "src/after.txt": "after\n" }, 0) },
      ],
    });
    expect(view.state, endings(events)).toBe("failed");
    expect(ofKind(events, "gate.failed")).toMatchObject([{ gate: "broken", taskId: "bad", exitCode: 1 }]);
    expect(ofKind(events, "task.integrating")).toEqual([]);
    expect(ofKind(events, "checkpoint.created")).toEqual([]);
    expect(ofKind(events, "task.dispatched").map((e) => e.taskId)).toEqual(["bad"]);
    expect(runsOf("gatefail")).toEqual(["bad.1"]);

    expect(ofKind(events, "feature.integrated")).toMatchObject([{ branch: "baton/gatefail", fastForwarded: false }]);
    expect(batonBranches(dir)).toEqual([]);
    expect(worktrees(dir)).toEqual([dir]);
    expect(existsSync((await worktreesOf(dir, "gatefail", stack.env.XDG_CACHE_HOME)).feature)).toBe(false);
    expect(checkout(dir)).toEqual(before);
  }, 90_000);

  it("an invalid OpenAPI artifact fails its task with the validator's message and its dependent never starts", async () => {
    const dir = repo("badapi", { "README.md": "api\n" });
    const { view, events } = await run({
      id: "badapi", title: "bad api", workspace: dir, maxParallel: 2,
      tasks: [
        { id: "spec", role: "backend", title: "write the spec", produces: ["docs/openapi.yaml"], instructions: plan({ "docs/openapi.yaml": "openapi: 3.0.3\npaths: {}\n" }, 0) },
        { id: "impl", role: "backend", title: "implement it", dependsOn: ["spec"], instructions: plan({ "src/impl.txt": "impl\n" }, 0) },
      ],
    });
    expect(view.state, endings(events)).toBe("failed");
    const failed = ofKind(events, "task.failed").find((e) => e.taskId === "spec");
    expect(failed?.error).toMatchObject({ code: "ARTIFACT_INVALID" });
    expect(failed!.error.message).toContain("docs/openapi.yaml");
    expect(failed!.error.message).toMatch(/info/);
    expect(failed!.error.details).toMatchObject({ problems: [{ path: "docs/openapi.yaml", messages: expect.arrayContaining([expect.stringMatching(/'info'/)]) }] });
    expect(ofKind(events, "checkpoint.created")).toEqual([]);
    expect(ofKind(events, "task.dispatched").map((e) => e.taskId)).toEqual(["spec"]);
    expect(runsOf("badapi")).toEqual(["spec.1"]);
  }, 90_000);

  // The worker's own check after the work (result `artifacts`) is published as artifact.invalid, as the integrator's is.
  it("an invalid artifact found after the work is reported as artifact.invalid too", async () => {
    const dir = repo("badapi2", { "README.md": "api\n" });
    const { events } = await run({
      id: "badapi2", title: "bad api", workspace: dir, maxParallel: 2,
      tasks: [{ id: "spec", role: "backend", title: "write the spec", produces: ["docs/openapi.yaml"], instructions: plan({ "docs/openapi.yaml": "openapi: 3.0.3\npaths: {}\n" }, 0) }],
    });
    expect(ofKind(events, "task.failed")).toMatchObject([{ taskId: "spec", error: { code: "ARTIFACT_INVALID" } }]);
    expect(ofKind(events, "artifact.invalid")).toMatchObject([{ taskId: "spec", problems: [{ path: "docs/openapi.yaml" }] }]);
  }, 60_000);

  it("a valid OpenAPI artifact is integrated and its dependent is handed its path (shared mode)", async () => {
    const dir = repo("goodapi", { "README.md": "api\n" });
    const spec = "openapi: 3.0.3\ninfo:\n  title: todos\n  version: '1'\npaths: {}\n";
    const { view, events } = await run({
      id: "goodapi", title: "good api", workspace: dir,
      tasks: [
        { id: "spec", role: "backend", title: "write the spec", produces: ["docs/openapi.yaml"], files: ["docs/**"], instructions: plan({ "docs/openapi.yaml": spec }, 0) },
        { id: "impl", role: "backend", title: "implement it", dependsOn: ["spec"], files: ["src/**"], instructions: plan({ "src/impl.txt": "impl\n" }, 0) },
      ],
    });
    expect(view.state, endings(events)).toBe("completed");
    expect(ofKind(events, "checkpoint.created").map((c) => [c.taskId, c.files])).toEqual([["spec", ["docs/openapi.yaml"]], ["impl", ["src/impl.txt"]]]);
    const [handoff] = stdinOf("goodapi", "impl").handoffs;
    expect(handoff).toMatchObject({ taskId: "spec", artifacts: ["docs/openapi.yaml"], changes: { files: ["docs/openapi.yaml"] } });
    expect(execFileSync("git", ["show", "baton/goodapi:docs/openapi.yaml"], { cwd: dir, encoding: "utf8" })).toBe(spec);
  }, 90_000);

  it("a workspace that is not a git repository is rejected, naming the workspace", async () => {
    const plain = join(stack.dir, "ws", "plain");
    mkdirSync(plain, { recursive: true });
    writeFileSync(join(plain, "a.txt"), "a\n");
    const { view, events } = await run({ id: "notgit", title: "no git", workspace: realpathSync(plain), tasks: [{ id: "a", role: "backend", title: "A", instructions: plan({ "b.txt": "b\n" }, 0) }] });
    expect(view.state).toBe("rejected");
    const rejected = ofKind(events, "feature.rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.errors).toEqual([{ path: "workspace", message: expect.stringContaining("not a git repository") }]);
    expect(ofKind(events, "task.dispatched")).toEqual([]);
    expect(runsOf("notgit")).toEqual([]);
    expect(existsSync(join(plain, ".git"))).toBe(false);
  }, 60_000);
});
