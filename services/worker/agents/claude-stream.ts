// Reads Claude Code's `--output-format stream-json --verbose` stream: `system/init` (the session), `assistant`
// messages (tool calls and text → progress, with usage summed over distinct messages), `user` tool results
// (nothing to report) and the final `result` (success or not, the final message, usage, cost, turns).
import * as z from "zod";
import type { Usage } from "../../../shared/protocol/index.ts";
import type { AgentProgress } from "../runners/types.ts";
import type { AgentEvent, StreamParser } from "./types.ts";
import { streamLine } from "./json-text.ts";

/** Progress texts are cut here (the protocol allows 500). */
const TEXT_CHARS = 200;

const ApiUsage = z.looseObject({
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  cache_read_input_tokens: z.number().nullish(),
});
const ContentBlock = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  name: z.string().optional(),
  input: z.record(z.string(), z.unknown()).optional(),
});
const SystemLine = z.looseObject({ type: z.literal("system"), subtype: z.string().optional(), session_id: z.string().optional() });
const AssistantLine = z.looseObject({
  type: z.literal("assistant"),
  message: z.looseObject({ id: z.string().optional(), model: z.string().optional(), content: z.array(ContentBlock), usage: ApiUsage.optional() }),
  session_id: z.string().optional(),
});
const UserLine = z.looseObject({ type: z.literal("user") });
const ResultLine = z.looseObject({
  type: z.literal("result"),
  subtype: z.string(),
  is_error: z.boolean().optional(),
  result: z.string().optional(),
  errors: z.array(z.unknown()).optional(),
  session_id: z.string().optional(),
  usage: ApiUsage.optional(),
  total_cost_usd: z.number().optional(),
  num_turns: z.number().optional(),
  modelUsage: z.record(z.string(), z.unknown()).optional(),
});
const StreamLine = z.discriminatedUnion("type", [SystemLine, AssistantLine, UserLine, ResultLine, z.looseObject({ type: z.literal("stream_event") })]);

const count = (value: number | null | undefined): number => (typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.round(value) : 0);

/** A parser for one run of `claude -p --output-format stream-json --verbose`. Never throws. */
export function createClaudeParser(): StreamParser {
  /** Latest usage per assistant message id: Claude prints one line per content block, each with the message's usage so far. */
  const perMessage = new Map<string, z.infer<typeof ApiUsage>>();
  let model: string | undefined;
  let sessionSeen: string | undefined;
  const running = (): Usage => {
    const usage: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 };
    for (const one of perMessage.values()) {
      usage.inputTokens += count(one.input_tokens);
      usage.outputTokens += count(one.output_tokens);
      usage.cacheReadTokens! += count(one.cache_read_input_tokens);
    }
    return model ? { ...usage, model } : usage;
  };
  const session = (id: string | undefined): AgentEvent[] => {
    if (!id || id === sessionSeen) return [];
    sessionSeen = id;
    return [{ kind: "session", id }];
  };
  return {
    line(text) {
      const event = streamLine(text, StreamLine);
      if (!event) return undefined;
      switch (event.type) {
        case "system":
          return event.subtype === "init" ? session(event.session_id) : undefined;
        case "assistant": {
          const message = event.message;
          if (message.model && !message.model.startsWith("<")) model = message.model;
          if (message.usage) perMessage.set(message.id ?? `line-${perMessage.size}`, message.usage);
          const steps = message.content.map(progressOf).filter((step): step is AgentProgress => step !== undefined);
          const usage = running();
          if (steps.length === 0) steps.push({});
          return [...session(event.session_id), ...steps.map((step): AgentEvent => ({ kind: "progress", progress: { ...step, usage } }))];
        }
        case "result":
          return [...session(event.session_id), finalOf(event, running())];
        default:
          return [];
      }
    },
  };
}

/** A content block as a progress step: a tool call (its name, the file it names, its command or description) or text. */
function progressOf(block: z.infer<typeof ContentBlock>): AgentProgress | undefined {
  if (block.type === "text" && block.text?.trim()) return { text: cut(block.text.trim()) };
  if (block.type !== "tool_use" || !block.name) return undefined;
  const input = block.input ?? {};
  const str = (key: string): string | undefined => (typeof input[key] === "string" && input[key] ? (input[key] as string) : undefined);
  const file = str("file_path") ?? str("notebook_path") ?? str("path");
  const text = str("command") ?? str("description") ?? str("pattern") ?? str("url") ?? file;
  return { tool: block.name, ...(file ? { files: [file] } : {}), ...(text ? { text: cut(text) } : {}) };
}

/** The `result` line as the final event: ok only for a `success` that is not an error; usage from its totals. */
function finalOf(event: z.infer<typeof ResultLine>, running: Usage): AgentEvent {
  const ok = event.subtype === "success" && event.is_error !== true;
  const models = Object.keys(event.modelUsage ?? {});
  const usage: Usage = event.usage
    ? { inputTokens: count(event.usage.input_tokens), outputTokens: count(event.usage.output_tokens), cacheReadTokens: count(event.usage.cache_read_input_tokens) }
    : { ...running };
  if (event.total_cost_usd !== undefined && event.total_cost_usd >= 0) usage.costUsd = event.total_cost_usd;
  if (event.num_turns !== undefined) usage.turns = count(event.num_turns);
  const model = models[0] ?? running.model;
  if (model) usage.model = model.slice(0, 200);
  if (ok) return { kind: "final", ok, summary: event.result ?? "", usage };
  const detail = event.result?.trim() || event.errors?.map((item) => (typeof item === "string" ? item : JSON.stringify(item))).join("; ") || "";
  const error = event.subtype === "success" ? detail || "claude reported an error" : `claude ended with ${event.subtype}${detail ? `: ${detail}` : ""}`;
  return { kind: "final", ok, error, usage };
}

const cut = (text: string): string => (text.length > TEXT_CHARS ? `${text.slice(0, TEXT_CHARS - 1)}…` : text);
