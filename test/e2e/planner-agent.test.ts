// The planner end to end with a real agent CLI (issue 13): a real nats-server, `baton coordinator`, a planner
// `baton worker` whose role runs the real Claude Code CLI against the scripted model server in this process, and exec
// workers for the roles the plan names (small node scripts that write files, so the work is real). The model's first
// plan is invalid (a cycle, an unknown role) and it tries to write into the workspace; the coordinator sends the plan
// back with every error, the second run (its new message holds those errors) answers with api-first and a parameter, and
// the feature completes: one integrated checkpoint per task on baton/<featureId>, in dependency order, and the
// planner changed nothing in the user's checkout.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import type { Script } from "../../services/model-server/script.ts";
import { ModelServer } from "../../services/model-server/server.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { agentHome } from "../helpers/agent-env.ts";
import { processesWithEnv } from "../helpers/agent-procs.ts";
import { submitAndFollow } from "../helpers/follow.ts";
import { gitRepo } from "../helpers/git-repo.ts";
import { baton } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

const GOAL = "implement a notification system with real-time updates";
const FEATURE = "notify";
const turn = (text: string, tools: { name: string; input: Record<string, unknown> }[] = []) => ({ text, tools, delayMs: 0, stall: false });
const fenced = (value: unknown) => `\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\``;

/** Invalid twice over: `store` and `push` depend on each other, and `wizard` is no role of this configuration. */
const INVALID_PLAN = {
  summary: "A first try.",
  tasks: [
    { id: "store", role: "database", title: "Store notifications", dependsOn: ["push"] },
    { id: "push", role: "wizard", title: "Push them in real time", dependsOn: ["store"] },
  ],
};
const VALID_PLAN = { summary: "Contract first: schema, spec, backend and frontend, tests, review.", template: "api-first", parameters: { basePath: "/v1" } };

// One conversation: the coordinator's retry resumes the planner's Claude session (the planner keeps what it read), so
// the corrected plan is the third turn, answering the new message that lists the errors.
const SCRIPTS: Script[] = [
  {
    match: `# Plan this feature: ${FEATURE}`,
    turns: [
      // a planner that tries to change the workspace: the run must not let it
      turn("Let me note my plan in the repository first.", [
        { name: "Write", input: { file_path: "PLAN.md", content: "# my plan\n" } },
        { name: "Bash", input: { command: "touch planner-was-here", description: "Mark the workspace" } },
      ]),
      turn(`Here is the plan.\n\n${fenced({ plan: INVALID_PLAN })}`),
      turn(`Fixed: api-first fits this goal.\n\n${fenced({ plan: VALID_PLAN })}`),
    ],
    then: "Done.",
  },
];

