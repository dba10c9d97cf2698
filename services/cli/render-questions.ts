// Questions to a person and streams (issue 13) as the CLI shows them: the question events as lines for `baton watch`,
// open questions and per-stream progress in `baton status`, and the list `baton questions` prints.
import type { StatusEvent } from "../../shared/protocol/events.ts";
import type { FeatureView, ViewQuestion, ViewStream, ViewTask } from "../../shared/protocol/views.ts";
import { bold, cyan, dim, green, red, yellow } from "./colors.ts";

const QUESTION_EVENT_KINDS = ["question.asked", "question.answered", "question.escalated"] as const;
export type QuestionEvent = Extract<StatusEvent, { kind: (typeof QUESTION_EVENT_KINDS)[number] }>;

export const isQuestionEvent = (event: StatusEvent): event is QuestionEvent => (QUESTION_EVENT_KINDS as readonly string[]).includes(event.kind);

/** The command that answers a question (with options, an option's number will do too: docs). */
export const answerCommand = (featureId: string, questionId: string) => `baton answer ${featureId} ${questionId} "…"`;

/** "1) Postgres  2) SQLite" */
const optionList = (options: readonly string[]) => options.map((option, index) => `${index + 1}) ${option}`).join("  ");

/** Whose question it is: "task api", "task api's failure", "task api's budget stop", "the feature's budget". */
function asker(question: Pick<ViewQuestion, "taskId" | "about">): string {
  const task = question.taskId ? `task ${question.taskId}` : "the feature";
  if (question.about === "escalation") return `${task}'s failure`;
  if (question.about === "budget") return question.taskId ? `${task}'s budget stop` : "the feature's budget";
  return task;
}

/** 'unanswered by 2026-01-01 12:31:02Z: takes its default "Postgres"': what happens when no one answers. */
function timeoutWords(question: Pick<ViewQuestion, "default" | "timeoutAt">): string {
  const fallback = question.default !== undefined ? `takes its default ${JSON.stringify(question.default)}` : "";
  if (!question.timeoutAt) return fallback ? `default ${JSON.stringify(question.default)}` : "";
  return `unanswered by ${question.timeoutAt.replace("T", " ").slice(0, 19)}Z: ${fallback || "escalated"}`;
}

/** "by alice", "(default, no answer in time)", "(moot: resolved)". */
function answeredBy(answer: { by?: string | undefined; via?: "person" | "timeout" | "resolved" | undefined }): string {
  if (answer.via === "timeout") return dim("(its default: no answer in time)");
  if (answer.via === "resolved") return dim("(resolved: no longer needed)");
  return answer.by ? `by ${bold(answer.by)}` : "";
}

/** One line per question event; `at` is the formatted time. */
export function renderQuestionEvent(event: QuestionEvent, at: string): string {
  switch (event.kind) {
    case "question.asked": {
      const extras = [event.options?.length ? optionList(event.options) : "", timeoutWords(event)].filter(Boolean).join("; ");
      return `${at} ${yellow("question")} ${bold(event.questionId)} ${dim(`from ${asker(event)}`)}: ${firstLine(event.question)}${extras ? dim(` [${extras}]`) : ""} — answer: ${bold(answerCommand(event.featureId, event.questionId))}`;
    }
    case "question.answered":
      return `${at} ${green("answered")}  ${bold(event.questionId)}${event.taskId ? dim(` (task ${event.taskId})`) : ""}: ${JSON.stringify(event.answer)} ${answeredBy(event)}`.trimEnd();
    case "question.escalated":
      return `${at} ${red("escalated")} ${bold(event.questionId)}${event.taskId ? dim(` (task ${event.taskId})`) : ""}: ${event.reason} — still open: ${bold(answerCommand(event.featureId, event.questionId))}`;
  }
}

