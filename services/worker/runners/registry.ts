// Decides what runs each task message, in one place. The runners are built once at start-up from the operator's
// config (which executor the role has, which gates exist); a message only says which of them it needs.
import type { BatonConfig, ExecRoleConfig } from "../../../shared/config.ts";
import { wireError } from "../../../shared/protocol/errors.ts";
import { REVIEW_GATE, type TaskAssigned, type WireError } from "../../../shared/protocol/index.ts";
import { createAgentExecutor } from "../agents/index.ts";
import { createNoopExecutor, createSleepExecutor } from "./builtin.ts";
import { createExecExecutor } from "./exec.ts";
import { createGateRunner } from "./gate.ts";
import { createReviewRunner } from "./review.ts";
import { createWorkspaceOpRunner } from "./workspace-op.ts";
import type { Executor, ExecutorDeps, Runner } from "./types.ts";

/** What runs a task: a runner, or the NO_EXECUTOR error when this worker has nothing to run it with. */
export type Resolved = { runner: Runner } | { error: WireError };

export interface Runners {
  /** The role's executor, or undefined when the config has none for the role. */
  readonly executor: Executor | undefined;
  /** The error the role's tasks get when there is no executor (undefined when there is one). */
  readonly noExecutor: WireError | undefined;
  /**
   * What runs `task`: a workspace operation goes to the built-in git runner, a gate run to the review runner (gate `review`) or the configured gates, any other
   * task to the role's executor. Pure and synchronous: the same kind of task gets the same runner every time.
   */
  for(task: Pick<TaskAssigned, "gate" | "op">): Resolved;
}

export interface RunnersOptions {
  role: string;
  workerId: string;
  config: Pick<BatonConfig, "roles" | "gates" | "workspace" | "workspaceRoots" | "configPath"> & {
    worker?: Pick<BatonConfig["worker"], "worktrees"> | undefined;
    planning?: Pick<BatonConfig["planning"], "roles"> | undefined;
  };
  /** The worker's environment, read once at start-up (child processes inherit it). */
  env: ExecutorDeps["env"];
  /** Folder under which default workspaces are made. */
  cwd: string;
}

/** Builds the worker's runners from its config. Call once at start-up; nothing here reads a message. */
export function createRunners(options: RunnersOptions): Runners {
  const { role, workerId, config } = options;
  const deps: ExecutorDeps = { workspace: config.workspace, workspaceRoots: config.workspaceRoots, env: options.env, cwd: options.cwd, roleDirs: config.planning?.roles };
  const executor = executorFor(role, config.roles, deps);
  const gates = createGateRunner(config.gates, deps);
  const review = createReviewRunner(executor);
  const ops = createWorkspaceOpRunner({ ...deps, worktrees: config.worker?.worktrees ?? { link: ["node_modules"] } });
  const noExecutor = executor
    ? undefined
    : wireError("NoExecutor", `no executor configured for role "${role}" on worker ${workerId} (config ${config.configPath ?? "none"})`);
  return {
    executor,
    noExecutor,
    for(task) {
      if (task.op) return { runner: ops };
      if (task.gate) return { runner: task.gate.name === REVIEW_GATE ? review : gates };
      return executor ? { runner: executor } : { error: { ...noExecutor! } };
    },
  };
}

/** The executor the operator configured for `role`, or undefined when there is none. */
export function executorFor(role: string, roles: Readonly<Record<string, ExecRoleConfig>>, deps: ExecutorDeps): Executor | undefined {
  const rc = roles[role];
  if (!rc) return undefined;
  if (rc.agent) return createAgentExecutor(role, { ...rc, agent: rc.agent }, deps);
  if (rc.executor === "noop") return createNoopExecutor();
  if (rc.executor === "sleep") return createSleepExecutor(rc.sleepMs);
  return createExecExecutor(role, rc, deps);
}
