// The OpenAI Chat Completions dialect of the scripted model server (what the `openai` SDK and OpenAI-compatible
// servers — vLLM, Ollama, LiteLLM, OpenRouter — speak): POST /v1/chat/completions (or /chat/completions), answered
// as SSE chunks ending in `data: [DONE]` or as one JSON body, with usage and tool calls in OpenAI's shapes.
import type { ServerResponse } from "node:http";
import * as z from "zod";
import { estimateTokens, type ConversationRead, type ScriptTurn } from "./script.ts";
import { openaiError } from "./openai-error.ts";
import { sse, type Dialect } from "./server.ts";

const Part = z.looseObject({ type: z.string().optional(), text: z.string().optional() });
const ChatMessage = z.looseObject({ role: z.string(), content: z.union([z.string(), z.array(Part), z.null()]).optional() });
const ChatRequest = z.looseObject({
  model: z.string().optional(),
  messages: z.array(ChatMessage).min(1),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});

/** A chat conversation: also whether a streamed answer should end with a usage chunk. */
export interface ChatRead extends ConversationRead {
  includeUsage: boolean;
}

const textOf = (content: z.infer<typeof ChatMessage>["content"]): string =>
  typeof content === "string" ? content : (content ?? []).map((part) => part.text ?? "").join("");

/**
 * Reads a chat completions request. `turn` = the assistant messages already in `messages`; `prompt` = the first
 * user message's text. Throws (with zod's words) on a body without `messages`.
 */
export function readChat(body: unknown): ChatRead {
  const request = ChatRequest.parse(body);
  const firstUser = request.messages.find((msg) => msg.role === "user");
  return {
    turn: request.messages.filter((msg) => msg.role === "assistant").length,
    prompt: firstUser ? textOf(firstUser.content) : "",
    stream: request.stream === true,
    model: request.model,
    inputChars: request.messages.reduce((sum, msg) => sum + textOf(msg.content).length, 0),
    includeUsage: request.stream_options?.include_usage === true,
  };
}

type Json = Record<string, unknown>;

/** The assistant message of a turn: its text (or JSON answer, encoded) and its tool calls. */
export function chatMessage(turn: ScriptTurn, responseId: string): { content: string | null; toolCalls: Json[] } {
  const content = turn.json !== undefined ? JSON.stringify(turn.json) : (turn.text ?? (turn.tools.length ? null : ""));
  const toolCalls = turn.tools.map((call, index) => ({
    id: call.id ?? `call_${responseId}_${index}`,
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.input) },
  }));
  return { content, toolCalls };
}

/** The turn's usage in OpenAI's shape (`prompt_tokens` includes the cached ones): the script's figures, else estimated. */
function usageOf(turn: ScriptTurn, read: ConversationRead, outputChars: number): Json {
  const cached = turn.usage?.cacheRead ?? 0;
  const prompt = (turn.usage?.input ?? estimateTokens(read.inputChars)) + cached;
  const completion = turn.usage?.output ?? estimateTokens(outputChars);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } };
}

function answerChat(res: ServerResponse, turn: ScriptTurn, read: ChatRead, responseId: string): void {
  const { content, toolCalls } = chatMessage(turn, responseId);
  const finish = toolCalls.length ? "tool_calls" : "stop";
  const usage = usageOf(turn, read, (content ?? "").length + JSON.stringify(toolCalls).length);
  const head = { id: responseId, created: Math.floor(Date.now() / 1000), model: read.model ?? "scripted", system_fingerprint: null };
  if (!read.stream) {
    res.writeHead(200, { "content-type": "application/json" });
    if (turn.stall) return void res.flushHeaders();
    const message = { role: "assistant", content, refusal: null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
    res.end(JSON.stringify({ ...head, object: "chat.completion", choices: [{ index: 0, message, finish_reason: finish, logprobs: null }], usage }));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const chunk = (delta: Json, finishReason: string | null = null) =>
    sse(res, undefined, { ...head, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] });
  chunk({ role: "assistant", content: "" });
  if (turn.stall) return;
  for (const piece of pieces(content ?? "")) chunk({ content: piece });
  toolCalls.forEach((call, index) => chunk({ tool_calls: [{ index, ...call }] }));
  chunk({}, finish);
  if (read.includeUsage) sse(res, undefined, { ...head, object: "chat.completion.chunk", choices: [], usage });
  res.end("data: [DONE]\n\n");
}

/** `text` in a few deltas, as a model streams it. */
function pieces(text: string): string[] {
  const size = Math.max(16, Math.ceil(text.length / 8));
  const out: string[] = [];
  for (let start = 0; start < text.length; start += size) out.push(text.slice(start, start + size));
  return out;
}

export const openaiChatDialect: Dialect = {
  name: "openai-chat",
  handles: (method, path) => method === "POST" && (path === "/v1/chat/completions" || path === "/chat/completions"),
  read: (body) => readChat(body),
  answer: (res, turn, read, ids) => answerChat(res, turn, read as ChatRead, ids.responseId),
  error: openaiError,
};
