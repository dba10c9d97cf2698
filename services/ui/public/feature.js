// One feature's page: its header (state, progress, age, cost) with Pause / Resume / Cancel, the approval and
// question boxes, the live task graph with the selected task's details, its gates and its event history. The
// feature's stream brings every event; each one that changes the view fetches the view again (no reload).
import { fitTexts, renderDag, renderLegend } from "./dag.js";
import { eventsPanel, gatesPanel } from "./events.js";
import { actor, ago, api, compact, cost, duration, el, fill, post, progressBar, reportOutcome, setLive, setPrefix, statePill, TERMINAL } from "./lib.js";
import { planPanel, questionsPanel } from "./panels.js";

const QUIET = new Set(["task.log", "task.progress"]);
const REFRESH_DELAY_MS = 150;

/** The header: title, state, meta line, progress and the control buttons. */
function headerPanel(featureId) {
  const element = el("section", { class: "feature-head", id: "feature-head" });
  const confirming = new Set();
  const control = (verb, label, kind = "") => {
    const button = el("button", { class: `btn ${kind}`, "data-action": verb }, label);
    button.addEventListener("click", async () => {
      if (verb === "cancel" && !confirming.has(verb)) {
        confirming.add(verb);
        button.textContent = "Really cancel?";
        setTimeout(() => (confirming.delete(verb), (button.textContent = label)), 4000);
        return;
      }
      button.disabled = true;
      const reply = await post(`/api/features/${featureId}/control`, { verb, by: actor() });
      reportOutcome(label, reply);
      button.disabled = false;
    });
    return button;
  };
  const buttons = { pause: control("pause", "Pause"), resume: control("resume", "Resume", "btn-primary"), cancel: control("cancel", "Cancel", "btn-danger") };
  return {
    element,
    update(data) {
      const view = data.view;
      const now = Date.parse(data.at);
      const running = !TERMINAL.has(view.state);
      buttons.pause.hidden = !["executing", "verifying", "planning"].includes(view.state);
      buttons.resume.hidden = view.state !== "paused";
      buttons.cancel.hidden = !running;
      const elapsed = view.durationMs ?? (view.acceptedAt ? now - Date.parse(view.acceptedAt) : undefined);
      fill(element,
        el("div", { class: "crumbs" }, el("a", { href: "#/" }, "← Features")),
        el("div", { class: "head-row" },
          el("div", { class: "head-title" }, el("h1", {}, view.title || featureId), statePill(view.state)),
          el("div", { class: "head-actions" }, buttons.pause, buttons.resume, buttons.cancel)),
        el("div", { class: "meta" },
          el("span", { class: "mono" }, featureId),
          view.acceptedAt ? el("span", {}, `accepted ${ago(view.acceptedAt, now)}`) : null,
          elapsed !== undefined ? el("span", {}, `${running ? "running for" : "took"} ${duration(elapsed)}`) : null,
          el("span", { title: view.usage ? `${view.usage.inputTokens} in / ${view.usage.outputTokens} out` : "" }, `cost ${cost(view.usage)}`),
          view.usage?.tokens ? el("span", {}, `${compact(view.usage.tokens)} tokens`) : null,
          view.maxParallel ? el("span", {}, `max ${view.maxParallel} in parallel`) : null,
          data.source === "history" ? el("span", { class: "tag tag-warn" }, "from history: no coordinator answered") : null),
        el("div", { class: "head-progress" }, progressBar(data.progress, { large: true }),
          el("span", { class: "progress-words" }, `${data.progress.percent}% · ${data.progress.completed} completed · ${data.progress.running} under way · ${data.progress.waiting} waiting${data.progress.failed ? ` · ${data.progress.failed} failed` : ""}`),
          running && data.report.criticalPath.remainingMs !== null && data.report.criticalPath.steps.length
            ? el("span", { class: "eta", title: `critical path: ${data.report.criticalPath.steps.map((step) => step.taskId).join(" → ")}` }, `≈ ${duration(data.report.criticalPath.remainingMs)} left`)
            : null),
        data.report.blockers.length ? el("ul", { class: "blockers", id: "blockers" }, data.report.blockers.map((blocker) =>
          el("li", { class: `blocker blocker-${blocker.kind}` }, el("span", { class: "blocker-kind" }, blocker.kind), blocker.detail))) : null,
        view.reason ? el("div", { class: `banner ${view.state === "failed" ? "banner-danger" : ""}` }, view.reason) : null,
        view.paused ? el("div", { class: "banner banner-warn" }, `Paused ${ago(view.paused.at, now)}${view.paused.by ? ` by ${view.paused.by}` : ""}${view.paused.reason ? `: ${view.paused.reason}` : ""}`) : null);
    },
  };
}

