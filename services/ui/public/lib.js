// Helpers shared by the dashboard's pages: building DOM nodes, calling the JSON API, and formatting states, times,
// durations and costs. Plain browser modules, no build step.

/** An element: `attrs` (class, data-*, on* handlers, style as an object, other attributes), then children (nodes, strings, arrays; null skipped). */
export function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "class") node.setAttribute("class", value);
    else if (name === "text") node.textContent = value;
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    else if (name === "style") for (const [property, setting] of Object.entries(value)) node.style.setProperty(property, setting);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** Replaces `node`'s children (as `el` takes them: nodes, strings, arrays; null and false skipped). */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

/** The API's JSON reply; throws an Error with the API's message (and `status`, `body`) on a non-2xx answer. */
export async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { Accept: "application/json", ...(init.body ? { "Content-Type": "application/json" } : {}), ...init.headers },
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body?.error?.message ?? `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}

/** POSTs `body` as JSON; resolves with the reply whatever its status (an action's outcome says what happened). */
export async function post(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body), credentials: "same-origin" });
  return { status: response.status, body: await response.json().catch(() => ({})) };
}

/** The header's indicator: live (a stream is connected), reconnecting, or connecting. */
export function setLive(state) {
  const live = document.getElementById("live");
  live.dataset.live = state;
  document.getElementById("live-text").textContent = state;
}

/** The deployment's prefix in the header. */
export function setPrefix(prefix) {
  document.getElementById("prefix").textContent = prefix ?? "";
}

/** Who the person acting is (the header's "acting as" field, kept in localStorage). */
export function actor() {
  return (localStorage.getItem("baton.by") || "").trim() || "dashboard";
}

const STATE_LABELS = {
  awaitingApproval: "awaiting approval",
  unknown: "unknown",
};

/** A state as a coloured pill (`pill state-<state>`). */
export function statePill(state) {
  return el("span", { class: `pill state-${state}`, "data-state": state }, STATE_LABELS[state] ?? state);
}

export const TERMINAL = new Set(["completed", "failed", "rejected", "cancelled"]);

/** "4s", "3m 12s", "2h 5m", "3d 4h". */
export function duration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return "—";
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** How long ago `iso` was, e.g. "3m ago". `now`: ms since the epoch. */
export function ago(iso, now = Date.now()) {
  if (!iso) return "—";
  return `${duration(now - Date.parse(iso))} ago`;
}

/** "$0.42" from a usage's costUsd; "12.3k tok" when only tokens are known; "—" with neither. */
export function cost(usage) {
  if (usage?.costUsd !== undefined) return usage.costUsd < 0.01 && usage.costUsd > 0 ? "<$0.01" : `$${usage.costUsd.toFixed(2)}`;
  if (usage?.tokens) return `${compact(usage.tokens)} tok`;
  return "—";
}

/** 1234 → "1.2k", 2500000 → "2.5M". */
export function compact(count) {
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${(count / 1000).toFixed(count < 10_000 ? 1 : 0)}k`;
  return `${(count / 1_000_000).toFixed(1)}M`;
}

/** "14:03:27" in local time. */
export function clock(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour12: false });
}

/** A progress bar: completed (green), failed (red), under way (blue, striped) out of total. */
export function progressBar(progress, opts = {}) {
  const total = Math.max(progress.total, 1);
  const part = (count, kind) => (count > 0 ? el("span", { class: `bar-${kind}`, style: { width: `${(count / total) * 100}%` } }) : null);
  return el("div", { class: `progress${opts.large ? " progress-large" : ""}`, role: "progressbar", "aria-valuenow": progress.percent, "aria-valuemin": 0, "aria-valuemax": 100 },
    el("div", { class: "bar" }, part(progress.completed, "done"), part(progress.failed, "failed"), part(progress.running, "running")),
    opts.label === false ? null : el("span", { class: "progress-label" }, `${progress.completed}/${progress.total}`),
  );
}

/** A short-lived message at the bottom of the page: kind ok, warn or error. */
export function toast(message, kind = "ok") {
  let holder = document.getElementById("toasts");
  if (!holder) document.body.append((holder = el("div", { id: "toasts" })));
  const note = el("div", { class: `toast toast-${kind}`, role: "status" }, message);
  holder.append(note);
  setTimeout(() => note.classList.add("toast-leaving"), 4500);
  setTimeout(() => note.remove(), 5000);
}

/** An action's reply (POST control or answer) as a toast; true when it was applied. */
export function reportOutcome(what, reply) {
  const outcome = reply.body?.outcome;
  if (reply.status >= 400 && !outcome) toast(`${what}: ${reply.body?.error?.message ?? `HTTP ${reply.status}`}`, "error");
  else if (outcome?.kind === "applied") toast(`${what}: done`, "ok");
  else if (outcome?.kind === "unchanged") toast(`${what}: already ${outcome.state}`, "ok");
  else if (outcome?.kind === "rejected") toast(`${what} refused: ${outcome.error.message}`, "error");
  else toast(`${what}: no coordinator answered in time`, "warn");
  return outcome?.kind === "applied" || outcome?.kind === "unchanged";
}
