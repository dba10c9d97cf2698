// The git features' side of the chaos analysis: no task "completed" whose work is not on the integration branch.
// For each completed git feature, from git (not from the events alone): each completed task has exactly one
// checkpoint commit on baton/<id>'s first-parent line, the one its last checkpoint.created names, and its file in the
// tree; no checkpoint appears twice; conflict files hold no markers; after feature.integrated no worktree and no task
// branch is left; after a rollback the undone tasks were integrated again after the rollback point. Pure.
import { integrationBranch } from "../../shared/protocol/workspace.ts";
import { CONFLICT_MARKER, pairFile, pairLine, taskFile, taskText } from "./git-plan.ts";
import type { RepoSnapshot } from "./git-repos.ts";
import type { SeenEvent } from "./observer.ts";
import { checkRollbacks, emptyRollbackFigures, type RollbackFigures } from "./git-rollback-checks.ts";
import type { RollbackRecord } from "./rollbacks.ts";

export interface GitFeature {
  featureId: string;
  repo: string;
  /** The request's task ids. */
  tasks: string[];
  pairs: [string, string][];
  rollback: boolean;
}

export interface GitFigures {
  features: number;
  completed: number;
  /** Request tasks with task.completed in completed git features, and of those the ones whose work is on the branch. */
  tasksCompleted: number;
  tasksOnBranch: number;
  notOnBranch: string[];
  duplicateCheckpoints: string[];
  /** Checkpoint trailers naming no task of the request (a fix task's, another feature's). */
  strayCheckpoints: string[];
  /** The last checkpoint.created of a task, or feature.integrated's head, disagreeing with the branch. */
  eventMismatches: string[];
  missingFiles: string[];
  markers: string[];
  conflicts: number;
  fixTasks: { made: number; completed: number };
  /** Git features whose workspace was finished (feature.integrated) with nothing left, and what was left. */
  finished: number;
  leftovers: string[];
  notFinished: string[];
  rollbacks: RollbackFigures;
}

/** The last event of `kind` for `taskId`. */
const lastOf = (events: readonly SeenEvent[], kind: string, taskId: string) => events.filter((event) => event.kind === kind && event.taskId === taskId).at(-1);

/** The branch, its files and the events of one completed git feature agree (adds what it finds to `figures`). */
function checkBranch(feature: GitFeature, events: readonly SeenEvent[], snapshot: RepoSnapshot, figures: GitFigures): void {
  const log = snapshot.log ?? [];
  const name = (taskId: string) => `${feature.featureId}/${taskId}`;
  const trailers = new Map<string, number>();
  for (const entry of log) if (entry.task) trailers.set(entry.task, (trailers.get(entry.task) ?? 0) + 1);
  for (const [trailer, count] of trailers) {
    if (!feature.tasks.some((taskId) => name(taskId) === trailer)) figures.strayCheckpoints.push(`${trailer} on ${integrationBranch(feature.featureId)}`);
    else if (count > 1) figures.duplicateCheckpoints.push(`${trailer}: ${count} checkpoint commits`);
  }
  if (new Set(log.map((entry) => entry.commit)).size !== log.length) figures.duplicateCheckpoints.push(`${feature.featureId}: a commit listed twice`);
  for (const taskId of feature.tasks) {
    if (!events.some((event) => event.kind === "task.completed" && event.taskId === taskId)) {
      figures.notOnBranch.push(`${name(taskId)} never completed in a completed feature`);
      continue;
    }
    figures.tasksCompleted++;
    const commits = log.filter((entry) => entry.task === name(taskId));
    const checkpoint = lastOf(events, "checkpoint.created", taskId);
    const fileOk = snapshot.files[taskFile(taskId)] === taskText(feature.featureId, taskId);
    if (!commits.length) figures.notOnBranch.push(`${name(taskId)}: completed, no checkpoint on ${integrationBranch(feature.featureId)}`);
    if (commits.length === 1 && checkpoint?.git?.commit !== commits[0]!.commit) figures.eventMismatches.push(`${name(taskId)}: checkpoint.created ${checkpoint?.git?.commit ?? "missing"}, branch ${commits[0]!.commit}`);
    if (!fileOk) figures.missingFiles.push(`${name(taskId)}: ${taskFile(taskId)} ${snapshot.files[taskFile(taskId)] === undefined ? "missing" : "differs"}`);
    if (commits.length === 1 && checkpoint?.git?.commit === commits[0]!.commit && fileOk) figures.tasksOnBranch++;
  }
  feature.pairs.forEach((pair, index) => {
    const text = snapshot.files[pairFile(index)] ?? "";
    // the pair's task integrated last wrote its line over the other's, or kept both when resolving their conflict
    const last = [...pair].sort((left, right) => (lastOf(events, "checkpoint.created", right)?.seq ?? 0) - (lastOf(events, "checkpoint.created", left)?.seq ?? 0))[0]!;
    if (CONFLICT_MARKER.test(text)) figures.markers.push(`${feature.featureId}: ${pairFile(index)} holds conflict markers`);
    else if (!text.split("\n").includes(pairLine(last))) figures.markers.push(`${feature.featureId}: ${pairFile(index)} lacks "${pairLine(last)}" (${JSON.stringify(text)})`);
  });
  const integrated = events.find((event) => event.kind === "feature.integrated");
  if (integrated && log.length && integrated.git?.head !== log[0]!.commit) figures.eventMismatches.push(`${feature.featureId}: feature.integrated head ${integrated.git?.head}, branch ${log[0]!.commit}`);
}

