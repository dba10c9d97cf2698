// The prompt sections of issue 13: answers a person gave, how to ask a person (not on reviews or planner runs), and
// the planner's own prompt (goal, roles, templates, rules, gates, workspace, previous errors, how to answer).
import { describe, expect, it } from "vitest";
import { buildPlannerPrompt, type PlannerPromptParts } from "../../services/worker/agents/planner-prompt.ts";
import { buildPrompt, QUESTION_EXAMPLE } from "../../services/worker/agents/prompt.ts";
import type { PlanningBrief } from "../../shared/protocol/index.ts";

const task = { featureId: "f", taskId: "impl", title: "Add the users endpoint", feature: { title: "Users" } };
const at = "2025-01-02T03:04:05.000Z";

describe("an agent's prompt", () => {
  it("lists the answers to the task's questions and tells the agent to go on with them", () => {
    const prompt = buildPrompt({
      task: { ...task, answers: [
        { questionId: "q1", question: "Delete todos with their user?", answer: "keep them", by: "ana", at },
        { questionId: "q2", question: "Which status code for a duplicate?", answer: "409", at },
      ] },
      handoffs: [],
    });
    const section = prompt.slice(prompt.indexOf("# Answers to your questions"));
    expect(section).toContain("- You asked (q1): Delete todos with their user?\n  Answer (from ana): keep them");
    expect(section).toContain("- You asked (q2): Which status code for a duplicate?\n  Answer: 409");
    expect(section).toContain("Go on with your task, following these answers.");
    expect(prompt.indexOf("# Answers to your questions")).toBeGreaterThan(prompt.indexOf("# Your task:"));
  });

  it("has no answers section when nobody answered anything", () => {
    expect(buildPrompt({ task, handoffs: [] })).not.toContain("# Answers to your questions");
    expect(buildPrompt({ task: { ...task, answers: [] }, handoffs: [] })).not.toContain("# Answers to your questions");
  });

  it("says how to ask a person: a CLI agent ends with a fenced json question block and changes no files", () => {
    const prompt = buildPrompt({ task, handoffs: [] });
    expect(prompt).toContain("# If a person must decide");
    expect(prompt).toContain("a missing requirement, a breaking change, a design choice, a failing test that needs a decision");
    expect(prompt).toContain(`\`\`\`json\n${QUESTION_EXAMPLE}\n\`\`\``);
    expect(prompt).toContain("change no files");
    expect(JSON.parse(QUESTION_EXAMPLE)).toMatchObject({ question: { question: expect.any(String), options: expect.any(Array), default: "keep them" } });
  });

  it("the llm executor is told to use the `question` field; a review gate run is not told to ask", () => {
    const llm = buildPrompt({ task, handoffs: [], ask: "field" });
    expect(llm).toContain("give a `question` field in your JSON answer");
    expect(llm).not.toContain("```json");
    const review = buildPrompt({ task, handoffs: [], ask: "none", extra: [{ heading: "Review", body: "judge it" }] });
    expect(review).not.toContain("# If a person must decide");
  });
});

const brief = (over: Partial<PlanningBrief> = {}): PlanningBrief => ({
  goal: "Implement a notification system with real-time updates",
  attempt: 1,
  maxAttempts: 3,
  templates: [{
    name: "api-first", description: "Schema, then the API contract, then backend and frontend, then tests and review.", when: "new endpoints or resources",
    parameters: { resource: { description: "the resource, plural", required: true }, endpoints: { description: "paths", list: true, default: ["/x"] } },
    steps: [
      { id: "schema", kind: "schema", title: "Schema for {{resource}}", produces: ["docs/database/README.md"], stream: "database" },
      { id: "api", kind: "endpoint", title: "OpenAPI for {{resource}}", dependsOn: ["schema"] },
      { id: "backend", role: "backend", title: "Implement", dependsOn: ["api"], forEach: "endpoints" },
    ],
    gates: ["unit"],
  }],
  rules: [
    { kind: "schema", role: "database", description: "a change to the database schema", before: ["endpoint", "backend"] },
    { kind: "tests", role: "qa", description: "tests for the change", always: true },
    { kind: "review", role: "reviewer", description: "a review", last: true },
  ],
  gates: ["unit", "review"],
  ...over,
});

const plannerParts = (over: Partial<PlannerPromptParts> = {}): PlannerPromptParts => ({
  task: { feature: { title: "Notifications" }, planning: brief() },
  roles: [
    { name: "api", description: "Writes the OpenAPI contract.", produces: ["docs/openapi.yaml"], reads: ["docs/database/README.md"] },
    { name: "database", description: "Schema and\nmigrations.", produces: ["docs/database/README.md"] },
  ],
  workspace: "package.json: todo-app\nTest runner: vitest",
  answer: "fenced",
  ...over,
});

