// `baton ls [--all] [--json]`: the features in the store, newest first, with their state and progress.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { view } from "../../coordinator/actor.ts";
import { loadFeature, type Cached } from "../../coordinator/loop.ts";
import { FeatureStore } from "../../coordinator/store.ts";
import { kvKeys, openKv } from "../../../shared/nats.ts";
import type { Names } from "../../../shared/subjects.ts";
import { dim, green, red, yellow } from "../render.ts";

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
  const jsm = await jetstreamManager(nc);
  try {
    keys = await kvKeys(jsm, n.buckets.features);
  } catch {
    return [];
  }
  // A feature's state is its checkpoint in KV plus the journal entries after it (docs/design.md).
  const store = new FeatureStore(await openKv(nc, n.buckets.features), jsm, n);
  const counts = await store.journalCounts().catch(() => new Map<string, number>());
  const rows: FeatureRow[] = [];
  for (const featureId of keys) {
    let cur: Cached | null;
    try {
      cur = await loadFeature(store, featureId, counts.get(featureId) ?? 0);
    } catch {
      rows.push({ featureId, state: "unreadable", title: "", submittedAt: "", tasks: 0, completed: 0 });
      continue;
    }
    if (!cur) continue;
    const { state, context } = view(cur.snapshot);
    const statuses = Object.values(context.tasks).map((t) => t.status);
    rows.push({
      featureId, state, title: context.title, submittedAt: context.submittedAt, finishedAt: context.finishedAt,
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
