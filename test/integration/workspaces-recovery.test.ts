// Workspaces under failure (issue 12), with real processes: a real nats-server, `baton coordinator`, an integrator
// and `exec` workers whose agent edits real git repositories. A coordinator SIGKILLed around an integration still
// integrates once; a worker SIGKILLed mid-task in shared mode leaves no lock behind and its task is redone; overlapping
// scopes never run at once while disjoint ones do; rollback restores a checkpoint's exact tree, or refuses.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { controlFeature, sendControl } from "../../shared/client/index.ts";
import { followUntilEnd, submitAndFollow } from "../helpers/follow.ts";
import { branches, git, newRepo, worktreesOf } from "../helpers/git-feature.ts";
import { baton } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";
import { agentRuns, checkpointsOf, firstParentLog, historyNow, liveLocks, lockEntries, submit, waitForEvent, AGENT, type Ctx } from "../helpers/workspace-runs.ts";

const config = (dir: string) => `
workspaceRoots: [./repos]
coordinator: { ackWaitSeconds: 2, rescanSeconds: 1, lockLeaseSeconds: 3 }
worker: { ackWaitSeconds: 2, heartbeatSeconds: 1 }
roles:
  dev:
    exec: ["node", "./agent.mjs"]
    timeoutSeconds: 60
    concurrency: 4
    env: { AGENT_LOG: "${join(dir, "agent-log")}" }
`;

const stack = useStack({ tag: "wsrec", config, files: { "agent.mjs": AGENT }, dirs: ["repos", "agent-log"], workers: [["integrator", "int-1"], ["dev", "dev-1"]] });
const ctx: Ctx = { stack };

/** A fresh repository under the workspace root: README.md and src/keep.ts committed on `main`. */
const repo = () => newRepo(join(stack.dir, "repos"), { "README.md": "# demo\n", "src/keep.ts": "export const keep = 1;\n" });

/** Instructions for the agent: files to write (after `sleepMs`). */
const work = (write: Record<string, string>, sleepMs = 0, firstSleepMs?: number) => JSON.stringify({ write, sleepMs, firstSleepMs });

/** Replaces the process at `index` of the stack by `next` once it is ready (afterAll stops whatever is there). */
async function replace(index: number, next: ReturnType<typeof baton>, ready: RegExp): Promise<void> {
  stack.procs[index] = next;
  await next.waitFor(ready, 30_000);
}

/** The parsed JSON of a message, for matching (messages here are the protocol's, so JSON objects). */
const fields = (text: string) => JSON.parse(text) as { type?: string; featureId?: string; op?: { kind?: string } };

/**
 * Arranges the coordinator's death at `moment`: SIGKILL as soon as task.integrating is published; or SIGSTOP as soon as
 * it sends the integrate operation, then SIGKILL once the integrator's result is out (the merge is done, the frozen
 * coordinator never saw it). Core subscriptions see a message as it is published. Resolves once it is dead.
 */
function killAt(moment: "task.integrating" | "merged", victim: ReturnType<typeof baton>, featureId: string): Promise<number | string> {
  if (moment === "task.integrating") {
    stack.nc.subscribe(stack.n.status(featureId, "task.integrating"), { max: 1, callback: () => void victim.child.kill("SIGKILL") });
    return victim.exited;
  }
  const ops = stack.nc.subscribe(stack.n.task("integrator"), {
    callback: (_err, msg) => {
      const sent = fields(msg.string());
      if (sent.featureId === featureId && sent.op?.kind === "integrate") (victim.child.kill("SIGSTOP"), ops.unsubscribe());
    },
  });
  const results = stack.nc.subscribe(stack.n.result(featureId, "a"), {
    callback: (_err, msg) => {
      const sent = fields(msg.string());
      if (sent.type === "baton.v1.task_result" && sent.op?.kind === "integrate") (victim.child.kill("SIGKILL"), results.unsubscribe());
    },
  });
  return victim.exited;
}

