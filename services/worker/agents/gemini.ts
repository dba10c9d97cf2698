// PLACEHOLDER (a helper replaces this file): the gemini dialect.
import type { AgentDialect } from "./types.ts";

export const geminiDialect: AgentDialect = {
  agent: "gemini",
  binary: "gemini",
  keyEnv: [],
  invocation: () => { throw new Error("not built yet"); },
  seedHome: async () => {},
  createParser: () => ({ line: () => undefined }),
};
