// checkPlan: a planner's plan is checked for everything at once — schema, graph, roles, gates, the planner's own
// task id, artifacts before their readers, the selection rules, and its template's expansion — each error at a path
// in the plan that tells the planner what to change; a valid plan becomes the feature's request.
import { describe, expect, it } from "vitest";
import { checkFeatureValue, type FeatureRequest } from "../../shared/protocol/index.ts";
import { checkPlan, expandRequest, loadPlanningCatalogue, planToRequest, type PlanCheckContext } from "../../shared/planning/index.ts";

const catalogue = loadPlanningCatalogue({});
const ROLES = ["database", "api", "backend", "frontend", "qa", "reviewer", "devops", "docs", "bugfix"];
const base: FeatureRequest = { id: "notify", title: "Notifications", plan: "auto", goal: "notifications with real-time updates", maxParallel: 2 };
const ctx: PlanCheckContext = {
  catalogue, gates: ["test", "lint"], roles: ROLES, base,
  roleDefaults: { database: { produces: ["docs/database/README.md"] }, api: { produces: ["docs/openapi.yaml"] }, backend: { reads: ["docs/openapi.yaml"] }, frontend: { reads: ["docs/openapi.yaml"] } },
};
type Task = { id: string; role: string; title: string; dependsOn?: string[]; [field: string]: unknown };
const task = (id: string, role: string, dependsOn: string[] = [], more: Record<string, unknown> = {}): Task => ({ id, role, title: `do ${id}`, ...(dependsOn.length ? { dependsOn } : {}), ...more });
const goodTasks = (): Task[] => [
  task("schema", "database", [], { produces: ["docs/database/README.md"] }),
  task("spec", "api", ["schema"], { produces: ["docs/openapi.yaml"], reads: ["docs/database/README.md"] }),
  task("backend", "backend", ["spec"], { gates: ["test"] }),
  task("frontend", "frontend", ["spec"], { gates: ["test"] }),
  task("tests", "qa", ["backend", "frontend"], { gates: ["test"] }),
  task("review", "reviewer", ["tests"]),
];
function errorsOf(raw: unknown, context: PlanCheckContext = ctx) {
  const result = checkPlan(raw, context);
  if (result.ok) throw new Error(`expected errors, got a valid plan: ${JSON.stringify(result.request.tasks)}`);
  return result.errors;
}

describe("a valid plan", () => {
  it("of tasks becomes the feature's request: the plan's tasks, gates and streams on the request's other fields", () => {
    const result = checkPlan({ summary: "Schema, spec, then both sides.", tasks: goodTasks(), gates: ["test"], streams: { api: { description: "contract" } } }, ctx);
    expect(result).toEqual({ ok: true, notes: [], summary: "Schema, spec, then both sides.", request: { id: "notify", title: "Notifications", maxParallel: 2, tasks: goodTasks(), gates: ["test"], streams: { api: { description: "contract" } } } });
    // an ordinary request: the checks a submission gets accept it
    expect(checkFeatureValue(result.ok ? result.request : {}, { roles: ROLES, gates: ["test"] }).ok).toBe(true);
  });

  it("of a template is expanded with the feature's goal, the template kept on it, with the expansion's notes", () => {
    const result = checkPlan({ template: "api-first", skip: ["frontend"] }, { ...ctx, gates: ["lint"] });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.request.template).toBe("api-first");
    expect(result.request.tasks!.map((each) => each.id)).toEqual(["schema", "spec", "backend", "tests", "review"]);
    expect(result.request.tasks![0]!.instructions).toContain("notifications with real-time updates");
    expect(result.request).not.toHaveProperty("plan");
    expect(result.request).not.toHaveProperty("goal");
    expect(result.notes).toContain("gate test is not configured: step backend runs without it");
  });

  it("planToRequest puts the plan on the request in a form a submission's checks (with expansion) accept", () => {
    const request = planToRequest({ template: "bugfix", summary: "fix it" }, base);
    expect(request).toEqual({ id: "notify", title: "Notifications", maxParallel: 2, template: "bugfix" });
    expect(checkFeatureValue(request, { roles: ROLES, expand: (req) => expandRequest(req, ctx) }).ok).toBe(true);
  });
});

