// Budgets against a real nats-server and a real coordinator (docs/budgets.md). The test plays the worker: it takes
// task messages from the role's queue and publishes task_started / task_progress (rising usage) / task_result on the
// results stream, as a worker running an agent would. Checked: the budget events, the pause, `baton budget` and
// `baton resume` (the real CLI), the read model, completion — and all of it across a coordinator restart.
import type { JsMsg } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, encode } from "../../shared/codec.ts";
import { featureHistory, getFeature } from "../../shared/client/index.ts";
import { ensureRoleConsumer } from "../../shared/nats.ts";
import { TaskAssigned, wireError, type StatusEvent, type Usage, type WorkerMessage } from "../../shared/protocol/index.ts";
import type { Coordinator } from "../../services/coordinator/coordinator.ts";
import { startCoordinator, testEnv, type TestEnv } from "../helpers/baton-env.ts";
import { startNatsServer, type NatsServer } from "../helpers/nats-server.ts";
import { runBaton } from "../helpers/procs.ts";

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.dispose();
});

const usage = (tokens: number): Usage => ({ inputTokens: tokens - Math.min(100, tokens), outputTokens: Math.min(100, tokens) });

/** Everything published on one feature's status subjects, as it arrives. */
function follow(env: TestEnv, featureId: string) {
  const events: StatusEvent[] = [];
  const stop = new AbortController();
  void (async () => {
    for await (const event of featureHistory(env.nc, env.n, featureId, { follow: true, signal: stop.signal })) events.push(event);
  })().catch(() => {});
  return {
    events,
    stop: () => stop.abort(),
    /** Resolves with the first event matching `pred` (waiting for it up to `timeoutMs`). */
    async next<K extends StatusEvent["kind"]>(kind: K, pred: (event: Extract<StatusEvent, { kind: K }>) => boolean = () => true, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find((event): event is Extract<StatusEvent, { kind: K }> => event.kind === kind && pred(event as Extract<StatusEvent, { kind: K }>));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${kind} within ${timeoutMs}ms; got ${events.map((event) => event.kind).join(", ")}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/** The test as a worker of `role`: takes its next task message, and reports about it like a real worker. */
async function playWorker(env: TestEnv, role: string) {
  await ensureRoleConsumer(env.nc, env.n, role, 30);
  const consumer = await env.js.consumers.get(env.n.streams.tasks, env.n.consumers.role(role));
  return async function take(): Promise<ReturnType<typeof reporter>> {
    for (let tries = 0; tries < 30; tries++) {
      const msg = await consumer.next({ expires: 1000 }).catch(() => null);
      if (msg) return reporter(env, msg);
    }
    throw new Error(`no ${role} task within 30 s`);
  };
}

function reporter(env: TestEnv, msg: JsMsg) {
  const task = decode(TaskAssigned, msg.data);
  const ref = { featureId: task.featureId, taskId: task.taskId, attempt: task.attempt, role: task.role, workerId: `test-${task.role}` };
  const send = (body: WorkerMessage) => env.js.publish(env.n.result(task.featureId, task.taskId), encode(body));
  const startedAt = new Date().toISOString();
  let seq = 0;
  return {
    task,
    start: () => send({ type: "baton.v1.task_started", ...ref, delivery: 1, at: startedAt }),
    progress: (tokens: number) => send({ type: "baton.v1.task_progress", ...ref, delivery: 1, seq: ++seq, tool: "Bash", text: "npm test", usage: usage(tokens), at: new Date().toISOString() }),
    async finish(outcome: "completed" | "budget", tokens: number) {
      const failed = outcome === "budget" ? { error: wireError("BudgetExceeded", "stopped: the budget was used up"), exitCode: null } : { summary: `did ${task.taskId}`, exitCode: 0 };
      await send({ type: "baton.v1.task_result", ...ref, delivery: 1, outcome: outcome === "budget" ? "failed" : "completed", startedAt, finishedAt: new Date().toISOString(), usage: usage(tokens), ...failed });
      msg.ack();
    },
  };
}

describe("budgets, enforced by the coordinator", () => {
  it("a token budget warns, stops the running task and pauses; a restart keeps it; baton budget + resume finish the feature", async () => {
    const env = await testEnv(server.url);
    const cli = (...args: string[]) => runBaton(args, { NATS_URL: server.url, BATON_PREFIX: env.prefix });
    let coordinator: Coordinator = await startCoordinator(env, server.url);
    const seen = follow(env, "bud1");
    try {
      const take = await playWorker(env, "backend");
      await env.js.publish(env.n.featureSubmit(), encode({
        id: "bud1", title: "budgeted", budget: { tokens: 10_000 },
        tasks: [{ id: "a", role: "backend", title: "A" }, { id: "b", role: "backend", title: "B", dependsOn: ["a"] }],
      }));
      const a1 = await take();
      expect(a1.task).toMatchObject({ taskId: "a", attempt: 1 });
      await a1.start();
      for (const tokens of [2000, 5000, 8500]) await a1.progress(tokens);
      expect(await seen.next("budget.warning")).toMatchObject({ scope: "feature", metric: "tokens", used: 8500, limit: 10_000 });
      await a1.progress(10_400);
      expect(await seen.next("budget.exceeded")).toMatchObject({ used: 10_400, limit: 10_000, stopped: [{ taskId: "a", attempt: 1 }] });
      expect(await seen.next("feature.paused")).toMatchObject({ reason: "budget: tokens 10400 of 10000" });

      // a coordinator restart: everything comes back from the stored state
      await coordinator.close();
      coordinator = await startCoordinator(env, server.url);
      await a1.finish("budget", 10_500); // the worker stopped it, keeping its usage
      await seen.next("task.failed", (event) => event.error.code === "BUDGET_EXCEEDED");
      let { view } = await getFeature(env.nc, env.n, "bud1");
      expect(view).toMatchObject({ state: "paused", usage: { tokens: 10_500 }, budget: { tokens: 10_000, warnAtPercent: 80 } });
      expect(view!.tasks[0]).toMatchObject({ id: "a", state: "waiting", waitingFor: { kind: "budget" }, usage: { tokens: 10_500 } });

      const refused = await cli("resume", "bud1", "--timeout", "20");
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("tokens 10500 of 10000 (raise it: `baton budget bud1 --tokens N`)");
      const raised = await cli("budget", "bud1", "--tokens", "50000", "--timeout", "20");
      expect(raised.stderr).toBe("");
      expect(raised).toMatchObject({ status: 0, stdout: expect.stringContaining("bud1: budget set: tokens 50000") });
      expect(await seen.next("budget.changed")).toMatchObject({ tokens: 50_000 });
      expect((await cli("resume", "bud1", "--timeout", "20")).status).toBe(0);

      const a2 = await take();
      expect(a2.task).toMatchObject({ taskId: "a", attempt: 2 });
      await a2.start();
      await a2.finish("completed", 3000);
      const b = await take();
      await b.finish("completed", 1500);
      await seen.next("feature.completed");
      ({ view } = await getFeature(env.nc, env.n, "bud1"));
      expect(view).toMatchObject({ state: "completed", usage: { tokens: 10_500 + 3000 + 1500 } });
      expect(seen.events.filter((event) => event.kind === "budget.exceeded")).toHaveLength(1);
      expect((await cli("budget", "bud1", "--tokens", "5")).stderr).toContain('feature "bud1" is completed; cannot budget it');
    } finally {
      seen.stop();
      await coordinator.close();
      await env.close();
    }
  }, 90_000);

  it("a task's wall-time budget is a timer: the coordinator stops the task at the limit by itself", async () => {
    const env = await testEnv(server.url);
    const coordinator = await startCoordinator(env, server.url);
    const seen = follow(env, "bud2");
    try {
      const take = await playWorker(env, "backend");
      await env.js.publish(env.n.featureSubmit(), encode({
        id: "bud2", title: "wall", tasks: [{ id: "slow", role: "backend", title: "slow", budget: { wallSeconds: 2, warnAtPercent: 50 } }],
      }));
      const first = await take();
      await first.start();
      const warned = await seen.next("budget.warning");
      expect(warned).toMatchObject({ scope: "task", taskId: "slow", metric: "wallSeconds", limit: 2 });
      const exceeded = await seen.next("budget.exceeded");
      expect(exceeded).toMatchObject({ scope: "task", taskId: "slow", metric: "wallSeconds", stopped: [{ taskId: "slow", attempt: 1 }] });
      expect(exceeded.used).toBeGreaterThanOrEqual(2);
      await seen.next("feature.paused");
      await first.finish("budget", 0);
      await seen.next("task.failed");
      const { controlFeature } = await import("../../shared/client/index.ts");
      expect(await controlFeature(env.nc, env.n, "bud2", "budget", { budget: { taskId: "slow", wallSeconds: 3600 }, waitMs: 15_000 })).toMatchObject({ kind: "applied" });
      expect(await controlFeature(env.nc, env.n, "bud2", "resume", { waitMs: 15_000 })).toMatchObject({ kind: "applied" });
      const second = await take();
      expect(second.task.attempt).toBe(2);
      await second.finish("completed", 10);
      await seen.next("feature.completed");
    } finally {
      seen.stop();
      await coordinator.close();
      await env.close();
    }
  }, 60_000);
});
