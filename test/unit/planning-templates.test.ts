// Templates: every shipped one loads and expands into a valid DAG in the right order; the request's overrides
// (parameters, skip, stepRoles, extra tasks) and the operator's gates shape the expansion; bad files are problems
// with file, line and field, and never stop the other templates.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkFeatureValue, type FeatureRequest, type TaskSpec } from "../../shared/protocol/index.ts";
import { catalogueFrom, checkPlan, expandRequest, loadPlanningCatalogue, ruleIssues, shippedRoot, templateIssues, type ExpandContext } from "../../shared/planning/index.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const catalogue = loadPlanningCatalogue({});
const ROLES = ["database", "api", "backend", "frontend", "qa", "reviewer", "devops", "docs", "bugfix"];
/** The shipped role files' produces/reads (roles/*.md). */
const ROLE_DEFAULTS = {
  database: { produces: ["docs/database/README.md"] },
  api: { produces: ["docs/openapi.yaml"], reads: ["docs/database/README.md"] },
  backend: { reads: ["docs/openapi.yaml"] },
  frontend: { reads: ["docs/openapi.yaml"] },
};
/** Example values for the list parameters a template requires. */
const EXAMPLES: Record<string, Record<string, string[]>> = {
  refactor: { modules: ["src/users", "src/orders", "src/billing"] },
  "db-migration": { queries: ["findUser", "listOrders"] },
  perf: { bottlenecks: ["GET /orders", "report export"] },
};
const ctx: ExpandContext = { catalogue, gates: ["test", "lint"] };

