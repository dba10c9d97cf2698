// Planning with real processes (issue 13): a real nats-server, `baton coordinator`, the demo planner
// (examples/agents/planner.mjs) and exec workers, driven through the protocol and the real CLI. A planner's invalid plan
// goes back to it with every error; a plan that needs approval dispatches nothing until `baton approve` (and `baton
// reject` cancels); an escalated failure becomes a question whose "retry" runs the task again; a stream's failed gate
// stops only that stream's dependents. Each ends with the read model equal to the folded history.
import { describe, expect, it } from "vitest";
import { followUntilEnd } from "../helpers/follow.ts";
import { useStack } from "../helpers/stack.ts";
import { agentRuns, cli, dispatched, expectReadModelAgrees, history, nextEvent, ofKind, recordTasks, stackFiles, submit } from "./planning-harness.ts";

const stack = useStack({
  tag: "plan", ...stackFiles,
  workers: ["planner", "backend", "qa", "database", "api", "docs"].map((role) => [role, `${role}-1`] as const),
});

const end = (featureId: string) => followUntilEnd(stack.nc, stack.n, featureId, { timeoutMs: 45_000 });

describe("plan: auto", () => {
  it("the planner's invalid plan goes back to it with every error; its second plan is ready and the feature completes", async () => {
    const tasks = await recordTasks(stack);
    try {
      await submit(stack, { id: "plan1", title: "Audit log", plan: "auto", goal: "keep an audit log of user logins" });
      const { view, events } = await end("plan1");
      expect(view.state, JSON.stringify(ofKind(events, "task.failed"))).toBe("completed");

      const invalid = ofKind(events, "plan.invalid");
      expect(invalid).toHaveLength(1);
      expect(invalid[0]).toMatchObject({ attempt: 1, willRetry: true });
      const messages = invalid[0]!.errors.map((error) => `${error.path}: ${error.message}`).join("\n");
      expect(messages).toMatch(/wizard/);
      expect(messages).toMatch(/cycle/i);

      // the planner's second task message carries the first plan's errors, every one
      const planner = tasks.of("plan1").filter((task) => task.taskId === "plan");
      expect(planner.map((task) => task.planning?.attempt)).toEqual([1, 2]);
      expect(planner[0]!.planning!.previous).toBeUndefined();
      expect(planner[1]!.planning!.previous!.errors).toEqual(invalid[0]!.errors);
      expect(planner[1]!.planning!.goal).toBe("keep an audit log of user logins");

      const ready = ofKind(events, "plan.ready");
      expect(ready).toHaveLength(1);
      expect(ready[0]).toMatchObject({ source: "planner", attempt: 2, approval: "none", tasks: [{ id: "implement", role: "backend" }, { id: "tests", role: "qa", dependsOn: ["implement"] }] });
      expect(events.findIndex((event) => event.kind === "plan.ready")).toBeGreaterThan(events.findIndex((event) => event.kind === "plan.invalid"));
      expect(dispatched(events)).toEqual(["plan", "plan", "implement", "tests"]);
      expect(agentRuns(stack, "plan1").filter((run) => run.event === "end").map((run) => run.taskId)).toEqual(["implement", "tests"]);
      const read = await expectReadModelAgrees(stack, "plan1");
      expect(read.plan).toMatchObject({ source: "planner", invalid: 1 });
    } finally {
      tasks.stop();
    }
  }, 60_000);
});

describe("approval: required", () => {
  const request = (id: string) => ({
    id, title: "Needs a yes", approval: "required",
    tasks: [{ id: "a", role: "backend", title: "A" }, { id: "b", role: "qa", title: "B", dependsOn: ["a"] }],
  });

  it("publishes the plan and dispatches nothing until `baton approve`; then it runs, and plan.approved says by whom", async () => {
    const tasks = await recordTasks(stack);
    try {
      await submit(stack, request("appr1"));
      expect(await nextEvent(stack, "appr1", "plan.ready")).toMatchObject({ approval: "required", tasks: [{ id: "a" }, { id: "b" }] });
      await new Promise((resolve) => setTimeout(resolve, 1500)); // a coordinator that would dispatch has had time to
      expect(dispatched(await history(stack, "appr1"))).toEqual([]);
      expect(tasks.of("appr1")).toEqual([]);
      const waiting = await expectReadModelAgrees(stack, "appr1");
      expect(waiting.state).toBe("awaitingApproval");
      const status = await cli(stack, "status", "appr1");
      expect(status.stdout).toMatch(/awaitingApproval|awaiting approval/i);
      expect(status.stdout).toContain("baton approve appr1");

      const approved = await cli(stack, "approve", "appr1", "--by", "ana", "--timeout", "20");
      expect(approved.stderr).toBe("");
      expect(approved).toMatchObject({ status: 0, stdout: expect.stringContaining("appr1: plan approved by ana") });
      const { view, events } = await end("appr1");
      expect(view.state).toBe("completed");
      expect(ofKind(events, "plan.approved")).toEqual([expect.objectContaining({ by: "ana" })]);
      expect(events.findIndex((event) => event.kind === "task.dispatched")).toBeGreaterThan(events.findIndex((event) => event.kind === "plan.approved"));
      expect(dispatched(events)).toEqual(["a", "b"]);
      const read = await expectReadModelAgrees(stack, "appr1");
      expect(read.plan).toMatchObject({ approvedBy: "ana" });
    } finally {
      tasks.stop();
    }
  }, 60_000);

  it("`baton reject --reason` records plan.rejected, then the feature is cancelled with nothing dispatched", async () => {
    await submit(stack, request("appr2"));
    await nextEvent(stack, "appr2", "plan.ready");
    const rejected = await cli(stack, "reject", "appr2", "--reason", "too big for one go", "--by", "bo", "--timeout", "20");
    expect(rejected).toMatchObject({ status: 0, stdout: expect.stringContaining("plan rejected by bo") });
    const { view, events } = await end("appr2");
    expect(view.state).toBe("cancelled");
    expect(events.slice(-2).map((event) => event.kind)).toEqual(["plan.rejected", "feature.cancelled"]);
    expect(ofKind(events, "plan.rejected")[0]).toMatchObject({ by: "bo", reason: "too big for one go" });
    expect(dispatched(events)).toEqual([]);
    const read = await expectReadModelAgrees(stack, "appr2");
    expect(read.plan).toMatchObject({ rejectedBy: "bo", rejectReason: "too big for one go" });
    // too late now
    expect((await cli(stack, "approve", "appr2", "--timeout", "10")).status).not.toBe(0);
  }, 60_000);
});

