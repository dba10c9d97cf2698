// What every process needs to know about the agent CLIs Baton drives (the worker's dialects, `baton doctor`):
// each one's executable and the environment variables that carry its API key.
import type { AgentKind } from "./config.ts";

export interface AgentCli {
  /** Executable name, looked up in node_modules/.bin, then on PATH (unless the role sets `command`). */
  binary: string;
  /** Any one of these set means the CLI has a key (a CLI may also be logged in through its config home). */
  keyEnv: readonly string[];
}

export const AGENT_CLIS: Readonly<Record<Exclude<AgentKind, "llm">, AgentCli>> = {
  "claude-code": { binary: "claude", keyEnv: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"] },
  codex: { binary: "codex", keyEnv: ["OPENAI_API_KEY", "CODEX_API_KEY"] },
  gemini: { binary: "gemini", keyEnv: ["GEMINI_API_KEY", "GOOGLE_API_KEY"] },
};

/** The key variable of an `llm` role: its `apiKeyEnv`, else the provider's usual one. */
export function llmKeyEnv(llm: { provider: "anthropic" | "openai"; apiKeyEnv?: string | undefined } | undefined): string {
  return llm?.apiKeyEnv ?? (llm?.provider === "openai" ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY");
}
