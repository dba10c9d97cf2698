// Selection rules: a task's kind, and each way a plan can break the order the rules ask for — detected with a
// message that says what to change; a plan in the right order passes. Also the rules file's own problems.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SelectionRule } from "../../shared/protocol/index.ts";
import { kindOf, loadPlanningCatalogue, matchKinds, ruleIssues, type RuleTask } from "../../shared/planning/index.ts";

const { rules, problems } = loadPlanningCatalogue({});
const task = (id: string, role: string, dependsOn: string[] = [], kind?: string): RuleTask => ({ id, role, dependsOn, ...(kind ? { kind } : {}) });
/** A plan in the order the rules ask for (api-first's shape). */
const good = (): RuleTask[] => [
  task("schema", "database"), task("spec", "api", ["schema"]), task("backend", "backend", ["spec"]), task("frontend", "frontend", ["spec"]),
  task("tests", "qa", ["backend", "frontend"]), task("review", "reviewer", ["tests"]),
];

describe("the shipped rules", () => {
  it("load without problems and say what the issue asks for", () => {
    expect(problems).toEqual([]);
    const rule = (kind: string) => rules.find((each) => each.kind === kind)!;
    expect(rule("schema")).toMatchObject({ role: "database", before: expect.arrayContaining(["endpoint", "backend", "frontend", "tests"]) });
    expect(rule("endpoint")).toMatchObject({ role: "api", before: expect.arrayContaining(["backend", "frontend"]) });
    expect(rule("tests")).toMatchObject({ role: "qa", always: true });
    expect(rule("review")).toMatchObject({ role: "reviewer", last: true });
    expect(rule("devops").role).toBe("devops");
    for (const each of rules) expect(each.match?.length, each.kind).toBeGreaterThan(0);
  });

  it("match words point a goal to its kinds", () => {
    expect(matchKinds("Add a notifications endpoint and a new table for read receipts", rules)).toEqual(expect.arrayContaining(["schema", "endpoint", "backend"]));
    expect(matchKinds("Fix the CI pipeline", rules)).toEqual(expect.arrayContaining(["devops", "bugfix"]));
    // whole words only: "tablet" is not "table"
    expect(matchKinds("tablet layout", rules)).not.toContain("schema");
  });
});

describe("kindOf", () => {
  it("is the task's kind, else the first rule of its role, else undefined", () => {
    expect(kindOf({ role: "backend", kind: "performance" }, rules)).toBe("performance");
    expect(kindOf({ role: "backend" }, rules)).toBe("backend");
    expect(kindOf({ role: "database" }, rules)).toBe("schema");
    expect(kindOf({ role: "mobile" }, rules)).toBeUndefined();
  });
});

