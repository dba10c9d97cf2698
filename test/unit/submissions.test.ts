// Issue 10 (1, 2, 12): request hashes, a reused id, every validation problem at once, roles a request needs,
// dispatch deadlines and task.unserved in the pure domain.
import { describe, expect, it } from "vitest";
import { emptyView, foldEvent } from "../../shared/client/feature-view.ts";
import { canonicalJson, checkFeatureValue, FeatureRequest, IMPLICIT_ROLES, requestHash, StatusEvent } from "../../shared/protocol/index.ts";
import { submissionMsgId } from "../../shared/protocol/msg-ids.ts";
import { didYouMean, editDistance } from "../../shared/protocol/suggest.ts";
import { dispatchDeadline, nextDeadline } from "../../services/coordinator/domain/deadlines.ts";
import { GATE_ROLE, REVIEW_ROLE } from "../../services/coordinator/domain/dispatch.ts";
import { waitingRuns } from "../../services/coordinator/domain/unserved.ts";
import { reuseRefusal } from "../../services/coordinator/runtime/ingress.ts";
import { FeatureHarness, T0 } from "../helpers/feature-harness.ts";

const req = (over: Record<string, unknown> = {}) => ({ id: "f1", title: "t", tasks: [{ id: "a", role: "backend", title: "a" }], ...over });
const errorsOf = (value: unknown, limits: Parameters<typeof checkFeatureValue>[1] = {}) => {
  const r = checkFeatureValue(value, limits);
  return r.ok ? [] : r.errors;
};

describe("requestHash", () => {
  it("is the same for the same request however it is written: key order, defaults, the type tag", () => {
    const plain = FeatureRequest.parse(req({ onFailure: { retry: { maxAttempts: 2 } } }));
    const spelled = FeatureRequest.parse({
      type: "baton.v1.feature_request", onFailure: { then: "fail", retry: { backoffSeconds: 5, maxAttempts: 2 } },
      tasks: [{ title: "a", role: "backend", id: "a" }], title: "t", id: "f1",
    });
    expect(requestHash(spelled)).toBe(requestHash(plain));
    expect(requestHash(plain)).toMatch(/^[0-9a-f]{64}$/);
  });
  it("differs when anything in the request differs", () => {
    const base = requestHash(FeatureRequest.parse(req()));
    expect(requestHash(FeatureRequest.parse(req({ title: "t2" })))).not.toBe(base);
    expect(requestHash(FeatureRequest.parse(req({ tasks: [{ id: "a", role: "docs", title: "a" }] })))).not.toBe(base);
    expect(requestHash(FeatureRequest.parse(req({ maxParallel: 1 })))).not.toBe(base);
  });
  it("canonical JSON sorts keys at every level and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } })).toBe('{"a":{"d":[2,1]},"b":1}');
  });
  it("makes the submission msg id differ for a different request under the same id", () => {
    expect(submissionMsgId("f1", "aa")).not.toBe(submissionMsgId("f1", "bb"));
    expect(submissionMsgId("f1", "aa")).toBe(submissionMsgId("f1", "aa"));
  });
});

describe("a reused id", () => {
  it("is a repeat with the same hash, refused naming the feature and its state otherwise", () => {
    expect(reuseRefusal("f1", "h1", "executing", { requestHash: "h1" })).toBeUndefined();
    expect(reuseRefusal("f1", "h2", "completed", { requestHash: "h1" })).toEqual({ path: "id", message: expect.stringMatching(/^feature "f1" already exists \(completed\) from a different request; .*new id/) });
  });
  it("is refused when the existing feature predates hashes (cannot tell), saying so", () => {
    expect(reuseRefusal("f1", "h1", "executing", {})!.message).toMatch(/already exists \(executing\) from a request submitted before Baton fingerprinted requests, so this one cannot be told apart/);
  });
  it("the accepted feature keeps its hash and announces it", () => {
    const h = new FeatureHarness("f1");
    const r = h.submit(req());
    expect(r.context.requestHash).toBe(requestHash(FeatureRequest.parse(req())));
    expect(h.events[0]).toMatchObject({ kind: "feature.accepted", requestHash: r.context.requestHash });
  });
  it("a seq-0 refusal notice changes nothing in a folded view of the existing feature", () => {
    const h = new FeatureHarness("f1");
    h.submit(req());
    const view = emptyView("f1");
    for (const e of h.events) foldEvent(view, e);
    const before = JSON.stringify(view);
    const notice = StatusEvent.parse({
      type: "baton.v1.status_event", featureId: "f1", seq: 0, at: new Date(T0).toISOString(), kind: "feature.rejected",
      errors: [{ path: "id", message: "x" }], reason: "duplicate-id", existing: { state: "executing" }, requestHash: "ff",
    });
    foldEvent(view, notice);
    expect(JSON.stringify(view)).toBe(before);
    expect(view.state).toBe("executing");
  });
});