/** A text's first line, at most `max` characters. */
function firstLine(text: string, max = 200): string {
  const line = text.split("\n")[0]!;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** What an asking task's DETAIL column says: "asks q1: Which database?". */
export function askingDetail(task: ViewTask, view: FeatureView): string {
  const id = task.questionId ?? (task.waitingFor?.kind === "question" ? task.waitingFor.questionId : undefined);
  const question = view.questions?.find((q) => q.questionId === id) ?? view.questions?.findLast((q) => q.taskId === task.id && q.state !== "answered");
  if (!question) return id ? yellow(`asks ${id}`) : yellow("asks a question");
  return `${yellow(`asks ${question.questionId}`)}: ${firstLine(question.question, 100)}`;
}

const isOpen = (question: ViewQuestion) => question.state !== "answered";

/** The status report's open questions (each with the command that answers it), and how many were answered. */
export function questionLines(view: FeatureView): string[] {
  const questions = view.questions ?? [];
  const open = questions.filter(isOpen);
  const lines: string[] = [];
  if (open.length) {
    lines.push("", bold(`open question${open.length === 1 ? "" : "s"}`));
    for (const question of open) lines.push(...questionBlock(view.featureId, question, "  "));
  }
  const answered = questions.length - open.length;
  if (answered) lines.push(dim(`${answered} question${answered === 1 ? "" : "s"} answered (\`baton questions ${view.featureId} --all\` lists them)`));
  return lines;
}

/** One question: its head line, text, options and timeout, and the answer command (or the answer). */
function questionBlock(featureId: string, question: ViewQuestion, indent: string): string[] {
  const state = question.state === "escalated" ? red("escalated") : question.state === "open" ? yellow("open") : green("answered");
  const lines = [`${indent}${bold(question.questionId)}  ${state}  ${dim(`from ${asker(question)}${question.topic ? `, ${question.topic}` : ""}, asked ${question.askedAt}`)}`];
  lines.push(...question.question.split("\n").map((line) => `${indent}  ${line}`));
  if (question.options?.length) lines.push(`${indent}  options: ${optionList(question.options)}${question.freeText ? dim(" (or any text)") : ""}`);
  const timeout = timeoutWords(question);
  if (timeout && question.state !== "answered") lines.push(dim(`${indent}  ${timeout}`));
  if (question.state === "answered") {
    lines.push(`${indent}  answer: ${JSON.stringify(question.answer ?? "")} ${answeredBy(question)}${question.answeredAt ? dim(` at ${question.answeredAt}`) : ""}`.trimEnd());
  } else {
    lines.push(`${indent}  ${cyan("answer:")} ${bold(answerCommand(featureId, question.questionId))}${question.options?.length ? dim(` (or the option's number: baton answer ${featureId} ${question.questionId} 1)`) : ""}`);
  }
  return lines;
}

/** A question with the feature it belongs to, as `baton questions` lists it. */
export interface FeatureQuestion {
  featureId: string;
  title?: string | undefined;
  question: ViewQuestion;
}

/** The questions of some features, newest first; answered ones only with `all`. */
export function collectQuestions(views: readonly FeatureView[], all: boolean): FeatureQuestion[] {
  return views
    .flatMap((view) => (view.questions ?? []).filter((q) => all || isOpen(q)).map((question) => ({ featureId: view.featureId, title: view.title, question })))
    .sort((a, b) => b.question.askedAt.localeCompare(a.question.askedAt) || a.featureId.localeCompare(b.featureId));
}

/** `baton questions`: each question under its feature's id and title, newest first. */
export function renderQuestions(rows: readonly FeatureQuestion[]): string {
  const lines: string[] = [];
  for (const row of rows) {
    if (lines.length) lines.push("");
    lines.push(`${bold(row.featureId)}${row.title ? `  ${row.title}` : ""}`);
    lines.push(...questionBlock(row.featureId, row.question, "  "));
  }
  return lines.join("\n");
}

const STREAM_COLOR: Record<ViewStream["state"], (text: string) => string> = { waiting: dim, running: yellow, verifying: cyan, passed: green, failed: red };

/** Per-stream progress: name, completed/total, state, gates (with their latest results, from the task that runs them). */
export function streamLines(view: FeatureView): string[] {
  const streams = view.streams ?? [];
  if (!streams.length) return [];
  const width = Math.max(6, ...streams.map((stream) => stream.name.length));
  const lines = ["", dim(`${"STREAM".padEnd(width)}  DONE   ${"STATE".padEnd(9)}  GATES`)];
  for (const stream of streams) {
    const runner = view.tasks.find((task) => task.streamGate && task.stream === stream.name);
    const gates = (stream.gates ?? []).map((gate) => {
      const result = runner?.gateResults?.find((r) => r.name === gate);
      return result ? `${gate} ${result.passed ? green("✓") : red("✗")}` : gate;
    }).join(", ");
    lines.push(`${stream.name.padEnd(width)}  ${`${stream.completed}/${stream.tasks}`.padEnd(5)}  ${STREAM_COLOR[stream.state](stream.state.padEnd(9))}  ${gates || dim("-")}`);
  }
  return lines;
}