describe("the coordinator SIGKILLed between gates passed and merged", () => {
  for (const moment of ["task.integrating", "merged"] as const) {
    const when = moment === "merged" ? "after the merge, before it saw the result" : "right after task.integrating";
    it(`killed ${when}: a new coordinator completes the feature and the task is integrated exactly once`, async () => {
      const id = moment === "merged" ? "ckill2" : "ckill1";
      const workspace = repo();
      const userHead = git(workspace, "rev-parse", "HEAD");
      const victim = stack.procs[0]!;
      const dead = killAt(moment, victim, id);
      await submit(ctx, {
        id, title: "survive a crash", workspace, maxParallel: 2, isolation: "worktree",
        tasks: [
          { id: "a", role: "dev", title: "A", files: ["src/a.ts"], instructions: work({ "src/a.ts": "export const a = 1;\n" }) },
          { id: "b", role: "dev", title: "B", dependsOn: ["a"], files: ["src/b.ts"], instructions: work({ "src/b.ts": "export const b = 2;\n" }) },
        ],
      });
      expect(await dead).toBe("SIGKILL");
      const next = baton(["coordinator", "--config", stack.cfg], stack.env);
      stack.procs[0] = next; // in place before anything can fail: the later tests need a coordinator
      // It died before it could record a checkpoint (the new one takes longer than this to start). After "merged",
      // the merge commit is on the branch already; after task.integrating the operation may be out or not.
      const before = { checkpoints: checkpointsOf(await historyNow(ctx, id), "a"), log: firstParentLog(workspace, `baton/${id}`) };
      await next.waitFor(/coordinator ready/, 30_000);
      expect(before.checkpoints).toEqual([]);
      if (moment === "merged") expect(before.log.map((c) => c.task)).toEqual([`${id}/a`, ""]);

      const { view, events } = await followUntilEnd(stack.nc, stack.n, id, { timeoutMs: 45_000 });
      expect(view.state, events.map((e) => e.kind).join(", ")).toBe("completed");
      expect(checkpointsOf(events, "a")).toHaveLength(1);
      expect(events.filter((e) => e.kind === "task.completed" && e.taskId === "a")).toHaveLength(1);
      const log = firstParentLog(workspace, `baton/${id}`);
      expect(log.map((c) => c.task)).toEqual([`${id}/b`, `${id}/a`, ""]); // newest first; the base has no trailer
      expect(log[1]!.parents).toBe(2); // a merge commit (--no-ff)
      expect(checkpointsOf(events, "a")[0]!.commit).toBe(log[1]!.commit);
      expect(git(workspace, "show", `baton/${id}:src/a.ts`)).toBe("export const a = 1;");
      // the user's checkout is untouched; once the workspace is finished nothing but the integration branch is left
      expect(await waitForEvent(ctx, id, (e) => e.kind === "feature.integrated")).toMatchObject({ branch: `baton/${id}` });
      expect(git(workspace, "rev-parse", "HEAD")).toBe(userHead);
      expect(git(workspace, "status", "--porcelain")).toBe("");
      expect(branches(workspace).sort()).toEqual(["baton/" + id, "main"]);
      expect(git(workspace, "worktree", "list", "--porcelain").match(/^worktree /gm)).toHaveLength(1);
    }, 60_000);
  }
});

