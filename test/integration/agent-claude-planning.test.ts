// The real Claude Code CLI (`claude -p`) run by a real `baton worker` against the scripted model server in this
// process, for issue 13: a planner run (task message with `planning`) returns the plan from the model's fenced json
// block, having been shown the goal, the role catalogue and the workspace; a task whose model ends with a question
// block returns `question`, and its next dispatch with the answer and the session continues the conversation.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import type { Script } from "../../services/model-server/script.ts";
import { ModelServer } from "../../services/model-server/server.ts";
import type { PlanningBrief, TaskResult } from "../../shared/protocol/index.ts";
import { agentHome } from "../helpers/agent-env.ts";
import { processesWithEnv } from "../helpers/agent-procs.ts";
import { workerSuite, type WorkerTest } from "./worker-harness.ts";

const suite = workerSuite();

const PLAN = {
  summary: "Notifications: schema, API, backend, tests.",
  tasks: [
    { id: "schema", role: "database", title: "Notifications table", kind: "schema", produces: ["docs/database/README.md"] },
    { id: "api", role: "api", title: "Notifications API", dependsOn: ["schema"], reads: ["docs/database/README.md"], produces: ["docs/openapi.yaml"] },
    { id: "backend", role: "backend", title: "Implement it", dependsOn: ["api"], gates: ["unit"] },
  ],
};
const QUESTION = { question: "Should deleting a user delete their notifications?", options: ["delete them", "keep them"], default: "keep them" };
const turn = (text: string) => ({ text, tools: [], delayMs: 0, stall: false });

const SCRIPTS: Script[] = [
  { match: "Plan this feature: Notifications", turns: [turn(`I read the workspace. Here is the plan.\n\n\`\`\`json\n${JSON.stringify({ plan: PLAN }, null, 2)}\n\`\`\``)], then: "Done." },
  {
    match: "Remove the user endpoint",
    turns: [
      turn(`Removing a user is a breaking change for their notifications; I need a decision.\n\n\`\`\`json\n${JSON.stringify({ question: QUESTION })}\n\`\`\``),
      turn("Kept the notifications of deleted users, as answered."),
    ],
    then: "Done.",
  },
];

let model: ModelServer;
beforeAll(async () => {
  model = new ModelServer({ scripts: SCRIPTS, dialects: ALL_DIALECTS });
  await model.start();
});
afterAll(() => model.close());

const claudeRole = () => ({
  agent: "claude-code", timeoutSeconds: 120, stallSeconds: 60,
  env: { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "test-key", DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", ...agentHome() },
});

/** A worker of `role` on Claude Code, and a workspace with a package.json and a role file of its own. */
async function start(role: string): Promise<{ t: WorkerTest; ws: string }> {
  const t = await suite.setup({ roles: { [role]: claudeRole() }, workspaceRoots: ["./ws"] });
  suite.cleanup(() => processesWithEnv(`CLAUDE_CONFIG_DIR=${t.dir}`).forEach((proc) => quietKill(-proc.pgid)));
  const ws = join(t.dir, "ws", "app");
  mkdirSync(join(ws, ".claude", "agents"), { recursive: true });
  writeFileSync(join(ws, "package.json"), JSON.stringify({ name: "notify-app", scripts: { test: "node --test" }, dependencies: { express: "^4" } }));
  writeFileSync(join(ws, ".claude", "agents", "notifier.md"), "---\nname: notifier\ndescription: Sends e-mail and push notifications.\nproduces: docs/notifications.md\n---\nYou send notifications.\n");
  await t.worker(role);
  return { t, ws };
}

const resultOf = (t: WorkerTest, taskId: string, attempt = 1): Promise<TaskResult> =>
  t.msgs.until(() => t.msgs.results(taskId).find((result) => result.attempt === attempt), 90_000);

function quietKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
}

const brief: PlanningBrief = {
  goal: "Implement a notification system with real-time updates",
  attempt: 1,
  maxAttempts: 3,
  templates: [],
  rules: [{ kind: "schema", role: "database", description: "a change to the database schema", before: ["endpoint"] }],
  gates: ["unit"],
};

describe("claude-code: planner runs and questions", () => {
  it("a planner run returns the plan of the model's fenced json block; the model was shown the goal, the roles and the workspace", async () => {
    const { t, ws } = await start("planner");
    await t.publish("planner", { taskId: "plan", title: "Plan the feature", workspace: ws, feature: { title: "Notifications" }, planning: brief });
    const result = await resultOf(t, "plan");
    expect(result).toMatchObject({ outcome: "completed", plan: PLAN });
    expect(result.question).toBeUndefined();
    const request = JSON.stringify(model.exchanges.find((exchange) => exchange.scriptIndex === 0)?.body);
    expect(request).toContain("Implement a notification system with real-time updates");
    expect(request).toContain("notifier: Sends e-mail and push notifications. (produces docs/notifications.md)");
    expect(request).toContain("package.json: notify-app");
    expect(request).toContain("schema → database: a change to the database schema");
    expect(request).toContain("End your final message with your plan as one fenced json block");
    expect(request).not.toContain("If a person must decide");
  }, 120_000);

  it("a question block ends the run with `question`; the next dispatch with the answer and the session continues the conversation", async () => {
    const { t, ws } = await start("backend");
    const task = { taskId: "rm", title: "Remove the user endpoint", workspace: ws, expectChanges: true };
    await t.publish("backend", task);
    const asked = await resultOf(t, "rm");
    expect(asked).toMatchObject({ outcome: "completed", question: QUESTION, session: { agent: "claude-code", id: expect.any(String) } });
    const first = JSON.stringify(model.exchanges.find((exchange) => exchange.scriptIndex === 1 && exchange.turnIndex === 0)?.body);
    expect(first).toContain("# If a person must decide");

    const answers = [{ questionId: "q1", question: QUESTION.question, answer: "keep them", by: "ana", at: new Date().toISOString() }];
    await t.publish("backend", { ...task, attempt: 2, answers, session: asked.session, expectChanges: false });
    const resumed = await resultOf(t, "rm", 2);
    expect(resumed).toMatchObject({ outcome: "completed", summary: "Kept the notifications of deleted users, as answered." });
    expect(resumed.question).toBeUndefined();
    // the resumed conversation: the question the model asked, then the answer in the new message
    const second = JSON.stringify(model.exchanges.find((exchange) => exchange.scriptIndex === 1 && exchange.turnIndex === 1)?.body);
    expect(second).toContain("I need a decision");
    expect(second).toContain("# Answers to your questions");
    expect(second).toContain("Answer (from ana): keep them");
  }, 180_000);
});
