// Phantom completion: workspace snapshots on real temporary git repositories (and plain folders), driven by
// real git processes; then through a real `baton worker` whose agent changes nothing, the wrong files, or the right ones.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { changedPaths, snapshotWorkspace, startChangeCheck } from "../../services/worker/workspace/changes.ts";
import { silentLogger } from "../../shared/logging.ts";
import { workerSuite } from "./worker-harness.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "baton-phantom-"));
  dirs.push(d);
  return d;
};
const git = (dir: string, ...args: string[]): string =>
  execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8" });
const write = (dir: string, path: string, text: string) => {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), text);
};

/** A git repository with a first commit: a.txt, b.txt, src/app.js, and dist/ ignored. */
function repo(): string {
  const d = tempDir();
  git(d, "init", "-q");
  write(d, ".gitignore", "dist/\n");
  write(d, "a.txt", "a\n");
  write(d, "b.txt", "b\n");
  write(d, "src/app.js", "export {};\n");
  git(d, "add", "-A");
  git(d, "commit", "-qm", "first");
  return d;
}

/** What changed in `dir` while `act` ran. */
async function changesDuring(dir: string, act: () => void): Promise<{ paths: string[]; kind: string }> {
  const before = await snapshotWorkspace(dir);
  act();
  const after = await snapshotWorkspace(dir, { since: before });
  return { paths: changedPaths(before, after), kind: after.kind };
}

describe("workspace snapshots", () => {
  it("git: a modified tracked file, an added untracked file and a deleted file changed; nothing else did", async () => {
    const d = repo();
    expect(await changesDuring(d, () => {})).toEqual({ paths: [], kind: "git" });
    const r = await changesDuring(d, () => {
      write(d, "a.txt", "a, changed\n");
      write(d, "new/deep/file.txt", "new\n");
      unlinkSync(join(d, "b.txt"));
    });
    expect(r).toEqual({ paths: ["a.txt", "b.txt", "new/deep/file.txt"], kind: "git" });
  });

  it("git: a file that was already modified counts when it is modified again, not when it is left as it was", async () => {
    const d = repo();
    write(d, "a.txt", "someone else's edit\n");
    write(d, "untracked.txt", "left over\n");
    expect((await changesDuring(d, () => {})).paths).toEqual([]);
    // same size, written within the same second: the content hash tells
    expect((await changesDuring(d, () => write(d, "a.txt", "someone ELSE's edit\n"))).paths).toEqual(["a.txt"]);
    expect((await changesDuring(d, () => write(d, "untracked.txt", "left 0ver\n"))).paths).toEqual(["untracked.txt"]);
    // restoring a file to its committed content is a change too
    expect((await changesDuring(d, () => git(d, "checkout", "--", "a.txt"))).paths).toEqual(["a.txt"]);
  });

  it("git: a commit made by the agent shows its files, even with a clean work tree after it", async () => {
    const d = repo();
    write(d, "wip.txt", "dirty before the task\n");
    const r = await changesDuring(d, () => {
      write(d, "src/app.js", "export const x = 1;\n");
      write(d, "src/new.js", "export {};\n");
      git(d, "add", "src");
      git(d, "commit", "-qm", "the agent's work");
    });
    expect(r.paths).toEqual(["src/app.js", "src/new.js"]);
  });

  it("git: the first commit of a repository without one counts", async () => {
    const d = tempDir();
    git(d, "init", "-q");
    const r = await changesDuring(d, () => {
      write(d, "README.md", "hello\n");
      git(d, "add", "-A");
      git(d, "commit", "-qm", "first");
    });
    expect(r.paths).toEqual(["README.md"]);
  });

  it("git: ignored files do not count", async () => {
    const d = repo();
    expect((await changesDuring(d, () => write(d, "dist/bundle.js", "built\n"))).paths).toEqual([]);
  });

  it("git: a workspace in a subfolder sees only its own changes, with paths relative to it", async () => {
    const d = repo();
    const ws = join(d, "src");
    const r = await changesDuring(ws, () => {
      write(d, "a.txt", "outside the workspace\n");
      write(ws, "app.js", "export const y = 2;\n");
      write(ws, "lib/util.js", "export {};\n");
    });
    expect(r).toEqual({ paths: ["app.js", "lib/util.js"], kind: "git" });
  });

  it("a workspace the enclosing repository ignores is walked instead (else no change would ever show)", async () => {
    const d = repo();
    const ws = join(d, "dist", "feature-1");
    mkdirSync(ws, { recursive: true });
    expect(await changesDuring(ws, () => write(ws, "out.txt", "x\n"))).toEqual({ paths: ["out.txt"], kind: "files" });
  });

  it("outside git: files added, changed and removed count; node_modules does not", async () => {
    const d = tempDir();
    write(d, "keep.txt", "k\n");
    write(d, "gone.txt", "g\n");
    write(d, "edit.txt", "e\n");
    const r = await changesDuring(d, () => {
      write(d, "edit.txt", "edited\n");
      unlinkSync(join(d, "gone.txt"));
      write(d, "sub/new.txt", "n\n");
      write(d, "node_modules/pkg/index.js", "x\n");
    });
    expect(r).toEqual({ paths: ["edit.txt", "gone.txt", "sub/new.txt"], kind: "files" });
  });

  it("fails soft: a check whose snapshot cannot be taken gives no verdict instead of failing the task", async () => {
    const missing = await startChangeCheck({ expectChanges: true }, join(tmpdir(), "baton-phantom-does-not-exist"), silentLogger);
    expect(await missing.verdict()).toBeUndefined();
    const d = repo();
    const lost = await startChangeCheck({ expectChanges: true }, d, silentLogger);
    rmSync(join(d, ".git"), { recursive: true, force: true }); // no longer a repository: the snapshots cannot be compared
    expect(await lost.verdict()).toBeUndefined();
    // and when it works, an idle task gets its verdict
    const e = repo();
    const idle = await startChangeCheck({ files: ["src/**"] }, e, silentLogger);
    expect(await idle.verdict()).toMatchObject({ code: "NO_CHANGES", message: "no changes (expected changes to src/**)" });
  });
});