/** What one task is and does, under the graph. */
function taskDetail(task) {
  if (!task) return el("div", { class: "empty small" }, "Select a task in the graph to see its details.");
  const rows = [
    ["Role", task.role], ["State", statePill(task.state)], ["Attempt", String(task.attempt)], ["Worker", task.workerId],
    ["Depends on", task.dependsOn.join(", ") || "—"], ["Waits for", task.waitingFor ? task.waitingFor.kind : undefined],
    ["Started", task.startedAt ? ago(task.startedAt) : undefined], ["Took", task.durationMs !== undefined ? duration(task.durationMs) : undefined],
    ["Cost", task.usage ? cost(task.usage) : undefined], ["Files", task.files?.join(", ")],
  ].filter(([, value]) => value !== undefined && value !== "");
  return el("div", { class: "task-detail", "data-task-id": task.id },
    el("h3", {}, task.title, el("span", { class: "muted" }, ` ${task.id}`)),
    el("dl", {}, rows.map(([label, value]) => [el("dt", {}, label), el("dd", {}, value)])),
    task.summary ? el("p", { class: "task-summary" }, task.summary) : null,
    task.error ? el("pre", { class: "task-error" }, task.error) : null);
}

/** Mounts the page of `featureId` into `root`; returns its unmount. */
export function mountFeature(root, featureId) {
  const header = headerPanel(featureId);
  const plan = planPanel(featureId);
  const questions = questionsPanel(featureId);
  const events = eventsPanel();
  const gates = gatesPanel();
  const graph = el("div", { class: "dag-scroll" });
  const legend = el("div");
  const detail = el("div", { class: "detail" });
  const waiting = el("div", { class: "empty big", hidden: true }, `Waiting for feature ${featureId}…`);
  let data;
  let selected;
  const draw = () => {
    if (!data) return;
    const view = data.view;
    header.update(data);
    plan.update(view);
    questions.update(view);
    const critical = data.report.criticalPath.steps.map((step) => step.taskId);
    fill(graph, renderDag(data.layout, view.tasks, { selected, critical }, (taskId) => ((selected = taskId), draw())));
    fitTexts(graph);
    fill(legend, renderLegend(view.tasks, critical.length > 1));
    fill(detail, taskDetail(view.tasks.find((task) => task.id === selected)));
    gates.update(view, events.latestGateEvents());
  };
  root.append(header.element, waiting, plan.element, questions.element,
    el("section", { class: "card dag-card" }, el("div", { class: "card-head" }, el("h2", {}, "Task graph"), el("span", { class: "spacer" }), legend), graph, detail),
    el("div", { class: "columns" }, gates.element, events.element));
  let stopped = false;
  let timer;
  let inFlight = false;
  let again = false;
  const refresh = async () => {
    timer = undefined;
    if (inFlight) return void (again = true);
    inFlight = true;
    try {
      data = await api(`/api/features/${encodeURIComponent(featureId)}`);
      setPrefix(data.prefix);
      waiting.hidden = true;
      draw();
    } catch (err) {
      waiting.hidden = false;
      if (err.status !== 404) waiting.textContent = err.message;
    } finally {
      inFlight = false;
      if (again && !stopped) (again = false), void refresh();
    }
  };
  const later = () => (timer ??= setTimeout(refresh, REFRESH_DELAY_MS));
  const source = new EventSource(`/api/features/${encodeURIComponent(featureId)}/stream`);
  source.addEventListener("open", () => setLive("live"));
  source.addEventListener("error", () => setLive("reconnecting"));
  source.addEventListener("status", (message) => {
    const event = JSON.parse(message.data);
    events.add(event);
    if (!QUIET.has(event.kind)) later();
  });
  void refresh();
  return () => {
    stopped = true;
    source.close();
    clearTimeout(timer);
  };
}