describe("an invalid plan", () => {
  it("schema: unknown fields (with did-you-mean), wrong types, missing fields — at plan paths", () => {
    expect(errorsOf({ task: [], gates: "test" })).toEqual([
      { path: "plan.gates", message: expect.stringContaining("expected array") },
      { path: "plan.task", message: expect.stringContaining('unknown field "task" (did you mean "tasks"?)') },
    ].sort((first, second) => (first.path < second.path ? -1 : 1)));
    expect(errorsOf({ tasks: [{ id: "a", role: "backend", depends: ["b"] }] })).toEqual(expect.arrayContaining([
      { path: "plan.tasks[0].title", message: expect.stringContaining("expected string") },
      { path: "plan.tasks[0].depends", message: expect.stringContaining('unknown field "depends" (did you mean "dependsOn"?)') },
    ]));
    expect(errorsOf("a plan")).toEqual([{ path: "plan", message: expect.stringContaining("expected object") }]);
  });

  it("needs at least one task", () => {
    expect(errorsOf({ tasks: [] })).toEqual([{ path: "plan", message: 'a plan needs at least one task: give "tasks", or a "template" (with its "parameters")' }]);
    expect(errorsOf({ summary: "nothing", parameters: { a: "b" } })).toContainEqual({ path: "plan.parameters", message: 'parameters applies to a template: add "template" or leave parameters out' });
  });

  it("a cycle", () => {
    const tasks = goodTasks();
    tasks[0] = task("schema", "database", ["review"], { produces: ["docs/database/README.md"] });
    expect(errorsOf({ tasks })).toContainEqual({ path: "plan.tasks[0].dependsOn", message: "dependency cycle: schema dependsOn review dependsOn tests dependsOn backend dependsOn spec dependsOn schema" });
  });

  it("an unknown role, and an unknown role for a template step", () => {
    const tasks = goodTasks();
    tasks[3] = task("frontend", "frontent", ["spec"]);
    expect(errorsOf({ tasks })).toEqual([{ path: "plan.tasks[3].role", message: expect.stringContaining('unknown role "frontent" (did you mean "frontend"?)') }]);
    expect(errorsOf({ template: "api-first", stepRoles: { frontend: "mobile" } })).toEqual([{ path: "plan.stepRoles.frontend", message: expect.stringContaining('step "frontend": unknown role "mobile"') }]);
  });

  it("an unknown gate (review needs no configuration)", () => {
    const tasks = goodTasks();
    tasks[2] = task("backend", "backend", ["spec"], { gates: ["tset", "review"] });
    expect(errorsOf({ tasks, gates: ["bench"] })).toEqual([
      { path: "plan.gates[0]", message: expect.stringContaining('unknown gate "bench" (configured gates: test, lint; and "review"') },
      { path: "plan.tasks[2].gates[0]", message: expect.stringContaining('unknown gate "tset" (did you mean "test"?)') },
    ]);
  });

  it("a reader that does not wait for the producer of what it reads (its own reads, and its role's)", () => {
    const tasks = goodTasks();
    tasks[1] = task("spec", "api", [], { produces: ["docs/openapi.yaml"], reads: ["docs/database/README.md"] });
    tasks[2] = task("backend", "backend", ["schema"], { gates: ["test"] });
    const errors = errorsOf({ tasks });
    expect(errors).toContainEqual({ path: "plan.tasks[1].reads[0]", message: 'task spec reads docs/database/README.md, which task schema produces: add "schema" to its dependsOn (artifacts before their readers)' });
    expect(errors).toContainEqual({ path: "plan.tasks[2].dependsOn", message: 'task backend reads docs/openapi.yaml (role backend reads it), which task spec produces: add "spec" to its dependsOn (artifacts before their readers)' });
  });

  it("a task with the planner's own id", () => {
    const tasks = goodTasks();
    tasks[0] = task("plan", "database");
    tasks[1]!.dependsOn = ["plan"];
    expect(errorsOf({ tasks })).toContainEqual({ path: "plan.tasks[0].id", message: 'task id "plan" is the planner\'s own task: give this task another id' });
    expect(errorsOf({ tasks: [{ id: "plan", role: "qa" }] })).toContainEqual({ path: "plan.tasks[0].id", message: expect.stringContaining("the planner's own task") });
  });

  it("a selection rule broken", () => {
    const tasks = goodTasks().filter((each) => each.id !== "tests");
    tasks[4] = task("review", "reviewer", ["backend", "frontend"]);
    expect(errorsOf({ tasks })).toEqual([{ path: "plan.tasks", message: expect.stringMatching(/^the plan has no task of kind tests: add one \(role "qa", kind "tests"\)/) }]);
  });

  it("a template's expansion errors, at the plan's fields", () => {
    expect(errorsOf({ template: "refactor", parameters: { moduls: ["a"] } })).toEqual([
      { path: "plan.parameters.moduls", message: expect.stringContaining('unknown parameter "moduls" of template refactor (did you mean "modules"?)') },
      { path: "plan.parameters.modules", message: expect.stringContaining('template refactor needs parameter "modules"') },
    ]);
    expect(errorsOf({ template: "api-firts" })).toEqual([{ path: "plan.template", message: expect.stringContaining('unknown template "api-firts" (did you mean "api-first"?)') }]);
  });

  it("every error at once", () => {
    const tasks: Task[] = [
      task("plan", "database"),
      task("spec", "api", ["ghost"], { produces: ["docs/openapi.yaml"] }),
      task("backend", "bakend", ["backend-2"], { gates: ["bench"] }),
      task("backend-2", "backend", ["backend"]),
      task("review", "reviewer", ["spec"]),
    ];
    const paths = errorsOf({ tasks }).map((error) => error.path);
    expect(paths).toEqual(expect.arrayContaining([
      "plan.tasks[1].dependsOn[0]", // unknown dependency
      "plan.tasks[2].dependsOn", // cycle
      "plan.tasks[2].role", // unknown role
      "plan.tasks[2].gates[0]", // unknown gate
      "plan.tasks[0].id", // reserved id
      "plan.tasks[3].dependsOn", // backend-2 reads the spec (its role's default) without waiting for it
      "plan.tasks", // no tests
      "plan.tasks[4].dependsOn", // review not last
    ]));
  });

  it("returns the same errors for the same plan", () => {
    const raw = { tasks: [task("a", "backend", ["b"]), task("b", "backend", ["a"])] };
    expect(errorsOf(raw)).toEqual(errorsOf(structuredClone(raw)));
  });
});
