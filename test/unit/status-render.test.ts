// `baton status` as a person reads it (services/cli/render.ts renderStatus) and as a script reads it (the exit
// code by state): a paused feature says so and why, a cancelled task's time stops, a waiting task names what it waits for.
import { describe, expect, it } from "vitest";
import { statusExitCode } from "../../services/cli/commands/status.ts";
import { renderStatus } from "../../services/cli/render.ts";
import { emptyView, foldEvent } from "../../shared/client/index.ts";
import { StatusEvent, type FeatureView, type ViewTask } from "../../shared/protocol/index.ts";

const AT = "2026-01-01T12:00:00.000Z";
const ev = (seq: number, body: Record<string, unknown>): StatusEvent =>
  StatusEvent.parse({ type: "baton.v1.status_event", featureId: "f", seq, at: AT, ...body });
const task = (taskId: string, role = "backend", attempt = 1) => ({ taskId, role, attempt });

/** The folded view of `events`, as `status` gets it with no coordinator running. */
function viewOf(...events: StatusEvent[]): FeatureView {
  const view = emptyView("f");
  for (const event of events) foldEvent(view, event);
  return view;
}

const accepted = (maxParallel: number, tasks: { id: string; role?: string; dependsOn?: string[]; gates?: string[] }[]) =>
  ev(1, { kind: "feature.accepted", title: "Todos", maxParallel, tasks: tasks.map((t) => ({ role: "backend", dependsOn: [], title: t.id, ...t })) });

/** The DETAIL column of task `id`'s row. */
function detail(out: string, id: string): string {
  const row = out.split("\n").find((line) => line.startsWith(`${id} `));
  if (!row) throw new Error(`no row for ${id} in:\n${out}`);
  return row.replace(/^(\S+\s+){3}(\d\S*\s+)?/, "").trim();
}