describe("a worker SIGKILLed mid-task in shared mode", () => {
  it("a new worker redoes the task, taking its lock over; when it is done the locks bucket is empty", async () => {
    const id = "wkill";
    const workspace = repo();
    const victim = stack.procs[2]!;
    await submit(ctx, {
      id, title: "survive a worker", workspace,
      tasks: [{ id: "slow", role: "dev", title: "Slow", files: ["src/slow.ts"], instructions: work({ "src/slow.ts": "export const slow = true;\n" }, 500, 120_000) }], // the killed first run would sleep on
    });
    await waitForEvent(ctx, id, (e) => e.kind === "task.started" && e.taskId === "slow");
    // (on a loaded machine the entry may be written a moment after task_started: look until it is there)
    await expect.poll(async () => (await liveLocks(ctx)).length, { timeout: 10_000, interval: 100 }).toBe(1);
    const held = await liveLocks(ctx);
    expect(held.map((lock) => lock.holder)).toEqual([{ featureId: id, taskId: "slow", attempt: 1, workerId: "dev-1" }]);
    // its scope, with the coordinator's lease (lockLeaseSeconds 3): a dead holder's entry runs out within that
    expect(held[0]).toMatchObject({ scope: ["src/slow.ts"], leaseSeconds: 3 });
    expect(Date.parse(held[0]!.expiresAt)).toBeLessThanOrEqual(Date.now() + 3000);

    // kill it mid-run: once its agent has started (a first run that never started would leave nothing to redo)
    await expect.poll(() => agentRuns(ctx, id, "slow").length, { timeout: 20_000, interval: 100 }).toBe(1);
    victim.child.kill("SIGKILL");
    expect(await victim.exited).toBe("SIGKILL");
    await replace(2, baton(["worker", "--role", "dev", "--config", stack.cfg, "--id", "dev-2"], stack.env), /worker ready/);
    // the task is redelivered (worker ackWaitSeconds 2) to the new worker, which holds the lock while it runs
    // (its run is short, and its task_started may go out while it is still taking the lock over, or — on a loaded
    // machine — not before its result: the lock's holder and the completion say who did it)
    await expect.poll(async () => (await liveLocks(ctx)).map((lock) => lock.holder.workerId), { timeout: 20_000, interval: 100 }).toEqual(["dev-2"]);

    const { view, events } = await followUntilEnd(stack.nc, stack.n, id, { timeoutMs: 45_000 });
    expect(view.state, events.map((e) => e.kind).join(", ")).toBe("completed");
    const starts = events.flatMap((e) => (e.kind === "task.started" && e.taskId === "slow" ? [e.workerId] : []));
    expect(starts[0]).toBe("dev-1");
    expect(events.find((e) => e.kind === "task.completed" && e.taskId === "slow")).toMatchObject({ workerId: "dev-2" });
    expect(agentRuns(ctx, id, "slow").filter((run) => run.end !== undefined)).toHaveLength(1); // the killed run never finished
    expect(checkpointsOf(events, "slow")).toHaveLength(1);
    expect(git(workspace, "show", `baton/${id}:src/slow.ts`)).toBe("export const slow = true;");
    expect(await lockEntries(ctx)).toEqual([]); // not even an expired one: released, not left to expire
  }, 60_000);
});

describe("file-scope locks in shared mode", () => {
  it("with maxParallel 4, overlapping scopes never run at once while disjoint ones do", async () => {
    const id = "scopes";
    const workspace = repo();
    const task = (taskId: string, files: string[], path: string) =>
      ({ id: taskId, role: "dev", title: taskId, files, instructions: work({ [path]: `export const ${taskId} = 1;\n` }, 1500) });
    const { view, events } = await submitAndFollow(stack.nc, stack.n, {
      id, title: "scopes", workspace, maxParallel: 4, isolation: "shared",
      tasks: [task("wide", ["src/a/**"], "src/a/wide.ts"), task("narrow", ["src/a/x.ts"], "src/a/x.ts"), task("left", ["src/b/**"], "src/b/left.ts"), task("right", ["src/c/**"], "src/c/right.ts")],
    }, { timeoutMs: 45_000 });
    expect(view.state, events.map((e) => e.kind).join(", ")).toBe("completed");
    const [wide, narrow, left, right] = ["wide", "narrow", "left", "right"].map((taskId) => {
      const runs = agentRuns(ctx, id, taskId);
      expect(runs, taskId).toHaveLength(1);
      return runs[0]!;
    }) as [Run, Run, Run, Run];
    const overlap = (x: Run, y: Run) => x.start < y.end! && y.start < x.end!;
    expect(overlap(wide, narrow), JSON.stringify({ wide, narrow })).toBe(false);
    expect(overlap(left, right), JSON.stringify({ left, right })).toBe(true);
    // each task's files were committed by its own checkpoint
    for (const [taskId, path] of [["wide", "src/a/wide.ts"], ["narrow", "src/a/x.ts"], ["left", "src/b/left.ts"], ["right", "src/c/right.ts"]] as const) {
      expect(checkpointsOf(events, taskId).map((e) => e.files), taskId).toEqual([[path]]);
    }
    expect(await lockEntries(ctx)).toEqual([]);
  }, 60_000);
});

type Run = ReturnType<typeof agentRuns>[number];

