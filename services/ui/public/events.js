// A feature's event history (every status event, newest first, filtered by kind group and text) and its gate
// results (each gate's latest run with reason, tests, coverage and the output's tail from its gate event).
import { clock, el, fill } from "./lib.js";

const GROUPS = [
  ["all", "All events"],
  ["feature", "Feature"],
  ["plan", "Plan & questions"],
  ["task", "Tasks"],
  ["gate", "Gates"],
  ["log", "Logs"],
  ["problem", "Problems"],
];
const MAX_SHOWN = 400;

function groupOf(kind) {
  if (kind === "task.log" || kind === "task.progress") return "log";
  if (kind.startsWith("plan.") || kind.startsWith("question.")) return "plan";
  if (kind.startsWith("gate.")) return "gate";
  if (kind.startsWith("task.") || kind === "checkpoint.created" || kind === "scope.violation") return "task";
  return "feature";
}

const isProblem = (event) => /failed|rejected|invalid|violation|conflict|exceeded|escalated/.test(event.kind);

/** One line about an event: what a person reads in the list. */
export function describe(event) {
  switch (event.kind) {
    case "feature.accepted": return `${event.title} — ${event.tasks?.length ?? 0} tasks`;
    case "task.dispatched": return `to ${event.role}, attempt ${event.attempt}`;
    case "task.started": return `started by ${event.workerId}`;
    case "task.log": return event.lines.slice(-2).join("  ⏎  ");
    case "task.progress": return [event.tool, event.text].filter(Boolean).join(": ");
    case "gate.passed": case "gate.failed": return `${event.gate}${event.tests ? ` — ${event.tests.passed}/${event.tests.total} tests` : ""}${event.reason ? ` — ${event.reason}` : ""}`;
    case "question.asked": return event.question;
    case "question.answered": return `${event.questionId}: "${event.answer}"${event.by ? ` by ${event.by}` : ""} (${event.via})`;
    case "plan.ready": return `plan from ${event.source ?? "request"}: ${event.tasks?.length ?? 0} tasks${event.approval === "required" ? ", needs approval" : ""}`;
    case "plan.approved": case "plan.rejected": case "feature.paused": case "feature.resumed": case "feature.cancelled":
      return [event.by ? `by ${event.by}` : "", event.reason ?? ""].filter(Boolean).join(" — ");
    case "message.rejected": return event.error?.message ?? "";
    default: return event.summary ?? event.reason ?? event.error ?? event.message ?? "";
  }
}

/** The events panel; `add(event)` appends one (shown at once when it passes the filter). */
export function eventsPanel() {
  const events = [];
  const kind = el("select", { class: "filter-kind", "aria-label": "kind" }, GROUPS.map(([value, label]) => el("option", { value }, label)));
  const search = el("input", { class: "filter-search", type: "search", placeholder: "Search events…", "aria-label": "search" });
  const list = el("ol", { class: "events", id: "events" });
  const count = el("span", { class: "muted small" });
  const passes = (event) => {
    const group = kind.value;
    if (group === "problem" ? !isProblem(event) : group !== "all" && groupOf(event.kind) !== group) return false;
    const text = search.value.trim().toLowerCase();
    return !text || `${event.kind} ${event.taskId ?? ""} ${describe(event)}`.toLowerCase().includes(text);
  };
  const row = (event) => el("li", { class: `event group-${groupOf(event.kind)}${isProblem(event) ? " event-problem" : ""}`, "data-kind": event.kind, "data-seq": event.seq },
    el("span", { class: "event-time", title: event.at }, clock(event.at)),
    el("span", { class: "event-kind" }, event.kind),
    el("span", {}, event.taskId ? el("span", { class: "event-task", title: event.taskId }, event.taskId) : null),
    el("span", { class: "event-text" }, describe(event)));
  const redraw = () => {
    const shown = events.filter(passes);
    fill(list, ...shown.slice(-MAX_SHOWN).reverse().map(row));
    count.textContent = `${shown.length} of ${events.length}`;
  };
  kind.addEventListener("change", redraw);
  search.addEventListener("input", redraw);
  const element = el("section", { class: "card events-card" },
    el("div", { class: "card-head" }, el("h2", {}, "Events"), count, el("span", { class: "spacer" }), kind, search),
    el("div", { class: "events-scroll" }, list));
  return {
    element,
    add(event) {
      events.push(event);
      if (passes(event)) {
        list.prepend(row(event));
        if (list.children.length > MAX_SHOWN) list.lastElementChild.remove();
      }
      count.textContent = `${events.filter(passes).length} of ${events.length}`;
    },
    /** The latest gate event for each `<taskId|feature>/<gate>`. */
    latestGateEvents() {
      const latest = new Map();
      for (const event of events) if (event.kind === "gate.passed" || event.kind === "gate.failed") latest.set(`${event.taskId ?? "feature"}/${event.gate}`, event);
      return latest;
    },
  };
}

/** The gates panel; `update(view, latestGateEvents)` redraws it, keeping open outputs open. */
export function gatesPanel() {
  const open = new Set();
  const body = el("div", { class: "gates", id: "gates" });
  const element = el("section", { class: "card gates-card" }, el("div", { class: "card-head" }, el("h2", {}, "Gates")), body);
  const gateRow = (scope, result, event) => {
    const key = `${scope}/${result.name}`;
    const details = el("details", { class: `gate ${result.passed ? "gate-passed" : "gate-failed"}`, "data-gate": key, open: open.has(key), ontoggle: () => (details.open ? open.add(key) : open.delete(key)) },
      el("summary", {},
        el("span", { class: "gate-mark" }, result.passed ? "✓" : "✕"),
        el("span", { class: "gate-name" }, result.name),
        el("span", { class: "gate-scope" }, scope === "feature" ? "feature" : scope),
        result.tests ? el("span", { class: "gate-tests" }, `${result.tests.passed}/${result.tests.total} tests`) : null,
        result.coverage ? el("span", { class: "gate-tests" }, `${result.coverage.metric} ${result.coverage.pct}% (min ${result.coverage.min}%)`) : null,
        el("span", { class: "gate-when muted small" }, clock(result.at))),
      result.reason ? el("div", { class: "gate-reason" }, result.reason) : null,
      event ? el("div", { class: "gate-command muted small" }, `$ ${event.command.join(" ")} — exit ${event.exitCode ?? "?"}, ${Math.round(event.durationMs)} ms, ${event.workerId}`) : null,
      el("pre", { class: "gate-output" }, event?.outputTail || "(no output recorded)"));
    return details;
  };
  return {
    element,
    update(view, latest) {
      const rows = [
        ...(view.gateResults ?? []).map((result) => gateRow("feature", result, latest.get(`feature/${result.name}`))),
        ...view.tasks.flatMap((task) => (task.gateResults ?? []).map((result) => gateRow(task.id, result, latest.get(`${task.id}/${result.name}`)))),
      ];
      fill(body, ...(rows.length ? rows : [el("div", { class: "empty" }, "No gate has run yet.")]));
    },
  };
}
