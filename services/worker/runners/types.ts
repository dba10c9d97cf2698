// The runner contract: what turns one task message into an outcome — the role's executor (exec, noop, sleep),
// a configured gate, or a review. The worker owns the protocol; a runner only runs and says how it ended.
import type { Logger } from "../../../shared/logging.ts";
import type { AgentSession, ArtifactProblem, GateReport, GitChanges, OpResult, Question, ReviewVerdict, TaskAssigned, TaskResult, Usage, WireError } from "../../../shared/protocol/index.ts";
import type { LogStream } from "../log-batcher.ts";
import type { WorkspaceOptions, WorkspaceResult } from "../workspace/resolve.ts";

export interface ExecContext {
  /**
   * Aborted when the worker gives the task back (drain grace over) or the task's feature was cancelled:
   * stop at once (kill everything the task started); the worker reports the outcome its own way.
   */
  signal: AbortSignal;
  /** One line of output, without its line break. */
  onLine: (stream: LogStream, line: string) => void;
  /**
   * What an agent is doing (a tool call, files it touched) and its usage so far; the worker rate-limits these
   * into task_progress messages (the latest usage always gets through). Absent for gate runs. Never throws.
   */
  onProgress?: (progress: AgentProgress) => void;
  log: Logger;
}

/** One step of an agent's work, as its stream told it (runners/agents parse it). */
export interface AgentProgress {
  tool?: string | undefined;
  files?: string[] | undefined;
  text?: string | undefined;
  /** Usage of this run so far (a running total). */
  usage?: Usage | undefined;
}

export interface ExecOutcome {
  outcome: TaskResult["outcome"];
  /** The process exit code when there was one. */
  exitCode: number | null;
  error?: WireError | undefined;
  summary?: string | undefined;
  handoff?: unknown;
  /** A gate run's findings (runners/gate.ts, runners/review.ts). */
  gateReport?: GateReport | undefined;
  /** A reviewer's verdict from its result file (runners/review.ts). */
  review?: ReviewVerdict | undefined;
  /** What the agent used, when it reported usage. */
  usage?: Usage | undefined;
  /** The agent session the run used (a fix round may continue it). */
  session?: AgentSession | undefined;
  /** What the agent said comes next and the constraints it found (its result file's). */
  nextSteps?: string[] | undefined;
  constraints?: string[] | undefined;
  /** Worktree mode: the commit of the work and git's list of changes (task-workspace.ts). */
  git?: GitChanges | undefined;
  /** Shared mode: the paths the run changed. */
  changed?: string[] | undefined;
  /** Declared artifacts that are missing or invalid. */
  artifacts?: ArtifactProblem[] | undefined;
  /** A workspace operation's findings (runners/workspace-op.ts). */
  opResult?: OpResult | undefined;
  /**
   * A decision only a person can make (with outcome "completed"): the task stopped to ask; it runs again with the
   * answer, so its run is neither checked for changes nor committed as work.
   */
  question?: Question | undefined;
  /** A planner run's plan, unchecked JSON (the coordinator validates it and sends every error back). */
  plan?: unknown;
}

/** What a runner is, for logs and tests; the worker never branches on it. */
export type RunnerKind = "exec" | "noop" | "sleep" | "gate" | "review" | "agent" | "workspace-op";

export interface Runner {
  readonly kind: RunnerKind;
  /** Human-readable description for logs, e.g. `exec ./agent.sh`. */
  readonly describe: string;
  /**
   * How the worker reports a run. `task`: the role's work — task_started and task_log messages, and the
   * phantom-completion check. `gate`: a gate run — its output goes into its report, not into task_log messages.
   */
  readonly reports: "task" | "gate";
  /** Runs one task to an outcome. Never rejects: every failure becomes a failed outcome with an error. */
  run(task: TaskAssigned, ctx: ExecContext): Promise<ExecOutcome>;
  /**
   * The folder the task runs in, for runners that have one (the phantom-completion check snapshots it
   * before and after). Safe to call before `run`; never rejects.
   */
  workspace?(task: TaskAssigned): Promise<WorkspaceResult>;
}

/** A role's executor: runs the role's work (and, on a reviewer, the review). */
export type Executor = Runner & { readonly reports: "task" };

export interface ExecutorDeps extends WorkspaceOptions {
  /** Base environment for child processes (the worker's own, read once at start-up). */
  env: Readonly<Record<string, string | undefined>>;
  /** Folders of role files beside the shipped roles/ (config `planning.roles`): a planner run is shown the catalogue. */
  roleDirs?: readonly string[] | undefined;
}

/** `deps.env` without its unset entries, ready for a child process. */
export function childEnv(env: ExecutorDeps["env"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}
