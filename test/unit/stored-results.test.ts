// Results out of the snapshot and agent sessions across fix rounds, in the pure feature machine: a stored result
// is kept as its reference and summary preview (never the body), handed to dependents and reviews by reference;
// a fix task continues its owner's session, and a completed fix round's session becomes the owner's.
import { describe, expect, it } from "vitest";
import { SUMMARY_PREVIEW_CHARS, type AgentSession, type StoredRef, type TaskAssigned, type TaskResult } from "../../shared/protocol/index.ts";
import { FeatureHarness } from "../helpers/feature-harness.ts";

const ref = (key: string): StoredRef => ({ key, bytes: 512 * 1024, sha256: "a".repeat(64) });
const session = (id: string): AgentSession => ({ agent: "claude-code", id, host: "build-1" });

/** The worker's result for the latest work message of `taskId`, with `extra` fields. */
function work(c: FeatureHarness, taskId: string, extra: Partial<TaskResult>) {
  const a: TaskAssigned = c.latest((x) => x.taskId === taskId && !x.gate);
  const msg: TaskResult = {
    type: "baton.v1.task_result", featureId: a.featureId, taskId, attempt: a.attempt, role: a.role, workerId: "w1",
    outcome: "completed", startedAt: a.dispatchedAt, finishedAt: c.now(), exitCode: 0, ...extra,
  };
  return c.send({ type: "task.result", at: c.now(), msg });
}

describe("stored results", () => {
  it("a stored result is kept as its reference and summary preview; the dependent gets the reference, the snapshot stays small", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", maxParallel: 2, tasks: [{ id: "api", role: "backend", title: "api" }, { id: "ui", role: "frontend", title: "ui", dependsOn: ["api"] }] });
    const preview = "p".repeat(SUMMARY_PREVIEW_CHARS);
    const r = work(c, "api", { summary: preview, stored: ref("feat.api.1.aaaaaaaaaaaaaaaa") });
    expect(r.context.tasks.api).toMatchObject({ status: "completed", summary: preview, stored: ref("feat.api.1.aaaaaaaaaaaaaaaa") });
    expect(r.context.tasks.api!.handoff).toBeUndefined();
    expect(c.events.find((e) => e.kind === "task.completed")).toMatchObject({ taskId: "api", summary: preview, stored: { key: "feat.api.1.aaaaaaaaaaaaaaaa" } });
    const ui = c.latest((x) => x.taskId === "ui");
    expect(ui.handoffs).toEqual([{ taskId: "api", role: "backend", summary: preview, stored: ref("feat.api.1.aaaaaaaaaaaaaaaa") }]);
    expect(JSON.stringify(c.stored).length).toBeLessThan(16 * 1024);
  });

  it("never keeps a large body from a worker that sent one along with its reference", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", tasks: [{ id: "api", role: "backend", title: "api" }] });
    const r = work(c, "api", { summary: "s".repeat(50_000), handoff: { blob: "h".repeat(200_000) }, stored: ref("feat.api.1.bbbbbbbbbbbbbbbb") });
    expect(r.context.tasks.api!.summary).toHaveLength(SUMMARY_PREVIEW_CHARS);
    expect(r.context.tasks.api!.handoff).toBeUndefined();
    expect(JSON.stringify(c.stored).length).toBeLessThan(16 * 1024);
  });

  it("a small result stays inline, and a retried attempt's stored reference does not outlive it", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"], onFailure: { retry: { maxAttempts: 2, backoffSeconds: 1 }, then: "fail" } }, { id: "ui", role: "frontend", title: "ui", dependsOn: ["api"] }] });
    work(c, "api", { summary: "big", stored: ref("feat.api.1.cccccccccccccccc") });
    c.gate("unit", false);
    c.timer(Date.parse(c.now()) + 60_000);
    work(c, "api", { summary: "small", handoff: { files: ["a.ts"] } });
    const r = c.gate("unit", true);
    expect(r.context.tasks.api).toMatchObject({ status: "completed", attempt: 2, summary: "small", handoff: { files: ["a.ts"] } });
    expect(r.context.tasks.api!.stored).toBeUndefined();
    expect(c.latest((x) => x.taskId === "ui").handoffs).toEqual([{ taskId: "api", role: "backend", summary: "small", handoff: { files: ["a.ts"] }, gates: [{ name: "unit" }] }]); // the gates it passed are handed on too
  });

  it("a review sees the reviewed task's result by reference", () => {
    const c = new FeatureHarness();
    c.submit({ title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["review"] }] });
    work(c, "api", { summary: "preview", stored: ref("feat.api.1.dddddddddddddddd") });
    const review = c.latest((x) => x.gate?.name === "review");
    expect(review.handoffs).toEqual([{ taskId: "api", role: "backend", summary: "preview", stored: ref("feat.api.1.dddddddddddddddd") }]);
  });
});

describe("agent sessions across fix rounds", () => {
  const request = { title: "t", tasks: [{ id: "api", role: "backend", title: "api", gates: ["unit"], onFailure: { fix: { maxRounds: 3, role: "backend" }, then: "fail" } }] };

  it("round 1 continues the task's session, round 2 continues round 1's; a round that reports none keeps the last", () => {
    const c = new FeatureHarness();
    c.submit(request);
    expect(c.latest((x) => x.taskId === "api").session).toBeUndefined();
    work(c, "api", { session: session("s-work") });
    c.gate("unit", false);
    expect(c.latest((x) => x.taskId === "api-fix-1").session).toEqual(session("s-work"));
    let r = work(c, "api-fix-1", { session: session("s-fix-1") });
    expect(r.context.tasks.api!.session).toEqual(session("s-fix-1"));
    c.gate("unit", false);
    expect(c.latest((x) => x.taskId === "api-fix-2").session).toEqual(session("s-fix-1"));
    work(c, "api-fix-2", {}); // e.g. an exec fixer: no session
    c.gate("unit", false);
    expect(c.latest((x) => x.taskId === "api-fix-3").session).toEqual(session("s-fix-1"));
    work(c, "api-fix-3", { session: session("s-fix-3") });
    r = c.gate("unit", true);
    expect(r.state).toBe("completed");
    expect(r.context.tasks.api!.session).toEqual(session("s-fix-3"));
  });

  it("a task whose work had no session gets fix tasks without one", () => {
    const c = new FeatureHarness();
    c.submit(request);
    work(c, "api", {});
    c.gate("unit", false);
    expect(c.latest((x) => x.taskId === "api-fix-1").session).toBeUndefined();
  });
});
