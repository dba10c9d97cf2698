// The read model the coordinators answer (domain/read-model.ts `projectView`, from the feature's state) and the
// view a client folds from the status history (shared/client `foldEvent`) tell the same story: the same
// states, attempts, workers, summaries, errors, gates and gate results, notices. Timestamps may come from
// different clocks (a worker's finishedAt vs the coordinator's event time), so they are compared by presence;
// a fix task's dependencies are not in its task.fixing event (the read model knows them), so they are left out.
import { describe, expect, it } from "vitest";
import { projectSummary, projectView, type Stepped } from "../../services/coordinator/domain/index.ts";
import { emptyView, foldEvent } from "../../shared/client/index.ts";
import { FeatureView, type FeatureView as View } from "../../shared/protocol/index.ts";
import { FeatureHarness } from "../helpers/feature-harness.ts";

const TIMES = ["acceptedAt", "finishedAt", "durationMs", "dispatchedAt", "startedAt", "at", "retryAt"];

/** The view with every timestamp replaced by whether it is set. */
function normalised(v: View): unknown {
  const tasks = v.tasks.map((t) => (t.fixes ? { ...t, dependsOn: "(fix task)" } : t));
  return JSON.parse(JSON.stringify({ ...v, tasks }, (k, val: unknown) => (TIMES.includes(k) && val !== undefined ? true : val)));
}

function compare(c: FeatureHarness, last: Stepped): void {
  const folded = emptyView(c.featureId);
  for (const e of c.events) foldEvent(folded, e);
  const projected = projectView(last.state, last.context);
  expect(FeatureView.safeParse(JSON.parse(JSON.stringify(projected))).error).toBeUndefined();
  expect(normalised(projected)).toEqual(normalised(folded));
}

describe("the read model", () => {
  it("matches the folded history of a feature with gates, a review fix round, a retry and a rejected message", () => {
    const c = new FeatureHarness("rm");
    c.submit({
      title: "Read model", maxParallel: 2, gates: ["coverage"],
      tasks: [
        { id: "db", role: "database", title: "schema" },
        { id: "api", role: "backend", title: "api", dependsOn: ["db"], gates: ["unit", "review"], onFailure: { retry: { maxAttempts: 2, backoffSeconds: 1 } } },
      ],
    });
    compare(c, c.last);
    c.work("db");
    c.work("api", "failed");
    compare(c, c.last); // api retrying
    c.timer(Date.parse(c.now()) + 60_000);
    c.work("api");
    c.gate("unit", true, { tests: { runner: "vitest", passed: 9, failed: 0, skipped: 0, total: 9 } }, "api");
    compare(c, c.last); // api verifying, one gate result
    c.gate("review", false, { review: { verdict: "changes_requested", comments: [{ message: "add tags" }] } }, "api");
    c.send({ type: "message.rejected", subject: "baton.result.rm.api", taskId: "api", error: { name: "ProtocolError", code: "PROTOCOL", message: "bad" }, at: c.now() });
    compare(c, c.last); // api fixing, fix task running, a notice
    c.work("api-fix-1");
    c.gate("unit", true, {}, "api");
    c.gate("review", true, {}, "api");
    c.gate("coverage", true, { coverage: { file: "lcov.info", metric: "lines", pct: 91, min: 80 } });
    expect(c.last.state).toBe("completed");
    compare(c, c.last);
    expect(projectSummary(c.last.state, c.last.context)).toMatchObject({ featureId: "rm", state: "completed", title: "Read model", tasks: 3, completed: 3 });
  });

  it("matches for a failed, a cancelled and a rejected feature", () => {
    const failed = new FeatureHarness("bad");
    failed.submit({ title: "Fails", tasks: [{ id: "a", role: "backend", title: "a" }, { id: "b", role: "backend", title: "b", dependsOn: ["a"] }] });
    failed.work("a", "failed");
    expect(failed.last.state).toBe("failed");
    compare(failed, failed.last);

    const cancelled = new FeatureHarness("stop");
    cancelled.submit({ title: "Stops", tasks: [{ id: "a", role: "backend", title: "a" }] });
    cancelled.send({ type: "feature.pause", at: cancelled.now() });
    compare(cancelled, cancelled.last);
    cancelled.send({ type: "feature.cancel", at: cancelled.now(), reason: "not needed" });
    compare(cancelled, cancelled.last);

    const rejected = new FeatureHarness("nope");
    rejected.send({ type: "feature.reject", errors: [{ path: "tasks", message: "a feature needs at least one task" }], at: rejected.now() });
    compare(rejected, rejected.last);
  });
});
