// The chaos run, short: 10 features over real processes (own nats-server, 3 coordinators, 14 workers: 4 roles, planner,
// qa, integrators) while coordinators and workers are SIGKILLed every few seconds and nats-server once; 3 of the features
// are git features (worktrees, a merge conflict, 2 rolled back midway), the others partly planned by the planner, waiting
// for approval, asking questions (one failure escalated to a question) or in streams with gates, which the run approves
// and answers as a person would. Nothing may be lost, stuck, failed or completed twice, every completed git task's work
// must be on its integration branch, no task may run before its plan was approved, and every question must be
// answered exactly once with the answer in the asking task's next run. Takes about 50 s on two cores.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "baton-chaos-test-"));
let child: ChildProcess | undefined;

afterAll(async () => {
  // If the test timed out, the run is still going: SIGTERM makes it stop everything it started.
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child!.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

interface Summary {
  ok: boolean;
  reasons: string[];
  features: { submitted: number; completed: number; failed: number; rejected: number; cancelled: number; stuck: number; lost: number };
  tasks: { completedTwice: number; executions: number; total: number };
  terminalEvents: { exactlyOne: number; notOne: unknown[] };
  history: { gaps: string[]; conflicts: string[] };
  kills: { coordinator: number; worker: number; nats: number };
  git: {
    features: number;
    completed: number;
    tasksCompleted: number;
    tasksOnBranch: number;
    notOnBranch: string[];
    duplicateCheckpoints: string[];
    leftovers: string[];
    finished: number;
    conflicts: number;
    rollbacks: { planned: number; done: number; failed: string[]; problems: string[] };
  };
  planning: {
    planned: number;
    plannedCompleted: number;
    approvals: { required: number; approved: number; notApprovedOnce: string[]; dispatchedBeforeApproval: string[] };
    questions: { asked: number; answered: number; escalations: number; notAnsweredOnce: string[]; askedNotOnce: string[]; answerNotReceived: string[] };
    streams: { features: number; gateTasks: number; gateTasksCompleted: number };
    dispatchedEarly: string[];
  };
}

describe("chaos (short): npm run chaos -- --features 10 --seconds 30", () => {
  it("completes every feature exactly once while coordinators, workers and nats-server are killed", async () => {
    const json = join(dir, "summary.json");
    // --wait-seconds 120: a stuck run ends with its own report inside the test timeout (a loaded 2-core machine, with
    // the rest of the suite running, needs more than a minute to drain the integrators' queues)
    const args = ["--import", "tsx", "scripts/chaos.ts", "--features", "10", "--seconds", "30", "--wait-seconds", "120", "--json", json];
    child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | string>((r) => child!.once("exit", (c, s) => r(c ?? s ?? -1)));

    expect(code, out).toBe(0);
    // The printed table, as a user reads it.
    expect(out).toMatch(/^\| features submitted \| 10 \|$/m);
    expect(out).toMatch(/^\| features completed \| 10 \|$/m);
    expect(out).toMatch(/^\| features still running \(stuck\) \| 0 \|$/m);
    expect(out).toMatch(/^\| tasks completed twice \| 0 \|$/m);
    expect(out).toMatch(/^RESULT: OK/m);
    expect(out).toMatch(/^read model \(api\.features\.get\) agrees with the status history: 10\/10 features$/m);
    const kills = /^\| kills: coordinator \/ worker \/ nats \| (\d+) \/ (\d+) \/ (\d+) \|$/m.exec(out);
    expect(kills, out).not.toBeNull();
    expect(kills!.slice(1).map(Number).every((k) => k >= 1)).toBe(true);

    // The same, from the JSON summary.
    const summary = JSON.parse(readFileSync(json, "utf8")) as Summary;
    expect(summary.ok).toBe(true);
    expect(summary.reasons).toEqual([]);
    expect(summary.features).toMatchObject({ submitted: 10, completed: 10, failed: 0, rejected: 0, cancelled: 0, stuck: 0, lost: 0 });
    expect(summary.tasks.completedTwice).toBe(0);
    expect(summary.tasks.executions).toBeGreaterThanOrEqual(summary.tasks.total);
    expect(summary.terminalEvents).toEqual({ exactlyOne: 10, notOne: [] });
    expect(summary.history.gaps).toEqual([]);
    expect(summary.history.conflicts).toEqual([]);
    expect(summary.kills.coordinator).toBeGreaterThanOrEqual(1);
    expect(summary.kills.worker).toBeGreaterThanOrEqual(1);
    expect(summary.kills.nats).toBe(1);

    // Git features: every completed task's work on the integration branch once, nothing left after the finish; the
    // conflict of two root tasks editing one line was fixed; the rollbacks were applied, never refused.
    expect(out).toMatch(/^\| tasks completed whose work is not on the integration branch \| 0 \|$/m);
    const git = summary.git;
    expect(git).toMatchObject({ features: 3, completed: 3, finished: 3, notOnBranch: [], duplicateCheckpoints: [], leftovers: [] });
    expect(git.tasksOnBranch).toBe(git.tasksCompleted);
    expect(git.conflicts).toBeGreaterThanOrEqual(1);
    expect(git.rollbacks).toMatchObject({ planned: 2, failed: [], problems: [] });
    expect(git.rollbacks.done).toBeGreaterThanOrEqual(1);

    // Planning: the planned features completed; approvals before any work; each question answered exactly once and
    // its answer in the asking task's next run (one escalated failure answered "retry"); streams' gates ran.
    const planning = summary.planning;
    expect(planning.planned).toBeGreaterThanOrEqual(1);
    expect(planning.plannedCompleted).toBe(planning.planned);
    expect(planning.approvals).toMatchObject({ notApprovedOnce: [], dispatchedBeforeApproval: [] });
    expect(planning.approvals.approved).toBe(planning.approvals.required);
    expect(planning.approvals.required).toBeGreaterThanOrEqual(1);
    expect(planning.questions).toMatchObject({ notAnsweredOnce: [], askedNotOnce: [], answerNotReceived: [], escalations: 1 });
    expect(planning.questions.answered).toBe(planning.questions.asked);
    expect(planning.questions.asked).toBeGreaterThanOrEqual(2);
    expect(planning.streams.gateTasks).toBeGreaterThanOrEqual(1);
    expect(planning.streams.gateTasksCompleted).toBe(planning.streams.gateTasks);
    expect(planning.dispatchedEarly).toEqual([]);
  }, 240_000);
});