describe("onFailure: escalate", () => {
  it("a failure becomes a question; `baton answer … retry` runs the task again and the feature completes", async () => {
    await submit(stack, {
      id: "esc1", title: "Flaky", onFailure: { then: "escalate" },
      tasks: [{ id: "a", role: "backend", title: "A", instructions: JSON.stringify({ failFirst: true }) }, { id: "b", role: "qa", title: "B", dependsOn: ["a"] }],
    });
    const asked = await nextEvent(stack, "esc1", "question.asked");
    expect(asked).toMatchObject({ questionId: "q1", about: "escalation", taskId: "a", options: ["retry", "skip", "fail"] });
    expect(asked.question).toMatch(/exited with code 3/);
    const listed = await cli(stack, "questions", "esc1");
    expect(listed.stdout).toContain("q1");
    expect(listed.stdout).toContain('baton answer esc1 q1 "…"');
    expect(dispatched(await history(stack, "esc1"))).toEqual(["a"]);

    const answered = await cli(stack, "answer", "esc1", "q1", "retry", "--by", "ana", "--timeout", "20");
    expect(answered).toMatchObject({ status: 0, stdout: expect.stringContaining('esc1 q1: answered "retry" by ana') });
    const { view, events } = await end("esc1");
    expect(view.state).toBe("completed");
    expect(dispatched(events)).toEqual(["a", "a", "b"]);
    expect(ofKind(events, "task.failed")).toEqual([]); // the failure went to a person, who chose another attempt
    const runsOfA = agentRuns(stack, "esc1").filter((run) => run.taskId === "a" && run.event === "start");
    expect(runsOfA.map((run) => run.attempt)).toEqual([1, 2]);
    expect(runsOfA[1]!.answers).toEqual([]); // "retry" is a decision, not an instruction for the task
    await expectReadModelAgrees(stack, "esc1");
  }, 60_000);
});

describe("streams", () => {
  it("a stream's failed gate stops only its dependents: independent work completes, the feature fails with the gate's reason", async () => {
    const tasks = await recordTasks(stack);
    try {
      await submit(stack, {
        id: "str1", title: "Streams", maxParallel: 3,
        streams: { db: { gates: ["schema-check"] } },
        tasks: [
          { id: "schema", role: "database", title: "Schema", stream: "db" },
          { id: "api", role: "api", title: "API", dependsOn: ["schema"] },
          { id: "docs", role: "docs", title: "Docs", instructions: JSON.stringify({ sleepMs: 4000 }) },
        ],
      });
      const { view, events } = await end("str1");
      expect(view.state).toBe("failed");
      const gateFailed = ofKind(events, "gate.failed");
      expect(gateFailed).toHaveLength(1);
      expect(gateFailed[0]).toMatchObject({ gate: "schema-check" });
      expect(view.reason).toMatch(/schema-check/);
      // docs went on after the gate failed, and completed; api was never sent to anyone
      const docsDone = events.findIndex((event) => event.kind === "task.completed" && event.taskId === "docs");
      expect(docsDone).toBeGreaterThan(events.indexOf(gateFailed[0]!));
      expect(dispatched(events)).not.toContain("api");
      expect(tasks.of("str1").map((task) => task.taskId)).not.toContain("api");
      const read = await expectReadModelAgrees(stack, "str1");
      expect(read.streams).toEqual([expect.objectContaining({ name: "db", state: "failed", tasks: 1, completed: 1 })]);
      const status = await cli(stack, "status", "str1");
      expect(status.stdout).toMatch(/^db\s+1\/1\s+failed\s+schema-check ✗/m);
    } finally {
      tasks.stop();
    }
  }, 60_000);
});
