// The scripted model server: a local HTTP server that speaks the model APIs the agent CLIs and SDKs use
// (Anthropic Messages, OpenAI Responses and Chat Completions, Gemini) and plays a script (script.ts). Each
// dialect module reads a request into a conversation and writes a turn in its API's shape, streaming or not.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type * as z from "zod";
import { pickAnswer, Script, type ConversationRead, type ScriptTurn } from "./script.ts";

/** A script as written (defaults not yet filled in). */
export type ScriptInput = z.input<typeof Script>;

/** One API's request and answer shapes. */
export interface Dialect {
  readonly name: string;
  /** True for the requests this dialect answers (method and path, e.g. POST /v1/messages). */
  handles(method: string, path: string): boolean;
  /**
   * Requests that are not a step of the conversation (a token count, a title or quota probe): answered by
   * `side` without consuming a turn. Optional.
   */
  side?(path: string, body: unknown): boolean;
  answerSide?(res: ServerResponse, path: string, body: unknown): void;
  /** Reads the conversation out of a request body (already JSON-parsed). Throws on a body it cannot read. */
  read(body: unknown, path: string): ConversationRead;
  /** Writes `turn` as this API's answer (SSE when `read.stream`). `stall`: start, then send nothing more. */
  answer(res: ServerResponse, turn: ScriptTurn, read: ConversationRead, ids: { responseId: string; path: string }): void | Promise<void>;
  /** Writes an API error in this dialect's shape. */
  error(res: ServerResponse, status: number, message: string, retryAfterSeconds?: number): void;
}

/** One request the server answered, for tests to assert on. */
export interface Exchange {
  dialect: string;
  path: string;
  /** Which script and turn answered; undefined for side requests and errors before a turn. */
  scriptIndex?: number | undefined;
  turnIndex?: number | undefined;
  status: number;
  body: unknown;
  at: number;
}

export interface ModelServerOptions {
  scripts: ScriptInput[];
  dialects: Dialect[];
  port?: number;
  host?: string;
}

export class ModelServer {
  readonly exchanges: Exchange[] = [];
  private scripts: Script[];
  private readonly errorsServed = new Map<string, number>();
  private readonly stalled = new Set<ServerResponse>();
  private server: Server | undefined;
  private counter = 0;

  constructor(private readonly options: ModelServerOptions) {
    this.scripts = options.scripts.map((s) => Script.parse(s));
  }

  /** Replaces the scripts (and forgets which scripted errors were served). */
  setScripts(scripts: ScriptInput[]): void {
    this.scripts = scripts.map((s) => Script.parse(s));
    this.errorsServed.clear();
  }

  /** Listens (default 127.0.0.1 on a free port) and resolves with the base URL, e.g. http://127.0.0.1:41234. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? 0, this.options.host ?? "127.0.0.1", () => resolve());
    });
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error("the model server is not listening");
    return `http://${address.address}:${address.port}`;
  }

  /** Stops listening and ends stalled answers. Safe to call twice. */
  async close(): Promise<void> {
    for (const res of this.stalled) res.destroy();
    this.stalled.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!;
    const method = req.method ?? "GET";
    const dialect = this.options.dialects.find((d) => d.handles(method, path));
    const record = (status: number, body: unknown, answer?: { scriptIndex: number; turnIndex: number }) =>
      this.exchanges.push({ dialect: dialect?.name ?? "none", path, status, body, at: Date.now(), ...answer });
    if (!dialect) {
      record(404, undefined);
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no dialect serves ${method} ${path}` } }));
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req)) || "{}");
    } catch {
      record(400, undefined);
      return dialect.error(res, 400, "request body is not JSON");
    }
    if (dialect.side?.(path, body)) {
      record(200, body);
      return dialect.answerSide!(res, path, body);
    }
    let read: ConversationRead;
    try {
      read = dialect.read(body, path);
    } catch (err) {
      record(400, body);
      return dialect.error(res, 400, `cannot read the request: ${(err as Error).message}`);
    }
    const answer = pickAnswer(this.scripts, read);
    if (!answer) {
      record(404, body);
      return dialect.error(res, 404, "no script matches this conversation");
    }
    const { turn } = answer;
    const key = `${answer.scriptIndex}.${answer.turnIndex}`;
    const served = this.errorsServed.get(key) ?? 0;
    if (turn.error && (turn.error.times === undefined || served < turn.error.times)) {
      this.errorsServed.set(key, served + 1);
      record(turn.error.status, body, answer);
      return dialect.error(res, turn.error.status, turn.error.message, turn.error.retryAfterSeconds);
    }
    record(200, body, answer);
    if (turn.delayMs) await new Promise((resolve) => setTimeout(resolve, turn.delayMs));
    if (turn.stall) {
      this.stalled.add(res);
      res.on("close", () => this.stalled.delete(res));
    }
    await dialect.answer(res, turn, read, { responseId: `resp_${Date.now().toString(36)}_${++this.counter}`, path });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Answers with an API error: `body` as JSON, `retry-after` when given, and any dialect-specific `headers`. */
export function sendJsonError(res: ServerResponse, status: number, body: unknown, retryAfterSeconds?: number, headers: Record<string, string> = {}): void {
  const all: Record<string, string> = { "content-type": "application/json", ...headers };
  if (retryAfterSeconds !== undefined) all["retry-after"] = String(retryAfterSeconds);
  res.writeHead(status, all).end(JSON.stringify(body));
}

/** Writes one server-sent event. */
export function sse(res: ServerResponse, event: string | undefined, data: unknown): void {
  res.write(`${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
}
