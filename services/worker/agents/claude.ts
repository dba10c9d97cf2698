// PLACEHOLDER (helper H1 replaces this file): the claude-code dialect.
import type { AgentDialect } from "./types.ts";

export const claudeDialect: AgentDialect = {
  agent: "claude-code",
  binary: "claude",
  keyEnv: [],
  invocation: () => { throw new Error("not built yet"); },
  seedHome: async () => {},
  createParser: () => ({ line: () => undefined }),
};
