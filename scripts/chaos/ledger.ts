// Reads the agents' ledger: one JSON line when an execution starts and one when it ends.
import { readFileSync } from "node:fs";

export interface Execution {
  featureId: string;
  taskId: string;
  attempt: number;
  role: string;
  pid: number;
  /** The agent's parent: the worker, or a helper the worker started it through. */
  ppid: number;
  /** ppid, its parent, … (up to 4; read from /proc when the agent started). */
  ancestors?: number[] | undefined;
  start: number;
  end?: number | undefined;
  /** When SIGTERM stopped it (e.g. its worker died and the worker's exec guard killed it). */
  killed?: number | undefined;
  /** Handoffs it got from its dependencies, and those that were not the dependency's document byte for byte. */
  handoffsChecked?: number | undefined;
  badHandoffs?: string[] | undefined;
  /** Git features, a conflict fix: the files it found unmerged and resolved. */
  resolved?: string[] | undefined;
  /** The answers its task message carried (each question's id and answer). */
  answers?: { questionId: string; answer: string }[] | undefined;
  /** A planner run: the plan attempt it was asked for, and how many errors of the previous plan it was given. */
  planAttempt?: number | undefined;
  previousErrors?: number | undefined;
  /** How it ended: it asked a question, it failed on purpose (exit 1), or it returned a deliberately invalid plan. */
  asked?: boolean | undefined;
  failed?: boolean | undefined;
  invalidPlan?: boolean | undefined;
}

/** True when process `pid` is the agent's parent or an ancestor of it. */
export function ranUnder(run: Execution, pid: number): boolean {
  return run.ppid === pid || (run.ancestors ?? []).includes(pid);
}

/** Every execution recorded so far, in start order; a line still being written is skipped. */
export function readLedger(path: string): Execution[] {
  const byRun = new Map<string, Execution>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let rec: Execution;
    try {
      rec = JSON.parse(line) as Execution;
    } catch {
      continue;
    }
    // One execution = one agent process (pid + start); its lines may come in any order of start/killed.
    const key = `${rec.pid}:${rec.start}`;
    const seen = byRun.get(key);
    if (seen) {
      if (rec.end !== undefined) {
        const { end, handoffsChecked, badHandoffs, resolved, asked, failed, invalidPlan } = rec;
        Object.assign(seen, { end, handoffsChecked, badHandoffs, resolved, asked, failed, invalidPlan });
      }
      if (rec.killed !== undefined) seen.killed = rec.killed;
    } else byRun.set(key, { ...rec });
  }
  return [...byRun.values()].sort((left, right) => left.start - right.start);
}

/** Executions started under worker `pid` that were still running at `at`. */
export function runningUnder(ledger: Execution[], pid: number, at: number): Execution[] {
  return ledger.filter((run) => ranUnder(run, pid) && run.start <= at && !((run.end ?? Infinity) <= at) && !((run.killed ?? Infinity) <= at));
}
