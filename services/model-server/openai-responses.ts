// The OpenAI Responses API dialect of the scripted model server (what Codex speaks with `wire_api = "responses"`):
// POST /v1/responses (or /responses), answered as SSE (`response.created` … `response.completed`) or as one JSON body.
import type { ServerResponse } from "node:http";
import { estimateTokens, type ConversationRead, type ScriptTurn } from "./script.ts";
import { openaiError } from "./openai-error.ts";
import { sse, type Dialect } from "./server.ts";

/** A Responses conversation: also the request's freeform (`custom`) tools, whose calls carry text, not JSON. */
export interface ResponsesRead extends ConversationRead {
  customTools: readonly string[];
}

/** Input items the model produced (a run of them, up to the next user or tool-output item, is one response). */
const MODEL_ITEMS = new Set(["function_call", "custom_tool_call", "reasoning", "local_shell_call", "web_search_call", "tool_search_call"]);

type Item = Record<string, unknown>;
const isItem = (value: unknown): value is Item => typeof value === "object" && value !== null && !Array.isArray(value);

function isModelItem(item: Item): boolean {
  if (item.type === "message" || (item.type === undefined && "role" in item)) return item.role === "assistant";
  return typeof item.type === "string" && MODEL_ITEMS.has(item.type);
}

/** The response an item came from, when this server made it (its ids embed the response id; see `outputItems`). */
function ourResponseId(item: Item): string | undefined {
  const id = typeof item.id === "string" ? item.id : "";
  return /^(?:msg|fc|ctc)_(resp_[a-z0-9]+_\d+)/.exec(id)?.[1];
}

/** The text of a message item's content (a string, or parts with `text`). */
function messageText(item: Item): string {
  if (typeof item.content === "string") return item.content;
  if (!Array.isArray(item.content)) return "";
  return item.content.map((part) => (isItem(part) && typeof part.text === "string" ? part.text : "")).join("");
}

/**
 * Reads a Responses request. `turn` counts the responses already in `input`: the distinct responses this server's
 * item ids name, else runs of model-made items (assistant messages, tool calls, reasoning) between user messages
 * and tool outputs (so parallel tool calls, however their outputs are interleaved, count once).
 * `prompt` joins every user message's text (Codex sends its environment context as a user message before
 * the prompt, and a resumed session's new prompt after the old ones). Throws on a body without `input`.
 */
export function readResponses(body: unknown): ResponsesRead {
  if (!isItem(body)) throw new Error("the body is not an object");
  const model = typeof body.model === "string" ? body.model : undefined;
  const stream = body.stream === true;
  const customTools = Array.isArray(body.tools)
    ? body.tools.filter((tool): tool is Item => isItem(tool) && tool.type === "custom" && typeof tool.name === "string").map((tool) => tool.name as string)
    : [];
  const inputChars = JSON.stringify(body.input ?? "").length + (typeof body.instructions === "string" ? body.instructions.length : 0);
  if (typeof body.input === "string") return { turn: 0, prompt: body.input, stream, model, inputChars, customTools };
  if (!Array.isArray(body.input)) throw new Error("`input` is neither a string nor a list of items");
  const responses = new Set<string>();
  let runs = 0;
  let inRun = false;
  const userTexts: string[] = [];
  for (const entry of body.input) {
    if (!isItem(entry)) throw new Error("an `input` entry is not an object");
    const byModel = isModelItem(entry);
    if (byModel && !inRun) runs += 1;
    inRun = byModel;
    if (byModel) responses.add(ourResponseId(entry) ?? `run ${runs}`);
    if ((entry.type === "message" || entry.type === undefined) && entry.role === "user") userTexts.push(messageText(entry));
  }
  return { turn: responses.size, prompt: userTexts.join("\n"), stream, model, inputChars, customTools };
}

