// The executor of a role with `agent:` set: one of the CLI dialects behind the supervised CLI executor, or the
// llm executor. Built once at start-up from the operator's config.
import type { ExecRoleConfig } from "../../../shared/config.ts";
import type { Executor, ExecutorDeps } from "../runners/types.ts";
import { claudeDialect } from "./claude.ts";
import { createCliExecutor } from "./cli-executor.ts";
import { codexDialect } from "./codex.ts";
import { geminiDialect } from "./gemini.ts";
import { createLlmExecutor } from "./llm/executor.ts";
import type { AgentDialect } from "./types.ts";

export const DIALECTS: Readonly<Record<AgentDialect["agent"], AgentDialect>> = {
  "claude-code": claudeDialect,
  codex: codexDialect,
  gemini: geminiDialect,
};

/** The executor for `rc.agent` (which must be set). */
export function createAgentExecutor(role: string, rc: ExecRoleConfig & { agent: NonNullable<ExecRoleConfig["agent"]> }, deps: ExecutorDeps): Executor {
  if (rc.agent === "llm") return createLlmExecutor(role, rc, deps);
  return createCliExecutor(role, rc, DIALECTS[rc.agent], deps);
}