function expand(request: Partial<FeatureRequest> & { template: string }, context: ExpandContext = ctx) {
  const result = expandRequest({ title: "Notifications", description: "with real-time updates", ...request }, context);
  if (!result.ok) throw new Error(`expected an expansion, got ${JSON.stringify(result.errors)}`);
  return result;
}
function errorsOf(request: Partial<FeatureRequest> & { template: string }, context: ExpandContext = ctx) {
  const result = expandRequest({ title: "Notifications", ...request }, context);
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.value.tasks)}`);
  return result.errors;
}
const byId = (tasks: readonly TaskSpec[] | undefined) => Object.fromEntries((tasks ?? []).map((task) => [task.id, task]));
const deps = (tasks: readonly TaskSpec[] | undefined) => Object.fromEntries((tasks ?? []).map((task) => [task.id, task.dependsOn ?? []]));

describe("the shipped templates", () => {
  it("all load, with the shipped rules, and no problems", () => {
    expect(catalogue.problems).toEqual([]);
    expect(Object.keys(catalogue.templates).sort()).toEqual(["api-first", "bugfix", "db-migration", "perf", "refactor", "tdd-feature"]);
    expect(catalogue.templates["api-first"]!.source).toBe(join(ROOT, "templates", "api-first.yaml"));
    expect(catalogue.rulesSource).toBe(join(ROOT, "rules", "selection.yaml"));
    expect(catalogue.rules.map((rule) => rule.kind)).toEqual(expect.arrayContaining(["schema", "endpoint", "backend", "frontend", "tests", "review", "devops", "docs"]));
    for (const template of Object.values(catalogue.templates)) expect(templateIssues(template, catalogue.rules)).toEqual([]);
  });

  it.each(Object.keys(catalogue.templates).sort())("%s expands into a request checkFeatureValue accepts, in dependency order, that follows the rules and passes checkPlan", (name) => {
    const request = { title: "Notifications", template: name, ...(EXAMPLES[name] ? { parameters: EXAMPLES[name] } : {}) };
    const checked = checkFeatureValue(request, { roles: ROLES, gates: ["test"], expand: (req) => expandRequest(req, ctx) });
    expect(checked.ok ? [] : checked.errors).toEqual([]);
    const tasks = checked.ok ? checked.value.tasks! : [];
    expect(tasks.length).toBeGreaterThan(2);
    // every dependency is an earlier task: the steps are listed in an order they can run in
    const seen = new Set<string>();
    for (const task of tasks) {
      for (const dep of task.dependsOn ?? []) expect(seen.has(dep), `${task.id} depends on ${dep}`).toBe(true);
      seen.add(task.id);
    }
    expect(ruleIssues(tasks, catalogue.rules)).toEqual([]);
    const plan = checkPlan({ template: name, ...(EXAMPLES[name] ? { parameters: EXAMPLES[name] } : {}) }, { ...ctx, roles: ROLES, roleDefaults: ROLE_DEFAULTS, base: { title: "Notifications", plan: "auto", goal: "notifications" } });
    expect(plan.ok ? [] : plan.errors).toEqual([]);
    expect(JSON.stringify(tasks)).not.toMatch(/\{\{/);
  });

  it("api-first: schema → spec → backend ∥ frontend → tests → review, with its artifacts, gates and streams", () => {
    const { value } = expand({ template: "api-first" });
    expect(deps(value.tasks)).toEqual({ schema: [], spec: ["schema"], backend: ["spec"], frontend: ["spec"], tests: ["backend", "frontend"], review: ["tests"] });
    const tasks = byId(value.tasks);
    expect(tasks.schema!.produces).toEqual(["docs/database/README.md"]);
    expect(tasks.spec!.produces).toEqual(["docs/openapi.yaml"]);
    expect(tasks.backend!.reads).toContain("docs/openapi.yaml");
    expect(tasks.frontend!.reads).toEqual(["docs/openapi.yaml"]);
    expect(Object.values(tasks).map((task) => [task.id, task.role, task.kind, task.stream])).toEqual([
      ["schema", "database", "schema", "database"], ["spec", "api", "endpoint", "api"], ["backend", "backend", "backend", "backend"],
      ["frontend", "frontend", "frontend", "frontend"], ["tests", "qa", "tests", undefined], ["review", "reviewer", "review", undefined],
    ]);
    expect(tasks.backend!.gates).toEqual(["test"]);
    expect(tasks.review!.gates).toBeUndefined();
    expect(value.gates).toEqual(["test"]);
    expect(Object.keys(value.streams ?? {})).toEqual(["database", "api", "backend", "frontend"]);
    expect(value.template).toBe("api-first");
    // {{goal}} is the title and description; {{basePath}} its default
    expect(tasks.schema!.instructions).toContain("Notifications\n\nwith real-time updates");
    expect(tasks.spec!.instructions).toContain("under /api:");
  });

  it("tdd-feature: the implementation runs test-driven", () => {
    const { value } = expand({ template: "tdd-feature" });
    expect(byId(value.tasks).implement!.tdd).toEqual({ gate: "test" });
  });

  it("expands the same request the same way every time", () => {
    const request = { template: "refactor", parameters: EXAMPLES.refactor! };
    expect(expand(request)).toEqual(expand(structuredClone(request)));
  });
});

describe("a request's overrides", () => {
  it("skip: a skipped step's dependents wait for what it waited for", () => {
    expect(deps(expand({ template: "api-first", skip: ["frontend"] }).value.tasks)).toEqual({ schema: [], spec: ["schema"], backend: ["spec"], tests: ["backend", "spec"], review: ["tests"] });
    expect(deps(expand({ template: "api-first", skip: ["spec", "schema"] }).value.tasks)).toEqual({ backend: [], frontend: [], tests: ["backend", "frontend"], review: ["tests"] });
  });

  it("skip: an unknown step is an error with a did-you-mean", () => {
    expect(errorsOf({ template: "api-first", skip: ["frontent"] })).toEqual([{ path: "skip[0]", message: 'unknown step "frontent" (did you mean "frontend"?) (steps of api-first: schema, spec, backend, frontend, tests, review)' }]);
  });

  it("stepRoles: another role for a step; an unknown step is an error", () => {
    expect(byId(expand({ template: "api-first", stepRoles: { frontend: "mobile" } }).value.tasks).frontend!.role).toBe("mobile");
    expect(errorsOf({ template: "api-first", stepRoles: { backnd: "go" } })).toEqual([{ path: "stepRoles.backnd", message: expect.stringContaining('unknown step "backnd" (did you mean "backend"?)') }]);
  });

  it("extra tasks: added after the steps, may depend on step ids, and the last-kind step (review) waits for them", () => {
    const result = expand({ template: "api-first", tasks: [{ id: "changelog", role: "docs", title: "Changelog", dependsOn: ["backend", "frontend"] }] });
    const tasks = deps(result.value.tasks);
    expect(tasks.changelog).toEqual(["backend", "frontend"]);
    expect(tasks.review).toEqual(["tests", "changelog"]);
    expect(result.notes).toContain("step review also waits for changelog (rule: review last)");
    expect(ruleIssues(result.value.tasks!, catalogue.rules)).toEqual([]);
  });

  it("extra tasks: a task with a skipped step's id takes its place", () => {
    const result = expand({ template: "api-first", skip: ["frontend"], tasks: [{ id: "frontend", role: "mobile", title: "iOS app", dependsOn: ["spec"] }] });
    expect(deps(result.value.tasks).tests).toEqual(["backend", "frontend"]);
    expect(byId(result.value.tasks).frontend!.role).toBe("mobile");
  });

  it("extra tasks: an unknown dependency is an error at the task's own path", () => {
    expect(errorsOf({ template: "api-first", tasks: [{ id: "x", role: "docs", title: "X", dependsOn: ["bakend"] }] })).toEqual([
      { path: "tasks[0].dependsOn[0]", message: 'unknown task or step "bakend" in dependsOn of "x" (did you mean "backend"?)' },
    ]);
  });

  it("extra tasks: an id clashing with a step is a duplicate", () => {
    expect(errorsOf({ template: "api-first", tasks: [{ id: "tests", role: "qa", title: "More tests" }] })).toEqual([expect.objectContaining({ path: "tasks[0].id", message: expect.stringContaining('duplicate task id "tests"') })]);
  });

  it("parameters: given values are used; unknown, missing and mistyped ones are errors", () => {
    expect(byId(expand({ template: "api-first", parameters: { basePath: "/v2" } }).value.tasks).spec!.instructions).toContain("under /v2:");
    expect(errorsOf({ template: "api-first", parameters: { basePth: "/v2" } })).toEqual([{ path: "parameters.basePth", message: 'unknown parameter "basePth" of template api-first (did you mean "basePath"?) (parameters: basePath)' }]);
    expect(errorsOf({ template: "refactor" })).toEqual([{ path: "parameters.modules", message: expect.stringMatching(/^template refactor needs parameter "modules": /) }]);
    expect(errorsOf({ template: "refactor", parameters: { modules: "src/a" } })).toEqual([{ path: "parameters.modules", message: 'parameter "modules" is a list: give a list of strings' }]);
  });

  it("an unknown template is an error that lists the templates", () => {
    expect(errorsOf({ template: "api-frist" })).toEqual([{ path: "template", message: expect.stringContaining('unknown template "api-frist" (did you mean "api-first"?) (templates: api-first, bugfix') }]);
  });

  it("the request's gates, streams and failure policy win over the template's", () => {
    const { value } = expand({ template: "api-first", gates: ["lint"], streams: { all: {} }, onFailure: { then: "escalate" } });
    expect(value.gates).toEqual(["lint"]);
    expect(value.streams).toEqual({ all: {} });
    expect(value.onFailure).toEqual({ then: "escalate" });
  });
});

describe("gates the operator has not configured", () => {
  it("are left out of the steps, with a note; review needs no configuration", () => {
    const template = { name: "mini", description: "x", steps: [{ id: "a", role: "backend", title: "A", gates: ["test", "review"] }], gates: ["test"], streams: { s: { gates: ["test"] } } };
    const result = expand({ template: "mini" }, { catalogue: catalogueFrom([template], catalogue.rules), gates: ["lint"] });
    expect(result.value.tasks).toEqual([{ id: "a", role: "backend", title: "A", gates: ["review"] }]);
    expect(result.value.gates).toBeUndefined();
    expect(result.value.streams).toEqual({ s: {} });
    expect(result.notes).toEqual(["gate test is not configured: step a runs without it", "gate test is not configured: the feature runs without it", "gate test is not configured: stream s runs without it"]);
  });

  it("a test-driven step without its gate runs without the test-driven phases", () => {
    const result = expand({ template: "tdd-feature" }, { catalogue, gates: [] });
    expect(byId(result.value.tasks).implement!.tdd).toBeUndefined();
    expect(result.notes).toContain("gate test is not configured: step implement runs without its test-driven phases");
  });

  it("every gate counts as configured when the operator's list is not given", () => {
    expect(expand({ template: "api-first" }, { catalogue }).notes).toEqual([]);
  });

  it("a role's default gates apply to steps that name none (filtered the same way)", () => {
    const result = expand({ template: "api-first" }, { catalogue, gates: ["test", "lint"], roleDefaults: { database: { gates: ["lint", "bench"] }, backend: { gates: ["lint"] } } });
    const tasks = byId(result.value.tasks);
    expect(tasks.schema!.gates).toEqual(["lint"]);
    expect(tasks.backend!.gates).toEqual(["test"]);
    expect(result.notes).toEqual(["gate bench is not configured: step schema (a default gate of role database) runs without it"]);
  });
});

describe("forEach steps", () => {
  it("become one task per item; chained, each waits for the one before, and a dependency on the step means its last item", () => {
    const { value } = expand({ template: "refactor", parameters: { modules: ["users", "orders", "billing"] } });
    const tasks = byId(value.tasks);
    expect(deps(value.tasks)).toMatchObject({ "migrate-1": ["structure"], "migrate-2": ["migrate-1"], "migrate-3": ["migrate-2"], cleanup: ["migrate-3"] });
    expect(tasks["migrate-2"]!.title).toBe("Migrate orders to the new structure");
    expect(tasks["migrate-2"]!.instructions).toContain("Move orders (module 2 of the list: users, orders, billing)");
  });

  it("not chained, run side by side, and a dependency on the step means all of them; an empty list is skipped with a note", () => {
    const template = {
      name: "fan", description: "x", parameters: { parts: { description: "parts", list: true } },
      steps: [{ id: "start", role: "backend", title: "Start" }, { id: "part", role: "backend", title: "Part {{item}}", forEach: "parts", dependsOn: ["start"] }, { id: "end", role: "qa", title: "End", dependsOn: ["part"] }],
    };
    const fan = { catalogue: catalogueFrom([template], catalogue.rules) };
    expect(deps(expand({ template: "fan", parameters: { parts: ["a", "b"] } }, fan).value.tasks)).toEqual({ start: [], "part-1": ["start"], "part-2": ["start"], end: ["part-1", "part-2"] });
    const empty = expand({ template: "fan" }, fan);
    expect(deps(empty.value.tasks)).toEqual({ start: [], end: ["start"] });
    expect(empty.notes).toEqual(["step part has no items (parameter parts is an empty list): what depends on it waits for what it waits for"]);
  });
});

describe("loading template files", () => {
  const scratch = () => mkdtempSync(join(tmpdir(), "baton-templates-"));

  it("an invalid file is a problem with its file, line and field, and the other templates still load", () => {
    const dir = scratch();
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, ["name: bad", "description: a bad one", "steps:", "  - id: a", "    role: backend", "    title: A", "  - id: b", "    role: backend", "    title: B", "    dependOn: [a]", ""].join("\n"));
    writeFileSync(join(dir, "good.yaml"), "name: good\ndescription: fine\nsteps:\n  - id: a\n    role: backend\n    title: A\n");
    const loaded = loadPlanningCatalogue({ templateDirs: [dir] });
    expect(loaded.problems).toEqual([{ file: bad, line: 10, field: "steps[1].dependOn", message: expect.stringContaining('unknown field "dependOn" (did you mean "dependsOn"?)') }]);
    expect(loaded.templates.good?.source).toBe(join(dir, "good.yaml"));
    expect(loaded.templates.bad).toBeUndefined();
    expect(loaded.templates["api-first"]).toBeDefined();
  });

  it("inconsistent templates: unknown dependsOn, forEach over a non-list, a cycle, a kind with no rule and no role, an unknown placeholder", () => {
    const dir = scratch();
    const file = join(dir, "messy.yaml");
    writeFileSync(file, [
      "name: messy", "description: x", "parameters:", "  area:", "    description: where", "steps:",
      "  - id: a", "    kind: backend", "    title: A in {{aera}}", "    dependsOn: [c]",
      "  - id: b", "    kind: wizardry", "    title: B", "    forEach: area", "    dependsOn: [zz]",
      "  - id: c", "    role: qa", "    title: C", "    dependsOn: [a]", "",
    ].join("\n"));
    const { problems } = loadPlanningCatalogue({ templateDirs: [dir] });
    const found = problems.map(({ line, field, message }) => ({ line, field, message }));
    expect(found).toHaveLength(5);
    expect(found).toEqual(expect.arrayContaining([
      { line: 9, field: "steps[0].title", message: 'unknown placeholder {{aera}} (did you mean "area"?) (known: goal, area)' },
      { line: 14, field: "steps[1].forEach", message: "parameter \"area\" is not a list: add `list: true` to it" },
      { line: 12, field: "steps[1].kind", message: 'no selection rule has kind "wizardry": give the step a role, or add a rule for the kind' },
      { line: 15, field: "steps[1].dependsOn[0]", message: 'unknown step "zz" in dependsOn of step "b"' },
      { line: 10, field: "steps[0].dependsOn", message: "dependency cycle among steps: a dependsOn c dependsOn a" },
    ]));
    expect(problems.every((problem) => problem.file === file)).toBe(true);
  });

  it("a YAML syntax error and a name that is not the file's are problems too", () => {
    const dir = scratch();
    writeFileSync(join(dir, "broken.yaml"), "name: broken\nsteps: [\n");
    writeFileSync(join(dir, "other.yaml"), "name: renamed\ndescription: x\nsteps:\n  - { id: a, role: backend, title: A }\n");
    const { problems } = loadPlanningCatalogue({ templateDirs: [dir] });
    expect(problems).toEqual([
      { file: join(dir, "broken.yaml"), line: expect.any(Number), message: expect.stringMatching(/^YAML syntax: /) },
      { file: join(dir, "other.yaml"), line: 1, field: "name", message: expect.stringContaining('the template\'s name "renamed" differs from its file name') },
    ]);
  });

  it("a later folder's template of the same name wins; a missing folder is a problem", () => {
    const dir = scratch();
    writeFileSync(join(dir, "api-first.yaml"), "name: api-first\ndescription: ours\nsteps:\n  - { id: only, role: backend, title: Only }\n");
    const loaded = loadPlanningCatalogue({ templateDirs: [dir, join(dir, "missing")] });
    expect(loaded.templates["api-first"]).toMatchObject({ description: "ours", source: join(dir, "api-first.yaml") });
    expect(loaded.problems).toEqual([{ file: join(dir, "missing"), message: expect.stringContaining("cannot read the templates folder") }]);
  });

  it("the shipped folder is found from the sources and from dist/", () => {
    expect(shippedRoot()).toBe(ROOT);
    const fake = mkdtempSync(join(tmpdir(), "baton-pkg-"));
    mkdirSync(join(fake, "templates"));
    mkdirSync(join(fake, "dist", "shared", "planning"), { recursive: true });
    writeFileSync(join(fake, "package.json"), "{}");
    expect(shippedRoot(join(fake, "dist", "shared", "planning"))).toBe(fake);
  });
});
