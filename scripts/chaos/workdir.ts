// The chaos run's private work directory: the agent script every role runs, the ledger it writes,
// the operator config (short timings), the nats store, the workspace (with the git features' repositories under
// ws/repos), the cache where workers make their worktrees, and one log file per process.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigFile, CoordinatorSettings, WorkerSettings } from "../../shared/config.ts";
import { GATE, GATE_ROLE, PLANNER, ROLES } from "./plan.ts";

export interface WorkDir {
  dir: string;
  logs: string;
  store: string;
  tmp: string;
  ledger: string;
  agent: string;
  config: string;
  /** Where the git features' repositories are made (inside the config's workspaceRoots). */
  repos: string;
  /** XDG_CACHE_HOME of every process: the workers make the git features' worktrees in its baton/worktrees. */
  cache: string;
  worktrees: string;
  /** Settings written to the config, and wanted settings this version of Baton does not have. */
  settings: { worker: Record<string, number>; coordinator: Record<string, number>; unsupported: string[] };
}

/** The gate's test suite: three tests, one of which takes 150 ms. */
const CHECK_SUITE = `// Written by scripts/chaos.ts: the test suite of the chaos run's gate.
import { test } from "node:test";
test("one", () => {});
test("two", () => {});
test("takes a moment", () => new Promise((done) => setTimeout(done, 150)));
`;

/**
 * The executor for every role. It appends one JSON line when it starts and one when it ends, or one
 * when SIGTERM stops it (appendFileSync: each line is one write, atomic under O_APPEND). It records its
 * pid, parent and the parent's ancestors (from /proc), so the run can tell which worker ran it even
 * through a helper process. It sleeps 100–600 ms derived from the seed and the task (the same task always
 * sleeps as long), prints nothing (a write to a dead worker's pipe would fail), checks the handoffs it got (each
 * dependency hands off ~6 KiB, stored by reference in the results object store) and hands off its own, and exits 0.
 * In a git feature (its task names a checkout) it works in its worktree: a conflict fix resolves the unmerged files
 * (both sides kept, markers dropped), any other task writes the files its instructions name. A planner run returns
 * the plan its goal carries; a task told to ask writes a question until it gets answers, one told to fail first exits
 * 1 on attempt 1 (planning-plan.ts). It records the answers and the planner's brief it got.
 */
const AGENT = `// Written by scripts/chaos.ts: the executor of every role in a chaos run.
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
const env = process.env;
// The processes above this one, parent first (the worker may start executors through a helper process).
const ancestors = [];
try {
  for (let p = process.ppid; p > 1 && ancestors.length < 4; ) {
    ancestors.push(p);
    const stat = readFileSync("/proc/" + p + "/stat", "utf8");
    p = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  }
} catch {}
let task = {};
try {
  task = JSON.parse(readFileSync(0, "utf8"));
} catch {}
// What it is told to do beside its work (a git task's files; asking or failing first), and what it got: the answers
// to its questions (the run checks each asking task got its answer in its next attempt), a planner's brief.
let instr = {};
try {
  instr = JSON.parse(task.instructions || "{}") ?? {};
} catch {}
const answers = Array.isArray(task.answers) ? task.answers.map((a) => ({ questionId: a.questionId, answer: a.answer })) : [];
const planning = task.planning;
const rec = {
  featureId: env.BATON_FEATURE_ID, taskId: env.BATON_TASK_ID, attempt: Number(env.BATON_ATTEMPT), role: env.BATON_ROLE, pid: process.pid, ppid: process.ppid, ancestors,
  ...(answers.length ? { answers } : {}), ...(planning ? { planAttempt: planning.attempt, previousErrors: planning.previous?.errors?.length ?? 0 } : {}),
};
// Every task hands off ~6 KiB (over the 4 KiB inline bound: it travels through the results object store), the
// same document for the same task; each task checks what it got from its dependencies, byte for byte.
const bigHandoff = (taskId) => ({ from: taskId, blob: (taskId + ":").repeat(Math.ceil(6144 / (taskId.length + 1))) });
// a stream's gate task (its id "<stream>-gates", role qa) runs no agent: it hands off nothing
const handoffs = (Array.isArray(task.handoffs) ? task.handoffs : []).filter((h) => !(h.role === "qa" && String(h.taskId).endsWith("-gates")));
const badHandoffs = handoffs.filter((h) => JSON.stringify(h.handoff) !== JSON.stringify(bigHandoff(h.taskId))).map((h) => h.taskId + (h.stored ? " (a reference, not fetched)" : h.handoff === undefined ? " (missing)" : " (different)"));
const start = Date.now();
const line = (o) => appendFileSync(env.CHAOS_LEDGER, JSON.stringify({ ...rec, start, ...o }) + "\\n");
process.once("SIGTERM", () => {
  line({ killed: Date.now(), signal: "SIGTERM" });
  process.exit(143);
});
line({});
let h = 0x811c9dc5;
for (const c of env.CHAOS_SEED + ":" + rec.featureId + ":" + rec.taskId) { h ^= c.charCodeAt(0); h = Math.imul(h, 0x01000193); }
await new Promise((r) => setTimeout(r, 100 + ((h >>> 0) % 501)));
// A git feature's task runs in its worktree (the cwd). A conflict fix finds files git could not merge and resolves
// each by keeping both sides without the markers; any other task writes the files its instructions name.
const gitWork = () => {
  if (!task.checkout) return {};
  let unmerged = [];
  try {
    unmerged = execFileSync("git", ["diff", "--name-only", "--diff-filter=U"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\\n").filter(Boolean);
  } catch {}
  for (const file of unmerged) {
    let base = false;
    const kept = [];
    for (const text of readFileSync(file, "utf8").split("\\n")) {
      if (text.startsWith("<<<<<<<") || text.startsWith(">>>>>>>") || text.startsWith("=======")) base = false;
      else if (text.startsWith("|||||||")) base = true;
      else if (!base) kept.push(text);
    }
    writeFileSync(file, kept.join("\\n"));
  }
  if (unmerged.length) return { resolved: unmerged };
  const write = instr.write ?? {};
  for (const [path, text] of Object.entries(write)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return { wrote: Object.keys(write) };
};
// A planner returns the plan its goal carries (planning-plan.ts): on attempt 1 of a feature marked invalidFirst, with
// an unknown role and an unknown gate, so that it comes back with the errors.
if (planning) {
  const brief = JSON.parse(String(planning.goal).slice(String(planning.goal).indexOf("{")));
  const invalid = brief.invalidFirst && planning.attempt === 1;
  const plan = invalid ? { ...brief.plan, tasks: brief.plan.tasks.map((t, i) => (i ? t : { ...t, role: "wizard", gates: ["no-such-gate"] })) } : brief.plan;
  writeFileSync(env.BATON_RESULT_FILE, JSON.stringify({ summary: "chaos plan of " + plan.tasks.length + " tasks", plan }));
  line({ end: Date.now(), invalidPlan: invalid });
  process.exit(0);
}
if (instr.ask && !answers.length) {
  const question = { question: "Which way for " + rec.featureId + "/" + rec.taskId + "?", options: ["left", "right"], default: "left", topic: "design" };
  writeFileSync(env.BATON_RESULT_FILE, JSON.stringify({ summary: "asks", question }));
  line({ end: Date.now(), asked: true });
  process.exit(0);
}
if (instr.failFirst && rec.attempt === 1) {
  line({ end: Date.now(), failed: true });
  process.exit(1);
}
const git = gitWork();
writeFileSync(env.BATON_RESULT_FILE, JSON.stringify({ summary: "chaos " + rec.taskId, handoff: bigHandoff(rec.taskId) }));
line({ end: Date.now(), handoffsChecked: handoffs.length, badHandoffs, ...git });
process.exit(0);
`;

