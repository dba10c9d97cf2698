// The seam between the worker's agent executor (cli-executor.ts: supervision, config homes, progress, results)
// and one agent CLI's habits (claude.ts, codex.ts, gemini.ts): how to invoke it and how to read its JSON stream.
// A dialect is pure apart from `seedHome`/`findSession`; everything about processes lives in the executor.
import type { Usage } from "../../../shared/protocol/index.ts";
import type { AgentProgress } from "../runners/types.ts";

/** What the executor knows when it starts one run of the CLI. */
export interface DialectInput {
  /** The whole prompt (prompt.ts); it goes in through stdin or a file, never as a shell string. */
  prompt: string;
  /** The task's workspace: the CLI's working folder. */
  cwd: string;
  /** This run's own config home (one per worker slot, seeded from the operator's by `seedHome`). */
  home: string;
  model?: string | undefined;
  /** The operator's permission mode; undefined: the dialect's unattended default (docs/agents.md). */
  permissionMode?: string | undefined;
  allowedTools?: readonly string[] | undefined;
  /** The operator's extra arguments (`args`), placed before the prompt-related ones. */
  extraArgs: readonly string[];
  /** A session to continue (`claude --resume <id>`, `codex exec resume <id>`); undefined: a fresh one. */
  resume?: string | undefined;
}

/** How to start the CLI for one run: its arguments (after the command), its stdin, extra environment. */
export interface AgentInvocation {
  args: string[];
  /** Written to the CLI's stdin, which is then closed ("" when the prompt goes in another way). */
  stdin: string;
  /** Environment on top of the operator's: at least the variable that points the CLI at `home`. */
  env: Record<string, string>;
}

/** What one line of the CLI's stdout said. */
export type AgentEvent =
  | { kind: "progress"; progress: AgentProgress }
  | { kind: "session"; id: string }
  /**
   * The CLI's own final result event (Claude's `result`, Codex's `turn.completed`/`turn.failed`, Gemini's
   * `result`): success or not, the agent's final message, its usage. After it the executor gives the process a
   * few seconds to exit, then kills its group and keeps the result (a known hang of these CLIs).
   */
  | { kind: "final"; ok: boolean; summary?: string | undefined; error?: string | undefined; usage?: Usage | undefined };

/** Reads one run's stdout, line by line. Keeps whatever state the format needs (e.g. usage summed over turns). */
export interface StreamParser {
  /**
   * The events one stdout line carries, in order. Never throws: a line it cannot read (not JSON, an unknown
   * type) gives `undefined`, and the executor keeps it as a log line.
   */
  line(text: string): AgentEvent[] | undefined;
  /** At the end of output: a final event built from what was seen, when the format has no explicit one (else undefined). */
  end?(): AgentEvent | undefined;
}

/** One agent CLI's habits. */
export interface AgentDialect {
  readonly agent: "claude-code" | "codex" | "gemini";
  /** The CLI's executable name, looked up in node_modules/.bin, then on PATH (unless the role sets `command`). */
  readonly binary: string;
  /** Environment variables whose presence means the CLI has an API key (`baton doctor` checks one is set). */
  readonly keyEnv: readonly string[];
  /**
   * The permission mode of a planner run (when the role sets none): the CLI may read and search, never edit or run
   * commands. A planner works in the user's own checkout (no worktree), so nothing it does may change it.
   */
  readonly readOnlyPermissionMode: string;
  invocation(input: DialectInput): AgentInvocation;
  /**
   * Prepares a config home from the operator's own (settings and credential files copied, never API keys
   * written anywhere): called before each run; cheap and idempotent when the home is already seeded.
   */
  seedHome(home: string, operatorEnv: Readonly<Record<string, string | undefined>>): Promise<void>;
  /** True when `home` holds session `id` for workspace `cwd`, so `resume` can continue it. */
  hasSession?(home: string, id: string, cwd: string): Promise<boolean>;
  /**
   * When `home`'s copy of session `id` for workspace `cwd` was last written (ms since the epoch), undefined when
   * `home` does not hold it. Never rejects. With copies of one session in several homes, the newest is continued.
   */
  sessionUpdatedAt?(home: string, id: string, cwd: string): Promise<number | undefined>;
  /**
   * Copies session `id` for workspace `cwd` from `fromHome` into `toHome` (replacing an older copy there), so that
   * a run in `toHome` can `resume` it while another run holds `fromHome`. Only reads `fromHome`. Rejects when the
   * session is not there or cannot be copied; a copy cut short is never taken for the session.
   */
  copySession?(fromHome: string, toHome: string, id: string, cwd: string): Promise<void>;
  createParser(): StreamParser;
}
