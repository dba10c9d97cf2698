// `baton watch ID [--json]`: replays a feature's history, then follows it until it ends (--json: one JSON line per event;
// on a terminal, a live board redrawn in place and the execution report at the end: board/).
import { emptyView, featureHistory, foldEvent, isTerminal, type FeatureView } from "../../../shared/client/index.ts";
import type { NatsConnection } from "../../../shared/nats.ts";
import type { StatusEvent } from "../../../shared/protocol/events.ts";
import type { Names } from "../../../shared/subjects.ts";
import { featureIdArg, type CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { boardWanted, startLiveBoard, type LiveBoard } from "../board/index.ts";
import { dim, progressOf, renderEvent } from "../render.ts";
import { renderReport } from "../render-report.ts";

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const featureId = featureIdArg(args);
  return withNats(ctx, "baton-watch", true, async (nc) => (await watchFeature(nc, ctx.names, featureId, { json: args.values.json, plain: args.values.plain === true })).code);
}

export interface WatchOptions {
  /** Print task.log lines (default true). */
  logs?: boolean;
  /** Stop after the feature was accepted or rejected (used by `submit` without --watch). */
  untilAccepted?: boolean;
  /** Give up after this many ms without the feature ending (0 = never). */
  timeoutMs?: number;
  print?: (line: string) => void;
  /** Each event as one JSON line (NDJSON) on stdout; every other line goes to stderr (or `print`). */
  json?: boolean;
  /** Plain lines even on a terminal (`--plain`): no live board. */
  plain?: boolean;
}

/**
 * Exit codes: 0 completed (or accepted with untilAccepted), 1 failed / timed out, 2 rejected. Lines go to `print`;
 * without `print`, `json` and `untilAccepted`, a terminal stdout (see boardWanted) gets the live board instead, and
 * the terminal is given back (cursor shown) however the watch ends.
 */
export async function watchFeature(nc: NatsConnection, names: Names, featureId: string, opts: WatchOptions = {}): Promise<{ code: number; view: FeatureView }> {
  const view = emptyView(featureId);
  const board: LiveBoard | undefined = !opts.print && !opts.json && !opts.untilAccepted && boardWanted(process.stdout, process.env, opts.plain)
    ? startLiveBoard(view, process.stdout, { renderReport: (report) => renderReport(report, { heading: false }) })
    : undefined;
  const print = opts.print ?? board?.note ?? (opts.json ? (line: string) => console.error(line) : (line: string) => console.log(line));
  const show = board ? (event: StatusEvent) => board.event(event) : opts.json ? (event: StatusEvent) => console.log(JSON.stringify(event)) : (event: StatusEvent) => print(renderEvent(event, progressOf(view)));
  const ac = new AbortController();
  let timedOut = false;
  const timer = opts.timeoutMs ? setTimeout(() => ((timedOut = true), ac.abort()), opts.timeoutMs) : undefined;
  const hint = setTimeout(() => {
    if (view.state === "unknown") print(dim(`waiting for feature ${featureId} to be accepted… (is \`baton coordinator\` or \`baton up\` running?)`));
  }, 5000);
  const stopOnSignal = () => ac.abort();
  process.once("SIGINT", stopOnSignal);
  try {
    for await (const event of featureHistory(nc, names, featureId, {
      follow: true,
      signal: ac.signal,
      onInvalid: (subject, err) => print(dim(`skipped invalid event on ${subject}: ${err.message}`)),
    })) {
      if (!foldEvent(view, event)) continue;
      if (event.kind !== "task.log" || opts.logs !== false) show(event);
      if (isTerminal(view.state)) break;
      if (opts.untilAccepted && view.state !== "unknown") break;
    }
  } finally {
    clearTimeout(timer);
    clearTimeout(hint);
    process.off("SIGINT", stopOnSignal);
    board?.close({ ended: isTerminal(view.state) });
  }
  if (timedOut) print(dim(`gave up watching ${featureId} after ${Math.round((opts.timeoutMs ?? 0) / 1000)}s; it is ${view.state}`));
  const code = view.state === "completed" ? 0 : view.state === "rejected" ? 2 : opts.untilAccepted && !timedOut && view.state !== "unknown" && !isTerminal(view.state) ? 0 : 1;
  return { code, view };
}
