// Plans (issue 13) as `baton watch` and `baton status` show them: the plan events as lines, and in the status report
// the plan as the ordered list a person approves, the planner's attempts and errors, and who approved or rejected it.
import type { ValidationIssue } from "../../shared/protocol/common.ts";
import type { StatusEvent } from "../../shared/protocol/events.ts";
import { PLANNER_TASK_ID } from "../../shared/protocol/planning.ts";
import type { FeatureView, ViewPlan, ViewTask } from "../../shared/protocol/views.ts";
import { bold, cyan, dim, green, red, yellow } from "./colors.ts";

const PLAN_EVENT_KINDS = ["plan.ready", "plan.invalid", "plan.approved", "plan.rejected"] as const;
export type PlanEvent = Extract<StatusEvent, { kind: (typeof PLAN_EVENT_KINDS)[number] }>;

export const isPlanEvent = (event: StatusEvent): event is PlanEvent => (PLAN_EVENT_KINDS as readonly string[]).includes(event.kind);

/** Validation errors a line or a report shows before it says how many more there are. */
export const FEW_ERRORS = 3;

/** The commands that decide a plan awaiting approval. */
export const approveCommand = (featureId: string) => `baton approve ${featureId}`;
export const rejectCommand = (featureId: string) => `baton reject ${featureId} --reason "…"`;

/** Where a plan came from, in words: "template api-first", "the planner", "the request". */
function sourceWords(source: ViewPlan["source"], template: string | undefined): string {
  if (source === "template" || (!source && template)) return `template ${template ?? "?"}`;
  if (source === "planner") return template ? `the planner (template ${template})` : "the planner";
  return "the request";
}

/** "path: message; path: message (and 2 more)". */
function errorList(errors: readonly ValidationIssue[], max = FEW_ERRORS): string {
  const shown = errors.slice(0, max).map((issue) => `${issue.path}: ${issue.message}`).join("; ");
  return shown + (errors.length > max ? dim(` (and ${errors.length - max} more)`) : "");
}

/** One line per plan event; `at` is the formatted time. */
export function renderPlanEvent(event: PlanEvent, at: string): string {
  switch (event.kind) {
    case "plan.ready": {
      const count = `${event.tasks.length} task${event.tasks.length === 1 ? "" : "s"}`;
      const from = `from ${sourceWords(event.source, event.template)}${event.attempt && event.attempt > 1 ? dim(` (attempt ${event.attempt})`) : ""}`;
      const next = event.approval === "required"
        ? ` — ${yellow("awaits approval")}: ${bold(approveCommand(event.featureId))} ${dim(`(baton status ${event.featureId} shows it; ${rejectCommand(event.featureId)})`)}`
        : "";
      return `${at} ${cyan("plan ready")} ${count} ${from}${next}`;
    }
    case "plan.invalid":
      return `${at} ${red("plan invalid")} attempt ${event.attempt}: ${event.errors.length} error${event.errors.length === 1 ? "" : "s"} — ${errorList(event.errors)}${event.willRetry ? dim(" (sent back to the planner)") : red(" (no attempt left: the feature fails)")}`;
    case "plan.approved":
      return `${at} ${green("plan approved")}${event.by ? ` by ${bold(event.by)}` : ""}`;
    case "plan.rejected":
      return `${at} ${red("plan rejected")}${event.by ? ` by ${bold(event.by)}` : ""}${event.reason ? `: ${event.reason}` : ""}`;
  }
}

/** The tasks a plan consists of: the planner's own run and fix tasks are not part of what a person approves. */
export function planTasks(view: FeatureView): ViewTask[] {
  return view.tasks.filter((task) => !task.fixes && !(task.id === PLANNER_TASK_ID && task.role === "planner"));
}

/**
 * The tasks in an order they can run in: each after everything it depends on, and among the tasks that are ready,
 * the one listed first first (so a plan that is already in order keeps it). A dependency outside the list counts as
 * met; tasks in a cycle (which the coordinator refuses anyway) come last, as given.
 */
export function planOrder<T extends { id: string; dependsOn: readonly string[] }>(tasks: readonly T[]): T[] {
  const listed = new Set(tasks.map((task) => task.id));
  const placed = new Set<string>();
  const order: T[] = [];
  while (order.length < tasks.length) {
    const next = tasks.find((task) => !placed.has(task.id) && task.dependsOn.every((dep) => placed.has(dep) || !listed.has(dep)));
    if (!next) {
      order.push(...tasks.filter((task) => !placed.has(task.id)));
      break;
    }
    placed.add(next.id);
    order.push(next);
  }
  return order;
}

