// The execution report as people read it: the terminal block (`baton report`, the head of `baton status`) and the
// Markdown a person pastes into a PR (services/cli/render-report.ts, render-report-markdown.ts).
import { describe, expect, it } from "vitest";
import { renderStatus } from "../../services/cli/render.ts";
import { renderReport, renderReportMarkdown } from "../../services/cli/render-report.ts";
import { executionReport } from "../../shared/client/index.ts";
import type { FeatureView, ViewTask } from "../../shared/protocol/index.ts";

const NOW = Date.parse("2026-01-01T12:10:00.000Z");
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
const task = (id: string, fields: Partial<ViewTask> = {}): ViewTask => ({ id, role: "backend", title: `task ${id}`, dependsOn: [], state: "waiting", attempt: 0, ...fields });
const gate = (name: string, passed: boolean) => ({ name, passed, at: ago(1), ...(passed ? { tests: { passed: 8, failed: 0, total: 8 } } : { reason: "2 tests failed" }) });

/** A feature under way: a done, b running, c (frontend) asking a question, d after both; usage against a budget. */
function underWay(fields: Partial<FeatureView> = {}): FeatureView {
  return {
    featureId: "f", state: "executing", title: "Todos", maxParallel: 4, acceptedAt: ago(300), seq: 12, notices: [],
    tasks: [
      task("a", { state: "completed", attempt: 1, startedAt: ago(200), durationMs: 10_000, summary: "schema | 4 columns\nand an index", gateResults: [gate("unit", true), gate("lint", false)] }),
      task("b", { dependsOn: ["a"], state: "running", attempt: 1, startedAt: ago(4), workerId: "backend-1" }),
      task("c", { dependsOn: ["a"], role: "frontend", state: "asking", attempt: 1, questionId: "q1" }),
      task("d", { dependsOn: ["b", "c"], role: "qa" }),
    ],
    questions: [{ questionId: "q1", taskId: "c", question: "Max title length?", askedAt: ago(60), state: "open" } as never],
    gateResults: [gate("e2e", true)],
    usage: { tokens: 1500, inputTokens: 1000, outputTokens: 500, costUsd: 0.42 },
    budget: { costUsd: 1, warnAtPercent: 80 },
    ...fields,
  };
}
const report = (view: FeatureView) => executionReport(view, { now: NOW, roleMedians: { frontend: 30_000 } });

describe("renderReport (terminal)", () => {
  it("shows progress, the critical path with the time left, blockers, gates per level, agents and cost", () => {
    const lines = renderReport(report(underWay())).split("\n");
    expect(lines[0]).toBe("f  executing  Todos");
    expect(lines[1]).toMatch(/^progress\s+█{5}░{15} 25%  1\/4 tasks \(1 running, 2 waiting\) · 5m0s elapsed$/);
    expect(lines).toContain("critical  c (frontend, ~30.0s) → d (qa, ~10.0s*)");
    expect(lines).toContain("          time left ~40.0s (ETA 12:10:40 UTC)  * by the feature's median task time");
    expect(lines).toContain('blockers  question [c] question q1 (task c): "Max title length?" — baton answer f q1 "…"');
    expect(lines).toContain("gates     task 1✓ 1✗ · feature 1✓ 0✗");
    expect(lines).toContain("agents    1 active: backend 1");
    expect(lines).toContain("usage     tokens 1500 (in 1000, out 500), $0.42 — budget: $1.00");
  });

  it("a stream level and stream progress only with streams; an unknown estimate says why; no heading for status", () => {
    const streamed = (x: Partial<ViewTask>, gates: Partial<ViewTask>) => underWay({
      tasks: [task("x", { stream: "api", ...x }), task("x-gates", { stream: "api", streamGate: true, dependsOn: ["x"], gates: ["unit"], ...gates })],
      gateResults: [], questions: [],
    });
    const waiting = renderReport(executionReport(streamed({}, {}), { now: NOW }), { heading: false });
    expect(waiting.split("\n")[0]).toMatch(/^progress /);
    expect(waiting).toContain("streams   api 0/1 waiting");
    expect(waiting).toContain("critical  x (backend, ?) → x-gates (backend, ?)");
    expect(waiting).toContain("time left unknown (a task on the path has no finished task of its role, or of the feature, to go by)");
    expect(waiting).not.toMatch(/^gates/m);
    const failed = streamed({ state: "completed", attempt: 1, durationMs: 2000 }, { state: "failed", attempt: 1, gateResults: [gate("unit", false)] });
    const out = renderReport(executionReport({ ...failed, state: "failed" }, { now: NOW }));
    expect(out).toContain("streams   api 1/1 failed");
    expect(out).toContain("gates     task - · stream 0✓ 1✗ · feature -");
    expect(out).not.toMatch(/^(critical|blockers)/m);
  });

  it("heads `baton status`, which keeps its own heading and task table", () => {
    const view = underWay();
    const out = renderStatus(view, new Map(), { report: renderReport(report(view), { heading: false }) });
    const lines = out.split("\n");
    expect(lines[0]).toBe("f  executing  Todos");
    expect(lines.findIndex((line) => line.startsWith("progress "))).toBeLessThan(lines.findIndex((line) => line.startsWith("TASK ")));
    expect(out).toMatch(/^c\s+frontend\s+asking\s+/m);
  });
});

