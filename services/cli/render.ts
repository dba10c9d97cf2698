// Human-readable rendering of status events (for `watch`) and of a feature view (for `status`).
import type { FeatureView, ViewGate, ViewTask } from "../../shared/client/index.ts";
import { WIRE_ERRORS } from "../../shared/protocol/errors.ts";
import type { StatusEvent } from "../../shared/protocol/events.ts";
import type { ViewBudget, ViewUnserved, ViewUsage, WaitingFor } from "../../shared/protocol/views.ts";
import { BUDGET_PAUSE, settleView } from "../../shared/protocol/waiting.ts";
import { bold, cyan, dim, green, red, yellow } from "./colors.ts";
import { gitDetail, gitLines, handoffLines, isWorkspaceEvent, renderWorkspaceEvent } from "./render-git.ts";
import { isPlanEvent, planLines, renderPlanEvent } from "./render-plan.ts";
import { askingDetail, isQuestionEvent, questionLines, renderQuestionEvent, streamLines } from "./render-questions.ts";

export { bold, cyan, dim, green, red, yellow } from "./colors.ts";

/** "816ms", "4.2s", "3m12s"; "" for undefined. */
export function fmtDuration(ms: number | undefined): string {
  if (ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

const fmtNumber = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

const time = (iso: string) => dim(iso.slice(11, 23));

/** One line (or a few, for logs and rejections) per event; `progress` is e.g. "3/6". */
export function renderEvent(event: StatusEvent, progress: string): string {
  const who = "taskId" in event && event.taskId && "role" in event ? `${bold(event.taskId)} ${dim(`(${event.role})`)}` : "";
  const step = dim(`[${progress}]`);
  if (isWorkspaceEvent(event)) return renderWorkspaceEvent(event, time(event.at), step, who);
  if (isPlanEvent(event)) return renderPlanEvent(event, time(event.at));
  if (isQuestionEvent(event)) return renderQuestionEvent(event, time(event.at));
  switch (event.kind) {
    case "feature.accepted":
      return `${time(event.at)} ${cyan("accepted")}  ${bold(event.title)} — ${event.planning ? "the planner plans its tasks" : `${event.tasks.length} tasks${event.template ? ` from template ${event.template}` : ""}`}, maxParallel ${event.maxParallel}${event.approval ? ", plan needs approval" : ""}${event.workspace ? dim(` in ${event.workspace}`) : ""}`;
    case "feature.rejected":
      return [`${time(event.at)} ${red("rejected")}  ${event.featureId}`, ...event.errors.map((x) => `    ${red("✗")} ${x.path}: ${x.message}`)].join("\n");
    case "task.dispatched":
      return `${time(event.at)} ${step} ${dim("dispatched")} ${who}${event.attempt > 1 ? dim(` attempt ${event.attempt}`) : ""}`;
    case "task.unserved":
      return `${time(event.at)} ${step} ${yellow("unserved")}   ${who}${event.gate ? dim(` gate ${event.gate}`) : ""} ${dim(`waiting ${fmtDuration(event.waitingSeconds * 1000)}, ${event.liveWorkers} live ${event.role} workers`)} — ${event.remedy}${event.failsAt ? dim(` (fails at ${event.failsAt.slice(11, 19)})`) : ""}`;
    case "task.started":
      return `${time(event.at)} ${step} ${yellow("started")}    ${who} ${dim(`on ${event.workerId}${event.delivery > 1 ? ` (delivery ${event.delivery})` : ""}`)}`;
    case "task.log":
      return event.lines.map((l) => `${dim("    │")} ${dim(event.taskId + ":")} ${l}`).join("\n") + (event.dropped ? `\n${dim(`    │ … ${event.dropped} lines dropped by the rate limit`)}` : "");
    case "task.completed":
      return `${time(event.at)} ${step} ${green("completed")}  ${who} ${dim(fmtDuration(event.durationMs))}${event.summary ? ` — ${event.summary}` : ""}`;
    case "task.failed":
      // a task stopped for a budget is not a failure: it waits to run again once the budget is raised
      if (event.error.code === WIRE_ERRORS.BudgetExceeded.code) return `${time(event.at)} ${step} ${yellow("stopped")}    ${who} ${dim(fmtDuration(event.durationMs))} — ${event.error.message}`;
      return `${time(event.at)} ${step} ${red("failed")}     ${who} ${dim(fmtDuration(event.durationMs))} — ${event.error.message}`;
    case "task.verifying":
      return `${time(event.at)} ${step} ${cyan("verifying")}  ${who} ${dim(`gates: ${event.gates.join(", ")}`)}`;
    case "task.retrying":
      return `${time(event.at)} ${step} ${yellow("retrying")}   ${who} ${dim(`attempt ${event.nextAttempt} at ${event.retryAt.slice(11, 19)}`)} — ${event.reason}`;
    case "task.fixing":
      return `${time(event.at)} ${step} ${yellow("fixing")}     ${event.taskId ? bold(event.taskId) : "feature"} ${dim(`gate ${event.gate}, round ${event.round}: task ${event.fixTaskId} (${event.fixRole})`)} — ${event.reason}`;
    case "feature.verifying":
      return `${time(event.at)} ${cyan("verifying")} feature gates: ${event.gates.join(", ")}`;
    case "gate.passed":
    case "gate.failed": {
      if (event.scope === "baseline") return baselineLine(event);
      const whose = event.taskId ? `${bold(event.taskId)}` : "feature";
      const verdict = event.kind === "gate.passed" ? green("gate passed") : red("gate failed");
      const figures = [
        event.tests ? `${event.tests.passed}/${event.tests.total} tests passed${event.tests.failed ? `, ${event.tests.failed} failed` : ""}${countsBefore(event)}` : "",
        event.coverage ? `coverage ${event.coverage.pct.toFixed(1)}% ${event.coverage.metric} (min ${event.coverage.min}%)` : "",
        event.expect === "fail" ? "expected to fail" : "",
      ].filter(Boolean).join(", ");
      const head = `${time(event.at)} ${verdict} ${bold(event.gate)} ${dim("for")} ${whose} ${dim(`${fmtDuration(event.durationMs)}, exit ${event.exitCode ?? "none"}`)}${figures ? ` — ${figures}` : ""}`;
      if (event.kind === "gate.passed") return head;
      const tail = event.outputTail.split("\n").slice(-10).map((l) => `${dim("    │")} ${l}`);
      return [head + (event.reason ? `: ${event.reason}` : ""), ...tail].join("\n");
    }
    case "feature.completed":
      return `${time(event.at)} ${green(bold("feature completed"))} in ${fmtDuration(event.durationMs)}`;
    case "feature.failed":
      return `${time(event.at)} ${red(bold("feature failed"))} after ${fmtDuration(event.durationMs)}: ${event.reason}`;
    case "feature.cancelled":
      return `${time(event.at)} ${red(bold("feature cancelled"))} after ${fmtDuration(event.durationMs)}${event.reason ? `: ${event.reason}` : ""}${event.by ? dim(` (by ${event.by})`) : ""}`;
    case "feature.paused":
      return `${time(event.at)} ${yellow("paused")}    no new tasks start until resumed${event.reason ? `: ${event.reason}` : ""}`;
    case "feature.resumed":
      return `${time(event.at)} ${cyan("resumed")}`;
    case "task.progress":
      return `${dim("    │")} ${dim(event.taskId + ":")} ${cyan(event.tool ?? "…")}${event.files?.length ? ` ${event.files.join(", ")}` : ""}${event.text ? dim(` ${event.text}`) : ""}`;
    case "budget.warning":
    case "budget.exceeded": {
      const label = event.kind === "budget.warning" ? yellow("budget") : red("budget exceeded");
      const whose = event.scope === "task" ? `task ${bold(event.taskId ?? "?")}` : "feature";
      const stopped = event.kind === "budget.exceeded" && event.stopped.length ? dim(` — stopped ${event.stopped.map((t) => t.taskId).join(", ")}`) : "";
      return `${time(event.at)} ${label} ${whose} ${event.metric} ${fmtNumber(event.used)}/${fmtNumber(event.limit)} (${Math.round(event.percent)}%)${stopped}`;
    }
    case "budget.changed":
      return `${time(event.at)} ${cyan("budget")}    ${event.taskId ? `task ${bold(event.taskId)}` : "feature"} limits now ${[event.tokens !== undefined ? `tokens ${event.tokens}` : "", event.costUsd !== undefined ? `$${event.costUsd}` : "", event.wallSeconds !== undefined ? `${event.wallSeconds}s` : ""].filter(Boolean).join(", ")}${event.by ? dim(` (by ${event.by})`) : ""}`;
    case "message.rejected":
      return `${time(event.at)} ${yellow("notice")}  ${event.subject}: ${event.error.message}`;
  }
}

/** The STATE column: as wide as the longest state ("integrating"). */
const STATE_WIDTH = 11;

const stateColor: Record<ViewTask["state"], (text: string) => string> = {
  waiting: dim, dispatched: cyan, running: yellow, verifying: cyan, fixing: yellow, integrating: cyan, retrying: yellow, asking: yellow, completed: green, failed: red, cancelled: red,
};

/**
 * The `baton status` report. `liveWorkers` maps role → live worker count (from heartbeats); `verbose`: every handoff
 * of a git feature, with all its files; `report`: the execution report's block (render-report.ts), shown under the heading.
 */
export function renderStatus(given: FeatureView, liveWorkers: Map<string, number>, opts: { verbose?: boolean; report?: string } = {}): string {
  // settled again: a view from an older coordinator has no `waitingFor` yet (idempotent for a current one)
  const view = settleView(structuredClone(given));
  const out: string[] = [];
  const { state } = view;
  const featureState = state === "completed" ? green(state) : state === "failed" || state === "rejected" || state === "cancelled" ? red(state) : yellow(state);
  out.push(`${bold(view.featureId)}  ${featureState}${view.title ? `  ${view.title}` : ""}`);
  if (view.acceptedAt) out.push(dim(`accepted ${view.acceptedAt}${view.finishedAt ? `, finished ${view.finishedAt} (${fmtDuration(view.durationMs)})` : ""}${view.maxParallel ? `, maxParallel ${view.maxParallel}` : ""}`));
  if (view.workspace) out.push(dim(`workspace ${view.workspace}`));
  if (opts.report) out.push(opts.report);
  out.push(...gitLines(view));
  if (view.paused) {
    const forBudget = view.paused.reason?.startsWith(BUDGET_PAUSE);
    const next = forBudget ? `raise the limit with \`baton budget ${view.featureId}\`, then \`baton resume ${view.featureId}\`` : `no new task starts until \`baton resume ${view.featureId}\``;
    out.push(yellow(`paused since ${view.paused.at}${view.paused.by ? ` by ${view.paused.by}` : ""}: ${view.paused.reason ?? "no reason given"} (${next})`));
  }
  const budget = budgetLine(view.usage, view.budget, view.finishedAt);
  if (budget) out.push(budget);
  if (view.unserved) out.push(`${view.state === "verifying" ? "feature " : "baseline "}gate ${view.unserved.gate ?? "?"}: ${workerWait(view.unserved.role, view.unserved.liveWorkers, view.unserved)}`);
  if (view.reason) out.push(red(`reason: ${view.reason}`));
  for (const issue of view.errors ?? []) out.push(red(`  ✗ ${issue.path}: ${issue.message}`));
  out.push(...planLines(view), ...questionLines(view));
  // awaiting approval, the plan's ordered list above stands for the table
  if (view.tasks.length && view.state !== "awaitingApproval") {
    const width = {
      id: Math.max(4, ...view.tasks.map((t) => t.id.length)),
      role: Math.max(4, ...view.tasks.map((t) => t.role.length)),
    };
    out.push("");
    out.push(dim(`${"TASK".padEnd(width.id)}  ${"ROLE".padEnd(width.role)}  ${"STATE".padEnd(STATE_WIDTH)}  ${"TIME".padEnd(7)}  DETAIL`));
    for (const task of view.tasks) {
      // only a task under way counts up; an ended one (a cancelled one included) shows its recorded time
      const underWay = task.state === "running" || task.state === "verifying" || task.state === "fixing" || task.state === "integrating";
      const duration = task.durationMs !== undefined ? fmtDuration(task.durationMs) : task.startedAt && underWay ? fmtDuration(Date.now() - Date.parse(task.startedAt)) : "";
      const detail = taskDetail(task, liveWorkers, view);
      out.push(`${task.id.padEnd(width.id)}  ${task.role.padEnd(width.role)}  ${stateColor[task.state](task.state.padEnd(STATE_WIDTH))}  ${duration.padEnd(7)}  ${detail}`);
    }
    out.push("");
    out.push(dim(`${progressOf(view)} tasks completed`));
  }
  if (view.state !== "awaitingApproval") out.push(...streamLines(view));
  if (view.gates?.length) out.push(`feature gates ${gateLine(view.gates, view.gateResults)}`);
  for (const notice of view.notices) out.push(yellow(`notice: ${notice}`));
  out.push(...handoffLines(view, opts.verbose === true));
  return out.join("\n");
}

/** The DETAIL column: what the task waits for, runs on, or ended with. */
function taskDetail(task: ViewTask, liveWorkers: Map<string, number>, view: FeatureView): string {
  let detail = task.waitingFor ? waitingLine(task, task.waitingFor, liveWorkers, view) : (task.error ?? task.summary ?? "");
  if (task.state === "asking" && task.waitingFor?.kind !== "question") detail = askingDetail(task, view);
  if (task.state === "running") detail = `on ${task.workerId ?? "?"}`;
  const git = gitDetail(task);
  if (git) detail = task.state === "completed" ? `${git}${detail ? ` — ${detail}` : ""}` : `${detail ? `${detail} — ` : ""}${git}`;
  const used = budgetLine(task.usage, task.budget, task.finishedAt);
  if (used) detail = `${detail ? `${detail} ` : ""}${dim(`(${used})`)}`;
  if (task.fixes && task.state !== "failed") detail = `fixes ${task.fixes}${detail ? ` — ${detail}` : ""}`;
  if (task.state === "completed" && task.gateResults?.length) detail = `${detail ? `${detail} ` : ""}${dim(`(gates ${gateLine(task.gates, task.gateResults)})`)}`;
  return detail;
}

/** What a task waits for, in words. `liveWorkers`: role → live workers (heartbeats), read whenever a task is dispatched. */
function waitingLine(task: ViewTask, waiting: WaitingFor, liveWorkers: Map<string, number>, view: FeatureView): string {
  switch (waiting.kind) {
    case "dependencies":
      return `waits for ${waiting.taskIds.length > 1 ? "dependencies" : "dependency"} ${waiting.taskIds.join(", ")}`;
    case "paused":
      return "waits: the feature is paused";
    case "budget":
      return yellow("waits for a budget raise (`baton budget`), then `baton resume`");
    case "parallel":
      return `waits for a place: maxParallel ${waiting.maxParallel}, ${waiting.running} holding one (dispatched, running, verifying or retrying)`;
    case "baseline":
      return "waits for the baseline test runs (test counts before any task starts)";
    case "worker": {
      const live = task.unserved ? task.unserved.liveWorkers : (liveWorkers.get(waiting.role) ?? 0);
      return `${waiting.gate ? `gate ${waiting.gate}: ` : ""}${workerWait(waiting.role, live, task.unserved)}`;
    }
    case "retry":
      return `retrying at ${waiting.until.slice(11, 19)} (attempt ${task.attempt + 1})${task.error ? ` — ${task.error}` : ""}`;
    case "gates":
      return `gates ${gateLine(task.gates, task.gateResults)}`;
    case "fix":
      return waiting.conflict
        ? `fix task ${waiting.fixTaskId} resolves a merge conflict${task.conflict ? ` in ${task.conflict.files.join(", ")}` : ""}; then it is integrated again`
        : `fix task ${waiting.fixTaskId} runs; then gates ${gateLine(task.gates, task.gateResults)}`;
    case "scope":
      return `waits: its files may overlap those of ${waiting.taskIds.join(", ")} (file-scope lock)`;
    case "workspace":
      return "waits for the feature's workspace (integration branch and worktree) to be prepared";
    case "integration":
      return `waits to be merged into the integration branch${waiting.ahead.length ? ` after ${waiting.ahead.join(", ")}` : ""}`;
    case "question":
      return askingDetail(task, view);
    case "approval":
      return `waits for the plan's approval (\`baton approve ${view.featureId}\`)`;
    case "stream":
      return `waits for stream ${waiting.stream}'s gates (run by ${waiting.taskId})`;
  }
}

/** A run waiting for a worker of `role`, `live` of them alive; `unserved`: what a task.unserved event said. */
function workerWait(role: string, live: number, unserved: ViewUnserved | undefined): string {
  const fails = unserved?.failsAt ? ` — fails at ${unserved.failsAt.slice(11, 19)} if none does` : "";
  if (live === 0) return yellow(`no live ${role} worker (start one: baton worker --role ${role})${fails}`);
  return `waiting for a ${role} worker${unserved ? ` (${live} live, none took it yet)` : ""}${fails}`;
}

/**
 * "tokens 8123/10000 (81%), $0.42/$1.00, wall 3m12s/10m0s": usage against limits (a metric without a limit shows
 * its usage only, wall time only with a limit); "" when there is neither usage nor a budget.
 */
function budgetLine(usage: ViewUsage | undefined, budget: ViewBudget | undefined, finishedAt: string | undefined): string {
  if (!usage && !budget) return "";
  const of = (used: number, limit: number | undefined, show: (n: number) => string) =>
    limit === undefined ? show(used) : `${show(used)}/${show(limit)} (${Math.round((used / limit) * 100)}%)`;
  const parts = [`tokens ${of(usage?.tokens ?? 0, budget?.tokens, String)}`];
  if (usage?.costUsd !== undefined || budget?.costUsd !== undefined) parts.push(of(usage?.costUsd ?? 0, budget?.costUsd, (n) => `$${n.toFixed(2)}`));
  if (budget?.wallSeconds !== undefined) {
    const wallMs = budget.wallFrom ? Math.max(0, (finishedAt ? Date.parse(finishedAt) : Date.now()) - Date.parse(budget.wallFrom)) : 0;
    parts.push(`wall ${of(wallMs / 1000, budget.wallSeconds, (n) => fmtDuration(n * 1000) || "0s")}`);
  }
  return `${budget ? "budget" : "usage"}: ${parts.join(", ")}`;
}

/** "unit ✓, coverage ✗ (coverage 71.0% lines, min 80%), lint …" */
function gateLine(names: readonly string[] | undefined, results: readonly ViewGate[] | undefined): string {
  const all = [...new Set([...(names ?? []), ...(results ?? []).map((r) => r.name)])];
  return all.map((name) => {
    const result = results?.find((r) => r.name === name);
    if (!result) return `${name} …`;
    return result.passed ? `${name} ${green("✓")}` : `${name} ${red("✗")}${result.reason ? dim(` (${result.reason})`) : ""}`;
  }).join(", ");
}

/** "completed/total" tasks, e.g. "3/6". */
export function progressOf(view: FeatureView): string {
  return `${view.tasks.filter((t) => t.state === "completed").length}/${view.tasks.length}`;
}

type GateEvent = Extract<StatusEvent, { kind: "gate.passed" | "gate.failed" }>;

/** " (base 99, last pass 99)": the gate's test counts before this run, which it may not fall under. */
function countsBefore(event: GateEvent): string {
  const parts = [event.baseTests !== undefined ? `base ${event.baseTests}` : "", event.lastPassTests !== undefined ? `last pass ${event.lastPassTests}` : ""].filter(Boolean);
  return parts.length ? dim(` (${parts.join(", ")})`) : "";
}

/** A baseline run: what it recorded as the gate's base (it never fails the feature). */
function baselineLine(event: GateEvent): string {
  const found = event.baseTests !== undefined ? `base ${event.baseTests} tests` : `no base${event.reason ? ` (${event.reason})` : ""}`;
  return `${time(event.at)} ${cyan("baseline")}   ${bold(event.gate)} ${dim(`${fmtDuration(event.durationMs)}, exit ${event.exitCode ?? "none"}`)} — ${found}`;
}
