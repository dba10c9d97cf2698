// `baton cancel|pause|resume ID [--reason TEXT]`: publishes a control message and waits for its effect.
import { userInfo } from "node:os";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encode } from "../../../shared/codec.ts";
import { featureHistory } from "../../../shared/history.ts";
import type { ControlMessage, ControlVerb } from "../../../shared/protocol/index.ts";
import type { Names } from "../../../shared/subjects.ts";
import { green, red } from "../render.ts";

const EFFECT: Record<ControlVerb, string> = { cancel: "feature.cancelled", pause: "feature.paused", resume: "feature.resumed" };

/** Exit 0 when the coordinator applied it (or it already held), 1 when it was rejected or nobody answered. */
export async function control(nc: NatsConnection, n: Names, featureId: string, verb: ControlVerb, reason: string | undefined, timeoutMs: number): Promise<number> {
  const msg: ControlMessage = { type: "baton.v1.control", featureId, verb, ...(reason ? { reason } : {}), by: safeUser() };
  const sentAt = new Date().toISOString();
  await jetstream(nc).publish(n.control(featureId, verb), encode(msg), { timeout: 5000 });
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), timeoutMs);
  try {
    let lastState = "";
    for await (const e of featureHistory(nc, n, featureId, { follow: true, signal: ac.signal })) {
      if (e.kind === EFFECT[verb] && e.at >= sentAt) {
        console.log(green(`${featureId}: ${verb} applied`));
        return 0;
      }
      if (e.kind === "message.rejected" && e.at >= sentAt && e.subject.endsWith(`.${verb}`)) {
        console.error(red(`${featureId}: ${verb} rejected: ${e.error.message}`));
        return 1;
      }
      if (e.kind === "feature.paused") lastState = "paused";
      if (e.kind === "feature.resumed") lastState = "executing";
      if (e.kind === "feature.cancelled") lastState = "cancelled";
    }
    // No new event: the verb was a no-op because the feature already was in that state.
    if ((verb === "cancel" && lastState === "cancelled") || (verb === "pause" && lastState === "paused")) {
      console.log(`${featureId}: already ${lastState}`);
      return 0;
    }
    console.error(red(`${featureId}: no answer to ${verb} within ${Math.round(timeoutMs / 1000)}s (is a coordinator running? does the feature exist?)`));
    return 1;
  } finally {
    clearTimeout(t);
  }
}

function safeUser(): string {
  try {
    return userInfo().username.slice(0, 200);
  } catch {
    return "unknown";
  }
}
