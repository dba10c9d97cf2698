// The status history's side of the chaos analysis: each feature's outcome, the history's integrity (no gaps, one
// content per seq), terminal events per feature, and tasks completed twice (a rollback in between excepted). Pure.
import { TERMINAL_KINDS, type SeenEvent } from "./observer.ts";

export const taskKey = (featureId: string, taskId: string): string => `${featureId}/${taskId}`;

/** Each feature's events (seq > 0, notices left out), in seq order. */
export function byFeature(events: readonly SeenEvent[]): Map<string, SeenEvent[]> {
  const grouped = new Map<string, SeenEvent[]>();
  for (const event of events) {
    if (event.seq === 0) continue;
    const list = grouped.get(event.featureId) ?? [];
    list.push(event);
    grouped.set(event.featureId, list);
  }
  for (const list of grouped.values()) list.sort((left, right) => left.seq - right.seq);
  return grouped;
}

/** The first terminal event decides the outcome (completed, failed, …); without one: stuck (accepted) or lost. */
export function outcomes(featureIds: readonly string[], grouped: Map<string, SeenEvent[]>): Map<string, string> {
  const outcome = new Map<string, string>();
  for (const featureId of featureIds) {
    const events = grouped.get(featureId) ?? [];
    const terminal = events.find((event) => TERMINAL_KINDS.has(event.kind));
    outcome.set(featureId, terminal ? terminal.kind.slice("feature.".length) : events.some((event) => event.kind === "feature.accepted") ? "stuck" : "lost");
  }
  return outcome;
}

export interface HistoryIntegrity {
  gaps: string[];
  conflicts: string[];
  duplicateEvents: number;
  notices: Record<string, number>;
}

/** Seq 1..max without gaps and one content per seq, per feature; notices (seq 0) counted by kind and code. */
export function historyIntegrity(events: readonly SeenEvent[], grouped: Map<string, SeenEvent[]>): HistoryIntegrity {
  const gaps: string[] = [];
  const conflicts: string[] = [];
  let duplicateEvents = 0;
  for (const [featureId, list] of grouped) {
    const bySeq = new Map<number, SeenEvent>();
    for (const event of list) {
      const seen = bySeq.get(event.seq);
      if (!seen) bySeq.set(event.seq, event);
      else if (seen.kind === event.kind && seen.taskId === event.taskId && seen.attempt === event.attempt) duplicateEvents++;
      else conflicts.push(`${featureId} seq ${event.seq}: ${seen.kind} ${seen.taskId ?? ""} vs ${event.kind} ${event.taskId ?? ""}`);
    }
    const max = Math.max(...bySeq.keys());
    const missing = [];
    for (let seq = 1; seq <= max; seq++) if (!bySeq.has(seq)) missing.push(seq);
    if (missing.length) gaps.push(`${featureId}: seq ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? " …" : ""} missing of 1..${max}`);
  }
  const notices: Record<string, number> = {};
  for (const event of events) {
    if (event.seq !== 0) continue;
    const name = `${event.kind} ${event.detail?.split(" ")[0] ?? ""}`.trim();
    notices[name] = (notices[name] ?? 0) + 1;
  }
  return { gaps, conflicts, duplicateEvents, notices };
}

/** Features whose history does not hold exactly one terminal event (distinct seqs). */
export function terminalCounts(featureIds: readonly string[], grouped: Map<string, SeenEvent[]>): { featureId: string; count: number; kinds: string[] }[] {
  const notOne = [];
  for (const featureId of featureIds) {
    const seqs = new Map<number, string>();
    for (const event of grouped.get(featureId) ?? []) if (TERMINAL_KINDS.has(event.kind)) seqs.set(event.seq, event.kind);
    if (seqs.size !== 1) notOne.push({ featureId, count: seqs.size, kinds: [...seqs.values()] });
  }
  return notOne;
}

/** Whether a feature.rolled_back between seqs `after` and `before` made `taskId` pending again. */
export function rolledBackBetween(events: readonly SeenEvent[], taskId: string, after: number, before: number): boolean {
  return events.some((event) => event.kind === "feature.rolled_back" && event.seq > after && event.seq < before && !!event.git?.tasks?.includes(taskId));
}

/**
 * Tasks with more than one task.completed (distinct seqs) that no rollback explains: between two completions of a task
 * there must be a feature.rolled_back naming it (its work was undone, so it was done and completed again).
 */
export function completions(grouped: Map<string, SeenEvent[]>): { twice: string[]; againAfterRollback: number } {
  const twice: string[] = [];
  let againAfterRollback = 0;
  for (const [featureId, list] of grouped) {
    const seqs = new Map<string, number[]>();
    for (const event of list) {
      if (event.kind !== "task.completed" || !event.taskId) continue;
      const known = seqs.get(event.taskId) ?? [];
      if (!known.includes(event.seq)) seqs.set(event.taskId, [...known, event.seq]);
    }
    for (const [taskId, done] of seqs) {
      const pairs = done.slice(1).map((seq, index) => rolledBackBetween(list, taskId, done[index]!, seq));
      againAfterRollback += pairs.filter(Boolean).length;
      if (pairs.some((explained) => !explained)) twice.push(`${taskKey(featureId, taskId)} (seq ${done.join(", ")})`);
    }
  }
  return { twice, againAfterRollback };
}
