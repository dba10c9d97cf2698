// The report section of the worktree scenario (bench/worktree.ts): a git feature's cost per task on a 10,000-file
// repository, in-process by part and through Baton beside the same tasks as a scratch feature.
import { table } from "./markdown.ts";
import { ratio, type Summary } from "./stats.ts";
import type { WorktreeResult } from "./worktree.ts";

const f1 = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toFixed(1));
const f2 = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toFixed(2));
const pp = (s: Summary) => `${f1(s.p50)} / ${f1(s.p90)}`;

/** Markdown lines of the section; `stepP50` is this run's noop step p50 (ms), when the step scenario ran. */
export function renderWorktree(w: WorktreeResult, stepP50?: number): string[] {
  const [small, big] = w.inProcess;
  if (!small || !big) return [];
  const proc = (p: "checkout" | "commit" | "integrate") => `${big.gitProcesses?.[p] ?? "–"}`;
  const allProcesses = big.gitProcesses ? big.gitProcesses.checkout + big.gitProcesses.commit + big.gitProcesses.integrate : null;
  const row = (what: string, p: "checkout" | "commit" | "integrate" | "total", processes: string) =>
    [what, pp(small[p]), pp(big[p]), f1(big[p].p50 - small[p].p50), processes];
  const out = [
    `### 9. Git features: worktree and integration per task (${w.gitVersion}; repositories of ${big.files.toLocaleString("en-US")} and ${small.files} files)`,
    "",
    `**In-process** (Baton's own functions, one task at a time, ${big.tasks} tasks per repository after 2 of warm-up, the two repositories alternating):`,
    "",
    table([`part of a task`, `${small.label} p50 / p90 ms`, `${big.label} p50 / p90 ms`, "difference p50 ms", "git processes"], [
      row("checkout: ensureCheckout of a fresh task worktree (node_modules linked)", "checkout", proc("checkout")),
      row("commit: one new file, commitWork (add -A, commit, changes)", "commit", proc("commit")),
      row("integrate: the integrate op (`--no-ff` merge in the integration worktree, checkpoint)", "integrate", proc("integrate")),
      row("**sum per task**", "total", `${allProcesses ?? "–"}`),
      ["finish: removal at the feature's end, per task worktree", f1(small.finishPerTaskMs), f1(big.finishPerTaskMs), f1(big.finishPerTaskMs - small.finishPerTaskMs), "–"],
      ["prepare (once per feature)", f1(small.prepareMs), f1(big.prepareMs), f1(big.prepareMs - small.prepareMs), "–"],
    ]),
    "",
    `One trivial git process (\`git rev-parse HEAD\`, spawn → exit) p50 ${f2(w.gitSpawn.p50)} ms (p90 ${f2(w.gitSpawn.p90)}): ` +
      `${allProcesses ?? "?"} of them are ≥ ${f1(allProcesses === null ? null : allProcesses * w.gitSpawn.p50)} ms per task whatever the repository's size. ` +
      `A task worktree of the ${big.label} repository holds ${big.worktreeKiB === null ? "?" : `${(big.worktreeKiB / 1024).toFixed(1)} MiB`} on disk (${small.label}: ${small.worktreeKiB ?? "?"} KiB), and stays until the feature ends.`,
    "",
    table([`bare git on ${big.label}, sampled between the tasks above`, "p50 / p90 ms"], [
      ["`git worktree add --detach <path> <head>` (writes every file)", pp(w.bare.full)],
      ["`git worktree remove --force <path>` of it", pp(w.bare.remove)],
      ["`git worktree add --detach --no-checkout <path> <head>`", pp(w.bare.noCheckout)],
      ["`git checkout --detach <next head>` in a worktree kept between samples (writes the files that differ)", pp(w.bare.recycle)],
    ], true),
    "",
  ];
  const s = w.scratch;
  const round = (index: number) => (index === 0 ? "round 1 (no mass deletion before it)" : `round ${index + 1} (seconds after round ${index}'s finish)`);
  out.push(
    `**Through Baton** (one coordinator, a \`writer\` exec role running \`sh\` that writes one file, 1 worker × 1, an integrator worker; ${w.sizes.rounds} round(s) of a feature of ${w.sizes.featureTasks} independent tasks, maxParallel 1, as a scratch feature then as a git feature in worktree mode on the ${w.files.toLocaleString("en-US")}-file repository):`,
    "",
    table(["feature", "dispatched → completed p50 / p90 ms", "gap between completions p50 ms", "total ÷ tasks ms", "÷ scratch (p50 latency)", "bare `worktree add` just before, ms"], [
      ["scratch (no workspace), all rounds", pp(s.latency), f1(s.gap.p50), f1(s.perTask.p50), "1.00", "–"],
      ...w.git.map((g, index) => [`git, ${round(index)}`, pp(g.latency), f1(g.gap.p50), f1(g.perTask.p50), f2(ratio(g.latency.p50, s.latency.p50)), f1(g.bareAddBefore)]),
    ]),
    "",
    table(["per task (p50 / p90 ms)", "scratch", ...w.git.map((_, index) => `git, round ${index + 1}`)], [
      ["task.dispatched → the exec starts (the worker takes the task; git: the checkout)", pp(s.beforeExec), ...w.git.map((g) => pp(g.beforeExec))],
      ["the exec ends → task.completed (scratch) / task.integrating (git: the commit, the result, apply)", pp(s.afterExec), ...w.git.map((g) => pp(g.afterExec))],
      ["task.dispatched → task.integrating (git: checkout, the exec, commit, result, apply)", "–", ...w.git.map((g) => pp(g.workerSide))],
      ["task.integrating → task.completed (git: integrate op, merge, result, apply)", "–", ...w.git.map((g) => pp(g.integrateSide))],
      ["per feature: accepted → workspace.prepared (prepare op) / completed → feature.integrated (finish op), ms", "–", ...w.git.map((g) => `${f1(g.prepare)} / ${f1(g.finish)}`)],
    ]),
    "",
    `Git's cost per task through Baton (latency p50, git − scratch): ${w.git.map((g, index) => `round ${index + 1} **${f1(g.latency.p50 - s.latency.p50)} ms**`).join(", ")}; in-process sum p50 on ${big.label}: ${f1(big.total.p50)} ms. ` +
      "With maxParallel 1 the next task is dispatched when one starts integrating, so a task's merge overlaps the next one's checkout: the gap between completions is what each task adds to the feature. " +
      "A finish removes every task worktree of the feature at once; on ext4, files created within about a minute of a mass deletion cost several times more (the bare `worktree add` column)." +
      (stepP50 !== undefined ? ` Baton's noop step p50 in this run: ${f2(stepP50)} ms.` : ""),
    "",
  );
  return out;
}
