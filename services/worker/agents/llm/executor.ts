// PLACEHOLDER (helper H5 replaces this file): the llm executor.
import type { ExecRoleConfig } from "../../../../shared/config.ts";
import type { Executor, ExecutorDeps } from "../../runners/types.ts";

export function createLlmExecutor(_role: string, _rc: ExecRoleConfig, _deps: ExecutorDeps): Executor {
  throw new Error("not built yet");
}
