// The dashboard's HTTP server (node:http): the page's static files, the JSON API and the event streams, each request
// let in by auth.ts first. Bodies are size-limited, JSON only (a cross-site form cannot send one) and zod-validated.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { NoCoordinatorError, RemoteError } from "../../shared/client/index.ts";
import { once } from "../../shared/process.ts";
import { browserHost } from "../../shared/config-observe.ts";
import { answerReply, controlReply, featureReply, featuresReply, workersReply, type Reply, type UiContext } from "./api.ts";
import { authorize } from "./auth.ts";
import { AnswerBody, BadRequest, ControlBody, FeatureIdParam, parseBody } from "./schemas.ts";
import { streamFeature, streamList, type OpenStreams } from "./sse.ts";
import type { StaticFiles } from "./static.ts";

/** Largest request body accepted (an answer is at most 10 000 characters). */
const MAX_BODY_BYTES = 64 * 1024;
/** How long `close()` lets requests in progress finish. */
const CLOSE_GRACE_MS = 3_000;

export interface UiServerOptions extends UiContext {
  host: string;
  port: number;
  token?: string | undefined;
  files: StaticFiles;
}

export interface UiServer {
  /** Where it listens, e.g. `http://127.0.0.1:7420/` (the bound port, also when 0 was asked for). */
  url: string;
  port: number;
  /** Ends the event streams, stops listening and waits for open requests. Same promise on every call. */
  close(): Promise<void>;
}

/** What a handler gets: the context, the request, its response (event streams write it themselves) and `:id`. */
interface Call {
  ctx: UiContext;
  req: IncomingMessage;
  res: ServerResponse;
  id: string;
  streams: OpenStreams;
}
type Handler = (call: Call) => Promise<Reply | undefined>;

/** Method + path pattern → handler; `:id` (the one capture) is a feature id. Answers a handler returns are JSON. */
const ROUTES: [method: string, path: RegExp, handler: Handler][] = [
  ["GET", /^\/api\/features$/, ({ ctx }) => featuresReply(ctx)],
  ["GET", /^\/api\/features\/([^/]+)$/, ({ ctx, id }) => featureReply(ctx, id)],
  ["GET", /^\/api\/workers$/, ({ ctx }) => workersReply(ctx)],
  ["GET", /^\/api\/stream$/, async ({ ctx, res, streams }) => void (await streamList(ctx, res, streams))],
  ["GET", /^\/api\/features\/([^/]+)\/stream$/, async ({ ctx, req, res, id, streams }) => void (await streamFeature(ctx, id, req, res, streams))],
  ["POST", /^\/api\/features\/([^/]+)\/control$/, async ({ ctx, req, id }) => controlReply(ctx, id, parseBody(ControlBody, await readJson(req), "control"))],
  ["POST", /^\/api\/features\/([^/]+)\/answer$/, async ({ ctx, req, id }) => answerReply(ctx, id, parseBody(AnswerBody, await readJson(req), "answer"))],
];

/** The request's body as JSON: 415 unless it says application/json, 413 over MAX_BODY_BYTES, 400 when malformed. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) throw new BadRequest("send the body as application/json", 415);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`the body is larger than ${MAX_BODY_BYTES} bytes`, 413);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new BadRequest(`malformed JSON: ${(err as Error).message}`);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

/** An error as the API's reply: bad input 4xx with its issues, no coordinator 503, a coordinator's error 502, else 500. */
export function errorReply(err: unknown): Reply {
  const error = err as Error & { code?: string };
  if (err instanceof BadRequest) return { status: err.status, body: { error: { code: "BAD_REQUEST", message: err.message, issues: err.issues } } };
  if (err instanceof NoCoordinatorError) return { status: 503, body: { error: { code: "NO_COORDINATOR", message: error.message } } };
  if (err instanceof RemoteError) return { status: 502, body: { error: { code: error.code ?? "REMOTE_ERROR", message: error.message } } };
  return { status: 500, body: { error: { code: "INTERNAL", message: error.message } } };
}

/** A POST whose Origin names another site than its Host (a page elsewhere posting here) is refused. */
function crossSite(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (req.method !== "POST" || !origin) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

async function handle(opts: UiServerOptions, streams: OpenStreams, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://dashboard.invalid");
  const decision = authorize({ authorization: req.headers.authorization, cookie: req.headers.cookie, host: req.headers.host, url }, opts.token);
  if (!decision.ok) return sendJson(res, decision.status, { error: { code: decision.status === 401 ? "UNAUTHORIZED" : "FORBIDDEN", message: decision.message } });
  if (decision.setCookie) res.setHeader("Set-Cookie", decision.setCookie);
  if (crossSite(req)) return sendJson(res, 403, { error: { code: "FORBIDDEN", message: "cross-site requests are refused" } });
  if (!url.pathname.startsWith("/api/")) return opts.files.serve(req, res, url, Boolean(decision.setCookie));
  for (const [method, path, handler] of ROUTES) {
    const match = path.exec(url.pathname);
    if (!match) continue;
    if (req.method !== method) return sendJson(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: `${url.pathname} takes ${method}` } });
    try {
      const id = match[1] === undefined ? "" : parseBody(FeatureIdParam, decodeURIComponent(match[1]), "feature id");
      const reply = await handler({ ctx: opts, req, res, id, streams });
      if (reply) sendJson(res, reply.status, reply.body);
    } catch (err) {
      const reply = errorReply(err);
      if (reply.status >= 500) opts.log.warn({ path: url.pathname, err: (err as Error).message }, "request failed");
      sendJson(res, reply.status, reply.body);
    }
    return;
  }
  sendJson(res, 404, { error: { code: "NOT_FOUND", message: `no such endpoint ${url.pathname}` } });
}

/**
 * Listens on host:port and serves until `close()`. Rejects (nothing left listening) when the address cannot be
 * bound, e.g. EADDRINUSE. A request's failure is answered and logged; it never stops the server.
 */
export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const streams: OpenStreams = new Set();
  const server: Server = createServer((req, res) => {
    handle(opts, streams, req, res).catch((err: Error) => {
      opts.log.error({ err: err.message }, "request handler failed");
      sendJson(res, 500, { error: { code: "INTERNAL", message: err.message } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => (server.off("error", reject), resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${browserHost(opts.host)}:${port}/`,
    port,
    close: once(async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Event streams never end on their own: end them (their consumers and subscriptions are released).
      for (const end of [...streams]) end();
      server.closeIdleConnections();
      // An action still waiting for its coordinator gets a moment, then every connection is cut.
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      await closed;
      clearTimeout(cut);
    }),
  };
}
