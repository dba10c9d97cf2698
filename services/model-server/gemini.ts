// The scripted model server's Gemini API, as Gemini CLI calls it with GOOGLE_GEMINI_BASE_URL set: streamed and plain
// :generateContent with text and functionCall parts, and side requests (:countTokens, the CLI's JSON utility calls).
import type { ServerResponse } from "node:http";
import * as z from "zod";
import { estimateTokens, type ConversationRead, type ScriptTurn } from "./script.ts";
import { sendJsonError, sse, type Dialect } from "./server.ts";

const Part = z.looseObject({ text: z.string().optional(), thought: z.boolean().optional() });
const Content = z.looseObject({ role: z.string().optional(), parts: z.array(Part).default([]) });
const GenerateRequest = z.looseObject({
  contents: z.array(Content).min(1),
  systemInstruction: z.unknown().optional(),
  generationConfig: z.looseObject({
    responseMimeType: z.string().optional(),
    responseJsonSchema: z.unknown().optional(),
    responseSchema: z.unknown().optional(),
  }).optional(),
});
type GenerateRequest = z.infer<typeof GenerateRequest>;

const PATH = /^\/v1(?:alpha|beta)?\d*\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/;

/** Google's canonical status names for the HTTP codes a script can ask for. */
const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ABORTED",
  429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL", 501: "NOT_IMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
};

const methodOf = (path: string): string | undefined => PATH.exec(path)?.[2];
const modelOf = (path: string): string | undefined => PATH.exec(path)?.[1];

/** The text parts of one content (thoughts left out). */
const textOf = (content: z.infer<typeof Content>): string =>
  content.parts.filter((part) => part.text !== undefined && !part.thought).map((part) => part.text).join("\n");

/** The JSON schema a utility call asks its answer to follow, if any (`responseJsonSchema` or the older `responseSchema`). */
function jsonSchemaOf(body: unknown): unknown {
  const parsed = GenerateRequest.safeParse(body);
  if (!parsed.success) return undefined;
  const config = parsed.data.generationConfig;
  if (!config) return undefined;
  if (config.responseJsonSchema !== undefined) return config.responseJsonSchema;
  if (config.responseSchema !== undefined) return config.responseSchema;
  return config.responseMimeType === "application/json" ? {} : undefined;
}

/**
 * Gemini CLI's calls beside the conversation: token counts and its JSON utility calls on :generateContent (the model
 * router's complexity score, the next-speaker and loop checks). The conversation itself always streams.
 */
function isSide(path: string, body: unknown): boolean {
  const method = methodOf(path);
  return method === "countTokens" || (method === "generateContent" && jsonSchemaOf(body) !== undefined);
}

/**
 * The most modest value a JSON schema (JSON Schema or Gemini's OpenAPI subset) allows: the first enum value, the
 * lowest number, empty strings and lists, objects with their required properties. Gemini CLI's utility calls then
 * change nothing (the next speaker is "user", no loop is detected, the router's complexity score is 1).
 */
export function modestValue(schema: unknown): unknown {
  if (typeof schema !== "object" || schema === null) return {};
  const node = schema as Record<string, unknown>;
  if (Array.isArray(node["enum"]) && node["enum"].length) return node["enum"][0];
  const type = String(Array.isArray(node["type"]) ? node["type"][0] : node["type"] ?? "object").toLowerCase();
  switch (type) {
    case "string": return "";
    case "integer": return typeof node["minimum"] === "number" ? node["minimum"] : 1; // scores and counts start at 1
    case "number": return typeof node["minimum"] === "number" ? node["minimum"] : 0; // ratios and confidences at 0
    case "boolean": return false;
    case "array": return [];
    case "null": return null;
    default: {
      const properties = (node["properties"] ?? {}) as Record<string, unknown>;
      const required = Array.isArray(node["required"]) ? (node["required"] as string[]) : Object.keys(properties);
      return Object.fromEntries(required.map((key) => [key, modestValue(properties[key])]));
    }
  }
}

