// The Anthropic Messages dialect of the scripted model server: POST /v1/messages, streaming (SSE) or not, with
// tool_use blocks; plus the side requests Claude Code makes that are no step of the conversation (token counts,
// its quota probe, title and topic calls on a small model), answered without consuming a turn.
import type { ServerResponse } from "node:http";
import * as z from "zod";
import { estimateTokens, type ConversationRead, type ScriptTurn } from "./script.ts";
import { sendJsonError, sse, type Dialect } from "./server.ts";

const Block = z.looseObject({ type: z.string(), text: z.string().optional() });
const Message = z.looseObject({ role: z.string(), content: z.union([z.string(), z.array(Block)]) });
const MessagesRequest = z.looseObject({
  model: z.string().optional(),
  messages: z.array(Message).min(1),
  stream: z.boolean().optional(),
  system: z.unknown().optional(),
  tools: z.array(z.unknown()).optional(),
  max_tokens: z.int().optional(),
});
type MessagesRequest = z.infer<typeof MessagesRequest>;

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
  413: "request_too_large", 429: "rate_limit_error", 500: "api_error", 529: "overloaded_error",
};

/** The text of a message's content. */
const textOf = (content: z.infer<typeof Message>["content"]): string =>
  typeof content === "string" ? content : content.filter((block) => block.type === "text").map((block) => block.text ?? "").join("\n");

/**
 * Claude Code's own calls beside the conversation: a token count, the one-token quota probe, and its calls without
 * tools (a session title, a topic check) — Claude Code marks every request with its billing header (`cc_version=`)
 * in the system prompt, and its conversation requests always carry tools.
 */
function isSide(path: string, body: unknown): boolean {
  if (path.endsWith("/count_tokens")) return true;
  const parsed = MessagesRequest.safeParse(body);
  if (!parsed.success) return false;
  const request = parsed.data;
  if (request.max_tokens === 1) return true;
  const first = request.messages[0];
  if (request.messages.length === 1 && first && textOf(first.content).trim() === "quota") return true;
  return !request.tools?.length && JSON.stringify(request.system ?? "").includes("cc_version=");
}

/** Scripted answers in the Anthropic Messages API's shapes. */
export const anthropicDialect: Dialect = {
  name: "anthropic",
  handles: (method, path) => method === "POST" && /\/v1\/messages(\/count_tokens)?$/.test(path),
  side: isSide,
  answerSide(res, path, body) {
    const request = MessagesRequest.safeParse(body);
    if (path.endsWith("/count_tokens")) return json(res, 200, { input_tokens: estimateTokens(JSON.stringify(body).length) });
    const read: ConversationRead = { turn: 0, prompt: "", stream: request.success && request.data.stream === true, model: request.data?.model, inputChars: 0 };
    // A title request asks for JSON ({"title": …}); the others take any short text.
    const wantsJson = JSON.stringify(request.data?.["output_config"] ?? "").includes("json_schema");
    const turn: ScriptTurn = { text: wantsJson ? JSON.stringify({ title: "Scripted task" }) : "Scripted task", tools: [], delayMs: 0, stall: false, usage: { input: 1, output: 1 } };
    writeAnswer(res, turn, read, `msg_side_${Date.now().toString(36)}`);
  },
  read(body) {
    const request: MessagesRequest = MessagesRequest.parse(body);
    const first = request.messages.find((message) => message.role === "user");
    return {
      turn: request.messages.filter((message) => message.role === "assistant").length,
      prompt: first ? textOf(first.content) : "",
      stream: request.stream === true,
      model: request.model,
      inputChars: JSON.stringify(request.messages).length + JSON.stringify(request.system ?? "").length,
    };
  },
  answer: (res, turn, read, ids) => writeAnswer(res, turn, read, `msg_${ids.responseId}`),
  error(res, status, message, retryAfterSeconds) {
    const body = { type: "error", error: { type: ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"), message } };
    sendJsonError(res, status, body, retryAfterSeconds, { "request-id": `req_scripted_${Date.now().toString(36)}` });
  },
};

type ContentBlock = { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

/** The turn's content blocks: its text (or JSON answer), then its tool calls. */
function blocksOf(turn: ScriptTurn, messageId: string): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  const text = turn.json !== undefined ? JSON.stringify(turn.json) : turn.text;
  if (text !== undefined && text !== "") blocks.push({ type: "text", text });
  turn.tools.forEach((tool, index) => blocks.push({ type: "tool_use", id: tool.id ?? `toolu_${messageId.slice(-12)}_${index}`, name: tool.name, input: tool.input }));
  if (blocks.length === 0) blocks.push({ type: "text", text: "" });
  return blocks;
}

function usageOf(turn: ScriptTurn, read: ConversationRead, blocks: ContentBlock[]) {
  const output = turn.usage?.output ?? estimateTokens(JSON.stringify(blocks).length);
  return { input_tokens: turn.usage?.input ?? estimateTokens(read.inputChars), output_tokens: output, cache_read_input_tokens: turn.usage?.cacheRead ?? 0, cache_creation_input_tokens: 0 };
}

function writeAnswer(res: ServerResponse, turn: ScriptTurn, read: ConversationRead, id: string): void {
  const blocks = blocksOf(turn, id);
  const usage = usageOf(turn, read, blocks);
  const stopReason = turn.tools.length ? "tool_use" : "end_turn";
  const model = read.model ?? "claude-scripted";
  if (!read.stream) {
    if (turn.stall) return; // accepted, never answered
    return json(res, 200, { id, type: "message", role: "assistant", model, content: blocks, stop_reason: stopReason, stop_sequence: null, usage });
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  sse(res, "message_start", {
    type: "message_start",
    message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
  });
  if (turn.stall) return; // the server keeps the connection open and sends nothing more
  blocks.forEach((block, index) => {
    if (block.type === "text") {
      sse(res, "content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } });
      sse(res, "content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: block.text } });
    } else {
      sse(res, "content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      sse(res, "content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) } });
    }
    sse(res, "content_block_stop", { type: "content_block_stop", index });
  });
  sse(res, "message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  sse(res, "message_stop", { type: "message_stop" });
  res.end();
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