/** The numbered plan as a table: #, task, role, stream, what it comes after, its gates, its title. */
export function planTable(tasks: readonly ViewTask[]): string[] {
  const ordered = planOrder(tasks);
  const number = new Map(ordered.map((task, index) => [task.id, index + 1]));
  const rows = ordered.map((task, index) => [
    `${index + 1}.`,
    task.id,
    task.role,
    task.stream ? `${task.stream}${task.streamGate ? "*" : ""}` : "-",
    task.dependsOn.length ? task.dependsOn.map((dep) => (number.has(dep) ? `${dep}(${number.get(dep)})` : dep)).join(",") : "-",
    task.gates?.length ? task.gates.join(",") : "-",
    task.title,
  ]);
  const head = ["#", "TASK", "ROLE", "STREAM", "AFTER", "GATES", "TITLE"];
  const widths = head.map((title, col) => Math.max(title.length, ...rows.map((row) => row[col]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, col) => (col === cells.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ").trimEnd();
  const out = [dim(`  ${line(head)}`), ...rows.map((row) => `  ${line(row)}`)];
  if (ordered.some((task) => task.streamGate)) out.push(dim("  (* runs its stream's gates)"));
  return out;
}

/**
 * The status report's lines about the plan: awaiting approval, the ordered list, its source, summary, notes and the
 * commands that decide it; while planning, the goal and the planner's invalid attempts; afterwards who decided it.
 */
export function planLines(view: FeatureView): string[] {
  const plan = view.plan;
  if (view.state === "planning") return planningLines(view);
  if (view.state === "awaitingApproval") return approvalLines(view);
  if (!plan) return [];
  const lines: string[] = [];
  if (plan.rejectedAt) {
    lines.push(red(`plan rejected${plan.rejectedBy ? ` by ${plan.rejectedBy}` : ""} at ${plan.rejectedAt}${plan.rejectReason ? `: ${plan.rejectReason}` : ""}`));
  } else if (plan.approvedAt) {
    lines.push(`plan from ${sourceWords(plan.source, plan.template)}, ${green("approved")}${plan.approvedBy ? ` by ${plan.approvedBy}` : ""} at ${plan.approvedAt}`);
  } else if (plan.source && plan.source !== "request") {
    lines.push(dim(`plan from ${sourceWords(plan.source, plan.template)}${plan.approval === "none" ? " (no approval needed)" : ""}`));
  }
  // a planner that never produced a valid plan: the feature failed with these
  if (!plan.readyAt && plan.errors?.length) lines.push(...invalidLines(plan));
  else if (plan.invalid) lines.push(dim(`  accepted after ${plan.invalid} invalid plan${plan.invalid === 1 ? "" : "s"}`));
  return lines;
}

function planningLines(view: FeatureView): string[] {
  const plan = view.plan ?? {};
  const lines = [`${yellow("planning")}: the planner turns the goal into tasks${plan.approval === "required" ? "; the plan then waits for approval" : ""}`];
  if (plan.goal) lines.push(`  goal: ${plan.goal}`);
  const planner = view.tasks.find((task) => task.id === PLANNER_TASK_ID);
  if (planner) lines.push(dim(`  planner run: ${planner.state}${planner.attempt > 1 ? `, attempt ${planner.attempt}` : ""}${planner.workerId ? ` on ${planner.workerId}` : ""}`));
  lines.push(...invalidLines(plan));
  return lines;
}

/** The planner's invalid plans so far and the latest one's errors. */
function invalidLines(plan: ViewPlan): string[] {
  if (!plan.invalid && !plan.errors?.length) return [];
  const lines = [yellow(`  ${plan.invalid ?? 1} invalid plan${plan.invalid === 1 ? "" : "s"} so far; the latest one's errors:`)];
  for (const issue of (plan.errors ?? []).slice(0, 10)) lines.push(red(`    ✗ ${issue.path}: ${issue.message}`));
  if ((plan.errors?.length ?? 0) > 10) lines.push(dim(`    … and ${plan.errors!.length - 10} more (\`--json\` shows every one)`));
  return lines;
}

function approvalLines(view: FeatureView): string[] {
  const plan = view.plan ?? {};
  const tasks = planTasks(view);
  const lines = ["", `${bold("plan")} ${dim(`from ${sourceWords(plan.source, plan.template)}${plan.readyAt ? `, ready ${plan.readyAt}` : ""}`)} — ${yellow("awaits your approval")}: ${tasks.length} task${tasks.length === 1 ? "" : "s"}, in order`];
  if (plan.goal) lines.push(`  goal: ${plan.goal}`);
  if (plan.summary) lines.push(...plan.summary.split("\n").map((line) => `  ${line}`));
  lines.push(...planTable(tasks));
  if (view.streams?.some((stream) => stream.gates?.length)) {
    lines.push(dim(`  stream gates: ${view.streams.filter((stream) => stream.gates?.length).map((stream) => `${stream.name}: ${stream.gates!.join(",")}`).join("; ")}`));
  }
  if (view.gates?.length) lines.push(dim(`  feature gates: ${view.gates.join(", ")}`));
  for (const note of plan.notes ?? []) lines.push(dim(`  note: ${note}`));
  lines.push("", `  approve: ${bold(approveCommand(view.featureId))}`, `  reject:  ${rejectCommand(view.featureId)}`);
  return lines;
}