describe("a planner run's prompt", () => {
  it("gives the goal, the roles with what they produce and read, the templates, the rules, the gates and the workspace", () => {
    const prompt = buildPlannerPrompt(plannerParts({ rolePrompt: "You are the planner." }));
    expect(prompt.startsWith("You are the planner.")).toBe(true);
    expect(prompt).toContain("> Implement a notification system with real-time updates");
    expect(prompt).toContain("change no files");
    expect(prompt).toContain("- api: Writes the OpenAPI contract. (produces docs/openapi.yaml; reads docs/database/README.md)");
    expect(prompt).toContain("- database: Schema and migrations. (produces docs/database/README.md)");
    expect(prompt).toContain("## api-first\nSchema, then the API contract");
    expect(prompt).toContain("When: new endpoints or resources");
    expect(prompt).toContain("  - resource (required): the resource, plural");
    expect(prompt).toContain('  - endpoints (a list, default ["/x"]): paths');
    expect(prompt).toContain("  1. schema [kind schema]: Schema for {{resource}} (stream database; produces docs/database/README.md)");
    expect(prompt).toContain("  3. backend [role backend]: Implement (after api; once per endpoints)");
    expect(prompt).toContain("- schema → database: a change to the database schema (before endpoint, backend)");
    expect(prompt).toContain("- tests → qa: tests for the change (every plan has one)");
    expect(prompt).toContain("- review → reviewer: a review (after every other task)");
    expect(prompt).toContain("# Gates you may use\n\n- unit\n- review");
    expect(prompt).toContain("# The workspace\n\npackage.json: todo-app\nTest runner: vitest");
    expect(prompt).not.toContain("# If a person must decide");
    expect(prompt).not.toContain("# Your previous plan was invalid");
  });

  it("says exactly how to answer: a fenced json plan block, explicit tasks or a template, both valid JSON", () => {
    const prompt = buildPlannerPrompt(plannerParts());
    const blocks = [...prompt.matchAll(/```json\n([\s\S]*?)\n```/g)].map((match) => JSON.parse(match[1]!));
    expect(blocks).toHaveLength(2);
    expect(blocks[0].plan.tasks[0]).toMatchObject({ id: "schema", role: "database", kind: "schema", stream: "database", produces: ["docs/database/README.md"] });
    expect(Object.keys(blocks[0].plan.tasks[0]).sort()).toEqual(["dependsOn", "files", "gates", "id", "instructions", "kind", "produces", "reads", "role", "stream", "title"].sort());
    expect(blocks[0].plan).toHaveProperty("streams");
    expect(blocks[1].plan).toMatchObject({ template: "api-first", parameters: expect.any(Object), skip: [], tasks: [] });
    expect(buildPlannerPrompt(plannerParts({ answer: "field" }))).toContain("Put your plan in the `plan` field of your JSON answer");
  });

  it("only the roles the brief allows, with allowed roles that have no file listed by name", () => {
    const prompt = buildPlannerPrompt(plannerParts({ task: { feature: { title: "N" }, planning: brief({ roles: ["api", "qa"] }) }, roles: [{ name: "api" }] }));
    expect(prompt).toContain("A plan may name only these roles.\n\n- api\n- qa");
  });

  it("on a later attempt: the previous plan and every error to fix", () => {
    const previous = { plan: { tasks: [{ id: "a", role: "wizard", title: "x", dependsOn: ["b"] }] }, errors: [
      { path: "tasks[0].role", message: 'unknown role "wizard"' },
      { path: "tasks", message: "dependency cycle: a → b → a" },
      { path: "", message: "no task of kind tests" },
    ] };
    const prompt = buildPlannerPrompt(plannerParts({ task: { feature: { title: "N" }, planning: brief({ attempt: 2, previous }) } }));
    expect(prompt).toContain("# Your previous plan was invalid (this is attempt 2 of 3)");
    expect(prompt).toContain('"role": "wizard"');
    expect(prompt).toContain('- tasks[0].role: unknown role "wizard"');
    expect(prompt).toContain("- tasks: dependency cycle: a → b → a");
    expect(prompt).toContain("- (the plan): no task of kind tests");
    expect(prompt.indexOf("# Your previous plan")).toBeLessThan(prompt.indexOf("# How to answer"));
  });

  it("without templates or gates it says so, and it is deterministic", () => {
    const parts = plannerParts({ task: { feature: { title: "N" }, planning: brief({ templates: [], gates: [], rules: [] }) } });
    const prompt = buildPlannerPrompt(parts);
    expect(prompt).toContain("# Templates\n\nNone: give the tasks yourself.");
    expect(prompt).toContain("None are configured: give no gates.");
    expect(buildPlannerPrompt(parts)).toBe(prompt);
  });
});
