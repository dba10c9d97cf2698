// `baton status ID [--json]` and `baton workers`: current state from the status history and worker heartbeats.
import type { NatsConnection } from "@nats-io/transport-node";
import { emptyView, foldEvent, type FeatureView } from "../../../shared/feature-view.ts";
import { featureHistory } from "../../../shared/history.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { z } from "zod";
import { kvKeys, openKv } from "../../../shared/nats.ts";
import type { Names } from "../../../shared/subjects.ts";
import { dim, renderStatus } from "../render.ts";

/** A heartbeat as the CLI reads it (workers write more fields; unknown ones are kept). */
const WorkerBeatShape = z.looseObject({
  workerId: z.string(),
  role: z.string(),
  pid: z.number().optional(),
  host: z.string().optional(),
  slots: z.number().optional(),
  busy: z.number().optional(),
  at: z.string().optional(),
});

export interface WorkerBeat {
  workerId: string;
  role: string;
  pid?: number;
  host?: string;
  slots?: number;
  busy?: number;
  at?: string;
}

/** Live workers from the heartbeat bucket (entries expire when a worker stops beating). */
export async function liveWorkers(nc: NatsConnection, n: Names): Promise<WorkerBeat[]> {
  let kv;
  let keys: string[];
  try {
    kv = await openKv(nc, n.buckets.workers);
    keys = await kvKeys(await jetstreamManager(nc), n.buckets.workers);
  } catch {
    return [];
  }
  const out: WorkerBeat[] = [];
  for (const k of keys) {
    const e = await kv.get(k);
    if (e && e.operation === "PUT" && e.length) {
      try {
        const beat = WorkerBeatShape.safeParse(e.json());
        if (beat.success) out.push(beat.data);
      } catch {
        /* a malformed heartbeat is not a live worker */
      }
    }
  }
  return out.sort((a, b) => a.role.localeCompare(b.role) || a.workerId.localeCompare(b.workerId));
}

export async function featureView(nc: NatsConnection, n: Names, featureId: string): Promise<FeatureView> {
  const view = emptyView(featureId);
  for await (const e of featureHistory(nc, n, featureId, { follow: false })) foldEvent(view, e);
  return view;
}

export async function status(nc: NatsConnection, n: Names, featureId: string, json: boolean): Promise<number> {
  const view = await featureView(nc, n, featureId);
  if (json) {
    console.log(JSON.stringify(view, null, 2));
  } else if (view.state === "unknown" && !view.notices.length) {
    console.error(`no feature ${featureId} (no status history under prefix "${n.prefix}")`);
    return 1;
  } else {
    const counts = new Map<string, number>();
    for (const w of await liveWorkers(nc, n)) counts.set(w.role, (counts.get(w.role) ?? 0) + 1);
    console.log(renderStatus(view, counts));
  }
  return view.state === "unknown" ? 1 : 0;
}

export async function workers(nc: NatsConnection, n: Names, json: boolean): Promise<number> {
  const list = await liveWorkers(nc, n);
  if (json) console.log(JSON.stringify(list, null, 2));
  else if (!list.length) console.log(dim("no live workers"));
  else for (const w of list) console.log(`${w.role.padEnd(12)} ${w.workerId.padEnd(36)} ${`${w.busy ?? 0}/${w.slots ?? 1} busy`.padEnd(10)} ${dim(`pid ${w.pid ?? "?"} on ${w.host ?? "?"}, seen ${w.at ?? "?"}`)}`);
  return 0;
}
