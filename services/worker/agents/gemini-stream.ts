// Reads Gemini CLI's (0.61) `--output-format stream-json` stream: `init` (session), `message` (assistant text deltas),
// `tool_use` / `tool_result`, `error` (warnings such as a detected loop) and the final `result` (status, token stats).
import * as z from "zod";
import type { Usage } from "../../../shared/protocol/index.ts";
import type { AgentProgress } from "../runners/types.ts";
import type { AgentEvent, StreamParser } from "./types.ts";
import { streamLine } from "./json-text.ts";

/** Progress texts are cut here (the protocol allows 500). */
const TEXT_CHARS = 200;

const TokenStats = z.looseObject({
  total_tokens: z.number().optional(),
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  cached: z.number().optional(),
  input: z.number().optional(),
});
const InitLine = z.looseObject({ type: z.literal("init"), session_id: z.string().optional(), model: z.string().optional() });
const MessageLine = z.looseObject({ type: z.literal("message"), role: z.string(), content: z.string().default(""), delta: z.boolean().optional() });
const ToolUseLine = z.looseObject({
  type: z.literal("tool_use"),
  tool_name: z.string(),
  tool_id: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).default({}),
});
const ToolResultLine = z.looseObject({
  type: z.literal("tool_result"),
  tool_id: z.string().optional(),
  status: z.string().optional(),
  error: z.looseObject({ type: z.string().optional(), message: z.string().optional() }).optional(),
});
const ErrorLine = z.looseObject({ type: z.literal("error"), severity: z.string().optional(), message: z.string().default("") });
const ResultLine = z.looseObject({
  type: z.literal("result"),
  status: z.string(),
  error: z.looseObject({ type: z.string().optional(), message: z.string().optional() }).optional(),
  stats: TokenStats.extend({ tool_calls: z.number().optional(), models: z.record(z.string(), TokenStats).optional() }).optional(),
});
const StreamLine = z.discriminatedUnion("type", [InitLine, MessageLine, ToolUseLine, ToolResultLine, ErrorLine, ResultLine]);

const count = (value: number | undefined): number => (typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.round(value) : 0);
const cut = (text: string): string => (text.length > TEXT_CHARS ? `${text.slice(0, TEXT_CHARS - 1)}…` : text);

/**
 * A parser for one run of `gemini -p --output-format stream-json`. Never throws. The summary is the assistant's
 * text after its last tool call (the stream has no separate final message); usage comes from the `result` stats.
 */
export function createGeminiParser(): StreamParser {
  let model: string | undefined;
  let sessionSeen: string | undefined;
  /** Assistant text since the last tool call, and the last non-empty such stretch (for a run ending on a tool). */
  let current = "";
  let lastSaid = "";
  const toolNames = new Map<string, string>();
  const said = (): string => (current.trim() ? current.trim() : lastSaid);
  return {
    line(text) {
      const event = streamLine(text, StreamLine);
      if (!event) return undefined;
      switch (event.type) {
        case "init":
          if (event.model) model = event.model;
          if (!event.session_id || event.session_id === sessionSeen) return [];
          sessionSeen = event.session_id;
          return [{ kind: "session", id: event.session_id }];
        case "message":
          if (event.role !== "assistant") return [];
          current = event.delta === false ? event.content : current + event.content;
          return event.content.trim() ? [{ kind: "progress", progress: { text: cut(event.content.trim()) } }] : [];
        case "tool_use":
          if (current.trim()) lastSaid = current.trim();
          current = "";
          if (event.tool_id) toolNames.set(event.tool_id, event.tool_name);
          return [{ kind: "progress", progress: progressOf(event.tool_name, event.parameters) }];
        case "tool_result": {
          if (event.status !== "error") return [];
          const tool = event.tool_id ? toolNames.get(event.tool_id) : undefined;
          return [{ kind: "progress", progress: { ...(tool ? { tool } : {}), text: cut(`failed: ${event.error?.message ?? "error"}`) } }];
        }
        case "error":
          return [{ kind: "progress", progress: { text: cut(`${event.severity ?? "error"}: ${event.message}`) } }];
        case "result":
          return [finalOf(event, said(), model)];
      }
    },
  };
}

/** A tool call as a progress step: its name, the file(s) it names, and its command or a short description. */
function progressOf(tool: string, parameters: Record<string, unknown>): AgentProgress {
  const str = (key: string): string | undefined => (typeof parameters[key] === "string" && parameters[key] ? (parameters[key] as string) : undefined);
  const file = str("file_path") ?? str("absolute_path") ?? str("path");
  const many = Array.isArray(parameters["paths"]) ? parameters["paths"].filter((item): item is string => typeof item === "string" && item !== "") : [];
  const files = file ? [file, ...many] : many;
  const text = str("command") ?? str("description") ?? str("pattern") ?? str("url") ?? str("dir_path") ?? file;
  return { tool, ...(files.length ? { files } : {}), ...(text ? { text: cut(text) } : {}) };
}

/**
 * The `result` line as the final event: ok only for status `success`. Usage: `input` is the uncached prompt tokens
 * (input_tokens minus cached), the model is the one that used the most tokens (with `--model auto` the CLI routes).
 */
function finalOf(event: z.infer<typeof ResultLine>, summary: string, initModel: string | undefined): AgentEvent {
  const ok = event.status === "success";
  const usage = usageOf(event.stats, initModel);
  if (ok) return { kind: "final", ok, summary, usage };
  const error = event.error?.message?.trim() || `gemini ended with status ${event.status}`;
  return { kind: "final", ok, error, ...(summary ? { summary } : {}), usage };
}

function usageOf(stats: z.infer<typeof ResultLine>["stats"], initModel: string | undefined): Usage | undefined {
  if (!stats) return undefined;
  const cached = count(stats.cached);
  const input = stats.input !== undefined ? count(stats.input) : Math.max(0, count(stats.input_tokens) - cached);
  const output = count(stats.output_tokens);
  if (input + output + cached === 0) return undefined;
  const ranked = Object.entries(stats.models ?? {}).sort((left, right) => count(right[1].total_tokens) - count(left[1].total_tokens));
  const model = ranked[0]?.[0] ?? initModel;
  return { inputTokens: input, outputTokens: output, cacheReadTokens: cached, ...(model ? { model: model.slice(0, 200) } : {}) };
}
