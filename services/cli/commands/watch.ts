// `baton watch ID`: replays a feature's history, then follows it until it ends.
import type { NatsConnection } from "@nats-io/transport-node";
import { emptyView, foldEvent, isTerminal, type FeatureView } from "../../../shared/feature-view.ts";
import { featureHistory } from "../../../shared/history.ts";
import type { Names } from "../../../shared/subjects.ts";
import { dim, progressOf, renderEvent } from "../render.ts";

export interface WatchOptions {
  /** Print task.log lines (default true). */
  logs?: boolean;
  /** Stop after the feature was accepted or rejected (used by `submit` without --watch). */
  untilAccepted?: boolean;
  /** Give up after this many ms without the feature ending (0 = never). */
  timeoutMs?: number;
  print?: (line: string) => void;
}

/** Exit codes: 0 completed (or accepted with untilAccepted), 1 failed / timed out, 2 rejected. */
export async function watchFeature(nc: NatsConnection, n: Names, featureId: string, o: WatchOptions = {}): Promise<{ code: number; view: FeatureView }> {
  const print = o.print ?? ((l: string) => console.log(l));
  const view = emptyView(featureId);
  const ac = new AbortController();
  let timedOut = false;
  const timer = o.timeoutMs ? setTimeout(() => ((timedOut = true), ac.abort()), o.timeoutMs) : undefined;
  const hint = setTimeout(() => {
    if (view.state === "unknown") print(dim(`waiting for feature ${featureId} to be accepted… (is \`baton coordinator\` or \`baton up\` running?)`));
  }, 5000);
  const stopOnSignal = () => ac.abort();
  process.once("SIGINT", stopOnSignal);
  try {
    for await (const e of featureHistory(nc, n, featureId, {
      follow: true,
      signal: ac.signal,
      onInvalid: (s, err) => print(dim(`skipped invalid event on ${s}: ${err.message}`)),
    })) {
      if (!foldEvent(view, e)) continue;
      if (e.kind !== "task.log" || o.logs !== false) print(renderEvent(e, progressOf(view)));
      if (isTerminal(view.state)) break;
      if (o.untilAccepted && view.state !== "unknown") break;
    }
  } finally {
    clearTimeout(timer);
    clearTimeout(hint);
    process.off("SIGINT", stopOnSignal);
  }
  if (timedOut) print(dim(`gave up watching ${featureId} after ${Math.round((o.timeoutMs ?? 0) / 1000)}s; it is ${view.state}`));
  const code = view.state === "completed" ? 0 : view.state === "rejected" ? 2 : o.untilAccepted && view.state === "executing" ? 0 : 1;
  return { code, view };
}
