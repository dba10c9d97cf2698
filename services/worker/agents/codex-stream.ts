// Reads `codex exec --json`: `thread.started` (the session), `item.*` events (commands, file changes, messages,
// MCP calls, web searches, plans → progress) and the turn's end, `turn.completed` (usage, the last agent message
// as the summary) or `turn.failed`. Top-level `error` lines are often retries ("Reconnecting…"), so they are not final.
import * as z from "zod";
import type { Usage } from "../../../shared/protocol/index.ts";
import type { AgentProgress } from "../runners/types.ts";
import type { AgentEvent, StreamParser } from "./types.ts";
import { streamLine } from "./json-text.ts";

/** Progress texts are cut here (the protocol allows 500). */
const TEXT_CHARS = 200;
/** At most this many paths in one progress step (the protocol allows 50). */
const MAX_FILES = 50;

const CodexUsage = z.looseObject({
  input_tokens: z.number().optional(),
  cached_input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
});
const Item = z.looseObject({ id: z.string().optional(), type: z.string() });
const ItemLine = z.looseObject({ type: z.enum(["item.started", "item.updated", "item.completed"]), item: Item });
const StreamLine = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("thread.started"), thread_id: z.string().min(1) }),
  z.looseObject({ type: z.literal("turn.started") }),
  z.looseObject({ type: z.literal("turn.completed"), usage: CodexUsage.optional() }),
  z.looseObject({ type: z.literal("turn.failed"), error: z.looseObject({ message: z.string().optional() }).nullish() }),
  z.looseObject({ type: z.literal("error"), message: z.string().optional() }),
  ItemLine,
]);

const count = (value: number | undefined): number => (typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.round(value) : 0);
const cut = (text: string): string => (text.length > TEXT_CHARS ? `${text.slice(0, TEXT_CHARS - 1)}…` : text);
const str = (value: unknown): string | undefined => (typeof value === "string" && value.trim() ? value.trim() : undefined);

/** Codex's turn usage as Baton's: `inputTokens` without the cached part (which is `cacheReadTokens`). */
export function codexUsage(usage: z.infer<typeof CodexUsage>): Usage {
  const cached = count(usage.cached_input_tokens);
  return { inputTokens: Math.max(0, count(usage.input_tokens) - cached), outputTokens: count(usage.output_tokens), cacheReadTokens: cached };
}

/** An API error Codex passes on verbatim (`{"error":{"message",…}}`) as a readable line; other text unchanged. */
export function readableError(message: string): string {
  const text = message.trim();
  if (!text.startsWith("{")) return text;
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown } };
    const inner = str(body.error?.message);
    if (!inner) return text;
    const kind = str(body.error?.code) ?? str(body.error?.type);
    return kind ? `${inner} (${kind})` : inner;
  } catch {
    return text;
  }
}

/** A parser for one run of `codex exec --json` (or `codex exec resume … --json`). Never throws. */
export function createCodexParser(): StreamParser {
  const seen = new Set<string>();
  let lastMessage: string | undefined;
  let lastError: string | undefined;
  let finished = false;
  const onItem = (event: z.infer<typeof ItemLine>): AgentEvent[] | undefined => {
    const item = event.item;
    if (item.type === "agent_message") {
      const text = str(item.text);
      if (event.type !== "item.completed" || !text) return [];
      lastMessage = text;
      return [{ kind: "progress", progress: { text: cut(text) } }];
    }
    const step = progressOf(item);
    if (!step) return undefined;
    if (Object.keys(step).length === 0) return [];
    const key = item.id ?? `${item.type}:${seen.size}`;
    const failed = event.type === "item.completed" && item.status === "failed";
    if (seen.has(key) && !failed) return [];
    seen.add(key);
    return [{ kind: "progress", progress: failed ? { ...step, text: cut(`failed: ${step.text ?? item.type}`) } : step }];
  };
  return {
    line(text) {
      const event = streamLine(text, StreamLine);
      if (!event) return undefined;
      switch (event.type) {
        case "thread.started":
          return [{ kind: "session", id: event.thread_id }];
        case "turn.started":
          return [];
        case "turn.completed":
          finished = true;
          return [{ kind: "final", ok: true, summary: lastMessage ?? "", ...(event.usage ? { usage: codexUsage(event.usage) } : {}) }];
        case "turn.failed": {
          finished = true;
          const message = str(event.error?.message);
          return [{ kind: "final", ok: false, error: readableError(message ?? lastError ?? "codex reported that the turn failed"), ...(lastMessage ? { summary: lastMessage } : {}) }];
        }
        case "error": {
          const message = str(event.message);
          if (!message) return [];
          lastError = message;
          return [{ kind: "progress", progress: { text: cut(`error: ${readableError(message)}`) } }];
        }
        default:
          return onItem(event);
      }
    },
    end() {
      if (finished || lastError === undefined) return undefined;
      return { kind: "final", ok: false, error: readableError(lastError) };
    },
  };
}

/** An item as a progress step: its type as the tool, the files it names, a short text. Undefined for unknown types. */
function progressOf(item: z.infer<typeof Item>): AgentProgress | undefined {
  switch (item.type) {
    case "command_execution": {
      const command = str(item.command);
      return { tool: item.type, ...(command ? { text: cut(command) } : {}) };
    }
    case "file_change": {
      const changes = Array.isArray(item.changes) ? item.changes : [];
      const entries = changes.flatMap((change) => {
        const path = str((change as { path?: unknown } | null)?.path);
        return path ? [{ path, kind: str((change as { kind?: unknown }).kind) ?? "update" }] : [];
      });
      const files = entries.slice(0, MAX_FILES).map((entry) => entry.path);
      const text = entries.map((entry) => `${entry.kind} ${entry.path}`).join(", ");
      return { tool: item.type, ...(files.length ? { files } : {}), ...(text ? { text: cut(text) } : {}) };
    }
    case "mcp_tool_call": {
      const name = [str(item.server), str(item.tool)].filter(Boolean).join(".");
      return { tool: item.type, ...(name ? { text: cut(name) } : {}) };
    }
    case "web_search": {
      const query = str(item.query);
      return { tool: item.type, ...(query ? { text: cut(query) } : {}) };
    }
    case "todo_list": {
      const entries = Array.isArray(item.items) ? item.items : [];
      const done = entries.filter((entry) => (entry as { completed?: unknown } | null)?.completed === true).length;
      return { tool: item.type, text: `${done}/${entries.length} done` };
    }
    case "reasoning": {
      const text = str(item.text);
      return text ? { text: cut(text) } : {};
    }
    case "error": {
      const message = str(item.message);
      return { text: cut(`warning: ${message ?? "(no message)"}`) };
    }
    default:
      return undefined;
  }
}
