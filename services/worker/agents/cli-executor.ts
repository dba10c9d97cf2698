// PLACEHOLDER (helper H1 replaces this file): the supervised executor of an agent CLI.
import type { ExecRoleConfig } from "../../../shared/config.ts";
import type { Executor, ExecutorDeps } from "../runners/types.ts";
import type { AgentDialect } from "./types.ts";

export function createCliExecutor(_role: string, _rc: ExecRoleConfig, _dialect: AgentDialect, _deps: ExecutorDeps): Executor {
  throw new Error("not built yet");
}