/** The output items of one scripted turn, complete (as `response.output_item.done` and `response.completed` carry them). */
export function outputItems(turn: ScriptTurn, read: ConversationRead, responseId: string): Item[] {
  const items: Item[] = [];
  const custom = new Set("customTools" in read ? (read as ResponsesRead).customTools : []);
  const text = turn.text ?? (turn.json !== undefined ? JSON.stringify(turn.json) : undefined);
  if (text !== undefined) {
    items.push({ type: "message", id: `msg_${responseId}`, role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] });
  }
  turn.tools.forEach((call, index) => {
    const callId = call.id ?? `call_${responseId}_${index}`;
    if (custom.has(call.name)) {
      const input = typeof call.input.input === "string" ? call.input.input : JSON.stringify(call.input);
      items.push({ type: "custom_tool_call", id: `ctc_${responseId}_${index}`, call_id: callId, name: call.name, input, status: "completed" });
    } else {
      items.push({ type: "function_call", id: `fc_${responseId}_${index}`, call_id: callId, name: call.name, arguments: JSON.stringify(call.input), status: "completed" });
    }
  });
  if (items.length === 0) items.push({ type: "message", id: `msg_${responseId}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: "", annotations: [] }] });
  return items;
}

/** The turn's usage in the Responses shape: the script's figures, else estimated from the characters. */
function usageOf(turn: ScriptTurn, read: ConversationRead, items: readonly Item[]) {
  const input = turn.usage?.input ?? estimateTokens(read.inputChars);
  const output = turn.usage?.output ?? estimateTokens(JSON.stringify(items).length);
  const cached = turn.usage?.cacheRead ?? 0;
  return { input_tokens: input, input_tokens_details: { cached_tokens: cached }, output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input + output };
}

function responseObject(id: string, model: string | undefined, status: string, output: Item[], usage?: unknown): Item {
  return { id, object: "response", created_at: Math.floor(Date.now() / 1000), status, model: model ?? "scripted", output, ...(usage ? { usage } : {}) };
}

/** The SSE events that stream one finished item: added, its deltas, done. */
function itemEvents(item: Item, outputIndex: number): Item[] {
  const base = { output_index: outputIndex, item_id: item.id };
  const events: Item[] = [];
  if (item.type === "message") {
    const text = messageText(item);
    events.push({ type: "response.output_item.added", output_index: outputIndex, item: { ...item, status: "in_progress", content: [] } });
    events.push({ type: "response.content_part.added", ...base, content_index: 0, part: { type: "output_text", text: "", annotations: [] } });
    if (text) events.push({ type: "response.output_text.delta", ...base, content_index: 0, delta: text });
    events.push({ type: "response.output_text.done", ...base, content_index: 0, text });
    events.push({ type: "response.content_part.done", ...base, content_index: 0, part: { type: "output_text", text, annotations: [] } });
  } else if (item.type === "function_call") {
    events.push({ type: "response.output_item.added", output_index: outputIndex, item: { ...item, status: "in_progress", arguments: "" } });
    events.push({ type: "response.function_call_arguments.delta", ...base, delta: item.arguments });
    events.push({ type: "response.function_call_arguments.done", ...base, arguments: item.arguments });
  } else {
    events.push({ type: "response.output_item.added", output_index: outputIndex, item: { ...item, status: "in_progress", input: "" } });
    events.push({ type: "response.custom_tool_call_input.delta", ...base, delta: item.input });
    events.push({ type: "response.custom_tool_call_input.done", ...base, input: item.input });
  }
  events.push({ type: "response.output_item.done", output_index: outputIndex, item });
  return events;
}

/** Writes a scripted turn as a Responses answer: SSE when the request streams, else one JSON body. */
function answerResponses(res: ServerResponse, turn: ScriptTurn, read: ConversationRead, ids: { responseId: string }): void {
  const items = outputItems(turn, read, ids.responseId);
  const usage = usageOf(turn, read, items);
  if (!read.stream) {
    if (turn.stall) return void res.writeHead(200, { "content-type": "application/json" }).flushHeaders();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(responseObject(ids.responseId, read.model, "completed", items, usage)));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  let sequence = 0;
  const send = (event: Item) => sse(res, event.type as string, { ...event, sequence_number: sequence++ });
  send({ type: "response.created", response: responseObject(ids.responseId, read.model, "in_progress", []) });
  if (turn.stall) return;
  send({ type: "response.in_progress", response: responseObject(ids.responseId, read.model, "in_progress", []) });
  items.forEach((item, index) => itemEvents(item, index).forEach(send));
  send({ type: "response.completed", response: responseObject(ids.responseId, read.model, "completed", items, usage) });
  res.end();
}

export const openaiResponsesDialect: Dialect = {
  name: "openai-responses",
  handles: (method, path) => method === "POST" && (path === "/v1/responses" || path === "/responses"),
  read: (body) => readResponses(body),
  answer: (res, turn, read, ids) => answerResponses(res, turn, read, ids),
  error: openaiError,
};
