// One model API call through the official SDKs: Anthropic Messages (`@anthropic-ai/sdk`) and OpenAI-compatible chat
// completions (`openai`: OpenAI, vLLM, Ollama, LiteLLM, OpenRouter). Retries on 429/5xx/connection errors with
// backoff honouring `retry-after` and the per-call timeout are the SDKs' own (`maxRetries`, `timeout`).
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import type { LlmConfig } from "../../../../shared/config.ts";

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

export interface ModelCall {
  model: string;
  system: string;
  messages: readonly ChatMessage[];
}

export interface ModelReply {
  text: string;
  /** Input tokens excluding cache reads (cache writes included), output tokens, cache reads. */
  usage: { input: number; output: number; cacheRead: number };
  /** The model the API says answered. */
  model?: string | undefined;
  /** True when the answer was cut at `maxTokens`. */
  truncated: boolean;
}

export interface Provider {
  /** One call (with the SDK's retries). Rejects with the SDK's error; aborting `signal` rejects at once. */
  call(request: ModelCall, signal: AbortSignal): Promise<ModelReply>;
}

/** The SDK's log lines worth showing (retries, failures); never headers or bodies. */
export type SdkLog = (line: string) => void;

const DEFAULT_BASE_URL = { anthropic: "https://api.anthropic.com", openai: "https://api.openai.com/v1" } as const;

/**
 * A provider for `llm` with `apiKey`. Everything the SDK would otherwise read from process.env (base URL, other
 * credentials, log level) is given explicitly. `log` gets the SDK's info-level lines (e.g. a retry after a 429).
 */
export function createProvider(llm: LlmConfig, apiKey: string, log: SdkLog): Provider {
  const logger = { error: log, warn: log, info: log, debug: () => {} };
  const common = {
    apiKey,
    baseURL: llm.baseUrl ?? DEFAULT_BASE_URL[llm.provider],
    maxRetries: llm.maxRetries,
    timeout: Math.max(1, Math.ceil(llm.requestTimeoutSeconds * 1000)),
    logger,
    logLevel: "info" as const,
  };
  return llm.provider === "anthropic" ? anthropicProvider(new Anthropic({ ...common, authToken: null, webhookKey: null }), llm) : openaiProvider(new OpenAI({ ...common, organization: null, project: null, webhookSecret: null, adminAPIKey: null }), llm);
}

function anthropicProvider(client: Anthropic, llm: LlmConfig): Provider {
  return {
    async call(request, signal) {
      const message = await client.messages.create(
        { model: request.model, max_tokens: llm.maxTokens, system: request.system, messages: request.messages.map((msg) => ({ role: msg.role, content: msg.content })) },
        { signal },
      );
      const text = message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
      const usage = message.usage;
      return {
        text,
        usage: { input: usage.input_tokens + (usage.cache_creation_input_tokens ?? 0), output: usage.output_tokens, cacheRead: usage.cache_read_input_tokens ?? 0 },
        model: message.model,
        truncated: message.stop_reason === "max_tokens",
      };
    },
  };
}

function openaiProvider(client: OpenAI, llm: LlmConfig): Provider {
  // OpenAI's own API wants max_completion_tokens (newer models refuse max_tokens); compatible servers know max_tokens.
  const official = new URL(client.baseURL).hostname === "api.openai.com";
  return {
    async call(request, signal) {
      const completion = await client.chat.completions.create(
        {
          model: request.model,
          ...(official ? { max_completion_tokens: llm.maxTokens } : { max_tokens: llm.maxTokens }),
          messages: [{ role: "system", content: request.system }, ...request.messages.map((msg) => ({ role: msg.role, content: msg.content }))],
        },
        { signal },
      );
      const choice = completion.choices[0];
      const usage = completion.usage;
      const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
      return {
        text: choice?.message.content ?? "",
        usage: { input: Math.max(0, (usage?.prompt_tokens ?? 0) - cached), output: usage?.completion_tokens ?? 0, cacheRead: cached },
        model: completion.model,
        truncated: choice?.finish_reason === "length",
      };
    },
  };
}

/** A one-line description of an SDK error (status and the API's message), never its headers. */
export function describeApiError(err: unknown, requestTimeoutSeconds: number): string {
  if (err instanceof Anthropic.APIConnectionTimeoutError || err instanceof OpenAI.APIConnectionTimeoutError) {
    return `the model API did not answer within requestTimeoutSeconds (${requestTimeoutSeconds}s), retries included`;
  }
  if (err instanceof Anthropic.APIError || err instanceof OpenAI.APIError) {
    if (!err.status) return `cannot reach the model API: ${err.message}`;
    const retried = err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500 ? " (after the retries)" : "";
    return `the model API answered ${err.status}${retried}: ${apiMessage(err.error) ?? err.message}`;
  }
  return `the model API call failed: ${(err as Error)?.message ?? String(err)}`;
}

/** The message inside an API error body: Anthropic's `{ error: { message } }` or OpenAI's `{ message }`. */
function apiMessage(body: unknown): string | undefined {
  const outer = body as { message?: unknown; error?: { message?: unknown } } | undefined;
  const message = outer?.error?.message ?? outer?.message;
  return typeof message === "string" && message ? message : undefined;
}
