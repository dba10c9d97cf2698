// A feature's task graph as SVG: the server's layout (services/ui/layout.ts: columns by dependency depth) drawn as
// boxes coloured by task state, with curved edges from each dependency. Redrawn whole on every update (no inputs).
import { el } from "./lib.js";

const ICONS = { completed: "✓", failed: "✕", cancelled: "–", asking: "?", running: "▶", verifying: "◆", fixing: "✎", integrating: "⇄", retrying: "↻", dispatched: "→", waiting: "·" };
const WAITS = { dependencies: "waiting", approval: "awaits approval", question: "awaits an answer", worker: "awaits a worker", paused: "paused", budget: "paused: budget", parallel: "queued", scope: "awaits a lock", integration: "awaits merge", gates: "gates running", fix: "being fixed", retry: "retry pending", stream: "awaits its stream", baseline: "baseline gates", workspace: "preparing" };

/** The line under a task's title: its role, and what it is doing, took or waits for. */
function subtitle(task) {
  let doing = task.state;
  if (task.state === "waiting" && task.waitingFor) doing = WAITS[task.waitingFor.kind] ?? `waits: ${task.waitingFor.kind}`;
  else if (task.state === "completed" && task.durationMs !== undefined) doing = `done in ${seconds(task.durationMs)}`;
  if (task.attempt > 1) doing += ` · try ${task.attempt}`;
  return `${task.role} · ${doing}`;
}

const seconds = (ms) => (ms < 60_000 ? `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s` : `${Math.round(ms / 60_000)}m`);

function edgePath(from, to, layout) {
  const startX = from.x + layout.nodeWidth;
  const startY = from.y + layout.nodeHeight / 2;
  const endX = to.x - 6;
  const endY = to.y + layout.nodeHeight / 2;
  const bend = Math.max(24, (endX - startX) / 2);
  return `M ${startX} ${startY} C ${startX + bend} ${startY}, ${endX - bend} ${endY}, ${endX} ${endY}`;
}

function node(task, place, layout, selected, onSelect) {
  const width = layout.nodeWidth;
  const height = layout.nodeHeight;
  return el("svg:g", {
    class: `node state-${task.state}${selected ? " selected" : ""}`, "data-task-id": task.id, "data-state": task.state,
    transform: `translate(${place.x} ${place.y})`, tabindex: 0, role: "button", "aria-label": `${task.id}: ${task.state}`,
    onclick: () => onSelect(task.id), onkeydown: (event) => event.key === "Enter" && onSelect(task.id),
  },
  el("svg:title", {}, `${task.title} (${task.id}, ${task.role}): ${task.state}${task.error ? ` — ${task.error}` : ""}`),
  el("svg:rect", { class: "node-box", width, height, rx: 10 }),
  el("svg:rect", { class: "node-strip", width: 5, height: height - 16, x: 0, y: 8, rx: 2.5 }),
  el("svg:circle", { class: "node-badge", cx: width - 17, cy: 17, r: 10 }),
  el("svg:text", { class: "node-icon", x: width - 17, y: 21, "text-anchor": "middle" }, ICONS[task.state] ?? ""),
  el("svg:text", { class: "node-title", x: 16, y: 25, "data-fit": width - 50 }, task.title || task.id),
  el("svg:text", { class: "node-sub", x: 16, y: 44, "data-fit": width - 26 }, subtitle(task)));
}

/**
 * The graph for `tasks` placed by `layout`: task `marks.selected` outlined, the edges along `marks.critical` (the
 * critical path's task ids, in order) highlighted; clicking a task calls `onSelect(taskId)`. Returns the <svg> (its
 * natural size: the card scrolls when it is wider than the page).
 */
export function renderDag(layout, tasks, marks, onSelect) {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const places = new Map(layout.nodes.map((place) => [place.id, place]));
  const onPath = new Set(marks.critical.slice(1).map((taskId, index) => `${marks.critical[index]}>${taskId}`));
  const edges = layout.edges.map((edge) => {
    const from = places.get(edge.from);
    const to = places.get(edge.to);
    if (!from || !to) return null;
    const done = byId.get(edge.from)?.state === "completed";
    const critical = onPath.has(`${edge.from}>${edge.to}`);
    const look = critical ? "-critical" : done ? "-done" : "";
    return el("svg:path", { class: `edge${done ? " edge-done" : ""}${critical ? " edge-critical" : ""}`, d: edgePath(from, to, layout), "marker-end": `url(#arrow${look})` });
  });
  return el("svg:svg", { class: "dag", id: "dag", width: layout.width, height: layout.height, viewBox: `0 0 ${layout.width} ${layout.height}`, role: "img", "aria-label": "task graph" },
    el("svg:defs", {},
      ["", "-done", "-critical"].map((suffix) => el("svg:marker", { id: `arrow${suffix}`, viewBox: "0 0 10 10", refX: 8, refY: 5, markerWidth: 10, markerHeight: 10, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
        el("svg:path", { class: `arrow${suffix}`, d: "M 0 0 L 10 5 L 0 10 z" })))),
    el("svg:g", { class: "edges" }, edges),
    el("svg:g", { class: "nodes" }, layout.nodes.map((place) => {
      const task = byId.get(place.id);
      return task ? node(task, place, layout, task.id === marks.selected, onSelect) : null;
    })));
}

/**
 * Shortens each `data-fit` text of `root` (already in the page: it is measured) with an ellipsis until it fits
 * its width; the full text stays in the node's tooltip.
 */
export function fitTexts(root) {
  for (const text of root.querySelectorAll("text[data-fit]")) {
    const max = Number(text.dataset.fit);
    const full = text.textContent;
    let keep = full.length;
    while (keep > 1 && text.getComputedTextLength() > max) text.textContent = `${full.slice(0, --keep).trimEnd()}…`;
  }
}

/** The states present, each as a legend entry with its count; and the critical path's line when there is one. */
export function renderLegend(tasks, hasCritical) {
  const counts = new Map();
  for (const task of tasks) counts.set(task.state, (counts.get(task.state) ?? 0) + 1);
  return el("div", { class: "legend" }, [...counts].map(([state, count]) =>
    el("span", { class: `legend-item state-${state}` }, el("span", { class: "legend-swatch" }), `${state} ${count}`)),
  hasCritical ? el("span", { class: "legend-item" }, el("span", { class: "legend-line" }), "critical path") : null);
}