describe("`baton status` output", () => {
  it("a paused feature shows `paused`, since when, by whom and its reason", () => {
    const out = renderStatus(viewOf(accepted(1, [{ id: "a" }]), ev(2, { kind: "feature.paused", reason: "deploy freeze", by: "alice", at: "2026-01-01T12:05:00.000Z" })), new Map());
    expect(out).toMatch(/^f\s+paused\s+Todos$/m);
    expect(out).toContain("paused since 2026-01-01T12:05:00.000Z by alice: deploy freeze");
    expect(detail(out, "a")).toBe("waits: the feature is paused");
  });

  it("a task running when its feature was cancelled shows the time until the cancellation, not a clock still running", () => {
    const out = renderStatus(viewOf(
      accepted(1, [{ id: "a" }]),
      ev(2, { kind: "task.dispatched", ...task("a") }),
      ev(3, { kind: "task.started", ...task("a"), workerId: "w1", delivery: 1, at: "2020-01-01T12:00:00.000Z" }),
      ev(4, { kind: "feature.cancelled", durationMs: 60_000, at: "2020-01-01T12:00:42.000Z" }),
    ), new Map());
    expect(out).toMatch(/^a\s+backend\s+cancelled\s+42\.0s/m);
  });

  it("each waiting task names what it waits for", () => {
    const base = [
      accepted(1, [{ id: "a" }, { id: "b" }, { id: "c", dependsOn: ["a", "b"] }, { id: "d", role: "docs" }]),
      ev(2, { kind: "task.dispatched", ...task("a") }),
    ];
    const out = renderStatus(viewOf(...base), new Map([["backend", 1]]));
    expect(detail(out, "a")).toBe("waiting for a backend worker");
    expect(detail(out, "b")).toBe("waits for a place: maxParallel 1, 1 holding one (dispatched, running, verifying or retrying)");
    expect(detail(out, "c")).toBe("waits for dependencies a, b");
    // no live worker of the role, from the heartbeats or from a task.unserved event
    expect(detail(renderStatus(viewOf(...base), new Map()), "a")).toBe("no live backend worker (start one: baton worker --role backend)");
    const unserved = ev(3, { kind: "task.unserved", ...task("a"), waitingSeconds: 60, liveWorkers: 0, remedy: "baton worker --role backend", failsAt: "2026-01-01T12:10:00.000Z" });
    expect(detail(renderStatus(viewOf(...base, unserved), new Map([["backend", 1]])), "a"))
      .toBe("no live backend worker (start one: baton worker --role backend) — fails at 12:10:00 if none does");
    const retrying = ev(3, { kind: "task.retrying", ...task("a"), nextAttempt: 2, retryAt: "2026-01-01T12:03:00.000Z", reason: "exit 1" });
    expect(detail(renderStatus(viewOf(...base, retrying), new Map()), "a")).toBe("retrying at 12:03:00 (attempt 2) — exit 1");
  });

  it("a verifying task names its gates, a gate run nobody serves, and its fix round", () => {
    const base = [
      accepted(2, [{ id: "a", gates: ["unit"] }]),
      ev(2, { kind: "task.dispatched", ...task("a") }),
      ev(3, { kind: "task.verifying", ...task("a"), workerId: "w1", gates: ["unit"] }),
    ];
    expect(detail(renderStatus(viewOf(...base), new Map()), "a")).toBe("gates unit …");
    const unserved = ev(4, { kind: "task.unserved", ...task("a"), role: "qa", gate: "unit", waitingSeconds: 60, liveWorkers: 0, remedy: "baton worker --role qa" });
    expect(detail(renderStatus(viewOf(...base, unserved), new Map()), "a")).toBe("gate unit: no live qa worker (start one: baton worker --role qa)");
    const fixing = ev(4, { kind: "task.fixing", taskId: "a", attempt: 1, gate: "unit", round: 1, fixTaskId: "a-fix-1", fixRole: "bugfix", title: "Fix unit", reason: "1 failed" });
    expect(detail(renderStatus(viewOf(...base, fixing), new Map()), "a")).toBe("fix task a-fix-1 runs; then gates unit …");
  });

  it("a baseline gate run nobody serves is named, with the remedy", () => {
    const out = renderStatus(viewOf(
      accepted(1, [{ id: "a", gates: ["unit"] }]),
      ev(2, { kind: "task.unserved", taskId: "feature-baseline", role: "qa", attempt: 1, gate: "unit", waitingSeconds: 60, liveWorkers: 0, remedy: "baton worker --role qa" }),
    ), new Map());
    expect(out).toContain("baseline gate unit: no live qa worker (start one: baton worker --role qa)");
    expect(detail(out, "a")).toBe("waits for the baseline test runs (test counts before any task starts)");
  });

  it("a view from an older coordinator (no waitingFor) is rendered the same way", () => {
    const view = viewOf(accepted(1, [{ id: "a" }, { id: "b", dependsOn: ["a"] }]));
    const old = { ...view, tasks: view.tasks.map(({ waitingFor: _w, ...t }): ViewTask => t) };
    expect(renderStatus(old, new Map())).toBe(renderStatus(view, new Map()));
  });
});

describe("`baton status` exit codes", () => {
  const stateView = (state: FeatureView["state"]): FeatureView => ({ ...emptyView("f"), state });
  it("0 completed, 1 failed or cancelled, 2 rejected, 3 still going, 4 no such feature", () => {
    expect(statusExitCode(stateView("completed"))).toBe(0);
    expect(statusExitCode(stateView("failed"))).toBe(1);
    expect(statusExitCode(stateView("cancelled"))).toBe(1);
    expect(statusExitCode(stateView("rejected"))).toBe(2);
    for (const state of ["unknown", "executing", "verifying", "paused"] as const) expect(statusExitCode({ ...stateView(state), seq: 1 })).toBe(3);
    expect(statusExitCode(null)).toBe(4);
    expect(statusExitCode({ ...stateView("unknown"), notices: ["baton.control.f.pause: no feature"] })).toBe(4); // notices only
  });
});
