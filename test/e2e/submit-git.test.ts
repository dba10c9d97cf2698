// `baton submit` and a request's workspace on this machine (issue 12): a folder that is not a git repository, or has
// no commit, is refused before anything is published (exit 2, with the remedy); `--init-git` makes it one (git init,
// .baton/ excluded, every file committed, under Baton's name where git has no identity) and the request then goes out.
// A workspace that does not exist here is left to the workers. A real nats-server and `baton coordinator`.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { featureHistory } from "../../shared/client/index.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { runBaton as run } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

const stack = useStack({ tag: "subgit", config: "roles:\n  backend:\n    executor: noop\n", workers: [] });

const git = (dir: string, ...args: string[]) => spawnSync("git", args, { cwd: dir, encoding: "utf8" });

/** A request file in `dir` (written as `req-<id>.json`) naming `workspace` (relative to the file). */
function requestFile(dir: string, id: string, workspace: string): string {
  const path = join(dir, `req-${id}.json`);
  writeFileSync(path, JSON.stringify({ id, title: `workspace ${workspace}`, workspace, tasks: [{ id: "a", role: "backend", title: "A" }] }));
  return path;
}

/** The submissions stream's last sequence: it moves when anything is published. */
async function lastSubmission(): Promise<number> {
  const jsm = await jetstreamManager(stack.nc);
  return (await jsm.streams.info(stack.n.streams.features)).state.last_seq;
}

/** The feature's acceptance, from its status history (waits for it). */
async function accepted(featureId: string): Promise<Extract<StatusEvent, { kind: "feature.accepted" }>> {
  for await (const event of featureHistory(stack.nc, stack.n, featureId, { follow: true, signal: AbortSignal.timeout(20_000) })) {
    if (event.kind === "feature.accepted") return event;
  }
  throw new Error(`${featureId} was not accepted`);
}

/** git with no identity configured anywhere (a fresh machine): no global or system config. */
const noIdentity = () => ({ HOME: join(stack.dir, "home"), XDG_CONFIG_HOME: join(stack.dir, "home"), GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: join(stack.dir, "home", "none") });

describe("baton submit: the workspace must be a git repository with a commit", () => {
  it("refuses a folder that is not a git repository, or has no commit, before publishing anything (exit 2)", async () => {
    const plain = join(stack.dir, "plain");
    mkdirSync(plain, { recursive: true });
    writeFileSync(join(plain, "a.txt"), "a\n");
    const before = await lastSubmission();
    const refused = await run(["submit", requestFile(stack.dir, "plain1", "./plain"), "--config", stack.cfg], stack.env);
    expect(refused.status, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`workspace ${plain} is not a git repository: Baton integrates each task as a commit on a branch; run \`git init\` there or submit with --init-git`);
    expect(refused.stdout).toBe("");

    const empty = join(stack.dir, "no-commit");
    mkdirSync(empty, { recursive: true });
    expect(git(empty, "init", "-q").status).toBe(0);
    const noCommit = await run(["submit", requestFile(stack.dir, "nocommit1", "./no-commit"), "--config", stack.cfg], stack.env);
    expect(noCommit.status, noCommit.stderr).toBe(2);
    expect(noCommit.stderr).toContain(`workspace ${empty} is a git repository without a commit`);
    expect(await lastSubmission()).toBe(before);
  }, 60_000);

  it("--init-git makes it one (first commit under Baton's name, .baton/ excluded), says so, and submits", async () => {
    const plain = join(stack.dir, "to-init");
    mkdirSync(join(plain, ".baton", "logs"), { recursive: true });
    writeFileSync(join(plain, "a.txt"), "a\n");
    writeFileSync(join(plain, ".baton", "logs", "up.log"), "run-time file\n");
    mkdirSync(noIdentity().HOME, { recursive: true });
    const ran = await run(["submit", requestFile(stack.dir, "init1", "./to-init"), "--init-git", "--config", stack.cfg], { ...stack.env, ...noIdentity() });
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stderr).toMatch(new RegExp(`--init-git: made ${plain} a git repository: commit [0-9a-f]{7,} "baton: initial commit" with 1 file \\(\\.baton/ excluded\\)`));
    expect(ran.stdout.trim()).toBe("init1");
    expect(git(plain, "log", "--format=%an <%ae> %s").stdout.trim()).toBe("Baton <baton@localhost> baton: initial commit");
    expect(git(plain, "ls-files").stdout.trim()).toBe("a.txt");
    expect(git(plain, "status", "--porcelain", "--untracked-files=all").stdout).toBe(""); // .baton/ is ignored, not left untracked
    expect(readFileSync(join(plain, ".git", "info", "exclude"), "utf8")).toMatch(/^\.baton\/$/m);
    expect((await accepted("init1")).workspace).toBe(plain);

    // A repository without a commit gets its first commit (the identity configured there is kept).
    const unborn = join(stack.dir, "unborn");
    mkdirSync(unborn, { recursive: true });
    writeFileSync(join(unborn, "b.txt"), "b\n");
    git(unborn, "init", "-q");
    git(unborn, "config", "user.name", "Ada");
    git(unborn, "config", "user.email", "ada@example.com");
    const second = await run(["submit", requestFile(stack.dir, "init2", "./unborn"), "--init-git", "--config", stack.cfg], { ...stack.env, ...noIdentity() });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain(`--init-git: gave the repository ${unborn} its first commit`);
    expect(git(unborn, "log", "--format=%an <%ae> %s").stdout.trim()).toBe("Ada <ada@example.com> baton: initial commit");

    // Now a git repository with a commit: submitted as it is, nothing made.
    const again = await run(["submit", requestFile(stack.dir, "init3", "./to-init"), "--init-git", "--config", stack.cfg], stack.env);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/--init-git:/);
    expect(git(plain, "rev-list", "--count", "HEAD").stdout.trim()).toBe("1");
  }, 60_000);

  it("leaves a workspace that does not exist on this machine to the workers", async () => {
    const ran = await run(["submit", requestFile(stack.dir, "elsewhere1", "/nonexistent/baton-ws"), "--config", stack.cfg], stack.env);
    expect(ran.status, ran.stderr).toBe(0);
    expect((await accepted("elsewhere1")).workspace).toBe("/nonexistent/baton-ws");
  }, 60_000);
});
