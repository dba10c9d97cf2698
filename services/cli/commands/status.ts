// `baton status ID [--json]`: a feature's current state from the read model (or, with no coordinator
// running, folded from its status history), with live worker counts for tasks still queued.
// The client's modules one by one, not its index: `status` is typed often, and loads only what it uses (the
// workers' heartbeats, which need KV, only when a task waits in a queue).
import { emptyView } from "../../../shared/client/feature-view.ts";
import { getFeature } from "../../../shared/client/read-model.ts";
import type { FeatureView } from "../../../shared/protocol/views.ts";
import type { NatsConnection } from "../../../shared/nats.ts";
import type { Names } from "../../../shared/subjects.ts";
import { featureIdArg, type CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { dim, renderStatus } from "../render.ts";

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const featureId = featureIdArg(args);
  return withNats(ctx, "baton-status", false, (nc) => status(nc, ctx.names, featureId, args.values.json));
}

/** Exit 0 when the feature exists (whatever its state), 1 when there is no such feature. */
export async function status(nc: NatsConnection, names: Names, featureId: string, json: boolean): Promise<number> {
  const read = await getFeature(nc, names, featureId, {
    onInvalid: (subject, err) => console.error(dim(`skipped invalid event on ${subject}: ${err.message}`)),
  });
  if (read.source === "history") console.error(dim(`(no coordinator answered ${names.apiFeatureGet()}: state folded from the status history)`));
  const view = read.view ?? emptyView(featureId);
  if (json) {
    console.log(JSON.stringify(view, null, 2));
  } else if (!read.view) {
    const where = read.source === "history" ? `no status history under prefix "${names.prefix}"` : `the coordinators know no such feature under prefix "${names.prefix}"`;
    console.error(`no feature ${featureId} (${where})`);
    return 1;
  } else {
    console.log(renderStatus(view, await queuedRoleWorkers(nc, names, view)));
  }
  return view.state === "unknown" ? 1 : 0;
}

/** role → live worker count, read only when a task waits in a role's queue (the one place it is shown). */
async function queuedRoleWorkers(nc: NatsConnection, names: Names, view: FeatureView): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (!view.tasks.some((t) => t.state === "dispatched")) return counts;
  const { liveWorkers } = await import("../../../shared/client/workers.ts");
  for (const worker of await liveWorkers(nc, names)) counts.set(worker.role, (counts.get(worker.role) ?? 0) + 1);
  return counts;
}
