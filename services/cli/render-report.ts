// The execution report (shared/client/report.ts) as the terminal shows it — a compact block that `baton report`
// prints and `baton status` opens with — and as Markdown to paste into a PR (render-report-markdown.ts).
import type { Blocker, CriticalPath, ExecutionReport, GateLevel, ReportStep } from "../../shared/client/report-types.ts";
import type { ViewBudget, ViewUsage } from "../../shared/protocol/views.ts";
import { bold, cyan, dim, green, red, yellow } from "./colors.ts";
import { fmtDuration } from "./render.ts";

export { renderReportMarkdown } from "./render-report-markdown.ts";

const LABEL_WIDTH = 9;
const BAR_WIDTH = 20;
/** Steps of the critical path shown before "… N more". */
const MAX_STEPS = 6;

const label = (text: string) => dim(text.padEnd(LABEL_WIDTH));
/** Continuation lines line up under the first line's text. */
const indent = " ".repeat(LABEL_WIDTH + 1);

/** "12:10:40 UTC" of an ISO time. */
export const clockOf = (iso: string) => `${iso.slice(11, 19)} UTC`;

/** A step's time left in words: "~30s", "~6s left" (running), "?" (no estimate); `*` marks the overall median. */
export function stepTime(step: ReportStep): string {
  if (step.remainingMs === null) return "?";
  const time = fmtDuration(step.remainingMs) || "0s";
  if (step.basis === "running") return step.remainingMs === 0 ? "past its median" : `~${time} left`;
  return `~${time}${step.basis === "overall-median" ? "*" : ""}`;
}

/** "~40s (ETA 12:10:40 UTC)", "unknown (…)", or "nothing left". */
export function timeLeft(path: CriticalPath): string {
  if (!path.steps.length) return "nothing left";
  if (path.remainingMs === null) return "unknown (a task on the path has no finished task of its role, or of the feature, to go by)";
  const bound = path.boundBy === "parallel" ? ", bounded by maxParallel: more work than places along the path" : "";
  return `~${fmtDuration(path.remainingMs) || "0s"}${path.eta ? ` (ETA ${clockOf(path.eta)}${bound})` : ""}`;
}

/** "tokens 8123 (in 6000, out 2123), $0.42 — budget: tokens 10000, $1.00, wall 600s"; "" with neither. */
export function usageText(usage: ViewUsage | undefined, budget: ViewBudget | undefined): string {
  const parts: string[] = [];
  if (usage) {
    parts.push(`tokens ${usage.tokens} (in ${usage.inputTokens}, out ${usage.outputTokens})`);
    if (usage.costUsd !== undefined) parts.push(`$${usage.costUsd.toFixed(2)}`);
  }
  const limits = budget ? [
    budget.tokens !== undefined ? `tokens ${budget.tokens}` : "",
    budget.costUsd !== undefined ? `$${budget.costUsd.toFixed(2)}` : "",
    budget.wallSeconds !== undefined ? `wall ${fmtDuration(budget.wallSeconds * 1000)}` : "",
  ].filter(Boolean) : [];
  const used = parts.length ? parts.join(", ") : "none reported yet";
  return usage || limits.length ? `${used}${limits.length ? ` — budget: ${limits.join(", ")}` : ""}` : "";
}

/** The gate levels worth showing: the stream level only when the feature has streams. */
export const shownLevels = (report: ExecutionReport): GateLevel[] => report.gates.filter((level) => level.level !== "stream" || report.streams.length > 0);

/** "3✓ 1✗" of a gate level, or "-" when no gate ran at it. */
export function gateCounts(level: GateLevel, colored = true): string {
  if (!level.runs.length) return "-";
  const passed = `${level.passed}✓`, failed = `${level.failed}✗`;
  return colored ? `${green(passed)} ${level.failed ? red(failed) : dim(failed)}` : `${passed} ${failed}`;
}

function progressLine(report: ExecutionReport): string {
  const { progress } = report;
  const filled = progress.total ? Math.round((progress.completed / progress.total) * BAR_WIDTH) : 0;
  const bar = green("█".repeat(filled)) + dim("░".repeat(BAR_WIDTH - filled));
  const counts = [
    progress.running ? `${progress.running} running` : "", progress.waiting ? `${progress.waiting} waiting` : "",
    progress.failed ? red(`${progress.failed} failed`) : "", progress.cancelled ? `${progress.cancelled} cancelled` : "",
  ].filter(Boolean).join(", ");
  const elapsed = report.elapsedMs !== undefined ? dim(` · ${fmtDuration(report.elapsedMs) || "0s"} elapsed`) : "";
  return `${label("progress")} ${bar} ${bold(`${progress.percent}%`)}  ${progress.completed}/${progress.total} tasks${counts ? ` (${counts})` : ""}${elapsed}`;
}

const STREAM_COLOR = { waiting: dim, running: yellow, verifying: cyan, passed: green, failed: red } as const;

function criticalLines(path: CriticalPath): string[] {
  if (!path.steps.length) return [];
  const shown = path.steps.slice(0, MAX_STEPS).map((step) => `${bold(step.taskId)} ${dim(`(${step.role}, ${stepTime(step)})`)}`);
  const more = path.steps.length > MAX_STEPS ? dim(` → … ${path.steps.length - MAX_STEPS} more`) : "";
  const starred = path.steps.some((step) => step.basis === "overall-median") ? dim("  * by the feature's median task time") : "";
  return [`${label("critical")} ${shown.join(" → ")}${more}`, `${indent}time left ${bold(timeLeft(path))}${starred}`];
}

const BLOCKER_COLOR: Record<Blocker["kind"], (text: string) => string> = {
  approval: yellow, question: yellow, budget: red, paused: yellow, worker: red, lock: dim, stream: dim, fix: yellow, retry: yellow,
};

function blockerLines(blockers: readonly Blocker[]): string[] {
  return blockers.map((blocker, index) => {
    const held = blocker.taskIds.length ? dim(` [${blocker.taskIds.join(", ")}]`) : "";
    return `${index === 0 ? label("blockers") : indent} ${BLOCKER_COLOR[blocker.kind](blocker.kind)}${held} ${blocker.detail}`;
  });
}

/**
 * The report as a compact terminal block: progress bar, streams, critical path with the time left, blockers,
 * gates per level, agents, usage and cost. `heading`: open with the feature's id, state and title (`baton report`;
 * `baton status` has its own). Lines with nothing to say are left out.
 */
export function renderReport(report: ExecutionReport, opts: { heading?: boolean } = {}): string {
  const out: string[] = [];
  if (opts.heading !== false) out.push(`${bold(report.featureId)}  ${report.state}${report.title ? `  ${report.title}` : ""}`);
  out.push(progressLine(report));
  if (report.streams.length) {
    out.push(`${label("streams")} ${report.streams.map((stream) => `${stream.name} ${stream.completed}/${stream.tasks} ${STREAM_COLOR[stream.state](stream.state)}`).join(dim(" · "))}`);
  }
  out.push(...criticalLines(report.criticalPath));
  out.push(...blockerLines(report.blockers));
  if (report.gates.some((level) => level.runs.length)) {
    out.push(`${label("gates")} ${shownLevels(report).map((level) => `${level.level} ${gateCounts(level)}`).join(dim(" · "))}`);
  }
  const { agents } = report;
  if (agents.active) out.push(`${label("agents")} ${agents.active} active: ${Object.entries(agents.byRole).map(([role, count]) => `${role} ${count}`).join(", ")}`);
  const usage = usageText(report.usage, report.budget);
  if (usage) out.push(`${label("usage")} ${usage}`);
  return out.join("\n");
}
