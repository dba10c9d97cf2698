// Each role's backlog: the task queue's durable consumer per role (`<prefix>.task.<role>`), as JetStream counts it.
// What the dashboard's workers panel and the coordinator's `baton_role_backlog` gauge show. Read-only.
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Names } from "../subjects.ts";

export interface RoleBacklog {
  role: string;
  /** Task messages no worker has taken yet. */
  pending: number;
  /** Taken by a worker and not acknowledged yet (running, or waiting for redelivery after a worker died). */
  inFlight: number;
  /** Messages delivered more than once and not acknowledged yet. */
  redelivered: number;
  /** Workers pulling right now (pull requests waiting on the consumer). */
  waitingPulls: number;
}

/**
 * One row per role that has a durable task consumer (a role gets one when its first worker starts or its first task
 * is dispatched), sorted by role. An empty list before the tasks stream exists.
 */
export async function roleBacklogs(nc: NatsConnection, names: Names): Promise<RoleBacklog[]> {
  const jsm = await jetstreamManager(nc);
  const rows: RoleBacklog[] = [];
  try {
    for await (const info of jsm.consumers.list(names.streams.tasks)) {
      const role = info.config.durable_name ?? info.name;
      rows.push({
        role,
        pending: info.num_pending,
        inFlight: info.num_ack_pending,
        redelivered: info.num_redelivered,
        waitingPulls: info.num_waiting,
      });
    }
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return [];
    throw err;
  }
  return rows.sort((a, b) => a.role.localeCompare(b.role));
}
