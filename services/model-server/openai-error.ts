// API errors in OpenAI's shape, shared by the two OpenAI dialects (Responses for Codex, Chat Completions for llm roles).
import type { ServerResponse } from "node:http";
import { sendJsonError } from "./server.ts";

const ERROR_TYPES: Record<number, { type: string; code: string }> = {
  400: { type: "invalid_request_error", code: "invalid_request" },
  401: { type: "authentication_error", code: "invalid_api_key" },
  403: { type: "permission_error", code: "permission_denied" },
  404: { type: "not_found_error", code: "not_found" },
  429: { type: "rate_limit_error", code: "rate_limit_exceeded" },
};

/** `{ error: { message, type, param, code } }`, with `retry-after` when given. */
export function openaiError(res: ServerResponse, status: number, message: string, retryAfterSeconds?: number): void {
  const kind = ERROR_TYPES[status] ?? { type: status >= 500 ? "server_error" : "invalid_request_error", code: status >= 500 ? "server_error" : "error" };
  sendJsonError(res, status, { error: { message, type: kind.type, param: null, code: kind.code } }, retryAfterSeconds);
}