const suite = workerSuite();

describe("baton worker: phantom completion", () => {
  it("fails a task that was to change files and did not (NO_CHANGES); completes one that did; a failure keeps its error", async () => {
    const t = await suite.setup(
      { roles: { backend: { exec: ["./agent.sh"] } }, workspaceRoots: [tmpdir()] }, // repo() makes each workspace there
      {
        "agent.sh": `case "$BATON_TASK_ID" in
  idle|idle-default|not-asked) echo "all done (not really)" ;;
  writes-src) mkdir -p src/api && echo 'export const api = 1;' > src/api/todos.js ;;
  writes-other) echo "some notes" > NOTES.md ;;
  commits) echo "more" >> a.txt && git -c user.name=agent -c user.email=agent@example.com -c commit.gpgsign=false commit -qam "agent work" ;;
  broken) echo "boom" >&2; exit 3 ;;
esac`,
      },
    );
    const w = await t.worker("backend");
    const files = ["src/**/*.js", "docs/openapi.yaml"];
    const cases = {
      idle: { expectChanges: true },
      "writes-src": { files, expectChanges: true },
      "writes-other": { files, expectChanges: true },
      commits: { expectChanges: true },
      broken: { expectChanges: true },
      "not-asked": {},
    } as const;
    for (const [taskId, over] of Object.entries(cases)) await t.publish("backend", { taskId, workspace: repo(), ...over });
    await t.publish("backend", { taskId: "idle-default", expectChanges: true }); // default workspace: not in git
    const result = async (taskId: string) => (await t.msgs.until(() => t.msgs.results(taskId).length && t.msgs.results(taskId)))[0]!;

    expect(await result("idle")).toMatchObject({ outcome: "failed", exitCode: 0, error: { name: "NoChanges", code: "NO_CHANGES", message: "no changes in the workspace" } });
    expect(await result("idle-default")).toMatchObject({ outcome: "failed", error: { code: "NO_CHANGES", message: "no changes in the workspace" } });
    expect(await result("writes-src")).toMatchObject({ outcome: "completed", exitCode: 0 });
    expect(await result("writes-other")).toMatchObject({
      outcome: "failed",
      error: { code: "NO_CHANGES", message: "no changes (expected changes to src/**/*.js, docs/openapi.yaml; changed only NOTES.md)" },
    });
    expect(await result("commits")).toMatchObject({ outcome: "completed" });
    expect(await result("broken")).toMatchObject({ outcome: "failed", exitCode: 3, error: { code: "EXIT_CODE" } });
    expect(await result("not-asked")).toMatchObject({ outcome: "completed" });
    expect(w.output()).not.toMatch(/phantom-completion check skipped/);
    await t.msgs.until(async () => (await suite.queued(t.n)) === 0);
  });
});