describe("rollback", () => {
  it("refuses while a tracked file of the integration worktree is modified, then restores a's exact tree; resume completes", async () => {
    const id = "rollb";
    const workspace = repo();
    const userHead = git(workspace, "rev-parse", "HEAD");
    const { integration } = await worktreesOf(workspace, id, stack.env.XDG_CACHE_HOME);
    const step = (taskId: string, deps: string[], sleepMs = 0) =>
      ({ id: taskId, role: "dev", title: taskId, dependsOn: deps, files: [`src/${taskId}.ts`], instructions: work({ [`src/${taskId}.ts`]: `export const ${taskId} = 1;\n` }, sleepMs) });
    await submit(ctx, { id, title: "sequence", workspace, isolation: "worktree", tasks: [step("a", []), step("b", ["a"], 1500), step("c", ["b"])] });
    const checkpointA = await waitForEvent(ctx, id, (e) => e.kind === "checkpoint.created" && e.taskId === "a");
    if (checkpointA.kind !== "checkpoint.created") throw new Error("unreachable");
    await sendControl(stack.nc, stack.n, id, "pause", { by: "test" });
    const checkpointB = await waitForEvent(ctx, id, (e) => e.kind === "checkpoint.created" && e.taskId === "b");
    await waitForEvent(ctx, id, (e) => e.kind === "task.completed" && e.taskId === "b");
    const headB = git(workspace, "rev-parse", `baton/${id}`);
    expect(checkpointB).toMatchObject({ commit: headB });

    // a change that did not come from the feature: refused, naming the file; nothing moves
    writeFileSync(join(integration, "README.md"), "# edited by hand\n");
    const refused = await controlFeature(stack.nc, stack.n, id, "rollback", { rollback: { to: "a" }, waitMs: 20_000 });
    if (refused.kind !== "rejected") throw new Error(`expected a refusal, got ${JSON.stringify(refused)}`);
    expect(refused.error.code).toBe("ROLLBACK_REFUSED");
    expect(refused.error.message).toContain("README.md");
    expect(refused.error.details).toMatchObject({ files: ["README.md"] });
    expect(git(workspace, "rev-parse", `baton/${id}`)).toBe(headB);

    // put back as it was: the rollback goes through
    git(integration, "checkout", "--", "README.md");
    const done = await controlFeature(stack.nc, stack.n, id, "rollback", { rollback: { to: "a" }, by: "test", waitMs: 20_000 });
    if (done.kind !== "applied" || done.event.kind !== "feature.rolled_back") throw new Error(`expected feature.rolled_back, got ${JSON.stringify(done)}`);
    await waitForEvent(ctx, id, (e) => e.kind === "feature.paused" && (e.reason ?? "").startsWith("rollback:"));
    expect(done.event).toMatchObject({ to: checkpointA.commit, toTask: "a", by: "test" });
    expect(done.event.tasks).toContain("b");
    expect(done.event.tasks).not.toContain("a");
    expect(git(workspace, "rev-parse", `baton/${id}^{tree}`)).toBe(git(workspace, "rev-parse", `${checkpointA.commit}^{tree}`));
    expect(git(workspace, "ls-tree", "-r", "--name-only", `baton/${id}`).split("\n")).not.toContain("src/b.ts");
    expect(git(integration, "rev-parse", "HEAD")).toBe(checkpointA.commit);
    expect(git(integration, "status", "--porcelain")).toBe("");

    await sendControl(stack.nc, stack.n, id, "resume", { by: "test" });
    const { view, events: all } = await followUntilEnd(stack.nc, stack.n, id, { timeoutMs: 45_000 });
    expect(view.state, all.map((e) => e.kind).join(", ")).toBe("completed");
    expect(agentRuns(ctx, id, "b")).toHaveLength(2);
    expect(agentRuns(ctx, id, "c")).toHaveLength(1);
    const log = firstParentLog(workspace, `baton/${id}`);
    expect(log.map((c) => c.task)).toEqual([`${id}/c`, `${id}/b`, `${id}/a`, ""]);
    expect(log[2]!.commit).toBe(checkpointA.commit);
    expect(checkpointsOf(all, "b")).toHaveLength(2); // before and after the rollback
    expect(git(workspace, "show", `baton/${id}:src/c.ts`)).toBe("export const c = 1;");
    expect(git(workspace, "rev-parse", "HEAD")).toBe(userHead);
    expect(git(workspace, "status", "--porcelain")).toBe("");
  }, 60_000);
});
