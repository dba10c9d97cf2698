// One frame of `baton watch`'s live board: the feature's progress bar, a row per task under way or waiting (elapsed
// time, last progress line), the critical path with its ETA, blockers and open questions — cut to the terminal.
import type { ExecutionReport } from "../../../shared/client/report-types.ts";
import type { FeatureView, ViewQuestion, ViewTask, WaitingFor } from "../../../shared/protocol/views.ts";
import { bold, cyan, dim, green, red, yellow } from "../colors.ts";
import type { RecentLines } from "./recent.ts";
import { clean, fit, pad } from "./text.ts";

export interface BoardInput {
  view: FeatureView;
  /** `executionReport(view, { now })`. */
  report: ExecutionReport;
  /** The last progress or output line of each task (noteRecent). */
  recent: ReadonlyMap<string, string> | RecentLines;
  /** ms since the epoch: the clock the elapsed times are counted to. */
  now: number;
  /** Columns and lines the frame may take. */
  width: number;
  height: number;
  /** A line from the watch itself (a hint, a skipped event), shown last. */
  notice?: string | undefined;
}

/** The order of the rows: work under way first, then what waits on a person, then what waits on something else. */
const ROW_ORDER: readonly ViewTask["state"][] = ["running", "verifying", "fixing", "integrating", "dispatched", "retrying", "asking", "waiting"];
const STATE_WIDTH = 11;
const TIME_WIDTH = 7;
const stateColor: Partial<Record<ViewTask["state"], (text: string) => string>> = {
  running: yellow, verifying: cyan, fixing: yellow, integrating: cyan, dispatched: cyan, retrying: yellow, asking: yellow, waiting: dim,
};

/**
 * The board's lines for one frame. Pure. Guarantees: at most `height` lines, none wider than `width` columns (colour
 * codes aside), every line drawn from untrusted text cleaned of control characters. When the lines do not fit, the
 * header (with a rejected feature's errors), bar and critical path stay; questions take at most half of the rest,
 * the task rows what is left (the cut ones counted on a "… N more" line), blockers only what remains after them.
 */
export function renderBoard(input: BoardInput): string[] {
  const { view, report, width, height } = input;
  const errors = (view.errors ?? []).map((issue) => `  ${red("✗")} ${clean(`${issue.path}: ${issue.message}`)}`);
  const fixed = [headerLine(view, report), ...errors, barLine(report, width)];
  const path = pathLine(report);
  const tail = input.notice ? [dim(clean(input.notice))] : [];
  let room = Math.max(0, height - fixed.length - (path ? 1 : 0) - tail.length);
  const questions = questionLines(view, width);
  const questionRoom = questions.length ? Math.min(room, questions.length + 1, Math.max(2, Math.floor(room / 2))) : 0;
  const shownQuestions = questions.length ? [bold(`open question${questions.length === 1 ? "" : "s"}`), ...questions] : [];
  room -= questionRoom;
  const rows = taskRows(input, width);
  const shownRows = rows.length ? cut(rows, room, (more) => dim(`  … ${more} more task${more === 1 ? "" : "s"}`)) : [];
  room -= shownRows.length;
  const blockers = report.blockers.filter((blocker) => blocker.kind !== "question").map((blocker) => `${yellow("blocked")} ${clean(blocker.detail)}`);
  const lines = [
    ...fixed,
    ...shownRows,
    ...(path ? [path] : []),
    ...cut(blockers, room, (more) => dim(`… ${more} more blockers (baton status ${view.featureId})`)),
    ...cut(shownQuestions, questionRoom, (more) => dim(`… ${more} more (baton questions ${view.featureId})`)),
    ...tail,
  ];
  return lines.slice(0, Math.max(0, height)).map((line) => fit(line, width));
}

/** `lines` cut to `room` lines, the last one saying how many were left out. */
function cut(lines: readonly string[], room: number, more: (count: number) => string): string[] {
  if (lines.length <= room) return [...lines];
  if (room <= 0) return [];
  return [...lines.slice(0, room - 1), more(lines.length - room + 1)];
}

/** "F1  executing  Add a login page  · 3m12s" */
function headerLine(view: FeatureView, report: ExecutionReport): string {
  const { state } = view;
  const colour = state === "completed" ? green : state === "failed" || state === "rejected" || state === "cancelled" ? red : state === "unknown" ? dim : yellow;
  const shown = state === "unknown" ? "waiting to be accepted" : state;
  const elapsed = report.elapsedMs !== undefined ? dim(`  ${clock(report.elapsedMs)}`) : "";
  return `${bold(view.featureId)}  ${colour(shown)}${view.title ? `  ${clean(view.title)}` : ""}${elapsed}${view.reason ? red(` — ${clean(view.reason)}`) : ""}`;
}

/** "[██████░░░░░░]  40%  2/5 done · 1 running · 2 waiting" (the bar shrinks, then goes, on a narrow terminal). */
function barLine(report: ExecutionReport, width: number): string {
  const { total, completed, running, waiting, failed, cancelled, percent } = report.progress;
  const counts = [
    `${completed}/${total} done`, running ? `${running} running` : "", waiting ? `${waiting} waiting` : "",
    failed ? red(`${failed} failed`) : "", cancelled ? `${cancelled} cancelled` : "",
  ].filter(Boolean).join(" · ");
  const figures = `${String(percent).padStart(3)}%  ${counts}`;
  // a bar of a steady width (the counts beside it change length), gone on a narrow terminal
  const barWidth = Math.min(30, width - 60);
  if (barWidth < 6) return figures;
  const full = Math.floor((percent / 100) * barWidth);
  return `[${green("█".repeat(full))}${dim("░".repeat(barWidth - full))}]  ${figures}`;
}

