// What every process needs to know about the agent CLIs Baton drives (the worker's dialects, `baton doctor`):
// each one's executable and the environment variables that carry its API key.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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

/**
 * The argv prefix that starts an agent CLI: the role's `command` when set, else the CLI's executable in a
 * node_modules/.bin (the working folder's and its parents', then Baton's own), else its bare name (found on
 * PATH at spawn time). Synchronous, no side effects; the file may still be missing (the spawn then fails SPAWN).
 */
export function resolveAgentCommand(agent: Exclude<AgentKind, "llm">, command: readonly string[] | undefined, cwd: string): string[] {
  if (command?.length) return [...command];
  const binary = AGENT_CLIS[agent].binary;
  const own = fileURLToPath(new URL("..", import.meta.url));
  for (const start of [cwd, own]) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", ".bin", binary);
      if (existsSync(candidate)) return [candidate];
      if (dirname(dir) === dir) break;
    }
  }
  return [binary];
}
