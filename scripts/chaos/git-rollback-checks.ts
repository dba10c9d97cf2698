// The rollbacks' side of the git checks: each planned rollback was done (or skipped because the feature ended first),
// never refused; after it, the tasks it made pending again were integrated again — their checkpoints are newer than
// the rollback point on the branch's first-parent line and came after feature.rolled_back — and nothing integrated
// before it vanished without being undone. Pure.
import type { GitFeature } from "./git-checks.ts";
import type { RepoSnapshot } from "./git-repos.ts";
import type { SeenEvent } from "./observer.ts";
import type { RollbackRecord } from "./rollbacks.ts";

export interface RollbackFigures {
  planned: number;
  done: number;
  /** Planned rollbacks not done because the feature ended before (not a failure), and those that failed. */
  skipped: string[];
  failed: string[];
  /** Request tasks the rollbacks made pending again, and those integrated again after the rollback point. */
  tasksUndone: number;
  reintegrated: number;
  problems: string[];
}

export const emptyRollbackFigures = (): RollbackFigures => ({ planned: 0, done: 0, skipped: [], failed: [], tasksUndone: 0, reintegrated: 0, problems: [] });

/** The seq of the last event of `kind` for `taskId`, or 0. */
const lastSeq = (events: readonly SeenEvent[], kind: string, taskId: string) => events.filter((event) => event.kind === kind && event.taskId === taskId).at(-1)?.seq ?? 0;

/** One feature.rolled_back against the branch as it ended (adds what it finds to `figures`). */
function checkOne(feature: GitFeature, events: readonly SeenEvent[], rolledBack: SeenEvent, snapshot: RepoSnapshot, figures: RollbackFigures): void {
  const log = snapshot.log ?? [];
  const undone = new Set(rolledBack.git?.tasks ?? []);
  const point = log.findIndex((entry) => entry.commit === rolledBack.git?.to);
  const name = (taskId: string) => `${feature.featureId}/${taskId}`;
  if (point < 0) return void figures.problems.push(`${feature.featureId}: the rollback point ${rolledBack.git?.to} is not on the branch`);
  for (const taskId of feature.tasks) {
    const at = log.findIndex((entry) => entry.task === name(taskId));
    if (undone.has(taskId)) {
      figures.tasksUndone++;
      const again = at >= 0 && at < point && lastSeq(events, "checkpoint.created", taskId) > rolledBack.seq && lastSeq(events, "task.completed", taskId) > rolledBack.seq;
      if (again) figures.reintegrated++;
      else figures.problems.push(`${name(taskId)}: undone by the rollback (seq ${rolledBack.seq}) but not integrated again after it`);
    } else if (at >= 0 && at < point && events.some((event) => event.kind === "checkpoint.created" && event.taskId === taskId && event.seq < rolledBack.seq)) {
      figures.problems.push(`${name(taskId)}: integrated before the rollback, not undone by it, yet its checkpoint is after the rollback point`);
    }
  }
  if (rolledBack.git?.toTask && log[point]!.task !== name(rolledBack.git.toTask)) figures.problems.push(`${feature.featureId}: the rollback point is not ${rolledBack.git.toTask}'s checkpoint`);
}

/** The rollbacks the harness drove, and every feature.rolled_back of a completed git feature. */
export function checkRollbacks(
  features: readonly GitFeature[],
  grouped: Map<string, SeenEvent[]>,
  snapshots: Map<string, RepoSnapshot>,
  records: readonly RollbackRecord[],
): { figures: RollbackFigures; reasons: string[] } {
  const figures = emptyRollbackFigures();
  for (const feature of features) {
    const events = grouped.get(feature.featureId) ?? [];
    const rolledBack = events.filter((event) => event.kind === "feature.rolled_back");
    if (feature.rollback) {
      figures.planned++;
      const rec = records.find((record) => record.featureId === feature.featureId);
      const said = `${feature.featureId}: ${rec?.outcome ?? "not driven"}${rec?.detail ? ` (${rec.detail})` : ""}`;
      if (rec?.outcome === "done" && rolledBack.some((event) => event.seq === rec.seq)) figures.done++;
      else if (rec?.outcome === "skipped") figures.skipped.push(said);
      else figures.failed.push(rec?.outcome === "done" ? `${feature.featureId}: its feature.rolled_back (seq ${rec.seq}) is not in the history` : said);
    }
    const snapshot = snapshots.get(feature.featureId);
    const completed = events.some((event) => event.kind === "feature.completed");
    if (!completed || !snapshot?.log) continue;
    for (const event of rolledBack) checkOne(feature, events, event, snapshot, figures);
  }
  const reasons: string[] = [];
  if (figures.failed.length) reasons.push(`${figures.failed.length} planned rollback(s) refused or unanswered: ${figures.failed.join("; ")}`);
  if (figures.problems.length) reasons.push(`${figures.problems.length} rollback problem(s): ${figures.problems.slice(0, 6).join("; ")}`);
  return { figures, reasons };
}
