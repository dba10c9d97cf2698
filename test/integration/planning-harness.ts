// Test kit for planning with real processes (issue 13): an exec agent whose instructions say whether it asks a
// question, fails its first attempt or sleeps, and which logs every run (attempt, answers received); a recorder of
// every task message the coordinator sends; the real CLI; and the check that the read model equals the folded history.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { expect } from "vitest";
import { encode } from "../../shared/codec.ts";
import { emptyView, foldEvent, getFeature } from "../../shared/client/index.ts";
import type { FeatureView, GivenAnswer, StatusEvent, TaskAssigned } from "../../shared/protocol/index.ts";
import { runBaton, type Ran } from "../helpers/procs.ts";
import type { Stack } from "../helpers/stack.ts";
import { historyNow, waitForEvent } from "../helpers/workspace-runs.ts";

/**
 * The agent. Its instructions (JSON, when they are) may hold `ask` (a question it asks as long as the task has no
 * answer), `failFirst` (attempt 1 exits 3), `sleepMs`, and `holdUntil` (a file name: the run waits until the test creates
 * `$AGENT_LOG/<name>`). Each run appends `{ taskId, attempt, answers, event }`
 * records (start, end) to `$AGENT_LOG/<feature>.jsonl`.
 */
export const AGENT = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const task = JSON.parse(readFileSync(0, "utf8"));
let spec = {};
try { spec = JSON.parse(task.instructions || "{}"); } catch {}
const answers = task.answers ?? [];
const record = (event) => appendFileSync(join(process.env.AGENT_LOG, task.featureId + ".jsonl"), JSON.stringify({ event, taskId: task.taskId, attempt: task.attempt, answers, at: Date.now() }) + "\\n");
record("start");
await new Promise((done) => setTimeout(done, spec.sleepMs ?? 0));
while (spec.holdUntil && !existsSync(join(process.env.AGENT_LOG, spec.holdUntil))) await new Promise((done) => setTimeout(done, 100));
record("end");
if (spec.failFirst && task.attempt === 1) { console.error("failing attempt 1 on purpose"); process.exit(3); }
const result = spec.ask && !answers.length
  ? { summary: "needs a decision", question: spec.ask }
  : { summary: "did " + task.taskId + (answers.length ? " with " + answers.map((given) => given.answer).join(", ") : "") };
writeFileSync(process.env.BATON_RESULT_FILE, JSON.stringify(result));
`;

const PLANNER = new URL("../../examples/agents/planner.mjs", import.meta.url).pathname;

/** The config: the demo planner (its first plan invalid), the agent for every other role, a gate that always fails. */
export const config = (dir: string): string => {
  const role = `{ exec: ["node", "./agent.mjs"], timeoutSeconds: 60, concurrency: 3, env: { AGENT_LOG: "${join(dir, "agent-log")}" } }`;
  return `
workspace: ./ws
coordinator: { ackWaitSeconds: 2, rescanSeconds: 1 }
worker: { ackWaitSeconds: 2, heartbeatSeconds: 1 }
roles:
  planner: { exec: ["node", "${PLANNER}"], timeoutSeconds: 60, env: { BATON_PLANNER_FIRST_INVALID: "1" } }
  backend: ${role}
  database: ${role}
  api: ${role}
  docs: ${role}
  qa: ${role}
gates:
  schema-check:
    run: ["sh", "-c", "echo 'schema check: table users has no primary key'; exit 1"]
`;
};

/** useStack options shared by the planning suites (tag and workers differ). */
export const stackFiles = { files: { "agent.mjs": AGENT }, dirs: ["ws", "agent-log"], config };

/** One run of the agent, from its log. */
export interface AgentRun {
  event: "start" | "end";
  taskId: string;
  attempt: number;
  answers: GivenAnswer[];
  at: number;
}

/** Lets the agent's runs waiting for `name` (`holdUntil`) go on. */
export const release = (stack: Stack, name: string): void => writeFileSync(join(stack.dir, "agent-log", name), "");

/** The agent's records for a feature, in order. */
export function agentRuns(stack: Stack, featureId: string): AgentRun[] {
  const file = join(stack.dir, "agent-log", `${featureId}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as AgentRun);
}

/** Every task message the coordinator publishes (core subscription on the task subjects), as it is published. */
export async function recordTasks(stack: Stack): Promise<{ sent: TaskAssigned[]; of: (featureId: string) => TaskAssigned[]; stop: () => void }> {
  const sent: TaskAssigned[] = [];
  const sub = stack.nc.subscribe(stack.n.taskAll(), { callback: (_err, msg) => void sent.push(msg.json<TaskAssigned>()) });
  await stack.nc.flush(); // the server has the subscription before anything is submitted
  return { sent, of: (featureId) => sent.filter((task) => task.featureId === featureId), stop: () => sub.unsubscribe() };
}

/** Publishes a feature request on the submit subject. */
export async function submit(stack: Stack, request: Record<string, unknown>): Promise<void> {
  await jetstream(stack.nc).publish(stack.n.featureSubmit(), encode(request));
}

/** The first event of `featureId` of kind `kind` that matches `pred` (waits for it). */
export async function nextEvent<K extends StatusEvent["kind"]>(stack: Stack, featureId: string, kind: K, pred: (event: Extract<StatusEvent, { kind: K }>) => boolean = () => true, timeoutMs = 30_000): Promise<Extract<StatusEvent, { kind: K }>> {
  return (await waitForEvent({ stack }, featureId, (event) => event.kind === kind && pred(event as Extract<StatusEvent, { kind: K }>), timeoutMs)) as Extract<StatusEvent, { kind: K }>;
}

/** The feature's history so far. */
export const history = (stack: Stack, featureId: string): Promise<StatusEvent[]> => historyNow({ stack }, featureId);

/** The events of a kind in a history. */
export const ofKind = <K extends StatusEvent["kind"]>(events: readonly StatusEvent[], kind: K) => events.filter((event): event is Extract<StatusEvent, { kind: K }> => event.kind === kind);

/** Task ids of the task.dispatched events (in order). */
export const dispatched = (events: readonly StatusEvent[]): string[] => ofKind(events, "task.dispatched").map((event) => event.taskId);

/** The real CLI against the stack. */
export const cli = (stack: Stack, ...args: string[]): Promise<Ran> => runBaton(args, stack.env);

const TIMES = new Set(["acceptedAt", "finishedAt", "durationMs", "dispatchedAt", "startedAt", "at", "retryAt", "askedAt", "answeredAt", "approvedAt", "rejectedAt", "timeoutAt"]);

/** A view with its times replaced by `true` (the read model and the fold may take a time from different moments). */
const withoutTimes = (view: FeatureView | null): unknown => JSON.parse(JSON.stringify(view, (key, value: unknown) => (TIMES.has(key) && value !== undefined ? true : value)));

/** The coordinator's read model (api.features.get) equals the feature's history folded by the client; returns it. */
export async function expectReadModelAgrees(stack: Stack, featureId: string): Promise<FeatureView> {
  const folded = emptyView(featureId);
  for (const event of await history(stack, featureId)) foldEvent(folded, event);
  const read = await getFeature(stack.nc, stack.n, featureId, { fallback: false });
  expect(read.source).toBe("coordinator");
  expect(withoutTimes(read.view)).toEqual(withoutTimes(folded));
  return read.view!;
}