/** An exec agent: writes what the task `produces` (a valid OpenAPI for the spec) and work/<taskId>.md, and logs its times. */
const AGENT = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
const task = JSON.parse(readFileSync(0, "utf8"));
const start = Date.now();
const put = (path, text) => (mkdirSync(dirname(path), { recursive: true }), writeFileSync(path, text));
const OPENAPI = "openapi: 3.0.3\\ninfo: { title: Notifications, version: '1' }\\npaths: {}\\n";
for (const path of task.produces ?? []) put(path, path.endsWith("openapi.yaml") ? OPENAPI : "# " + task.title + "\\n");
put("work/" + task.taskId + ".md", "# " + task.title + "\\n\\n" + task.instructions + "\\n");
await new Promise((done) => setTimeout(done, 100));
appendFileSync(process.env.LEDGER, JSON.stringify({ taskId: task.taskId, role: process.env.BATON_ROLE, start, end: Date.now() }) + "\\n");
writeFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: "did " + task.taskId }));
`;

const EXEC_ROLES = ["database", "api", "backend", "frontend", "qa", "reviewer"] as const;

let model: ModelServer;
beforeAll(async () => {
  model = new ModelServer({ scripts: SCRIPTS, dialects: ALL_DIALECTS });
  await model.start();
});
afterAll(() => model?.close());

const stack = useStack({
  tag: "planner-agent",
  config: (dir) => JSON.stringify({
    workspaceRoots: ["./workspaces"],
    roles: {
      planner: {
        agent: "claude-code", timeoutSeconds: 90, stallSeconds: 60,
        env: { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "test-key", DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", ...agentHome() },
      },
      ...Object.fromEntries(EXEC_ROLES.map((role) => [role, { exec: ["node", join(dir, "agent.mjs")], timeoutSeconds: 60, env: { LEDGER: join(dir, "ledger.jsonl") } }])),
    },
    gates: { test: { run: ["node", "-e", "process.exit(0)"], timeoutSeconds: 60 } },
    planning: { maxAttempts: 3 },
  }),
  files: { "agent.mjs": AGENT, "ledger.jsonl": "" },
  dirs: ["workspaces"],
  workers: [...EXEC_ROLES.map((role) => [role, `${role}-1`] as const), ["integrator", "integrator-1"]],
});
// The planner's worker runs in the stack's folder: Claude's config homes go in its .baton/agent-homes/, not here.
// Joined to the stack's processes, so its teardown stops it.
beforeAll(async () => {
  const planner = baton(["worker", "--role", "planner", "--id", "planner-1", "--config", stack.cfg], stack.env, { cwd: stack.dir });
  stack.procs.push(planner);
  await planner.waitFor(/worker ready/, 30_000);
}, 40_000);
// a Claude run left behind by a failed test must not outlive the suite (its processes inherit CLAUDE_CONFIG_DIR)
afterAll(() => {
  for (const proc of processesWithEnv(`CLAUDE_CONFIG_DIR=${join(stack.dir, ".baton")}`)) {
    try {
      process.kill(-proc.pgid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

const ofKind = <K extends StatusEvent["kind"]>(events: StatusEvent[], kind: K) => events.filter((event): event is Extract<StatusEvent, { kind: K }> => event.kind === kind);
const gitIn = (dir: string, ...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();

/** The api-first tasks and what each waits for. */
const DEPENDS: Record<string, string[]> = { schema: [], spec: ["schema"], backend: ["spec"], frontend: ["spec"], tests: ["backend", "frontend"], review: ["tests"] };

describe("e2e: plan auto with Claude Code as the planner", () => {
  it("an invalid plan goes back with every error, the corrected plan runs in dependency order, the planner changes nothing", async () => {
    const workspace = gitRepo(join(stack.dir, "workspaces", "notify-app"), { "package.json": '{ "name": "notify-app", "type": "module" }\n', "README.md": "# notify-app\n" });
    const head = gitIn(workspace, "rev-parse", "HEAD");
    const { view, events } = await submitAndFollow(stack.nc, stack.n, { id: FEATURE, title: FEATURE, plan: "auto", goal: GOAL, workspace }, { timeoutMs: 80_000 });
    const kinds = events.map((event) => event.kind);
    expect(view.state, JSON.stringify(events.slice(-8))).toBe("completed");

    // plan.invalid (with the cycle and the unknown role, and a retry), then plan.ready from the planner's 2nd attempt
    const [invalid] = ofKind(events, "plan.invalid");
    expect(ofKind(events, "plan.invalid")).toHaveLength(1);
    expect(invalid).toMatchObject({ attempt: 1, willRetry: true });
    const errors = invalid!.errors.map((issue) => `${issue.path}: ${issue.message}`).join("\n");
    expect(errors).toMatch(/cycle/i);
    expect(errors).toMatch(/"wizard"/);
    const [ready] = ofKind(events, "plan.ready");
    expect(kinds.indexOf("plan.invalid")).toBeLessThan(kinds.indexOf("plan.ready"));
    expect(ready).toMatchObject({ source: "planner", template: "api-first", attempt: 2, approval: "none" });
    expect(ready!.tasks.map((task) => task.id)).toEqual(Object.keys(DEPENDS));

    // the second run continued the first's conversation with a message holding the first plan's every error
    const exchangeOf = (turnIndex: number) => JSON.stringify(model.exchanges.find((exchange) => exchange.scriptIndex === 0 && exchange.turnIndex === turnIndex)?.body ?? "");
    expect(exchangeOf(1)).not.toContain("# Your previous plan was invalid");
    const retried = exchangeOf(2);
    expect(retried).toContain("Let me note my plan in the repository first.");
    expect(retried).toContain("# Your previous plan was invalid (this is attempt 2 of 3)");
    for (const issue of invalid!.errors) expect(retried).toContain(JSON.stringify(`- ${issue.path}: ${issue.message}`).slice(1, -1));

    // one integrated checkpoint per task on the integration branch, each after the tasks it depends on
    const branch = `baton/${FEATURE}`;
    const subjects = gitIn(workspace, "log", "--first-parent", "--reverse", "--format=%s", `${head}..${branch}`).split("\n");
    const integrated = subjects.map((subject) => /: integrate (\S+) \(/.exec(subject)?.[1]);
    expect(integrated.slice().sort()).toEqual(Object.keys(DEPENDS).sort());
    const ledger = readFileSync(join(stack.dir, "ledger.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { taskId: string; start: number; end: number });
    const ran = new Map(ledger.map((entry) => [entry.taskId, entry]));
    expect(ledger).toHaveLength(6);
    for (const [taskId, needs] of Object.entries(DEPENDS)) {
      for (const need of needs) {
        expect(integrated.indexOf(need), `${need} integrated before ${taskId}`).toBeLessThan(integrated.indexOf(taskId));
        expect(ran.get(taskId)!.start, `${taskId} started after ${need} ended`).toBeGreaterThanOrEqual(ran.get(need)!.end);
      }
    }
    // the template's parameter and the goal reached the tasks
    expect(gitIn(workspace, "show", `${branch}:work/spec.md`)).toContain("under /v1");
    expect(gitIn(workspace, "show", `${branch}:work/schema.md`)).toContain(GOAL);

    // the planner changed nothing: the checkout is clean at its commit, and neither file it tried to make exists
    expect(gitIn(workspace, "status", "--porcelain")).toBe("");
    expect(gitIn(workspace, "rev-parse", "HEAD")).toBe(head);
    expect(existsSync(join(workspace, "PLAN.md"))).toBe(false);
    expect(existsSync(join(workspace, "planner-was-here"))).toBe(false);
  }, 90_000);
});