describe("renderReportMarkdown", () => {
  it("headings and tables to paste into a PR, with the commands that lift blockers", () => {
    const view = underWay();
    const markdown = renderReportMarkdown(report(view), view);
    expect(markdown.split("\n")[0]).toBe("## Todos — execution report (`f`)");
    expect(markdown).toContain("| **executing** | 1/4 tasks (25%), 1 running, 2 waiting | 5m0s | ~40.0s (ETA 12:10:40 UTC) | 1 |");
    expect(markdown).toContain("| 1 | `c` task c | frontend | asking | ~30.0s | role median |");
    expect(markdown).toContain("| 2 | `d` task d | qa | waiting | ~10.0s | feature's median task time |");
    expect(markdown).toContain('- **question** (`c`): question q1 (task c): "Max title length?" — `baton answer f q1 "…"` _(since 2026-01-01T12:09:00.000Z)_');
    expect(markdown).toContain("| task | 1 | 1 | `unit` on `a` ✅ 8/8 tests; `lint` on `a` ❌ (2 tests failed) |");
    expect(markdown).not.toContain("| stream |");
    // a summary's pipe and newline cannot break the table
    expect(markdown).toContain("| `a` | backend | completed | 10.0s | schema \\| 4 columns and an index |");
    expect(markdown).toContain("| `b` | backend | running | 4.0s so far | - |");
    expect(markdown).toContain("- `b` (backend) on `backend-1` since 2026-01-01T12:09:56.000Z");
    expect(markdown).toContain("### Usage and cost\n\ntokens 1500 (in 1000, out 500), $0.42 — budget: $1.00");
    expect(markdown.trimEnd().split("\n").at(-1)).toBe("<sub>Made by `baton report f --markdown` at 2026-01-01T12:10:00.000Z.</sub>");
  });

  it("an ended feature: nothing left, no blockers", () => {
    const view = underWay({ state: "completed", tasks: [task("a", { state: "completed", attempt: 1, durationMs: 1000 })], durationMs: 90_000, questions: [] });
    const markdown = renderReportMarkdown(report(view), view);
    expect(markdown).toContain("### Critical path\n\nNothing left to run.");
    expect(markdown).toContain("### Blockers\n\nNone.");
    expect(markdown).toContain("| **completed** | 1/1 tasks (100%) | 1m30s | nothing left | 0 |");
    expect(markdown).not.toContain("### Agents at work");
    const paused = underWay({ state: "paused", paused: { at: ago(30), reason: "budget: cost 1.02 of 1.00" }, questions: [] });
    expect(renderReportMarkdown(report(paused), paused)).toContain(
      "- **budget**: paused for a budget (cost 1.02 of 1.00) — raise it: `baton budget f --tokens N | --cost-usd X | --wall-seconds S`, then `baton resume f` _(since 2026-01-01T12:09:30.000Z)_",
    );
    const approval = underWay({ state: "awaitingApproval", tasks: [task("a")], questions: [] });
    expect(renderReportMarkdown(report(approval), approval)).toContain("- **approval** (`a`): the plan (1 tasks) awaits approval — `baton approve f` (or `baton reject f --reason …`)");
  });
});
