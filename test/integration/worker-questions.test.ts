// Questions and plans from exec executors, through a real `baton worker` and real nats-server: a result file's
// `question` makes a completed result that skips the phantom-completion check and, in a git feature, the commit; the
// demo planner (examples/agents/planner.mjs) gets its brief and `plannerContext` on stdin and returns its plan (an
// invalid one first with BATON_PLANNER_FIRST_INVALID=1, then a fixed one).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { taskBranch, type PlanningBrief, type TaskResult } from "../../shared/protocol/index.ts";
import { git, newRepo, useGitScratch, write } from "../helpers/git-feature.ts";
import { workerSuite, type WorkerTest } from "./worker-harness.ts";

const suite = workerSuite();
const scratch = useGitScratch("worker-questions");
const PLANNER = fileURLToPath(new URL("../../examples/agents/planner.mjs", import.meta.url));

/** A script that writes `src/a.js` when WRITE is set, then its result file: `{ summary, question? }`. */
const ASKER = `[ -n "$WRITE" ] && mkdir -p src && echo "export {};" > src/a.js
if [ -n "$ASK" ]; then printf '%s' '{ "summary": "need a decision", "question": { "question": "Keep the old endpoint?", "options": ["keep", "remove"], "default": "keep" } }' > "$BATON_RESULT_FILE"
else printf '%s' '{ "summary": "did it" }' > "$BATON_RESULT_FILE"; fi`;

const resultOf = (t: WorkerTest, taskId: string): Promise<TaskResult> => t.msgs.until(() => t.msgs.results(taskId)[0], 30_000);

describe("an exec task that asks a question", () => {
  it("is completed with `question`, and the phantom check does not fail it; the same run without the question fails NO_CHANGES", async () => {
    const t = await suite.setup({ roles: { backend: { exec: ["./asker.sh"], env: { ASK: "1" } } } }, { "asker.sh": ASKER });
    await t.worker("backend");
    await t.publish("backend", { taskId: "asks", files: ["src/**"], expectChanges: true });
    const result = await resultOf(t, "asks");
    expect(result).toMatchObject({ outcome: "completed", summary: "need a decision", question: { question: "Keep the old endpoint?", options: ["keep", "remove"], default: "keep" } });
    expect(result.error).toBeUndefined();

    const control = await suite.setup({ roles: { backend: { exec: ["./asker.sh"] } } }, { "asker.sh": ASKER });
    await control.worker("backend");
    await control.publish("backend", { taskId: "silent", files: ["src/**"], expectChanges: true });
    expect(await resultOf(control, "silent")).toMatchObject({ outcome: "failed", error: { code: "NO_CHANGES" } });
  }, 60_000);

  it("in a git feature: a run that asks is not committed on the task's branch; a run that does not ask is", async () => {
    const repo = newRepo(scratch.tmp, { "README.md": "x\n" });
    const base = git(repo, "rev-parse", "HEAD");
    const checkout = (taskId: string) => ({ repo, kind: "task" as const, branch: taskBranch("f1", taskId), at: base, fresh: true, commit: { message: `${taskId} work` } });
    const asker = await suite.setup({ roles: { backend: { exec: ["./asker.sh"], env: { ASK: "1", WRITE: "1" } } }, workspaceRoots: [scratch.tmp] }, { "asker.sh": ASKER });
    await asker.worker("backend");
    await asker.publish("backend", { taskId: "asks", workspace: repo, checkout: checkout("asks"), expectChanges: true });
    const asked = await resultOf(asker, "asks");
    expect(asked).toMatchObject({ outcome: "completed", question: { question: "Keep the old endpoint?" } });
    expect(asked.git).toBeUndefined();
    expect(git(repo, "rev-parse", taskBranch("f1", "asks"))).toBe(base);

    const doer = await suite.setup({ roles: { backend: { exec: ["./asker.sh"], env: { WRITE: "1" } } }, workspaceRoots: [scratch.tmp] }, { "asker.sh": ASKER });
    await doer.worker("backend");
    await doer.publish("backend", { taskId: "does", workspace: repo, checkout: checkout("does"), expectChanges: true });
    const did = await resultOf(doer, "does");
    expect(did).toMatchObject({ outcome: "completed", git: { files: [{ path: "src/a.js", status: "added" }] } });
    expect(did.question).toBeUndefined();
    expect(git(repo, "rev-parse", taskBranch("f1", "does"))).not.toBe(base);
  }, 90_000);
});

