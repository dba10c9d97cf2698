// `baton report ID [--markdown] [--json]`: a feature's execution report (shared/client/report.ts) — progress,
// streams, critical path and time left, blockers, gates per level, agents, usage and cost; exit code as `baton status`.
import { getFeature, listFeatures } from "../../../shared/client/read-model.ts";
import { executionReport, roleMedians } from "../../../shared/client/report.ts";
import type { ExecutionReport } from "../../../shared/client/report-types.ts";
import type { NatsConnection } from "../../../shared/nats.ts";
import type { FeatureView } from "../../../shared/protocol/views.ts";
import type { Names } from "../../../shared/subjects.ts";
import { featureIdArg, type CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { dim } from "../colors.ts";
import { renderReport, renderReportMarkdown } from "../render-report.ts";
import { statusExitCode } from "./status.ts";

/** Recent features whose finished tasks stand in for a role this feature has no finished task of. */
const RECENT_FEATURES = 20;
const READ_TIMEOUT_MS = 5_000;

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const featureId = featureIdArg(args);
  const format = args.values.json === true ? "json" : args.values.markdown === true ? "markdown" : "text";
  return withNats(ctx, "baton-report", false, (nc) => report(nc, ctx.names, featureId, format));
}

/** Prints the report (a terminal block, Markdown, or the ExecutionReport JSON) and returns `statusExitCode`. */
export async function report(nc: NatsConnection, names: Names, featureId: string, format: "text" | "markdown" | "json"): Promise<number> {
  const read = await getFeature(nc, names, featureId, {
    onInvalid: (subject, err) => console.error(dim(`skipped invalid event on ${subject}: ${err.message}`)),
  });
  if (read.source === "history") console.error(dim(`(no coordinator answered ${names.apiFeatureGet()}: state folded from the status history)`));
  if (!read.view) {
    console.error(`no feature ${featureId} (${read.source === "history" ? `no status history under prefix "${names.prefix}"` : `the coordinators know no such feature under prefix "${names.prefix}"`})`);
    return statusExitCode(null);
  }
  const made = await reportOf(nc, names, read.view, read.source === "coordinator");
  if (format === "json") console.log(JSON.stringify(made, null, 2));
  else if (format === "markdown") console.log(renderReportMarkdown(made, read.view));
  else console.log(renderReport(made));
  return statusExitCode(read.view);
}

/**
 * The report of `view`, with what it needs from the deployment, read only when needed: role medians of recent
 * features (when a remaining task's role has no completed task here, and `coordinators` answer the feature list),
 * and live workers per role (when a task waits for a worker; `live`, when the caller read them already). A failed read leaves that input out, never the report.
 */
export async function reportOf(nc: NatsConnection, names: Names, view: FeatureView, coordinators: boolean, live?: ReadonlyMap<string, number>): Promise<ExecutionReport> {
  const [medians, liveWorkers] = await Promise.all([
    coordinators && needsMedians(view) ? recentMedians(nc, names, view.featureId).catch(() => undefined) : undefined,
    !waitsForWorker(view) ? undefined : live ? Object.fromEntries(live) : liveWorkerCounts(nc, names).catch(() => undefined),
  ]);
  return executionReport(view, { ...(medians ? { roleMedians: medians } : {}), ...(liveWorkers ? { liveWorkers } : {}) });
}

const ENDED: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

/** Whether some task still to run has a role with no completed task in this feature. */
function needsMedians(view: FeatureView): boolean {
  const finished = new Set(view.tasks.filter((task) => task.state === "completed").map((task) => task.role));
  return view.tasks.some((task) => !ENDED.has(task.state) && !finished.has(task.role));
}

/** Whether a task is queued for a worker (dispatched, or a gate or integration run no worker took). */
function waitsForWorker(view: FeatureView): boolean {
  return view.tasks.some((task) => task.state === "dispatched" || task.waitingFor?.kind === "worker");
}

/** Role medians over the (up to 20) most recent other features that completed a task; read-model only. */
async function recentMedians(nc: NatsConnection, names: Names, featureId: string): Promise<Record<string, number>> {
  const list = await listFeatures(nc, names, { limit: RECENT_FEATURES + 1, timeoutMs: READ_TIMEOUT_MS });
  const others = list.features.filter((row) => row.featureId !== featureId && row.completed > 0).slice(0, RECENT_FEATURES);
  const reads = await Promise.allSettled(others.map((row) => getFeature(nc, names, row.featureId, { fallback: false, timeoutMs: READ_TIMEOUT_MS })));
  const views = reads.flatMap((read) => (read.status === "fulfilled" && read.value.view ? [read.value.view] : []));
  return roleMedians(views);
}

/** role → live workers, from the heartbeats (loaded only here: it needs KV). */
async function liveWorkerCounts(nc: NatsConnection, names: Names): Promise<Record<string, number>> {
  const { liveWorkers } = await import("../../../shared/client/workers.ts");
  const counts: Record<string, number> = {};
  for (const worker of await liveWorkers(nc, names)) counts[worker.role] = (counts[worker.role] ?? 0) + 1;
  return counts;
}