/** Scripted answers in the Gemini API's shapes. */
export const geminiDialect: Dialect = {
  name: "gemini",
  handles: (method, path) => method === "POST" && PATH.test(path),
  side: isSide,
  answerSide(res, path, body) {
    if (methodOf(path) === "countTokens") return json(res, 200, { totalTokens: estimateTokens(JSON.stringify(body).length) });
    const turn: ScriptTurn = { json: modestValue(jsonSchemaOf(body)), tools: [], delayMs: 0, stall: false, usage: { input: 1, output: 1 } };
    writeAnswer(res, turn, { turn: 0, prompt: "", stream: false, model: modelOf(path), inputChars: 0 }, "side");
  },
  read(body, path) {
    const request: GenerateRequest = GenerateRequest.parse(body);
    const firstModel = request.contents.findIndex((content) => content.role === "model");
    const opening = firstModel < 0 ? request.contents : request.contents.slice(0, firstModel);
    return {
      turn: request.contents.filter((content) => content.role === "model").length,
      prompt: opening.filter((content) => content.role !== "model").map(textOf).filter(Boolean).join("\n"),
      stream: methodOf(path) === "streamGenerateContent",
      model: modelOf(path),
      inputChars: JSON.stringify(request.contents).length + JSON.stringify(request.systemInstruction ?? "").length,
    };
  },
  answer: (res, turn, read, ids) => writeAnswer(res, turn, read, ids.responseId),
  error(res, status, message, retryAfterSeconds) {
    const name = STATUS_NAMES[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION");
    sendJsonError(res, status, { error: { code: status, message, status: name } }, retryAfterSeconds, { "content-type": "application/json; charset=UTF-8" });
  },
};

type Part = { text: string } | { functionCall: { name: string; args: Record<string, unknown>; id?: string } };

/** The turn's parts: its text (or JSON answer), then its function calls. */
function partsOf(turn: ScriptTurn): Part[] {
  const parts: Part[] = [];
  const text = turn.json !== undefined ? JSON.stringify(turn.json) : turn.text;
  if (text !== undefined && text !== "") parts.push({ text });
  for (const tool of turn.tools) parts.push({ functionCall: { name: tool.name, args: tool.input, ...(tool.id ? { id: tool.id } : {}) } });
  if (parts.length === 0) parts.push({ text: "" });
  return parts;
}

/** usageMetadata: promptTokenCount counts cached tokens too (cachedContentTokenCount is the cached share of it). */
function usageOf(turn: ScriptTurn, read: ConversationRead, parts: Part[]) {
  const cached = turn.usage?.cacheRead ?? 0;
  const prompt = (turn.usage?.input ?? estimateTokens(read.inputChars)) + cached;
  const candidates = turn.usage?.output ?? estimateTokens(JSON.stringify(parts).length);
  return { promptTokenCount: prompt, candidatesTokenCount: candidates, totalTokenCount: prompt + candidates, ...(cached ? { cachedContentTokenCount: cached } : {}) };
}

function writeAnswer(res: ServerResponse, turn: ScriptTurn, read: ConversationRead, id: string): void {
  const parts = partsOf(turn);
  const modelVersion = read.model ?? "gemini-scripted";
  const usageMetadata = usageOf(turn, read, parts);
  const candidate = (chunk: Part[], finish: boolean) => ({
    content: { role: "model", parts: chunk },
    index: 0,
    ...(finish ? { finishReason: "STOP" } : {}),
  });
  if (!read.stream) {
    if (turn.stall) return; // accepted, never answered
    return json(res, 200, { candidates: [candidate(parts, true)], usageMetadata, modelVersion, responseId: id });
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  res.flushHeaders();
  if (turn.stall) return; // the server keeps the connection open and sends nothing more
  const texts = parts.filter((part) => "text" in part);
  const calls = parts.filter((part) => "functionCall" in part);
  if (texts.length && calls.length) sse(res, undefined, { candidates: [candidate(texts, false)], modelVersion, responseId: id });
  sse(res, undefined, { candidates: [candidate(calls.length ? calls : texts, true)], usageMetadata, modelVersion, responseId: id });
  res.end();
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8" }).end(JSON.stringify(body));
}