/** "critical path: a → b → c · ~4m left · ETA 12:41:07"; undefined when nothing remains. */
function pathLine(report: ExecutionReport): string | undefined {
  const { steps, remainingMs, eta } = report.criticalPath;
  if (!steps.length) return undefined;
  const chain = steps.map((step) => step.taskId).join(" → ");
  const left = remainingMs === null ? "no estimate yet" : `~${clock(remainingMs)} left`;
  const at = eta ? ` · ETA ${eta.slice(11, 19)}` : "";
  return `${cyan("critical path")} ${chain} ${dim(`· ${left}${at}`)}`;
}

/** The rows of the tasks not ended yet, with a dim column header. */
function taskRows(input: BoardInput, width: number): string[] {
  const tasks = input.view.tasks
    .filter((task) => ROW_ORDER.includes(task.state))
    .sort((left, right) => ROW_ORDER.indexOf(left.state) - ROW_ORDER.indexOf(right.state));
  if (!tasks.length) return [];
  const idWidth = Math.min(20, Math.max(4, ...tasks.map((task) => task.id.length)));
  const roleWidth = Math.min(12, Math.max(4, ...tasks.map((task) => task.role.length)));
  const lastWidth = Math.max(0, width - idWidth - roleWidth - STATE_WIDTH - TIME_WIDTH - 8);
  const head = dim(`${pad("TASK", idWidth)}  ${pad("ROLE", roleWidth)}  ${pad("STATE", STATE_WIDTH)}  ${pad("TIME", TIME_WIDTH)}  LAST`);
  return [head, ...tasks.map((task) => {
    const since = task.startedAt ?? task.dispatchedAt;
    const elapsed = since ? clock(Math.max(0, input.now - Date.parse(since))) : "";
    const colour = stateColor[task.state] ?? dim;
    const last = lastLine(task, input.view, input.recent.get(task.id));
    return `${pad(task.id, idWidth)}  ${pad(task.role, roleWidth)}  ${colour(pad(task.state, STATE_WIDTH))}  ${pad(elapsed, TIME_WIDTH)}  ${fit(last, lastWidth)}`;
  })];
}

/** What the LAST column says: a task at work its last line, a waiting one what it waits for. */
function lastLine(task: ViewTask, view: FeatureView, recent: string | undefined): string {
  if (task.state === "asking" || task.waitingFor?.kind === "question") {
    const question = view.questions?.find((entry) => entry.questionId === task.questionId) ?? view.questions?.findLast((entry) => entry.taskId === task.id && entry.state !== "answered");
    return question ? `asks ${question.questionId}: ${clean(question.question)}` : "asks a question";
  }
  if (task.waitingFor) return waitWords(task.waitingFor, view);
  if (task.state === "retrying") return `retries${task.retryAt ? ` at ${task.retryAt.slice(11, 19)}` : ""}${task.error ? `: ${clean(task.error)}` : ""}`;
  return recent ?? (task.workerId ? dim(`on ${task.workerId}`) : "");
}

/** A waiting task's reason in a few words. */
function waitWords(waiting: WaitingFor, view: FeatureView): string {
  switch (waiting.kind) {
    case "dependencies": return `waits for ${waiting.taskIds.join(", ")}`;
    case "paused": return "waits: the feature is paused";
    case "budget": return yellow("waits for a budget raise");
    case "parallel": return `waits for a place (maxParallel ${waiting.maxParallel})`;
    case "baseline": return "waits for the baseline test runs";
    case "worker": return `waits for a ${waiting.role} worker${waiting.gate ? ` (gate ${waiting.gate})` : ""}`;
    case "retry": return `retries at ${waiting.until.slice(11, 19)}`;
    case "gates": return `gates ${waiting.gates.join(", ")}`;
    case "fix": return `fix task ${waiting.fixTaskId} runs`;
    case "scope": return `waits for the files of ${waiting.taskIds.join(", ")}`;
    case "workspace": return "waits for the workspace";
    case "integration": return `waits to be merged${waiting.ahead.length ? ` after ${waiting.ahead.join(", ")}` : ""}`;
    case "question": return `asks ${waiting.questionId}`;
    case "approval": return `waits for approval (baton approve ${view.featureId})`;
    case "stream": return `waits for stream ${waiting.stream}'s gates`;
  }
}

/** One line per open question: who asks, the command that answers it, and as much of the question as fits. */
function questionLines(view: FeatureView, width: number): string[] {
  return (view.questions ?? []).filter((question) => question.state !== "answered").map((question: ViewQuestion) => {
    const whose = question.taskId ? `task ${question.taskId}` : "the feature";
    const head = `  ${question.questionId} (${whose}) `;
    const command = `baton answer ${view.featureId} ${question.questionId} "…"`;
    const text = fit(clean(question.question.split("\n")[0] ?? ""), width - head.length - command.length - 3);
    return `  ${bold(question.questionId)} ${dim(`(${whose})`)} ${text}${text ? " — " : ""}${cyan(command)}`;
  });
}

/** "0s", "42s", "3m05s", "2h07m": a clock that ticks by the second. */
export function clock(ms: number): string {
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
