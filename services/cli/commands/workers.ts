// `baton workers [--json]`: the live coordinators (with their config fingerprints, marking any that differ) and the
// live workers (with the tasks they run), from their heartbeats.
import { liveCoordinators, liveWorkers, type CoordinatorHeartbeat, type WorkerHeartbeat } from "../../../shared/client/index.ts";
import { commonFingerprint, configDifferences } from "../../../shared/fingerprint.ts";
import type { CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { bold, dim, red, yellow } from "../render.ts";

/** A live coordinator as listed: its heartbeat, and whether its fingerprint differs from the one most run. */
export type ListedCoordinator = CoordinatorHeartbeat & { differs: boolean };

/** Marks each coordinator whose fingerprint is not the common one (shared/fingerprint.ts commonFingerprint). Pure. */
export function markCoordinators(coordinators: readonly CoordinatorHeartbeat[]): ListedCoordinator[] {
  const common = commonFingerprint(coordinators);
  return coordinators.map((beat) => ({ ...beat, differs: beat.fingerprint !== common }));
}

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  return withNats(ctx, "baton-workers", false, async (nc) => {
    const onInvalid = (key: string, err: Error) => console.error(dim(`skipped invalid heartbeat ${key}: ${err.message}`));
    const [coordinators, workers] = await Promise.all([liveCoordinators(nc, ctx.names, { onInvalid }), liveWorkers(nc, ctx.names, { onInvalid })]);
    const listed = markCoordinators(coordinators);
    if (args.values.json) console.log(JSON.stringify({ coordinators: listed, workers }, null, 2));
    else console.log(renderWorkers(listed, workers, ctx.names.prefix));
    return 0;
  });
}

/** The two tables as text. */
export function renderWorkers(coordinators: readonly ListedCoordinator[], workers: readonly WorkerHeartbeat[], prefix: string): string {
  const out: string[] = [];
  if (!coordinators.length) out.push(yellow(`no live coordinators under prefix "${prefix}"`) + dim(" — start one: baton coordinator (or baton up)"));
  else out.push(bold(`coordinators (${coordinators.length})`));
  const reference = coordinators.find((beat) => !beat.differs);
  const idWidth = Math.max(0, ...coordinators.map((beat) => beat.coordinatorId.length));
  for (const beat of coordinators) {
    const differences = beat.differs && reference ? configDifferences(beat, reference, ["here", "in the others"]) : [];
    const mark = beat.differs ? red(` ✗ differs${differences.length ? `: ${differences.join("; ")}` : ""}`) : "";
    out.push(`  ${beat.coordinatorId.padEnd(idWidth)}  fingerprint ${beat.fingerprint}${mark} ${dim(`pid ${beat.pid} on ${beat.host}, v${beat.version}, seen ${beat.at}${metricsOf(beat)}`)}`);
  }
  if (!workers.length) out.push(dim("no live workers"));
  else out.push(bold(`workers (${workers.length})`));
  for (const beat of workers) {
    const tasks = beat.tasks.map((task) => `${task.featureId}/${task.taskId}`).join(", ");
    out.push(`  ${beat.role.padEnd(12)} ${beat.workerId.padEnd(36)} ${`${beat.busy}/${beat.slots} busy`.padEnd(10)} ${beat.state.padEnd(8)} ${tasks ? `${tasks} ` : ""}${dim(`pid ${beat.pid} on ${beat.host}, seen ${beat.at}${metricsOf(beat)}`)}`);
  }
  return out.join("\n");
}

/** `, metrics <url>` when the process serves Prometheus metrics. */
const metricsOf = (beat: { metricsUrl?: string | undefined }): string => (beat.metricsUrl ? `, metrics ${beat.metricsUrl}` : "");
