// `baton ls [--all] [--json]`: the features in the store, newest first, with their state and progress.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import { kvKeys, openKv } from "../../../shared/nats.ts";
import type { Names } from "../../../shared/subjects.ts";
import { dim, green, red, yellow } from "../render.ts";

/**
 * The few fields of a stored feature snapshot that a listing needs. Read leniently: a snapshot this
 * version cannot read is listed as "unreadable" rather than failing the whole listing.
 */
const StoredSummary = z.object({
  snapshot: z.object({
    value: z.string(),
    context: z.object({
      title: z.string(),
      submittedAt: z.string(),
      finishedAt: z.string().optional(),
      tasks: z.record(z.string(), z.object({ status: z.string() })),
    }),
  }),
});

export interface FeatureRow {
  featureId: string;
  state: string;
  title: string;
  submittedAt: string;
  finishedAt?: string | undefined;
  tasks: number;
  completed: number;
}

export async function listFeatures(nc: NatsConnection, n: Names): Promise<FeatureRow[]> {
  let keys: string[];
  try {
    keys = await kvKeys(await jetstreamManager(nc), n.buckets.features);
  } catch {
    return [];
  }
  const kv = await openKv(nc, n.buckets.features);
  const rows: FeatureRow[] = [];
  for (const featureId of keys) {
    const e = await kv.get(featureId);
    if (!e || e.operation !== "PUT" || !e.length) continue;
    const r = StoredSummary.safeParse(e.json());
    if (!r.success) {
      rows.push({ featureId, state: "unreadable", title: "", submittedAt: "", tasks: 0, completed: 0 });
      continue;
    }
    const { value, context } = r.data.snapshot;
    const statuses = Object.values(context.tasks).map((t) => t.status);
    rows.push({
      featureId, state: value, title: context.title, submittedAt: context.submittedAt, finishedAt: context.finishedAt,
      tasks: statuses.length, completed: statuses.filter((s) => s === "completed").length,
    });
  }
  return rows.sort((a, b) => b.submittedAt.localeCompare(a.submittedAt));
}

export async function ls(nc: NatsConnection, n: Names, o: { all: boolean; json: boolean }): Promise<number> {
  const rows = await listFeatures(nc, n);
  const shown = o.all ? rows : rows.slice(0, 50);
  if (o.json) {
    console.log(JSON.stringify(shown, null, 2));
    return 0;
  }
  if (!rows.length) {
    console.log(dim(`no features under prefix "${n.prefix}"`));
    return 0;
  }
  const color = (s: string) => (s === "completed" ? green : s === "executing" || s === "paused" ? yellow : s === "received" ? dim : red)(s.padEnd(10));
  const w = Math.max(7, ...shown.map((r) => r.featureId.length));
  console.log(dim(`${"FEATURE".padEnd(w)}  ${"STATE".padEnd(10)}  TASKS    SUBMITTED                 TITLE`));
  for (const r of shown) {
    console.log(`${r.featureId.padEnd(w)}  ${color(r.state)}  ${`${r.completed}/${r.tasks}`.padEnd(7)}  ${r.submittedAt.padEnd(24)}  ${r.title}`);
  }
  if (shown.length < rows.length) console.log(dim(`… ${rows.length - shown.length} older features (--all shows them)`));
  return 0;
}
