// Questions to a person with real processes (issue 13): a real nats-server, `baton coordinator` and exec workers whose
// agent asks (a result file's `question`) until its task message carries an answer. Only the asking task and its
// dependents wait; the open question survives a coordinator SIGKILL and a nats-server restart, `baton questions` lists
// it with the command that answers it, `baton answer` resumes the task with the answer; repeated, conflicting and late
// answers are handled. Each ends with the read model equal to the folded history.
import { describe, expect, it } from "vitest";
import { sendControl } from "../../shared/client/index.ts";
import { followUntilEnd } from "../helpers/follow.ts";
import { baton } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";
import { agentRuns, cli, dispatched, expectReadModelAgrees, history, nextEvent, ofKind, recordTasks, release, stackFiles, submit } from "./planning-harness.ts";

const stack = useStack({ tag: "planq", ...stackFiles, workers: [["backend", "backend-1"], ["docs", "docs-1"]] });

const end = (featureId: string) => followUntilEnd(stack.nc, stack.n, featureId, { timeoutMs: 45_000 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const QUESTION = { question: "Paginate the list with cursors or with pages?", options: ["cursors", "pages"], topic: "design" };

/** a asks; b depends on a (and, with `holdB`, runs until the test releases it); c is independent. */
const asking = (id: string, holdB?: string) => ({
  id, title: "Asks a person", maxParallel: 3,
  tasks: [
    { id: "a", role: "backend", title: "List endpoint", instructions: JSON.stringify({ ask: QUESTION }) },
    { id: "b", role: "backend", title: "Use the list", dependsOn: ["a"], instructions: JSON.stringify({ holdUntil: holdB }) },
    { id: "c", role: "docs", title: "Independent docs", instructions: JSON.stringify({ sleepMs: 500 }) },
  ],
});

/** Replaces the coordinator (SIGKILL) by a new one, ready. */
async function killCoordinator(): Promise<void> {
  expect(await stack.procs[0]!.kill("SIGKILL")).toBe("SIGKILL");
  const next = baton(["coordinator", "--config", stack.cfg], stack.env);
  stack.procs[0] = next; // afterAll stops whatever is there
  await next.waitFor(/coordinator ready/, 30_000);
}

/** `baton questions` (every feature under way), retried until it lists `featureId` (a coordinator just reconnected). */
async function listedQuestions(featureId: string): Promise<string> {
  for (let tries = 0; ; tries++) {
    const listed = await cli(stack, "questions");
    if (listed.status === 0 && listed.stdout.includes(featureId)) return listed.stdout;
    if (tries >= 20) throw new Error(`baton questions never listed ${featureId}: ${listed.stdout}${listed.stderr}`);
    await sleep(500);
  }
}

/** The answers a's second run received (from the agent's log). */
const answersOfSecondRun = (featureId: string) => agentRuns(stack, featureId).filter((run) => run.taskId === "a" && run.event === "start").map((run) => run.answers);

describe("a task's question", () => {
  it("blocks only its dependents; survives a coordinator SIGKILL; `baton answer` resumes it; repeated, conflicting and late answers are handled", async () => {
    const tasks = await recordTasks(stack);
    try {
      await submit(stack, asking("ask1", "ask1-b"));
      expect(await nextEvent(stack, "ask1", "question.asked")).toMatchObject({ questionId: "q1", about: "task", taskId: "a", options: ["cursors", "pages"], question: QUESTION.question });
      await nextEvent(stack, "ask1", "task.completed", (event) => event.taskId === "c"); // independent work goes on
      await sleep(500);
      expect(dispatched(await history(stack, "ask1"))).toEqual(["a", "c"]);
      const asked = await expectReadModelAgrees(stack, "ask1");
      expect(asked.tasks.find((task) => task.id === "a")).toMatchObject({ state: "asking", waitingFor: { kind: "question", questionId: "q1" } });

      await killCoordinator();
      const listed = await listedQuestions("ask1");
      expect(listed).toContain("q1");
      expect(listed).toContain(QUESTION.question);
      expect(listed).toContain('baton answer ask1 q1 "…"');
      expect(tasks.of("ask1").map((task) => task.taskId)).toEqual(["a", "c"]); // b: never sent before the answer

      const answered = await cli(stack, "answer", "ask1", "q1", "cursors", "--by", "ana", "--timeout", "20");
      expect(answered.stderr).toBe("");
      expect(answered).toMatchObject({ status: 0, stdout: expect.stringContaining('ask1 q1: answered "cursors" by ana') });
      await nextEvent(stack, "ask1", "task.dispatched", (event) => event.taskId === "b");

      // while b runs (held): the same answer again is a no-op (exit 0), another one is refused ALREADY_ANSWERED (exit 1)
      expect(await cli(stack, "answer", "ask1", "q1", "cursors", "--timeout", "5")).toMatchObject({ status: 0, stdout: expect.stringContaining("already answered") });
      const before = (await history(stack, "ask1")).length;
      await sendControl(stack.nc, stack.n, "ask1", "answer", { answer: { questionId: "q1", answer: "cursors" }, by: "ana" }); // past the CLI's own check
      const other = await cli(stack, "answer", "ask1", "q1", "pages", "--timeout", "20");
      expect(other.status).toBe(1);
      expect(other.stderr).toMatch(/answer refused: question q1 was already answered by ana: "cursors"/);
      const afterRepeat = (await history(stack, "ask1")).slice(before).filter((event) => event.kind === "question.answered" || event.kind === "message.rejected");
      expect(afterRepeat.map((event) => event.kind)).toEqual(["message.rejected"]); // the repeat added nothing; the other answer one refusal
      expect(afterRepeat[0]).toMatchObject({ error: { code: "ALREADY_ANSWERED" } });
      release(stack, "ask1-b");

      const { view, events } = await end("ask1");
      expect(view.state).toBe("completed");
      expect(ofKind(events, "question.answered")).toEqual([expect.objectContaining({ questionId: "q1", answer: "cursors", by: "ana", via: "person" })]);
      expect(answersOfSecondRun("ask1")).toEqual([[], [expect.objectContaining({ questionId: "q1", answer: "cursors", by: "ana", question: QUESTION.question })]]);
      const second = tasks.of("ask1").filter((task) => task.taskId === "a")[1]!;
      expect(second).toMatchObject({ attempt: 2, answers: [{ questionId: "q1", answer: "cursors" }] });
      const answeredAt = events.findIndex((event) => event.kind === "question.answered");
      expect(events.findIndex((event) => event.kind === "task.dispatched" && event.taskId === "b")).toBeGreaterThan(answeredAt);
      await expectReadModelAgrees(stack, "ask1");

      // after the end: another answer is refused
      const late = await cli(stack, "answer", "ask1", "q1", "pages", "--timeout", "20");
      expect(late.status).toBe(1);
      expect(late.stderr).toContain('answer refused: feature "ask1" is completed; cannot answer it');
      expect(ofKind(await history(stack, "ask1"), "question.answered")).toHaveLength(1);
    } finally {
      tasks.stop();
    }
  }, 60_000);

  it("stays open across a nats-server restart (same store, same port) and is answered after it", async () => {
    await submit(stack, asking("ask2"));
    await nextEvent(stack, "ask2", "question.asked");
    await stack.server.stop(true); // SIGKILL
    await sleep(1000);
    await stack.server.start();
    const listed = await listedQuestions("ask2");
    expect(listed).toContain('baton answer ask2 q1 "…"');
    const answered = await cli(stack, "answer", "ask2", "q1", "2", "--timeout", "20"); // option 2: "pages"
    expect(answered).toMatchObject({ status: 0, stdout: expect.stringContaining('ask2 q1: answered "pages"') });
    const { view, events } = await end("ask2");
    expect(view.state).toBe("completed");
    expect(dispatched(events).filter((id) => id === "b")).toHaveLength(1);
    // The SIGKILL right after the question can lose the first run's ack: JetStream then delivers attempt 1 again
    // (at-least-once) and it runs again, still without an answer (its result changes nothing: the task is asking).
    // What must hold: every run before the answer had none, and exactly one run — the last — carries it.
    const runs = answersOfSecondRun("ask2");
    expect(runs.slice(0, -1).every((answers) => answers.length === 0), JSON.stringify(runs)).toBe(true);
    expect(runs.filter((answers) => answers.length > 0)).toEqual([[expect.objectContaining({ questionId: "q1", answer: "pages" })]]);
    expect(runs.at(-1)).toEqual([expect.objectContaining({ questionId: "q1", answer: "pages" })]);
    await expectReadModelAgrees(stack, "ask2");
  }, 90_000);
});
