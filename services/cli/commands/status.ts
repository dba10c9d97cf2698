// `baton status ID [--verbose] [--json]`: a feature's execution report and current state from the read model (or,
// with no coordinator running, folded from its status history), with live worker counts for tasks still queued, a git feature's branch,
// checkpoints and handoffs; exit code by state.
// The client's modules one by one, not its index: `status` is typed often, and loads only what it uses (the
// workers' heartbeats, which need KV, only when a task waits in a queue).
import { getFeature } from "../../../shared/client/read-model.ts";
import type { FeatureView } from "../../../shared/protocol/views.ts";
import type { NatsConnection } from "../../../shared/nats.ts";
import type { Names } from "../../../shared/subjects.ts";
import { featureIdArg, type CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { dim, renderStatus } from "../render.ts";
import { renderReport } from "../render-report.ts";

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const featureId = featureIdArg(args);
  return withNats(ctx, "baton-status", false, (nc) => status(nc, ctx.names, featureId, args.values.json === true, args.values.verbose === true));
}

/**
 * `baton status`'s exit codes, for scripts: 0 completed, 1 failed or cancelled, 2 rejected, 3 still going
 * (received, planning, awaiting approval, executing, verifying, paused), 4 no such feature. A failed connection to NATS exits 1 (main.ts).
 */
export const STATUS_EXIT = { completed: 0, failed: 1, cancelled: 1, rejected: 2, running: 3, unknownFeature: 4 } as const;

/** The exit code for a feature's view; null, or a history of notices only (seq 0): there is no such feature. */
export function statusExitCode(view: FeatureView | null): number {
  if (!view || (view.state === "unknown" && view.seq === 0)) return STATUS_EXIT.unknownFeature;
  switch (view.state) {
    case "completed": return STATUS_EXIT.completed;
    case "failed": return STATUS_EXIT.failed;
    case "cancelled": return STATUS_EXIT.cancelled;
    case "rejected": return STATUS_EXIT.rejected;
    case "unknown": case "planning": case "awaitingApproval": case "executing": case "verifying": case "paused": return STATUS_EXIT.running;
  }
}

/**
 * Prints the feature's view headed by its execution report (as text, every handoff with `verbose`; or with `json` as
 * the FeatureView JSON on stdout, with the ExecutionReport under `report`) and returns `statusExitCode`.
 */
export async function status(nc: NatsConnection, names: Names, featureId: string, json: boolean, verbose = false): Promise<number> {
  const read = await getFeature(nc, names, featureId, {
    onInvalid: (subject, err) => console.error(dim(`skipped invalid event on ${subject}: ${err.message}`)),
  });
  if (read.source === "history") console.error(dim(`(no coordinator answered ${names.apiFeatureGet()}: state folded from the status history)`));
  if (!read.view) {
    const where = read.source === "history" ? `no status history under prefix "${names.prefix}"` : `the coordinators know no such feature under prefix "${names.prefix}"`;
    console.error(`no feature ${featureId} (${where})`);
  } else {
    const live = await queuedRoleWorkers(nc, names, read.view);
    // the execution report heads it (issue 14); loaded here only, as it may read recent features for role medians
    const { reportOf } = await import("./report.ts");
    const report = await reportOf(nc, names, read.view, read.source === "coordinator", live);
    if (json) console.log(JSON.stringify({ ...read.view, report }, null, 2));
    else console.log(renderStatus(read.view, live, { verbose, report: renderReport(report, { heading: false }) }));
  }
  return statusExitCode(read.view);
}

/** role → live worker count, read only when a task waits in a role's queue (the one place it is shown). */
async function queuedRoleWorkers(nc: NatsConnection, names: Names, view: FeatureView): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (!view.tasks.some((t) => t.state === "dispatched")) return counts;
  const { liveWorkers } = await import("../../../shared/client/workers.ts");
  for (const worker of await liveWorkers(nc, names)) counts.set(worker.role, (counts.get(worker.role) ?? 0) + 1);
  return counts;
}