describe("validation reports every problem at once", () => {
  it("every elementary cycle, in dependsOn direction, also when dependencies are unknown", () => {
    // a dependsOn b and c; b dependsOn c; c dependsOn a: two cycles through a; plus an unknown dependency
    const tasks = [
      { id: "a", role: "r", title: "a", dependsOn: ["b", "c"] },
      { id: "b", role: "r", title: "b", dependsOn: ["c", "nope"] },
      { id: "c", role: "r", title: "c", dependsOn: ["a"] },
    ];
    const messages = errorsOf(req({ tasks })).map((e) => e.message);
    expect(messages).toEqual([
      'unknown task id "nope" in dependsOn of "b"',
      "dependency cycle: a dependsOn b dependsOn c dependsOn a",
      "dependency cycle: a dependsOn c dependsOn a",
    ]);
  });
  it("misspelt fields, roles and gates with the nearest real name", () => {
    const errors = errorsOf(
      req({ titel: "x", tasks: [{ id: "a", role: "bakend", title: "a", dependOn: [], gates: ["unti"] }] }),
      { roles: ["backend", "qa"], gates: ["unit", "lint"] },
    );
    expect(errors).toEqual(expect.arrayContaining([
      { path: "titel", message: 'unknown field "titel" (did you mean "title"?)' },
      { path: "tasks[0].dependOn", message: 'unknown field "dependOn" (did you mean "dependsOn"?)' },
      { path: "tasks[0].role", message: 'unknown role "bakend" (did you mean "backend"?) (known roles: backend, qa)' },
      { path: "tasks[0].gates[0]", message: expect.stringMatching(/^unknown gate "unti" \(did you mean "unit"\?\)/) },
    ]));
    expect(errors).toHaveLength(4);
  });
  it("the implicit roles of gates, review, fix policies and test-driven tasks, each missing one listed", () => {
    const request = req({
      gates: ["review"],
      tasks: [
        { id: "a", role: "backend", title: "a", gates: ["unit"], onFailure: { fix: { maxRounds: 1 } } },
        { id: "b", role: "backend", title: "b", tdd: { gate: "unit" } },
      ],
    });
    const errors = errorsOf(request, { roles: ["backend"] });
    expect(errors.map((e) => [e.path, /role "(\w+)"/.exec(e.message)![1]])).toEqual([
      ["gates[0]", "reviewer"], ["gates[0]", "bugfix"], ["tasks[0].gates[0]", "qa"],
    ]);
    expect(errorsOf(request, { roles: ["backend", "qa", "reviewer", "bugfix"] })).toEqual([]);
    expect(errorsOf(request, {})).toEqual([]); // no roles configured: any well-formed role
  });
  it("the implicit roles are the ones the coordinator dispatches to", () => {
    expect([IMPLICIT_ROLES.gate, IMPLICIT_ROLES.review]).toEqual([GATE_ROLE, REVIEW_ROLE]);
  });
  it("edit distance counts a swap of neighbours as one edit; far names get no suggestion", () => {
    expect(editDistance("tset", "test")).toBe(1);
    expect(didYouMean("xyz", ["backend"])).toBe("");
  });
});