describe("ruleIssues", () => {
  it("passes a plan in the right order", () => {
    expect(ruleIssues(good(), rules)).toEqual([]);
  });

  it("before: a later kind that does not wait for the earlier one, with the dependency to add", () => {
    const tasks = good();
    tasks[2] = task("backend", "backend", []);
    expect(ruleIssues(tasks, rules)).toEqual([
      { path: "tasks[2].dependsOn", message: 'task backend (kind backend) must come after task schema (kind schema): add "schema" to its dependsOn (rule: schema before backend)' },
      { path: "tasks[2].dependsOn", message: 'task backend (kind backend) must come after task spec (kind endpoint): add "spec" to its dependsOn (rule: endpoint before backend)' },
    ]);
  });

  it("before: the wrong way round says to reverse the dependency", () => {
    const tasks = [task("schema", "database", ["backend"]), task("backend", "backend"), task("tests", "qa", ["schema"])];
    expect(ruleIssues(tasks, rules)).toEqual([{ path: "tasks[1].dependsOn", message: "task backend (kind backend) must come after task schema (kind schema): but schema depends on it (directly or not): reverse that dependency (rule: schema before backend)" }]);
  });

  it("before: with several tasks of the earlier kind, any one of them will do", () => {
    const tasks = [task("users", "database"), task("orders", "database"), task("api", "backend", ["orders"]), task("ui", "frontend"), task("tests", "qa", ["api", "ui", "users"])];
    expect(ruleIssues(tasks, rules)).toEqual([{ path: "tasks[3].dependsOn", message: 'task ui (kind frontend) must come after a task of kind schema (users, orders): add "users" to its dependsOn (rule: schema before frontend)' }]);
  });

  it("always: a plan without tests says which task to add", () => {
    expect(ruleIssues([task("backend", "backend")], rules)).toEqual([{ path: "tasks", message: expect.stringMatching(/^the plan has no task of kind tests: add one \(role "qa", kind "tests"\) \(rule: tests always — /) }]);
  });

  it("last: the review must wait for every other task; only the last tasks need adding", () => {
    const tasks = [...good(), task("docs", "docs", ["backend"]), task("deploy", "devops", ["docs"])];
    expect(ruleIssues(tasks, rules)).toEqual([{ path: "tasks[5].dependsOn", message: 'task review (kind review) must come after every other task: add "deploy" to its dependsOn (rule: review last)' }]);
  });

  it("last: a task after the review must stop depending on it", () => {
    const tasks = [...good(), task("docs", "docs", ["review"])];
    expect(ruleIssues(tasks, rules)).toEqual([{ path: "tasks[5].dependsOn", message: "task review (kind review) must come after every other task: docs comes after it (depending on it, directly or not): make it not depend on review (rule: review last)" }]);
  });

  it("last: applies only when the plan has a task of that kind; explicit kinds count", () => {
    expect(ruleIssues([task("fix", "bugfix"), task("tests", "qa", ["fix"]), task("docs", "docs")], rules)).toEqual([]);
    expect(ruleIssues([task("look", "backend", [], "review"), task("tests", "qa")], rules)).toEqual([expect.objectContaining({ path: "tasks[0].dependsOn" })]);
  });

  it("tolerates cycles and unknown dependencies (the graph checks report those)", () => {
    const tasks = [task("a", "backend", ["b", "ghost"]), task("b", "backend", ["a"]), task("tests", "qa", ["a"])];
    expect(ruleIssues(tasks, rules)).toEqual([]);
  });

  it("uses whatever rules it is given", () => {
    const custom: SelectionRule[] = [{ kind: "design", role: "architect", description: "design first", before: ["backend"] }, { kind: "backend", role: "backend", description: "code" }];
    expect(ruleIssues([task("code", "backend"), task("think", "architect")], custom)).toEqual([{ path: "tasks[0].dependsOn", message: 'task code (kind backend) must come after task think (kind design): add "think" to its dependsOn (rule: design before backend)' }]);
  });
});

describe("a rules file", () => {
  it("with invalid rules: each is a problem with its line and field, and the valid ones still load", () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-rules-"));
    const file = join(dir, "rules.yaml");
    writeFileSync(file, [
      "rules:",
      "  - kind: schema", "    role: database", "    description: first", "    before: [backnd]",
      "  - kind: backend", "    role: backend", "    description: code", "    lst: true",
      "  - kind: schema", "    role: other", "    description: again",
      "  - kind: tests", "    role: qa", "    description: tests", "    last: true",
      "  - kind: review", "    role: reviewer", "    description: review", "    last: true", "",
    ].join("\n"));
    const loaded = loadPlanningCatalogue({ rulesFile: file });
    expect(loaded.rulesSource).toBe(file);
    expect(loaded.rules.map((rule) => rule.kind)).toEqual(["schema", "tests", "review"]);
    expect(loaded.problems.filter((problem) => problem.file === file)).toEqual([
      { file, line: 9, field: "rules[1].lst", message: expect.stringContaining('unknown field "lst" (did you mean "last"?)') },
      { file, line: 10, field: "rules[2].kind", message: 'a second rule for kind "schema" (the first one counts)' },
      { file, line: 5, field: "rules[0].before[0]", message: 'no rule has kind "backnd"' },
      { file, line: 20, field: "rules[4].last", message: "only one kind can come last (tests, review are all last)" },
    ]);
  });

  it("that cannot be parsed is a problem with its line", () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-rules-"));
    const file = join(dir, "rules.yaml");
    writeFileSync(file, "rules:\n  - kind: schema\n    description: a: b\n");
    const loaded = loadPlanningCatalogue({ rulesFile: file });
    expect(loaded.rules).toEqual([]);
    expect(loaded.problems).toEqual([expect.objectContaining({ file, line: 3, message: expect.stringMatching(/^YAML syntax: /) })]);
  });
});
