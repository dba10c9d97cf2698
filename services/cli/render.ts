// Human-readable rendering of status events (for `watch`) and of a feature view (for `status`).
import type { FeatureView, ViewGate, ViewTask } from "../../shared/feature-view.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const c = (code: number) => (s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
export const green = c(32), red = c(31), yellow = c(33), dim = c(2), bold = c(1), cyan = c(36);

export function fmtDuration(ms: number | undefined): string {
  if (ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

const time = (iso: string) => dim(iso.slice(11, 23));

/** One line (or a few, for logs and rejections) per event; `progress` is e.g. "3/6". */
export function renderEvent(e: StatusEvent, progress: string): string {
  const who = "taskId" in e && e.taskId && "role" in e ? `${bold(e.taskId)} ${dim(`(${e.role})`)}` : "";
  const p = dim(`[${progress}]`);
  switch (e.kind) {
    case "feature.accepted":
      return `${time(e.at)} ${cyan("accepted")}  ${bold(e.title)} — ${e.tasks.length} tasks, maxParallel ${e.maxParallel}${e.workspace ? dim(` in ${e.workspace}`) : ""}`;
    case "feature.rejected":
      return [`${time(e.at)} ${red("rejected")}  ${e.featureId}`, ...e.errors.map((x) => `    ${red("✗")} ${x.path}: ${x.message}`)].join("\n");
    case "task.dispatched":
      return `${time(e.at)} ${p} ${dim("dispatched")} ${who}${e.attempt > 1 ? dim(` attempt ${e.attempt}`) : ""}`;
    case "task.started":
      return `${time(e.at)} ${p} ${yellow("started")}    ${who} ${dim(`on ${e.workerId}${e.delivery > 1 ? ` (delivery ${e.delivery})` : ""}`)}`;
    case "task.log":
      return e.lines.map((l) => `${dim("    │")} ${dim(e.taskId + ":")} ${l}`).join("\n") + (e.dropped ? `\n${dim(`    │ … ${e.dropped} lines dropped by the rate limit`)}` : "");
    case "task.completed":
      return `${time(e.at)} ${p} ${green("completed")}  ${who} ${dim(fmtDuration(e.durationMs))}${e.summary ? ` — ${e.summary}` : ""}`;
    case "task.failed":
      return `${time(e.at)} ${p} ${red("failed")}     ${who} ${dim(fmtDuration(e.durationMs))} — ${e.error.message}`;
    case "task.verifying":
      return `${time(e.at)} ${p} ${cyan("verifying")}  ${who} ${dim(`gates: ${e.gates.join(", ")}`)}`;
    case "task.retrying":
      return `${time(e.at)} ${p} ${yellow("retrying")}   ${who} ${dim(`attempt ${e.nextAttempt} at ${e.retryAt.slice(11, 19)}`)} — ${e.reason}`;
    case "task.fixing":
      return `${time(e.at)} ${p} ${yellow("fixing")}     ${e.taskId ? bold(e.taskId) : "feature"} ${dim(`gate ${e.gate}, round ${e.round}: task ${e.fixTaskId} (${e.fixRole})`)} — ${e.reason}`;
    case "feature.verifying":
      return `${time(e.at)} ${cyan("verifying")} feature gates: ${e.gates.join(", ")}`;
    case "gate.passed":
    case "gate.failed": {
      const whose = e.taskId ? `${bold(e.taskId)}` : "feature";
      const verdict = e.kind === "gate.passed" ? green("gate passed") : red("gate failed");
      const figures = [
        e.tests ? `${e.tests.passed}/${e.tests.total} tests passed${e.tests.failed ? `, ${e.tests.failed} failed` : ""}` : "",
        e.coverage ? `coverage ${e.coverage.pct.toFixed(1)}% ${e.coverage.metric} (min ${e.coverage.min}%)` : "",
        e.expect === "fail" ? "expected to fail" : "",
      ].filter(Boolean).join(", ");
      const head = `${time(e.at)} ${verdict} ${bold(e.gate)} ${dim("for")} ${whose} ${dim(`${fmtDuration(e.durationMs)}, exit ${e.exitCode ?? "none"}`)}${figures ? ` — ${figures}` : ""}`;
      if (e.kind === "gate.passed") return head;
      const tail = e.outputTail.split("\n").slice(-10).map((l) => `${dim("    │")} ${l}`);
      return [head + (e.reason ? `: ${e.reason}` : ""), ...tail].join("\n");
    }
    case "feature.completed":
      return `${time(e.at)} ${green(bold("feature completed"))} in ${fmtDuration(e.durationMs)}`;
    case "feature.failed":
      return `${time(e.at)} ${red(bold("feature failed"))} after ${fmtDuration(e.durationMs)}: ${e.reason}`;
    case "feature.cancelled":
      return `${time(e.at)} ${red(bold("feature cancelled"))} after ${fmtDuration(e.durationMs)}${e.reason ? `: ${e.reason}` : ""}${e.by ? dim(` (by ${e.by})`) : ""}`;
    case "feature.paused":
      return `${time(e.at)} ${yellow("paused")}    no new tasks start until resumed${e.reason ? `: ${e.reason}` : ""}`;
    case "feature.resumed":
      return `${time(e.at)} ${cyan("resumed")}`;
    case "message.rejected":
      return `${time(e.at)} ${yellow("notice")}  ${e.subject}: ${e.error.message}`;
  }
}

const stateColor: Record<ViewTask["state"], (s: string) => string> = {
  waiting: dim, dispatched: cyan, running: yellow, verifying: cyan, fixing: yellow, retrying: yellow, completed: green, failed: red, cancelled: red,
};

/** The `baton status` report. `liveWorkers` maps role → live worker count (from heartbeats). */
export function renderStatus(v: FeatureView, liveWorkers: Map<string, number>): string {
  const out: string[] = [];
  const featureState = v.state === "completed" ? green(v.state) : v.state === "failed" || v.state === "rejected" || v.state === "cancelled" ? red(v.state) : yellow(v.state);
  out.push(`${bold(v.featureId)}  ${featureState}${v.title ? `  ${v.title}` : ""}`);
  if (v.acceptedAt) out.push(dim(`accepted ${v.acceptedAt}${v.finishedAt ? `, finished ${v.finishedAt} (${fmtDuration(v.durationMs)})` : ""}${v.maxParallel ? `, maxParallel ${v.maxParallel}` : ""}`));
  if (v.workspace) out.push(dim(`workspace ${v.workspace}`));
  if (v.reason) out.push(red(`reason: ${v.reason}`));
  for (const e of v.errors ?? []) out.push(red(`  ✗ ${e.path}: ${e.message}`));
  if (v.tasks.length) {
    const w = {
      id: Math.max(4, ...v.tasks.map((t) => t.id.length)),
      role: Math.max(4, ...v.tasks.map((t) => t.role.length)),
    };
    out.push("");
    out.push(dim(`${"TASK".padEnd(w.id)}  ${"ROLE".padEnd(w.role)}  ${"STATE".padEnd(10)}  ${"TIME".padEnd(7)}  DETAIL`));
    for (const t of v.tasks) {
      let detail = t.error ?? t.summary ?? "";
      if (t.state === "dispatched" && !(liveWorkers.get(t.role) ?? 0)) detail = `waiting: no live ${t.role} worker`;
      else if (t.state === "dispatched") detail = `queued for a ${t.role} worker`;
      else if (t.state === "running") detail = `on ${t.workerId ?? "?"}`;
      else if (t.state === "verifying") detail = `gates ${gateLine(t.gates, t.gateResults)}`;
      else if (t.state === "retrying") detail = `attempt ${t.attempt + 1} at ${t.retryAt?.slice(11, 19) ?? "?"} — ${t.error ?? ""}`;
      else if (t.state === "fixing") detail = `a fix task runs; then gates ${gateLine(t.gates, t.gateResults)}`;
      if (t.fixes && t.state !== "failed") detail = `fixes ${t.fixes}${detail ? ` — ${detail}` : ""}`;
      if (t.state === "completed" && t.gateResults?.length) detail = `${detail ? `${detail} ` : ""}${dim(`(gates ${gateLine(t.gates, t.gateResults)})`)}`;
      else if (t.state === "waiting") detail = t.dependsOn.length ? `after ${t.dependsOn.join(", ")}` : "";
      const dur = t.durationMs !== undefined ? fmtDuration(t.durationMs) : t.startedAt ? fmtDuration(Date.now() - Date.parse(t.startedAt)) : "";
      out.push(`${t.id.padEnd(w.id)}  ${t.role.padEnd(w.role)}  ${stateColor[t.state](t.state.padEnd(10))}  ${dur.padEnd(7)}  ${detail}`);
    }
    const done = v.tasks.filter((t) => t.state === "completed").length;
    out.push("");
    out.push(dim(`${done}/${v.tasks.length} tasks completed`));
  }
  if (v.gates?.length) out.push(`feature gates ${gateLine(v.gates, v.gateResults)}`);
  for (const n of v.notices) out.push(yellow(`notice: ${n}`));
  return out.join("\n");
}

/** "unit ✓, coverage ✗ (coverage 71.0% lines, min 80%), lint …" */
function gateLine(names: readonly string[] | undefined, results: readonly ViewGate[] | undefined): string {
  const all = [...new Set([...(names ?? []), ...(results ?? []).map((r) => r.name)])];
  return all.map((n) => {
    const r = results?.find((x) => x.name === n);
    if (!r) return `${n} …`;
    return r.passed ? `${n} ${green("✓")}` : `${n} ${red("✗")}${r.reason ? dim(` (${r.reason})`) : ""}`;
  }).join(", ");
}

export function progressOf(v: FeatureView): string {
  return `${v.tasks.filter((t) => t.state === "completed").length}/${v.tasks.length}`;
}