describe("dispatch deadlines and unserved work (domain)", () => {
  const sec = (n: number) => new Date(T0 + n * 1000).toISOString();

  it("a task not started within dispatchTimeoutSeconds fails UNSERVED, naming the role and the remedy", () => {
    const h = new FeatureHarness();
    const r = h.submit(req({ dispatchTimeoutSeconds: 60, tasks: [{ id: "a", role: "docs", title: "a" }] }));
    const task = r.context.tasks.a!;
    expect(task.status).toBe("dispatched");
    const due = dispatchDeadline(r.context, task)!;
    expect(Date.parse(due) - Date.parse(task.dispatchedAt!)).toBe(60_000);
    expect(nextDeadline(r.context)).toBe(due);
    expect(h.timer(Date.parse(due) - 1).context.tasks.a!.status).toBe("dispatched");
    const failed = h.timer(Date.parse(due));
    expect(failed.state).toBe("failed");
    expect(failed.context.tasks.a!.error).toMatchObject({
      code: "UNSERVED", message: "no worker of role docs took the task within 60s; start one with `baton worker --role docs`",
    });
  });
  it("no limit without dispatchTimeoutSeconds; once started only the run deadline counts", () => {
    const h = new FeatureHarness();
    const r = h.submit(req({ tasks: [{ id: "a", role: "docs", title: "a", timeoutSeconds: 3600 }] }));
    expect(nextDeadline(r.context)).toBeUndefined();
    const h2 = new FeatureHarness();
    h2.submit(req({ dispatchTimeoutSeconds: 5, tasks: [{ id: "a", role: "docs", title: "a", timeoutSeconds: 3600 }] }));
    const started = h2.send({ type: "task.started", at: sec(3), msg: { type: "baton.v1.task_started", featureId: "feat", taskId: "a", attempt: 1, role: "docs", workerId: "w", delivery: 1, at: sec(3) } });
    expect(dispatchDeadline(started.context, started.context.tasks.a!)).toBeUndefined();
    expect(h2.timer(T0 + 60_000).context.tasks.a!.status).toBe("running");
  });
  it("task.unserved is an event of the feature's history for a run still waiting, and nothing for a stale one", () => {
    const h = new FeatureHarness();
    const r = h.submit(req({ dispatchTimeoutSeconds: 60, tasks: [{ id: "a", role: "docs", title: "a", gates: ["review"] }] }));
    expect(waitingRuns(r.state, r.context)).toEqual([{ taskId: "a", role: "docs", attempt: 1, since: r.context.tasks.a!.dispatchedAt }]);
    const seq = r.context.seq;
    const at = new Date(Date.parse(r.context.tasks.a!.dispatchedAt!) + 7000).toISOString();
    const u = h.send({ type: "task.unserved", run: { taskId: "a", attempt: 1 }, liveWorkers: 0, at });
    expect(u.context.seq).toBe(seq + 1);
    expect(h.events.at(-1)).toMatchObject({
      kind: "task.unserved", seq: seq + 1, taskId: "a", role: "docs", attempt: 1, waitingSeconds: 7, liveWorkers: 0,
      remedy: expect.stringContaining("`baton worker --role docs`"), failsAt: dispatchDeadline(r.context, r.context.tasks.a!),
    });
    expect(h.send({ type: "task.unserved", run: { taskId: "a", attempt: 2 }, liveWorkers: 0, at }).context.seq).toBe(seq + 1);
    // another coordinator reporting the same wait within the interval adds nothing; after it, the wait is reported again
    const later = (ms: number) => new Date(Date.parse(at) + ms).toISOString();
    expect(h.send({ type: "task.unserved", run: { taskId: "a", attempt: 1 }, liveWorkers: 0, at: later(1000), repeatSeconds: 60 }).context.seq).toBe(seq + 1);
    expect(h.send({ type: "task.unserved", run: { taskId: "a", attempt: 1 }, liveWorkers: 0, at: later(61_000), repeatSeconds: 60 }).context.seq).toBe(seq + 2);
    // its work done, the task's review gate waits for a reviewer: a gate run, reported on the reviewer role
    const v = h.work("a");
    expect(waitingRuns(v.state, v.context)).toEqual([{ taskId: "a", role: "reviewer", attempt: 1, gate: { name: "review", run: 1 }, since: expect.any(String) }]);
    h.send({ type: "task.unserved", run: { taskId: "a", attempt: 1, gate: { name: "review", run: 1 } }, liveWorkers: 0, at: h.now() });
    expect(h.events.at(-1)).toMatchObject({ kind: "task.unserved", role: "reviewer", gate: "review" });
    expect(h.events.at(-1)).not.toHaveProperty("failsAt");
  });
  it("nothing waits once the feature ended", () => {
    const h = new FeatureHarness();
    h.submit(req({ tasks: [{ id: "a", role: "docs", title: "a" }] }));
    const done = h.work("a");
    expect(done.state).toBe("completed");
    expect(waitingRuns(done.state, done.context)).toEqual([]);
  });
});
