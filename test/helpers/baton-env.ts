// Test harness: a per-test Baton namespace on a real nats-server — in-process coordinator, protocol-speaking test workers.
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadConfig, type BatonConfig } from "../../shared/config.ts";
import { decode, encode } from "../../shared/codec.ts";
import { featureHistory, type FeatureView } from "../../shared/client/index.ts";
import { silentLogger } from "../../shared/logging.ts";
import { ensureRoleConsumer } from "../../shared/nats.ts";
import { TaskAssigned, type StatusEvent, type TaskResult } from "../../shared/protocol/index.ts";
import { names, type Names } from "../../shared/subjects.ts";
import { Coordinator } from "../../services/coordinator/coordinator.ts";
import { followUntilEnd } from "./follow.ts";
import { uniquePrefix } from "./nats-server.ts";

export interface TestEnv {
  nc: NatsConnection;
  js: JetStreamClient;
  n: Names;
  prefix: string;
  config: Readonly<BatonConfig>;
  close(): Promise<void>;
}

export async function testEnv(url: string, overrides: Record<string, string> = {}): Promise<TestEnv> {
  const prefix = overrides.BATON_PREFIX ?? uniquePrefix();
  const config = loadConfig({ env: { NATS_URL: url, BATON_PREFIX: prefix, ...overrides } });
  const nc = await connect({ servers: url });
  return { nc, js: jetstream(nc), n: names(prefix), prefix, config, close: () => nc.close() };
}

export async function startCoordinator(env: TestEnv, url: string): Promise<Coordinator> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const c = new Coordinator({ nc, config: env.config, log: silentLogger });
  await c.start();
  return c;
}

/** Follows a feature's events until it ends (or `timeoutMs`); returns every event and the folded view. */
export function untilEnd(env: TestEnv, featureId: string, timeoutMs = 30_000): Promise<{ events: StatusEvent[]; view: FeatureView }> {
  return followUntilEnd(env.nc, env.n, featureId, { timeoutMs });
}

/** Events recorded so far (no following). */
export async function eventsOf(env: TestEnv, featureId: string): Promise<StatusEvent[]> {
  const out: StatusEvent[] = [];
  for await (const e of featureHistory(env.nc, env.n, featureId, { follow: false })) out.push(e);
  return out;
}

export interface Execution {
  featureId: string;
  taskId: string;
  attempt: number;
  start: number;
  end: number;
}

/**
 * A test worker that speaks the real protocol over NATS (pulls the role's durable consumer,
 * publishes started/result messages) with a programmable outcome. Returns a stop function.
 */
export async function protocolWorker(
  env: TestEnv,
  role: string,
  o: { durationMs?: number; fail?: (t: TaskAssigned) => boolean; hang?: (t: TaskAssigned) => boolean; log: Execution[]; slots?: number },
): Promise<() => Promise<void>> {
  await ensureRoleConsumer(env.nc, env.n, role, 30);
  const consumer = await env.js.consumers.get(env.n.streams.tasks, env.n.consumers.role(role));
  let stopped = false;
  const slot = async () => {
    while (!stopped) {
      const m = await consumer.next({ expires: 1000 }).catch(() => null);
      if (!m) continue;
      const t = decode(TaskAssigned, m.data);
      const start = Date.now();
      const at = () => new Date().toISOString();
      const ref = { featureId: t.featureId, taskId: t.taskId, attempt: t.attempt, role, workerId: `test-${role}` };
      await env.js.publish(env.n.result(t.featureId, t.taskId), encode({ type: "baton.v1.task_started", ...ref, delivery: m.info.deliveryCount, at: at() }));
      if (o.hang?.(t)) continue; // started, then silence: never a result, never an ack
      await new Promise((r) => setTimeout(r, o.durationMs ?? 20));
      const end = Date.now();
      o.log.push({ featureId: t.featureId, taskId: t.taskId, attempt: t.attempt, start, end });
      const failed = o.fail?.(t) ?? false;
      const result: TaskResult = {
        type: "baton.v1.task_result", ...ref, outcome: failed ? "failed" : "completed",
        startedAt: new Date(start).toISOString(), finishedAt: new Date(end).toISOString(), exitCode: failed ? 3 : 0,
        ...(failed ? { error: { name: "ExitCode", code: "EXIT_CODE", message: "exited with code 3" } } : { summary: `did ${t.taskId}`, handoff: { from: t.taskId } }),
      };
      await env.js.publish(env.n.result(t.featureId, t.taskId), encode(result));
      m.ack();
    }
  };
  const slots = Array.from({ length: o.slots ?? 1 }, () => slot());
  return async () => {
    stopped = true;
    await Promise.all(slots);
  };
}
