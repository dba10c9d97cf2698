// The executor contract: how a worker runs one task, whatever runs it (a process today, other kinds later).
// The worker owns the protocol; an executor only turns a task into an outcome.
import type { Logger } from "../../shared/logging.ts";
import type { GateReport, ReviewVerdict, TaskAssigned, TaskResult, WireError } from "../../shared/protocol/index.ts";
import type { ExecRoleConfig } from "../../shared/config.ts";
import type { LogStream } from "./log-batcher.ts";
import { createNoopExecutor, createSleepExecutor } from "./builtin.ts";
import { createExecExecutor } from "./exec.ts";

export interface ExecContext {
  /**
   * Aborted when the worker gives the task back (drain grace over) or the task's feature was cancelled:
   * stop at once (kill everything the task started); the worker reports the outcome its own way.
   */
  signal: AbortSignal;
  /** One line of output, without its line break. */
  onLine: (stream: LogStream, line: string) => void;
  log: Logger;
}

export interface ExecOutcome {
  outcome: TaskResult["outcome"];
  /** The process exit code when there was one. */
  exitCode: number | null;
  error?: WireError | undefined;
  summary?: string | undefined;
  handoff?: unknown;
  /** A gate run's findings (gates.ts). */
  gateReport?: GateReport | undefined;
  /** A reviewer's verdict from its result file (review.ts). */
  review?: ReviewVerdict | undefined;
}

export interface Executor {
  /** Human-readable description for logs, e.g. `exec ./agent.sh`. */
  readonly describe: string;
  /** Runs one task to an outcome. Never rejects: every failure becomes a failed outcome with an error. */
  run(task: TaskAssigned, ctx: ExecContext): Promise<ExecOutcome>;
  /**
   * The folder the task runs in, for executors that have one (the phantom-completion check snapshots it
   * before and after). Safe to call before `run`; never rejects.
   */
  workspace?(task: TaskAssigned): Promise<{ dir: string } | { error: WireError }>;
}

export interface ExecutorDeps {
  /** Workspace for tasks that name none; default `<cwd>/.baton/workspaces/<featureId>`. */
  workspace?: string | undefined;
  /** Base environment for child processes (the worker's own, read once at start-up). */
  env: Readonly<Record<string, string | undefined>>;
  /** Folder under which default workspaces are made. */
  cwd: string;
}

/** The executor the operator configured for `role`, or undefined when there is none. */
export function executorFor(role: string, roles: Readonly<Record<string, ExecRoleConfig>>, deps: ExecutorDeps): Executor | undefined {
  const rc = roles[role];
  if (!rc) return undefined;
  if (rc.executor === "noop") return createNoopExecutor();
  if (rc.executor === "sleep") return createSleepExecutor(rc.sleepMs);
  return createExecExecutor(role, rc, deps);
}
