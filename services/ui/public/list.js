// The features list page: counts by state, the table of features (state, progress, age, cost), and the workers
// panel (per role: live workers, their slots, the role's backlog). The list follows the status stream; the workers
// panel reads the heartbeats every few seconds.
import { ago, api, compact, cost, el, fill, progressBar, setLive, setPrefix, statePill } from "./lib.js";

const WORKERS_EVERY_MS = 4000;

/** Mounts the page into `root`; returns its unmount. */
export function mountList(root) {
  const tiles = el("div", { class: "tiles" });
  const table = el("tbody");
  const empty = el("div", { class: "empty", hidden: true }, "No features yet. Submit one with ", el("code", {}, "baton submit FILE"), ".");
  const problem = el("div", { class: "problem", hidden: true });
  const roles = el("div", { class: "roles" });
  const coordinators = el("div", { class: "coordinators" });
  root.append(
    el("div", { class: "layout-list" },
      el("section", { class: "col-main" },
        el("div", { class: "page-head" }, el("h1", {}, "Features"), el("span", { class: "muted", id: "feature-total" })),
        tiles, problem,
        el("div", { class: "card table-card" },
          el("table", { class: "features", id: "features" },
            el("thead", {}, el("tr", {}, el("th", {}, "Feature"), el("th", {}, "State"), el("th", { class: "col-progress" }, "Progress"), el("th", {}, "Age"), el("th", { class: "num" }, "Cost"))),
            table),
          empty)),
      el("aside", { class: "col-side" },
        el("div", { class: "page-head" }, el("h2", {}, "Workers")),
        coordinators, roles)),
  );
  let stopped = false;
  let timer;
  let fetching = false;
  let again = false;
  const refresh = async () => {
    if (fetching) return void (again = true);
    fetching = true;
    try {
      const list = await api("/api/features");
      setPrefix(list.prefix);
      problem.hidden = true;
      renderList(list, { tiles, table, empty });
    } catch (err) {
      problem.hidden = false;
      problem.textContent = err.message;
    } finally {
      fetching = false;
      if (again && !stopped) (again = false), void refresh();
    }
  };
  const refreshWorkers = async () => {
    try {
      renderWorkers(await api("/api/workers"), roles, coordinators);
    } catch (err) {
      fill(roles, el("div", { class: "problem" }, err.message));
    }
    if (!stopped) timer = setTimeout(refreshWorkers, WORKERS_EVERY_MS);
  };
  const source = new EventSource("/api/stream");
  source.addEventListener("open", () => setLive("live"));
  source.addEventListener("error", () => setLive("reconnecting"));
  source.addEventListener("hello", () => void refresh());
  source.addEventListener("changed", () => void refresh());
  void refresh();
  void refreshWorkers();
  // Ages move with the clock.
  const ticker = setInterval(() => void refresh(), 30_000);
  return () => {
    stopped = true;
    source.close();
    clearTimeout(timer);
    clearInterval(ticker);
  };
}

const TILES = [
  ["running", "Running", (state) => ["executing", "verifying", "planning"].includes(state)],
  ["waiting", "Needs you", (state) => state === "awaitingApproval" || state === "paused"],
  ["completed", "Completed", (state) => state === "completed"],
  ["failed", "Failed", (state) => state === "failed" || state === "unreadable"],
];

function renderList(list, parts) {
  const now = Date.now() + (Date.parse(list.at) - Date.now() || 0);
  document.getElementById("feature-total").textContent = `${list.total} in all`;
  fill(parts.tiles, ...TILES.map(([key, label, pick]) =>
    el("div", { class: `tile tile-${key}` }, el("div", { class: "tile-count" }, String(list.features.filter((row) => pick(row.state)).length)), el("div", { class: "tile-label" }, label))));
  parts.empty.hidden = list.features.length > 0;
  fill(parts.table, ...list.features.map((row) => {
    const progress = { total: row.tasks, completed: row.completed, failed: 0, running: 0, percent: row.tasks ? Math.floor((row.completed / row.tasks) * 100) : 0 };
    const open = () => (location.hash = `#/f/${row.featureId}`);
    return el("tr", { class: "feature-row", "data-feature-id": row.featureId, "data-state": row.state, tabindex: 0, onclick: open, onkeydown: (event) => event.key === "Enter" && open() },
      el("td", {}, el("a", { class: "feature-title", href: `#/f/${row.featureId}` }, row.title || row.featureId), el("div", { class: "feature-id" }, row.featureId), row.error ? el("div", { class: "row-error" }, row.error) : null),
      el("td", {}, statePill(row.state)),
      el("td", { class: "col-progress" }, progressBar(progress)),
      el("td", { class: "muted", title: row.submittedAt }, ago(row.submittedAt, now)),
      el("td", { class: "num", title: row.usage ? `${row.usage.tokens} tokens` : "" }, cost(row.usage)));
  }));
}

function renderWorkers(reply, roles, coordinators) {
  const count = reply.coordinators.length;
  fill(coordinators, el("div", { class: `coordinator-line${count ? "" : " none"}` },
    el("span", { class: "dot" }), count ? `${count} coordinator${count === 1 ? "" : "s"} live` : "no coordinator live: start one (baton up)"));
  if (!reply.roles.length) return void fill(roles, el("div", { class: "empty" }, "No workers yet."));
  fill(roles, ...reply.roles.map((row) => {
    const backlog = row.backlog;
    const starving = backlog && backlog.pending > 0 && row.workers.length === 0;
    return el("div", { class: `card role${starving ? " role-starving" : ""}`, "data-role": row.role },
      el("div", { class: "role-head" },
        el("span", { class: "role-name" }, row.role),
        el("span", { class: "muted small" }, `${row.workers.length} worker${row.workers.length === 1 ? "" : "s"}`),
        el("span", { class: "spacer" }),
        el("span", { class: `backlog${backlog?.pending ? " backlog-hot" : ""}`, "data-backlog": backlog?.pending ?? 0, title: backlog ? `${backlog.pending} pending, ${backlog.inFlight} in flight, ${backlog.redelivered} redelivered` : "no task queue yet" },
          el("span", { class: "backlog-count" }, backlog ? compact(backlog.pending) : "—"), " queued")),
      el("div", { class: "role-body" },
        slots(row.busy, row.slots),
        el("span", { class: "worker-chips" }, row.workers.map((worker) =>
          el("span", { class: "worker-chip", "data-worker-id": worker.workerId, title: `${worker.workerId} on ${worker.host}: ${worker.state}, ${worker.busy}/${worker.slots} busy` },
            el("span", { class: `dot worker-${worker.state}` }), worker.workerId)))),
      starving ? el("div", { class: "role-warn small" }, "tasks wait and no worker of this role is live") : null);
  }));
}

/** Busy/total slots as a row of little squares (a bar beyond 12). */
function slots(busy, total) {
  if (total > 12) return progressBar({ total, completed: busy, failed: 0, running: 0, percent: 0 });
  return el("div", { class: "slots", title: `${busy} of ${total} slots busy` },
    [...Array(total).keys()].map((index) => el("span", { class: `slot${index < busy ? " slot-busy" : ""}` })),
    el("span", { class: "slots-label" }, `${busy}/${total} busy`));
}
