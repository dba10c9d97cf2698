// The execution report as Markdown (`baton report ID --markdown`): headings and tables a person can paste into a PR
// description. No colours; every cell escaped so a task's summary cannot break a table.
import type { ExecutionReport, GateLevel } from "../../shared/client/report-types.ts";
import type { FeatureView, ViewTask } from "../../shared/protocol/views.ts";
import { fmtDuration } from "./render.ts";
import { shownLevels, stepTime, timeLeft, usageText } from "./render-report.ts";

/** A table cell: one line, pipes escaped, at most `max` characters. */
function cell(text: string, max = 120): string {
  const line = text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.join(" | ")} |`)];
}

function summaryLines(report: ExecutionReport): string[] {
  const { progress } = report;
  const counts = [
    progress.running ? `${progress.running} running` : "", progress.waiting ? `${progress.waiting} waiting` : "",
    progress.failed ? `${progress.failed} failed` : "", progress.cancelled ? `${progress.cancelled} cancelled` : "",
  ].filter(Boolean).join(", ");
  return table(["State", "Progress", "Elapsed", "Time left", "Agents active"], [[
    `**${report.state}**`,
    `${progress.completed}/${progress.total} tasks (${progress.percent}%)${counts ? `, ${counts}` : ""}`,
    report.elapsedMs !== undefined ? fmtDuration(report.elapsedMs) || "0s" : "-",
    cell(timeLeft(report.criticalPath)),
    String(report.agents.active),
  ]]);
}

function criticalLines(report: ExecutionReport): string[] {
  const { steps } = report.criticalPath;
  if (!steps.length) return ["Nothing left to run."];
  const basis = { done: "ended", running: "running: role median − elapsed", median: "role median", "overall-median": "feature's median task time", unknown: "no finished task to go by" } as const;
  return [
    "The longest chain of tasks still to run, dependencies first, by estimated time left:",
    "",
    ...table(["#", "Task", "Role", "State", "Time left", "Estimated by"], steps.map((step, index) => [
      String(index + 1), `${code(step.taskId)} ${cell(step.title, 60)}`, step.role, step.state, stepTime(step).replace("*", ""), basis[step.basis],
    ])),
  ];
}

/** A `baton` command in a blocker's detail: up to ", then", a parenthesis or the end of the line. */
const COMMAND = /\bbaton [a-z]+\b.*?(?=, then |\)| \(|$)/g;

function blockerLines(report: ExecutionReport): string[] {
  if (!report.blockers.length) return ["None."];
  return report.blockers.map((blocker) => {
    const held = blocker.taskIds.length ? ` (${blocker.taskIds.map(code).join(", ")})` : "";
    return `- **${blocker.kind}**${held}: ${blocker.detail.replace(COMMAND, (command) => code(command))}${blocker.since ? ` _(since ${blocker.since})_` : ""}`;
  });
}

function streamLines(report: ExecutionReport, view: FeatureView): string[] {
  return table(["Stream", "Done", "State", "Gates"], report.streams.map((stream) => {
    const runner = view.tasks.find((task) => task.streamGate && task.stream === stream.name);
    const gates = (stream.gates ?? []).map((gate) => {
      const result = runner?.gateResults?.find((entry) => entry.name === gate);
      return `${code(gate)}${result ? (result.passed ? " ✅" : " ❌") : ""}`;
    }).join(", ");
    return [code(stream.name), `${stream.completed}/${stream.tasks} (${stream.percent}%)`, stream.state, gates || "-"];
  }));
}

function gateRuns(level: GateLevel): string {
  if (!level.runs.length) return "-";
  return level.runs.map((run) => {
    const tests = run.tests ? ` ${run.tests.passed}/${run.tests.total} tests` : "";
    return `${code(run.name)}${run.taskId ? ` on ${code(run.taskId)}` : ""} ${run.passed ? "✅" : "❌"}${tests}${!run.passed && run.reason ? ` (${cell(run.reason, 60)})` : ""}`;
  }).join("; ");
}

function gateLines(report: ExecutionReport): string[] {
  return table(["Level", "Passed", "Failed", "Runs"], shownLevels(report).map((level) => [level.level, String(level.passed), String(level.failed), gateRuns(level)]));
}

/** A task's time: its recorded duration, or since it started when under way. */
function taskTime(task: ViewTask, at: number): string {
  if (task.durationMs !== undefined) return fmtDuration(task.durationMs);
  if (task.startedAt && task.state !== "cancelled" && task.state !== "failed") return `${fmtDuration(Math.max(0, at - Date.parse(task.startedAt)))} so far`;
  return "";
}

function taskLines(report: ExecutionReport, view: FeatureView): string[] {
  const at = Date.parse(report.at);
  return table(["Task", "Role", "State", "Time", "Result"], view.tasks.map((task) => {
    const result = task.state === "failed" ? task.error : task.summary ?? task.error;
    const commit = task.checkpoint ? ` (${code(task.checkpoint.commit.slice(0, 8))})` : "";
    return [code(task.id), task.role, task.state, taskTime(task, at) || "-", `${cell(result ?? "")}${commit}` || "-"];
  }));
}

/**
 * The report as Markdown: a summary table, then the critical path, blockers, streams, gates per level, every task
 * of `view` (the view the report was made from), agents, usage and cost. Sections with nothing in them are left out.
 */
export function renderReportMarkdown(report: ExecutionReport, view: FeatureView): string {
  const out = [`## ${report.title ? `${cell(report.title, 100)} — ` : ""}execution report (${code(report.featureId)})`, "", ...summaryLines(report)];
  const section = (heading: string, lines: readonly string[]) => out.push("", `### ${heading}`, "", ...lines);
  section("Critical path", criticalLines(report));
  section("Blockers", blockerLines(report));
  if (report.streams.length) section("Streams", streamLines(report, view));
  if (report.gates.some((level) => level.runs.length)) section("Gates", gateLines(report));
  if (view.tasks.length) section("Tasks", taskLines(report, view));
  if (report.agents.active) {
    section("Agents at work", report.agents.tasks.map((task) => `- ${code(task.taskId)} (${task.role})${task.workerId ? ` on ${code(task.workerId)}` : " queued for a worker"}${task.since ? ` since ${task.since}` : ""}`));
  }
  const usage = usageText(report.usage, report.budget);
  if (usage) section("Usage and cost", [usage]);
  out.push("", `<sub>Made by ${code(`baton report ${report.featureId} --markdown`)} at ${report.at}.</sub>`);
  return out.join("\n");
}
