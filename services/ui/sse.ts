// The dashboard's live updates as server-sent events: the list's stream (a core-NATS subscription to every status
// event, turned into throttled "changed" pings) and one feature's stream (its whole history, then each new event).
// Whatever a stream holds (subscription, ordered consumer, timers) is released when its client goes away.
import type { IncomingMessage, ServerResponse } from "node:http";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { featureHistory } from "../../shared/client/index.ts";
import type { UiContext } from "./api.ts";

/** At most one "changed" ping per this many ms on the list's stream. */
export const LIST_THROTTLE_MS = 400;
/** A comment line this often keeps proxies from closing an idle stream (and finds clients that left). */
const KEEPALIVE_MS = 15_000;
/** Event kinds that change nothing the list shows (they come in bursts). */
const QUIET_KINDS = new Set(["task.log", "task.progress"]);

export interface EventStream {
  send(event: string, data: unknown, id?: number): void;
  /** Resolves when the client went away or `end` was called. */
  closed: Promise<void>;
  end(): void;
}

/** The event streams open now, each by its `end` (the server ends them all when it closes). */
export type OpenStreams = Set<() => void>;

/**
 * Starts an SSE response, listed in `open` until it ends; `onEnd` runs once, when the client goes away or `end()`
 * is called.
 */
export function openStream(res: ServerResponse, open: OpenStreams, onEnd: () => void): EventStream {
  res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-transform", Connection: "keep-alive", "X-Accel-Buffering": "no" });
  res.write("retry: 2000\n\n");
  const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
  let finish!: () => void;
  const closed = new Promise<void>((done) => (finish = done));
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(keepalive);
    open.delete(end);
    onEnd();
    res.end();
    finish();
  };
  open.add(end);
  res.once("close", end);
  return {
    send(event, data, id) {
      if (!ended) res.write(`${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    closed,
    end,
  };
}

/** The feature id and kind of a status subject (`<prefix>.status.<featureId>.<kind tokens>`), or undefined. Pure. */
export function parseStatusSubject(prefix: string, subject: string): { featureId: string; kind: string } | undefined {
  const head = `${prefix}.status.`;
  if (!subject.startsWith(head)) return undefined;
  const [featureId, ...kind] = subject.slice(head.length).split(".");
  return featureId && kind.length ? { featureId, kind: kind.join(".") } : undefined;
}

/**
 * GET /api/stream: `changed` messages (`{ featureIds }`) at most every LIST_THROTTLE_MS while status events
 * arrive, for the page to fetch the list again. Log and progress events do not count. Returns once the client left.
 */
export async function streamList(ctx: UiContext, res: ServerResponse, open: OpenStreams): Promise<void> {
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    stream.send("changed", { featureIds: [...pending] });
    pending.clear();
  };
  const sub = ctx.nc.subscribe(ctx.names.statusAll(), {
    callback: (err, msg) => {
      if (err) return;
      const parsed = parseStatusSubject(ctx.names.prefix, msg.subject);
      if (!parsed || QUIET_KINDS.has(parsed.kind)) return;
      pending.add(parsed.featureId);
      timer ??= setTimeout(flush, LIST_THROTTLE_MS);
    },
  });
  const stream = openStream(res, open, () => {
    sub.unsubscribe();
    clearTimeout(timer);
  });
  stream.send("hello", { prefix: ctx.names.prefix });
  await stream.closed;
}

/**
 * GET /api/features/:id/stream: each status event of the feature as a `status` message (id = its seq), oldest
 * first, then new ones as they come. A reconnecting client's Last-Event-ID skips what it has. When the events
 * stream does not exist yet, a `problem` message, then the response ends (the browser reconnects). Returns once
 * the client left; the ordered consumer is stopped then.
 */
export async function streamFeature(ctx: UiContext, featureId: string, req: IncomingMessage, res: ServerResponse, open: OpenStreams): Promise<void> {
  const lastSeen = Number(req.headers["last-event-id"] ?? 0) || 0;
  const abort = new AbortController();
  const stream = openStream(res, open, () => abort.abort());
  try {
    const history = featureHistory(ctx.nc, ctx.names, featureId, {
      follow: true,
      signal: abort.signal,
      onInvalid: (subject, err) => ctx.log.warn({ subject, err: err.message }, "invalid status event skipped"),
    });
    for await (const event of history) {
      if (abort.signal.aborted) break;
      if (event.seq > 0 && event.seq <= lastSeen) continue;
      stream.send("status", event, event.seq > 0 ? event.seq : undefined);
    }
  } catch (err) {
    const missing = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
    if (!missing) ctx.log.warn({ featureId, err: (err as Error).message }, "feature stream failed");
    stream.send("problem", { message: missing ? "no status events yet (the events stream does not exist)" : (err as Error).message });
  } finally {
    stream.end();
  }
}