const WANTED_WORKER = { ackWaitSeconds: 3, maxDeliver: 6, drainGraceSeconds: 2, heartbeatSeconds: 1 };
const WANTED_COORDINATOR = { ackWaitSeconds: 3 };

/** Keeps the wanted keys the schema knows (the config is strict); names the others. */
function supported(shape: object, wanted: Record<string, number>, section: string, unsupported: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (key in shape) out[key] = value;
    else unsupported.push(`${section}.${key}`);
  }
  return out;
}

/** Creates the work directory under the system temp dir and writes the agent, ledger and config. */
export function createWorkDir(seed: string): WorkDir {
  const dir = mkdtempSync(join(tmpdir(), "baton-chaos-"));
  const paths = {
    dir,
    logs: join(dir, "logs"),
    store: join(dir, "nats-store"),
    tmp: join(dir, "tmp"),
    ledger: join(dir, "ledger.jsonl"),
    agent: join(dir, "agent.mjs"),
    config: join(dir, "baton.json"),
    repos: join(dir, "ws", "repos"),
    cache: join(dir, "cache"),
    worktrees: join(dir, "cache", "baton", "worktrees"),
  };
  for (const sub of [paths.logs, paths.store, paths.tmp, paths.repos, paths.cache]) mkdirSync(sub, { recursive: true });
  writeFileSync(paths.agent, AGENT);
  writeFileSync(join(dir, "check.test.mjs"), CHECK_SUITE);
  writeFileSync(paths.ledger, "");
  const unsupported: string[] = [];
  const worker = supported(WorkerSettings.shape, WANTED_WORKER, "worker", unsupported);
  const coordinator = supported(CoordinatorSettings.shape, WANTED_COORDINATOR, "coordinator", unsupported);
  const role = { exec: ["node", "./agent.mjs"], timeoutSeconds: 60, env: { CHAOS_LEDGER: paths.ledger, CHAOS_SEED: seed } };
  const config = {
    workspace: "./ws",
    // git features name a repository under ws/repos (the integrator and the workers refuse any other place)
    workspaceRoots: ["./ws"],
    knownRoles: [...ROLES, PLANNER, GATE_ROLE],
    // the chaos agent plays every role, the planner's too (planning-plan.ts: its plans satisfy the shipped rules)
    roles: Object.fromEntries([...ROLES, PLANNER, GATE_ROLE].map((name) => [name, role])),
    // a real test suite (node --test, TAP) that takes a moment, so that some kills land while a gate runs; its test
    // count makes the coordinator measure a baseline before each gated feature's tasks (docs/gates.md)
    gates: { [GATE]: { run: ["node", "--test", "--test-reporter=tap", "./check.test.mjs"], timeoutSeconds: 60, tests: "auto" } },
    worker,
    ...(Object.keys(coordinator).length ? { coordinator } : {}),
  };
  const check = ConfigFile.safeParse(config);
  if (!check.success) throw new Error(`the chaos config does not validate: ${check.error.message}`);
  writeFileSync(paths.config, `${JSON.stringify(config, null, 2)}\n`);
  return { ...paths, settings: { worker, coordinator, unsupported } };
}
