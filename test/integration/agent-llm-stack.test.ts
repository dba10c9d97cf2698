// `agent: llm` roles in real processes: a real nats-server, `baton coordinator`, `baton worker` processes whose
// llm roles call the scripted model server (openai provider for the planner, anthropic for the reviewer).
// A planner writes a file and hands off; a reviewer on llm decides a review gate: changes requested, the author
// fixes, then it approves. The API key never shows in events or process output.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_DIALECTS } from "../../services/model-server/dialects.ts";
import { Script } from "../../services/model-server/script.ts";
import { ModelServer } from "../../services/model-server/server.ts";
import type { StatusEvent } from "../../shared/protocol/index.ts";
import { submitAndFollow } from "../helpers/follow.ts";
import { gitRepo } from "../helpers/git-repo.ts";
import { useStack } from "../helpers/stack.ts";

const KEY = "sk-stack-llm-secret-7777";

/** Writes the files of its instructions' JSON ({"files": {path: content}}); on a fix round, does what the reviewer asked. */
const AGENT = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
const task = JSON.parse(readFileSync(0, "utf8"));
const ws = process.env.BATON_WORKSPACE;
const text = task.instructions || "";
if (text.includes("export a default too")) { appendFileSync(join(ws, "src/add.js"), "export default add;\\n"); process.exit(0); }
const { files = {} } = JSON.parse(text.slice(text.indexOf("{")));
for (const [path, content] of Object.entries(files)) {
  mkdirSync(dirname(join(ws, path)), { recursive: true });
  writeFileSync(join(ws, path), content);
}
`;

const REVIEW_COMMENT = "export a default too";
const model = new ModelServer({
  dialects: ALL_DIALECTS,
  scripts: [
    { match: "PLAN-MARKER", turns: [{ json: { summary: "Planned: one file.", files: [{ path: "docs/plan.md", content: "# Plan\n1. add()\n" }], handoff: { steps: ["add"] } }, usage: { input: 120, output: 30 } }] },
    { match: "+export default add;", turns: [{ json: { summary: "Looks right now.", review: { verdict: "approve" } } }] },
    { match: "# Review", turns: [{ json: { summary: "One thing.", review: { verdict: "changes_requested", comments: [{ file: "src/add.js", line: 1, message: REVIEW_COMMENT }] } } }] },
  ].map((script) => Script.parse(script)),
});
let modelUrl = "";
beforeAll(async () => {
  modelUrl = await model.start();
});
afterAll(() => model.close());

const stack = useStack({
  tag: "llm",
  config: () => `
workspaceRoots: ["./workspaces"]
roles:
  backend:
    exec: ["node", "./agent.mjs"]
    timeoutSeconds: 60
  planner:
    agent: llm
    model: scripted-model
    timeoutSeconds: 60
    llm: { provider: openai, baseUrl: "${modelUrl}/v1", apiKeyEnv: BATON_TEST_LLM_KEY }
  reviewer:
    agent: llm
    model: scripted-claude
    timeoutSeconds: 60
    llm: { provider: anthropic, baseUrl: "${modelUrl}", apiKeyEnv: BATON_TEST_LLM_KEY }
`,
  files: { "agent.mjs": AGENT },
  workers: [["backend", "backend-1"], ["planner", "planner-1"], ["reviewer", "reviewer-1"], ["integrator", "integrator-1"]],
  env: () => ({ BATON_TEST_LLM_KEY: KEY }),
});

const workspace = (name: string): string => gitRepo(join(stack.dir, "workspaces", name), { "package.json": '{ "type": "module" }\n' });
const ofKind = <K extends StatusEvent["kind"]>(events: StatusEvent[], kind: K) => events.filter((e): e is Extract<StatusEvent, { kind: K }> => e.kind === kind);

/** A file as the feature's integration branch `baton/<featureId>` holds it. */
const onBranch = (ws: string, featureId: string, path: string): string =>
  execFileSync("git", ["show", `baton/${featureId}:${path}`], { cwd: ws, encoding: "utf8" });

describe("llm roles in real worker processes", () => {
  it("a planner on llm (openai provider) writes its file, reports progress and usage, and completes", async () => {
    const ws = workspace("plan");
    const { view, events } = await submitAndFollow(stack.nc, stack.n, {
      id: "plan-1", title: "plan", workspace: ws,
      tasks: [{ id: "plan", role: "planner", title: "Write the plan", instructions: "PLAN-MARKER", files: ["docs/*.md"] }],
    }, { timeoutMs: 60_000 });
    expect(view.state).toBe("completed");
    // the work is on the feature's integration branch (the user's checkout is never edited)
    expect(onBranch(ws, "plan-1", "docs/plan.md")).toContain("1. add()");
    const progress = ofKind(events, "task.progress");
    expect(progress.flatMap((e) => e.files ?? [])).toContain("docs/plan.md");
    expect(progress.some((e) => e.tool === "write_file")).toBe(true);
    expect(ofKind(events, "task.completed")[0]).toMatchObject({ summary: "Planned: one file.", usage: { inputTokens: 120, outputTokens: 30, turns: 1, model: "scripted-model" } });
    expect(JSON.stringify(events)).not.toContain(KEY);
  }, 90_000);

  it("a reviewer on llm (anthropic provider) decides the review gate: changes requested, the author fixes, then approve", async () => {
    const ws = workspace("review");
    const files = { "src/add.js": "export const add = (a, b) => a + b;\n" };
    const { view, events } = await submitAndFollow(stack.nc, stack.n, {
      id: "review-1", title: "add", workspace: ws,
      tasks: [{ id: "impl", role: "backend", title: "add()", gates: ["review"], instructions: JSON.stringify({ files }) }],
    }, { timeoutMs: 90_000 });
    expect(view.state).toBe("completed");
    const seq = events.flatMap((e) => (e.kind === "gate.passed" || e.kind === "gate.failed" ? [`${e.kind} ${e.gate}`] : e.kind === "task.fixing" ? [`fixing (${e.fixRole})`] : []));
    expect(seq).toEqual(["gate.failed review", "fixing (backend)", "gate.passed review"]);
    expect(ofKind(events, "gate.failed")[0]).toMatchObject({ workerId: "reviewer-1", reason: `changes requested: ${REVIEW_COMMENT}`, review: { verdict: "changes_requested", comments: [{ file: "src/add.js", line: 1 }] } });
    expect(ofKind(events, "gate.passed")[0]).toMatchObject({ review: { verdict: "approve" } });
    expect(onBranch(ws, "review-1", "src/add.js")).toContain("export default add;");
    const reviews = model.exchanges.filter((ex) => ex.path === "/v1/messages" && ex.status === 200);
    expect(reviews).toHaveLength(2);
    expect(JSON.stringify(reviews[0]!.body)).toContain("+export const add = (a, b) => a + b;");
    expect(JSON.stringify(events)).not.toContain(KEY);
    for (const proc of stack.procs) expect(proc.output()).not.toContain(KEY);
  }, 120_000);
});