/** After feature.integrated: only the repository's own work tree and only the integration branch are left, and no worktree folder. */
function checkFinished(feature: GitFeature, events: readonly SeenEvent[], snapshot: RepoSnapshot, figures: GitFigures): void {
  const integrated = new Set(events.filter((event) => event.kind === "feature.integrated").map((event) => event.seq));
  if (!integrated.size) return void figures.notFinished.push(`${feature.featureId}: no feature.integrated`);
  if (integrated.size > 1) figures.leftovers.push(`${feature.featureId}: ${integrated.size} feature.integrated events`);
  const worktrees = snapshot.worktrees.filter((path) => path !== snapshot.repo);
  const branches = snapshot.branches.filter((branch) => branch !== integrationBranch(feature.featureId));
  if (worktrees.length) figures.leftovers.push(`${feature.featureId}: worktrees ${worktrees.join(", ")}`);
  if (branches.length) figures.leftovers.push(`${feature.featureId}: branches ${branches.join(", ")}`);
  if (snapshot.worktreeDirs.length) figures.leftovers.push(`${feature.featureId}: worktree folders ${snapshot.worktreeDirs.join(", ")}`);
  if (!worktrees.length && !branches.length && !snapshot.worktreeDirs.length && integrated.size === 1) figures.finished++;
}

/** The git checks over every submitted git feature; `reasons` is empty when they all hold. */
export function analyzeGit(input: {
  features: readonly GitFeature[];
  grouped: Map<string, SeenEvent[]>;
  outcome: Map<string, string>;
  snapshots: Map<string, RepoSnapshot>;
  rollbacks: readonly RollbackRecord[];
}): { git: GitFigures; reasons: string[] } {
  const figures: GitFigures = {
    features: input.features.length, completed: 0, tasksCompleted: 0, tasksOnBranch: 0, notOnBranch: [], duplicateCheckpoints: [],
    strayCheckpoints: [], eventMismatches: [], missingFiles: [], markers: [], conflicts: 0, fixTasks: { made: 0, completed: 0 },
    finished: 0, leftovers: [], notFinished: [], rollbacks: emptyRollbackFigures(),
  };
  for (const feature of input.features) {
    const events = input.grouped.get(feature.featureId) ?? [];
    const snapshot = input.snapshots.get(feature.featureId);
    const fixes = events.flatMap((event) => (event.kind === "task.conflict" && event.git?.fixTaskId ? [event.git.fixTaskId] : []));
    figures.conflicts += events.filter((event) => event.kind === "task.conflict").length;
    figures.fixTasks.made += new Set(fixes).size;
    figures.fixTasks.completed += new Set(fixes.filter((fix) => events.some((event) => event.kind === "task.completed" && event.taskId === fix))).size;
    if (!snapshot || snapshot.error) {
      figures.notFinished.push(`${feature.featureId}: its repository could not be read (${snapshot?.error ?? "not inspected"})`);
      continue;
    }
    checkFinished(feature, events, snapshot, figures);
    if (input.outcome.get(feature.featureId) !== "completed") continue;
    figures.completed++;
    if (!snapshot.log) figures.notOnBranch.push(`${feature.featureId}: ${integrationBranch(feature.featureId)} does not exist`);
    checkBranch(feature, events, snapshot, figures);
  }
  const checked = checkRollbacks(input.features, input.grouped, input.snapshots, input.rollbacks);
  figures.rollbacks = checked.figures;
  const list = (items: string[]) => (items.length > 6 ? `${items.slice(0, 6).join("; ")} …` : items.join("; "));
  const reasons: string[] = [...checked.reasons];
  const add = (items: string[], what: string) => {
    if (items.length) reasons.push(`${items.length} ${what}: ${list(items)}`);
  };
  add(figures.notOnBranch, "task(s) completed whose work is not on the integration branch");
  add(figures.duplicateCheckpoints, "checkpoint(s) on an integration branch more than once");
  add(figures.strayCheckpoints, "checkpoint(s) naming no task of the feature");
  add(figures.eventMismatches, "checkpoint event(s) disagreeing with the branch");
  add(figures.missingFiles, "completed task(s) whose file is not in the branch's tree");
  add(figures.markers, "conflict file(s) not resolved on the branch");
  add(figures.leftovers, "git feature(s) with worktrees or task branches left after feature.integrated");
  add(figures.notFinished, "git feature(s) whose workspace was not finished");
  return { git: figures, reasons };
}
