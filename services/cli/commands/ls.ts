// `baton ls [--all] [--json]`: the features, newest first, with their state and progress, from the read model.
import { listFeatures, type FeatureSummary } from "../../../shared/client/index.ts";
import type { CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { dim, green, red, yellow } from "../render.ts";

/** Rows shown without --all; with it, as many as the read model gives (its maximum). */
const DEFAULT_ROWS = 50;
const ALL_ROWS = 100_000;

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  return withNats(ctx, "baton-ls", false, async (nc) => {
    const { features, total } = await listFeatures(nc, ctx.names, { limit: args.values.all ? ALL_ROWS : DEFAULT_ROWS });
    if (args.values.json) console.log(JSON.stringify(features, null, 2));
    else if (!total) console.log(dim(`no features under prefix "${ctx.names.prefix}"`));
    else console.log(renderList(features, total));
    return 0;
  });
}

const stateColor = (state: FeatureSummary["state"]) =>
  state === "completed" ? green
  : state === "executing" || state === "paused" || state === "verifying" || state === "planning" || state === "awaitingApproval" ? yellow
  : state === "unknown" ? dim
  : red;

/** The table, and a line saying how many older features it leaves out. */
export function renderList(rows: readonly FeatureSummary[], total: number): string {
  const width = Math.max(7, ...rows.map((r) => r.featureId.length));
  const stateWidth = Math.max(10, ...rows.map((r) => r.state.length));
  const lines = [dim(`${"FEATURE".padEnd(width)}  ${"STATE".padEnd(stateWidth)}  TASKS    SUBMITTED                 TITLE`)];
  for (const row of rows) {
    lines.push(`${row.featureId.padEnd(width)}  ${stateColor(row.state)(row.state.padEnd(stateWidth))}  ${`${row.completed}/${row.tasks}`.padEnd(7)}  ${row.submittedAt.padEnd(24)}  ${row.title}`);
  }
  if (rows.length < total) lines.push(dim(`… ${total - rows.length} older features (--all shows them)`));
  return lines.join("\n");
}
