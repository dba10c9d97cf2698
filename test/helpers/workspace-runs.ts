// Test kit for git features run by real processes: an `exec` agent that writes files in its worktree and records
// when it ran, and readers of what happened — the agent's runs, the status history, the integration branch's
// first-parent log, and the live file-scope locks in the `<prefix>-locks` bucket.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { encode } from "../../shared/codec.ts";
import { featureHistory } from "../../shared/client/index.ts";
import { kvKeys, openKv } from "../../shared/nats.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { LockEntry } from "../../services/worker/lock-store.ts";
import { git } from "./git-feature.ts";
import type { Stack } from "./stack.ts";

/**
 * The agent: reads the task from stdin, its instructions being `{"write": {path: text}, "sleepMs": n, "firstSleepMs"?: n}`
 * (`firstSleepMs`: how long the task's first run sleeps — long, for a run a test kills midway); appends a
 * `start` record to `$AGENT_LOG/<feature>.<task>.jsonl`, sleeps, writes the files into its cwd (the worktree), appends
 * an `end` record and writes a summary to $BATON_RESULT_FILE. A run killed midway leaves a start without an end.
 */
export const AGENT = `
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
const task = JSON.parse(readFileSync(0, "utf8"));
const spec = JSON.parse(task.instructions || "{}");
const log = join(process.env.AGENT_LOG, task.featureId + "." + task.taskId + ".jsonl");
const first = !existsSync(log);
const record = (event) => appendFileSync(log, JSON.stringify({ event, at: Date.now(), attempt: task.attempt, pid: process.pid, cwd: process.cwd(), handoffs: task.handoffs.length }) + "\\n");
record("start");
await new Promise((resolve) => setTimeout(resolve, first && spec.firstSleepMs !== undefined ? spec.firstSleepMs : (spec.sleepMs ?? 0)));
for (const [path, text] of Object.entries(spec.write ?? {})) {
  mkdirSync(dirname(join(process.cwd(), path)), { recursive: true });
  writeFileSync(join(process.cwd(), path), text);
}
record("end");
writeFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: "wrote " + Object.keys(spec.write ?? {}).join(", ") }));
`;

/** What the kit needs of the test's stack (its `dir` holds `agent-log/`). */
export interface Ctx {
  stack: Stack;
}

/** One run of the agent: wall-clock start and (if it finished) end, in ms. */
export interface AgentRun {
  attempt: number;
  pid: number;
  cwd: string;
  start: number;
  end?: number;
}

/** The agent's runs of a task, in the order they started (a run's end is matched by its pid). */
export function agentRuns(ctx: Ctx, featureId: string, taskId: string): AgentRun[] {
  const file = join(ctx.stack.dir, "agent-log", `${featureId}.${taskId}.jsonl`);
  if (!existsSync(file)) return [];
  const runs: AgentRun[] = [];
  for (const line of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const rec = JSON.parse(line) as { event: "start" | "end"; at: number; attempt: number; pid: number; cwd: string };
    if (rec.event === "start") runs.push({ attempt: rec.attempt, pid: rec.pid, cwd: rec.cwd, start: rec.at });
    else runs.find((run) => run.pid === rec.pid)!.end = rec.at;
  }
  return runs;
}

/** Publishes a feature request on the submit subject (as `baton submit` does, without its local checks). */
export async function submit(ctx: Ctx, request: Record<string, unknown>): Promise<void> {
  await jetstream(ctx.stack.nc).publish(ctx.stack.n.featureSubmit(), encode(request));
}

/** The first event of the feature matching `pred` (waiting for it); throws after `timeoutMs`. */
export async function waitForEvent(ctx: Ctx, featureId: string, pred: (e: StatusEvent) => boolean, timeoutMs = 30_000): Promise<StatusEvent> {
  const seen: string[] = [];
  try {
    for await (const event of featureHistory(ctx.stack.nc, ctx.stack.n, featureId, { follow: true, signal: AbortSignal.timeout(timeoutMs) })) {
      seen.push(event.kind);
      if (pred(event)) return event;
    }
  } catch {
    // aborted: reported below
  }
  throw new Error(`no matching event of ${featureId} within ${timeoutMs} ms; saw: ${seen.join(", ")}`);
}

/** The feature's events stored so far (no following). */
export async function historyNow(ctx: Ctx, featureId: string): Promise<StatusEvent[]> {
  const events: StatusEvent[] = [];
  for await (const event of featureHistory(ctx.stack.nc, ctx.stack.n, featureId, { follow: false })) events.push(event);
  return events;
}

type Checkpoint = Extract<StatusEvent, { kind: "checkpoint.created" }>;

/** The checkpoint.created events of a task. */
export const checkpointsOf = (events: readonly StatusEvent[], taskId: string): Checkpoint[] =>
  events.filter((e): e is Checkpoint => e.kind === "checkpoint.created" && e.taskId === taskId);

/** A commit on a branch's first-parent line, newest first: its id, how many parents, and its `Baton-Task` trailer ("" if none). */
export interface LoggedCommit {
  commit: string;
  parents: number;
  task: string;
}

/** `git log --first-parent` of `ref` in `repo`. */
export function firstParentLog(repo: string, ref: string): LoggedCommit[] {
  const out = git(repo, "log", "--first-parent", "--format=%H %P%x09%(trailers:key=Baton-Task,valueonly,separator=%x2C)", ref);
  return out.split("\n").filter(Boolean).map((line) => {
    const [ids = "", task = ""] = line.split("\t");
    const [commit = "", ...parents] = ids.trim().split(" ");
    return { commit, parents: parents.length, task: task.trim() };
  });
}

/** Every file-scope lock entry in the stack's locks bucket (released ones are purged), and whether its lease still runs. */
export async function lockEntries(ctx: Ctx): Promise<{ lock: LockEntry; live: boolean }[]> {
  const bucket = ctx.stack.n.buckets.locks;
  const kv = await openKv(ctx.stack.nc, bucket);
  const found: { lock: LockEntry; live: boolean }[] = [];
  for (const key of await kvKeys(await jetstreamManager(ctx.stack.nc), bucket)) {
    const entry = await kv.get(key);
    if (!entry || entry.operation !== "PUT") continue;
    const lock = LockEntry.parse(entry.json());
    found.push({ lock, live: Date.parse(lock.expiresAt) > Date.now() });
  }
  return found;
}

/** The entries whose lease has not run out. */
export const liveLocks = async (ctx: Ctx): Promise<LockEntry[]> => (await lockEntries(ctx)).filter((found) => found.live).map((found) => found.lock);
