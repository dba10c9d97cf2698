// The worker lifecycle machine with its I/O actors swapped out: starting → idle ⇄ working → draining → stopped | failed.
import { describe, expect, it } from "vitest";
import { createActor, fromCallback, fromPromise, toPromise, waitFor } from "xstate";
import { stateName, workerMachine } from "../../services/worker/machine.ts";

function run(o: { start?: () => Promise<void>; drain?: () => Promise<void> } = {}) {
  const calls: string[] = [];
  const actor = createActor(
    workerMachine.provide({
      actors: {
        start: fromPromise(o.start ?? (async () => void calls.push("start"))),
        pull: fromCallback(() => {
          calls.push("pull");
          return () => calls.push("stop pulling");
        }),
        drain: fromPromise(o.drain ?? (async () => void calls.push("drain"))),
      },
    }),
    { input: { role: "backend", workerId: "w1", slots: 2 } },
  );
  actor.start();
  return { actor, calls, state: () => stateName(actor.getSnapshot().value) };
}

describe("worker machine", () => {
  it("goes idle ⇄ working as tasks begin and end, and stays working while any slot is busy", async () => {
    const { actor, calls, state } = run();
    await waitFor(actor, (s) => s.matches({ running: "idle" }));
    expect(calls).toEqual(["start", "pull"]);
    actor.send({ type: "task.begin", slot: "0", featureId: "f", taskId: "a" });
    actor.send({ type: "task.begin", slot: "1", featureId: "f", taskId: "b" });
    expect(state()).toBe("working");
    actor.send({ type: "task.end", slot: "0" });
    expect(state()).toBe("working");
    expect(actor.getSnapshot().context.tasks).toEqual({ 1: { featureId: "f", taskId: "b" } });
    actor.send({ type: "task.end", slot: "1" });
    expect(state()).toBe("idle");
  });

  it("on shutdown stops pulling, then drains, then stops; tasks that end while draining are tracked", async () => {
    let finishDrain = () => {};
    const { actor, calls, state } = run({ drain: () => new Promise<void>((r) => (finishDrain = r)) });
    await waitFor(actor, (s) => s.matches("running"));
    actor.send({ type: "task.begin", slot: "0", featureId: "f", taskId: "a" });
    actor.send({ type: "shutdown" });
    expect(state()).toBe("draining");
    expect(calls).toEqual(["start", "pull", "stop pulling"]);
    actor.send({ type: "task.end", slot: "0" });
    expect(actor.getSnapshot().context.tasks).toEqual({});
    finishDrain();
    await toPromise(actor);
    expect(state()).toBe("stopped");
  });

  it("a shutdown during start-up drains as soon as start-up is done, without pulling", async () => {
    let finishStart = () => {};
    const { actor, calls, state } = run({ start: () => new Promise<void>((r) => (finishStart = r)) });
    actor.send({ type: "shutdown" });
    expect(state()).toBe("starting");
    finishStart();
    await toPromise(actor);
    expect(state()).toBe("stopped");
    expect(calls).toEqual(["drain"]);
  });

  it("fails when start-up fails, keeping the reason", async () => {
    const { actor, state } = run({ start: async () => Promise.reject(new Error("no JetStream")) });
    await toPromise(actor);
    expect(state()).toBe("failed");
    expect(actor.getSnapshot().context.error).toMatch(/no JetStream/);
  });
});
