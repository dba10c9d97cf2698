// Usage: what a feature's tasks and gate runs reported using, kept per run in the feature's state (a progress
// message's running total until the run's result gives its final figure) and summed per task and per feature. Pure.
import type { TaskProgress, TaskResult, Usage } from "../../../shared/protocol/index.ts";
import type { FeatureContext, RunUsage, TaskState } from "./context.ts";

/** Usage summed over runs: `tokens` = input + output; `costUsd` only when some run reported a cost. */
export interface UsageTotal {
  tokens: number;
  inputTokens: number;
  outputTokens: number;
  costUsd?: number | undefined;
}

const runOf = (usage: Usage, final: boolean): RunUsage => ({
  inputTokens: usage.inputTokens, outputTokens: usage.outputTokens,
  ...(usage.costUsd !== undefined ? { costUsd: usage.costUsd } : {}),
  ...(final ? { final: true } : {}),
});

function addRuns(total: UsageTotal, runs: Record<string, RunUsage> | undefined): void {
  for (const run of Object.values(runs ?? {})) {
    total.inputTokens += run.inputTokens;
    total.outputTokens += run.outputTokens;
    total.tokens += run.inputTokens + run.outputTokens;
    if (run.costUsd !== undefined) total.costUsd = (total.costUsd ?? 0) + run.costUsd;
  }
}

const zero = (): UsageTotal => ({ tokens: 0, inputTokens: 0, outputTokens: 0 });

/** What the task's work used over all its runs (deliveries and attempts); undefined when none reported usage. */
export function taskUsage(task: TaskState): UsageTotal | undefined {
  if (!task.usage) return undefined;
  const total = zero();
  addRuns(total, task.usage);
  return total;
}

/**
 * What the task's current attempt used in its last finished run (the run whose work its gates then judged), as
 * task.completed reports it after the gates; undefined when that run reported no usage.
 */
export function lastRunUsage(task: TaskState): Usage | undefined {
  const prefix = `${task.attempt}.`;
  const key = Object.keys(task.usage ?? {}).filter((run) => run.startsWith(prefix) && task.usage![run]!.final).sort((left, right) => Number(left.slice(prefix.length)) - Number(right.slice(prefix.length))).at(-1);
  const run = key === undefined ? undefined : task.usage![key]!;
  return run && { inputTokens: run.inputTokens, outputTokens: run.outputTokens, ...(run.costUsd !== undefined ? { costUsd: run.costUsd } : {}) };
}

/** What the feature used: its tasks' runs and its gate runs; undefined when nothing reported usage. */
export function featureUsage(ctx: FeatureContext): UsageTotal | undefined {
  let any = !!ctx.gateUsage;
  const total = zero();
  addRuns(total, ctx.gateUsage);
  for (const id of ctx.order) {
    const runs = ctx.tasks[id]!.usage;
    if (runs) any = true;
    addRuns(total, runs);
  }
  return any ? total : undefined;
}

/**
 * Records a progress message's usage (a running total of its delivery) for the run `<attempt>.<delivery>`. Call it
 * only for a message onProgress accepted. A run's final figure (its result's) is never replaced, and a late, older
 * running total changes nothing (each figure only grows).
 */
export function countProgress(ctx: FeatureContext, msg: TaskProgress): FeatureContext {
  const task = ctx.tasks[msg.taskId];
  if (!msg.usage || !task) return ctx;
  const key = `${msg.attempt}.${msg.delivery}`;
  const prev = task.usage?.[key];
  if (prev?.final) return ctx;
  const next = runOf(msg.usage, false);
  const run: RunUsage = !prev ? next : {
    inputTokens: Math.max(prev.inputTokens, next.inputTokens),
    outputTokens: Math.max(prev.outputTokens, next.outputTokens),
    ...(prev.costUsd !== undefined || next.costUsd !== undefined ? { costUsd: Math.max(prev.costUsd ?? 0, next.costUsd ?? 0) } : {}),
  };
  return { ...ctx, tasks: { ...ctx.tasks, [task.id]: { ...task, usage: { ...task.usage, [key]: run } } } };
}

/**
 * After onResult (`before` → `after`): records the result's usage as its run's final figure — a work run on its task,
 * a gate run in the feature's gate usage — when onResult accepted the result (it emitted an event). A stale or
 * duplicate result counts nothing, so replaying the journal gives the same figures.
 */
export function countResult(before: FeatureContext, after: FeatureContext, msg: TaskResult): FeatureContext {
  if (!msg.usage || after.seq === before.seq) return after;
  const run = runOf(msg.usage, true);
  if (msg.gate) {
    const key = `${msg.taskId}.${msg.gate.scope}.${msg.gate.name}.${msg.gate.run}.${msg.attempt}`;
    return { ...after, gateUsage: { ...after.gateUsage, [key]: run } };
  }
  const task = after.tasks[msg.taskId];
  if (!task) return after;
  return { ...after, tasks: { ...after.tasks, [task.id]: { ...task, usage: { ...task.usage, [`${msg.attempt}.${msg.delivery ?? 1}`]: run } } } };
}

