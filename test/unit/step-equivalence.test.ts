// The coordinator's cached pure `step` (an inert actor scope from shared/internals/, snapshots kept in
// memory between events) must give what xstate itself gives: its own pure `transition()`, and a real actor.
// If an xstate upgrade changes what the inert scope relies on, this fails before anything is misread.
import { describe, expect, it } from "vitest";
import { createActor, initialTransition, transition } from "xstate";
import { featureMachine, step, type FeatureEvent, type FeatureSnapshot } from "../../services/coordinator/domain/index.ts";
import { FeatureHarness } from "../helpers/feature-harness.ts";

/** A representative feature: dependencies, task and feature gates, a review with a fix round, a retry, pause/resume, a deadline, logs, a stale result, outbox confirmations. */
function recordedEvents(): FeatureEvent[] {
  const c = new FeatureHarness("eq");
  const events: FeatureEvent[] = [];
  const send = c.send.bind(c);
  c.send = (...e: FeatureEvent[]) => {
    const before = c.published.length;
    const r = send(...e);
    // the harness publishes the outbox, then confirms it: record both
    events.push(...e);
    if (c.published.length > before) events.push({ type: "outbox.flushed", msgIds: c.published.slice(before).map((x) => x.msgId) });
    return r;
  };
  c.submit({
    title: "Equivalence", maxParallel: 2, gates: ["coverage"],
    tasks: [
      { id: "db", role: "database", title: "schema" },
      { id: "api", role: "backend", title: "api", dependsOn: ["db"], gates: ["unit", "review"], onFailure: { retry: { maxAttempts: 2, backoffSeconds: 1 } } },
      { id: "ui", role: "frontend", title: "ui", dependsOn: ["db"], timeoutSeconds: 5, onFailure: { retry: { maxAttempts: 2 } } },
    ],
  });
  c.work("db");
  const ui = c.latest((a) => a.taskId === "ui");
  c.send({ type: "task.started", at: c.now(), msg: { type: "baton.v1.task_started", featureId: "eq", taskId: "ui", attempt: ui.attempt, role: "frontend", workerId: "w1", delivery: 1, at: c.now() } });
  c.send({ type: "task.log", at: c.now(), msg: { type: "baton.v1.task_log", featureId: "eq", taskId: "ui", attempt: 1, role: "frontend", workerId: "w1", delivery: 1, batch: 1, stream: "stdout", lines: ["building"], dropped: 0, at: c.now() } });
  c.send({ type: "feature.pause", at: c.now(), by: "me" });
  c.work("api", "failed");
  c.timer(Date.parse(c.now()) + 60_000); // api's retry is due, ui's deadline passed: ui retries later
  c.send({ type: "feature.resume", at: c.now() });
  c.timer(Date.parse(c.now()) + 120_000); // ui's retry is due
  c.work("ui");
  c.work("api");
  c.gate("unit", true, {}, "api");
  c.gate("review", false, { review: { verdict: "changes_requested", comments: [{ message: "add tags" }] } }, "api");
  c.work("api-fix-1");
  c.gate("unit", true, {}, "api");
  c.gate("unit", true, {}, "api"); // a duplicate: stale, changes nothing
  c.send({ type: "feature.cancel", at: c.now(), reason: "enough" });
  c.send({ type: "feature.pause", at: c.now() }); // rejected: the feature is cancelled
  return events;
}

const comparable = (s: FeatureSnapshot) => JSON.parse(JSON.stringify({ value: s.value, status: s.status, context: s.context })) as unknown;

describe("the cached pure step", () => {
  const events = recordedEvents();

  it("covers a representative run", () => {
    expect(events.length).toBeGreaterThan(25);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(["feature.submit", "outbox.flushed", "task.result", "task.started", "task.log", "feature.pause", "timer.fired", "feature.resume", "feature.cancel"]));
  });

  it("gives the same snapshot after every event as xstate's own transition() and as a real actor", () => {
    const actor = createActor(featureMachine, { input: { featureId: "eq" } }).start();
    let [reference] = initialTransition(featureMachine, { featureId: "eq" });
    let cached: FeatureSnapshot | null = null;
    for (const [i, e] of events.entries()) {
      cached = step("eq", cached, [e]).snapshot;
      [reference] = transition(featureMachine, reference, e);
      actor.send(e);
      expect(comparable(cached), `after event ${i} (${e.type})`).toEqual(comparable(reference));
      expect(comparable(cached), `after event ${i} (${e.type}), real actor`).toEqual(comparable(actor.getSnapshot()));
    }
    expect(cached!.value).toBe("cancelled");
    actor.stop();
  });
});
