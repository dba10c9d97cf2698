// One supervised run of an agent CLI: its stdout read line by line through the dialect's parser (progress,
// session, final result), everything else kept as log lines, and the outcome decided from what it said and how
// it ended. Process handling (stall, hang after the result, kill of the group) is in process/run.ts.
import { isAbsolute, relative } from "node:path";
import { MAX_SUMMARY_CHARS, type Usage } from "../../../shared/protocol/index.ts";
import { wireError } from "../../../shared/protocol/errors.ts";
import { runProcess, type ProcessRun } from "../process/run.ts";
import type { ExecContext, ExecOutcome } from "../runners/types.ts";
import type { AgentEvent, StreamParser } from "./types.ts";

/** Longest stdout line read whole: a result or tool event can carry a large file or a 100 000-character summary. */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/** What the CLI told us during one run. */
export interface AgentReport {
  final?: Extract<AgentEvent, { kind: "final" }> | undefined;
  session?: string | undefined;
  /** The latest running usage from progress events (used when the final event has none). */
  usage?: Usage | undefined;
}

export interface AgentRunOptions {
  cwd: string;
  env: Record<string, string>;
  stdin: string;
  timeoutMs: number;
  stallMs: number;
}

/**
 * Runs the CLI to its end. Each stdout line goes to `parser.line`: unreadable lines are passed on as log lines,
 * progress to `ctx.onProgress`, the session id and the final result are remembered; the final result arms the
 * post-result exit limit (RESULT_EXIT_MS). stderr lines are log lines. Never rejects.
 */
export async function superviseAgent(argv: readonly string[], parser: StreamParser, options: AgentRunOptions, ctx: ExecContext): Promise<{ run: ProcessRun; report: AgentReport }> {
  const report: AgentReport = {};
  const resultSeen = new AbortController();
  const take = (events: AgentEvent[]) => {
    for (const event of events) {
      if (event.kind === "progress") {
        if (event.progress.usage) report.usage = event.progress.usage;
        const files = event.progress.files?.map((file) => inWorkspace(file, options.cwd));
        safely(() => ctx.onProgress?.(files ? { ...event.progress, files } : event.progress));
      } else if (event.kind === "session") {
        report.session = event.id;
      } else if (!report.final) {
        report.final = event;
        resultSeen.abort();
      }
    }
  };
  const onLine: ExecContext["onLine"] = (stream, line) => {
    if (stream === "stdout") {
      const events = safelyParse(parser, line);
      if (events === undefined) return ctx.onLine(stream, line);
      take(events);
    } else ctx.onLine(stream, line);
  };
  const [command, ...args] = argv as [string, ...string[]];
  const run = await runProcess(command, args, { ...options, resultSeen: resultSeen.signal, maxLineChars: MAX_EVENT_CHARS }, { signal: ctx.signal, onLine, log: ctx.log });
  if (!report.final) {
    const last = safelyEnd(parser);
    if (last) take([last]);
  }
  return { run, report };
}

/**
 * The outcome of one run. The CLI's final result decides when there is one (even if the process then had to be
 * killed); else abnormal ends (SPAWN, STALLED, TIMEOUT, ABORTED), else the exit: a non-zero code fails
 * AGENT_ERROR with the last stderr line, and so does a clean exit without a result. Pure.
 */
export function agentOutcome(run: ProcessRun, report: AgentReport, limits: { timeoutSeconds: number; stallSeconds: number }): ExecOutcome {
  const usage = report.final?.usage ?? report.usage;
  const base = { exitCode: run.code, ...(usage ? { usage } : {}) };
  const fail = (error: ExecOutcome["error"]): ExecOutcome => ({ outcome: "failed", ...base, error });
  const killed = `the process group was killed (${run.killedWith ?? "SIGTERM"})`;
  if (run.spawnError) return fail(run.spawnError);
  if (run.aborted) return fail(wireError("Aborted", `aborted by the worker; ${killed}`));
  const { final } = report;
  if (final) {
    if (!final.ok) return fail(wireError("AgentError", final.error?.trim() || final.summary?.trim() || "the agent reported that its run failed"));
    const summary = final.summary ?? "";
    return { outcome: "completed", ...base, summary: summary.length > MAX_SUMMARY_CHARS ? summary.slice(0, MAX_SUMMARY_CHARS) : summary };
  }
  if (run.stalled) return fail(wireError("Stalled", `no output for ${limits.stallSeconds}s; ${killed}`));
  if (run.timedOut) return fail(wireError("Timeout", `timed out after ${limits.timeoutSeconds}s; ${killed}`));
  const tail = run.lastStderr ? `: ${run.lastStderr}` : "";
  if (run.code === 0) return fail(wireError("AgentError", `the agent ended without a result${tail}`));
  if (run.code !== null) return fail(wireError("AgentError", `the agent exited with code ${run.code} without a result${tail}`));
  return fail(wireError("AgentError", `the agent was killed by signal ${run.signal} without a result${tail}`));
}

/** An absolute path inside the workspace as a workspace path; anything else unchanged. */
function inWorkspace(file: string, cwd: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(cwd, file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

function safelyParse(parser: StreamParser, line: string): AgentEvent[] | undefined {
  try {
    return parser.line(line);
  } catch {
    return undefined;
  }
}

function safelyEnd(parser: StreamParser): AgentEvent | undefined {
  try {
    return parser.end?.();
  } catch {
    return undefined;
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // onProgress never throws by contract; a bug there must not stop the run
  }
}