const brief = (over: Partial<PlanningBrief> = {}): PlanningBrief => ({
  goal: "Implement a notification system with real-time updates",
  attempt: 1,
  maxAttempts: 3,
  templates: [{
    name: "api-first", description: "schema → API → backend ∥ frontend → tests → review",
    parameters: { resource: { description: "the resource", required: true } },
    steps: [{ id: "schema", kind: "schema", title: "Schema for {{resource}}" }, { id: "api", kind: "endpoint", title: "API", dependsOn: ["schema"] }],
  }],
  rules: [{ kind: "tests", role: "qa", description: "tests for the change", always: true }],
  gates: ["unit"],
  ...over,
});

describe("the demo planner as an exec planner", () => {
  async function plannerWorker(env: Record<string, string> = {}): Promise<{ t: WorkerTest; ws: string }> {
    const t = await suite.setup({ roles: { planner: { exec: ["node", PLANNER], env } }, workspaceRoots: ["./ws"] });
    const ws = join(t.dir, "ws", "app");
    mkdirSync(join(ws, ".claude", "agents"), { recursive: true });
    writeFileSync(join(ws, "package.json"), JSON.stringify({ name: "notify-app", scripts: { test: "vitest run" } }));
    write(ws, ".claude/agents/notifier.md", "---\nname: notifier\ndescription: Sends notifications.\n---\nYou send notifications.\n");
    await t.worker("planner");
    return { t, ws };
  }

  it("gets its brief and the role catalogue on stdin, and returns the api-first template with parameters from the goal", async () => {
    const { t, ws } = await plannerWorker();
    await t.publish("planner", { taskId: "plan", workspace: ws, planning: brief(), expectChanges: true });
    const result = await resultOf(t, "plan");
    expect(result).toMatchObject({ outcome: "completed", plan: { template: "api-first", parameters: { resource: "notifications" } } });
    const logged = t.msgs.logs("plan").flatMap((batch) => batch.lines).join("\n");
    expect(logged).toMatch(/roles in the catalogue: .*notifier/);
  }, 60_000);

  it("with BATON_PLANNER_FIRST_INVALID=1: attempt 1 is invalid (a cycle, an unknown role); attempt 2, given the errors, is not", async () => {
    const { t, ws } = await plannerWorker({ BATON_PLANNER_FIRST_INVALID: "1" });
    await t.publish("planner", { taskId: "plan", workspace: ws, planning: brief() });
    const first = await resultOf(t, "plan");
    const invalid = first.plan as { tasks: { id: string; role: string; dependsOn: string[] }[] };
    expect(invalid.tasks.map((task) => task.role)).toContain("wizard");
    expect(invalid.tasks.find((task) => task.id === "a")!.dependsOn).toEqual(["b"]);
    expect(invalid.tasks.find((task) => task.id === "b")!.dependsOn).toEqual(["a"]);
    const previous = { plan: first.plan, errors: [{ path: "tasks[0].role", message: 'unknown role "wizard"' }, { path: "tasks", message: "dependency cycle: a → b → a" }] };
    await t.publish("planner", { taskId: "plan", attempt: 2, workspace: ws, planning: brief({ attempt: 2, previous, goal: "Fix the typo on the login page" }) });
    const second = await t.msgs.until(() => t.msgs.results("plan").find((result) => result.attempt === 2), 30_000);
    expect(second).toMatchObject({ outcome: "completed", plan: { tasks: [{ id: "implement", role: "backend" }, { id: "tests", role: "qa", dependsOn: ["implement"] }] } });
    expect(JSON.stringify(second.plan)).not.toContain("wizard");
  }, 60_000);
});
