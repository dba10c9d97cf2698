// PLACEHOLDER (a helper replaces this file): the codex dialect.
import type { AgentDialect } from "./types.ts";

export const codexDialect: AgentDialect = {
  agent: "codex",
  binary: "codex",
  keyEnv: [],
  invocation: () => { throw new Error("not built yet"); },
  seedHome: async () => {},
  createParser: () => ({ line: () => undefined }),
};
