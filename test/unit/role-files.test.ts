// Role files (issue 13, item 1): parsing files as they are found in the wild (CRLF, a BOM, no front matter, unknown
// keys, tools as a string or a list, Claude Code's unquoted descriptions), problems with the file's line and the
// field, the load order with overrides, one bad file not stopping the others, and Baton's ten shipped roles.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRoleCatalogue, parseRoleFile, shippedRolesDir, type RoleProblem } from "../../shared/roles/index.ts";

const FILE = "/repo/.claude/agents/code-reviewer.md";

function parsedRole(text: string, file = FILE) {
  const parsed = parseRoleFile(text, file, "workspace-claude");
  if (!parsed.ok) throw new Error(`expected the file to load, got ${JSON.stringify(parsed.problems)}`);
  return parsed.role;
}

function problemsOf(text: string, file = FILE): RoleProblem[] {
  const parsed = parseRoleFile(text, file, "config");
  if (parsed.ok) throw new Error(`expected problems, got the role ${parsed.role.name}`);
  return parsed.problems;
}

describe("parseRoleFile: files as found in the wild", () => {
  it("reads a Claude Code subagent with CRLF line endings and a BOM; tools as a comma string; unknown keys kept", () => {
    const text = "\uFEFF---\r\nname: code-reviewer\r\ndescription: Reviews code\r\ntools: Read, Grep ,Glob\r\nmodel: sonnet\r\ncolor: red\r\npermissionMode: plan\r\n---\r\n\r\nYou review code.\r\nBe kind.\r\n";
    expect(parsedRole(text)).toEqual({
      name: "code-reviewer", description: "Reviews code", tools: ["Read", "Grep", "Glob"], model: "sonnet", color: "red",
      prompt: "You review code.\nBe kind.", extra: { permissionMode: "plan" }, source: FILE, origin: "workspace-claude",
    });
  });

  it("takes tools and Baton's keys as YAML lists, and a single path as a list of one", () => {
    const role = parsedRole("---\nname: api\ntools:\n  - Read\n  - Write\nagent: codex\ngates: [lint, unit]\nmaxConcurrency: 2\nproduces: docs/openapi.yaml\nreads:\n  - docs/database/README.md\n---\nWrite the spec.");
    expect(role).toMatchObject({ tools: ["Read", "Write"], agent: "codex", gates: ["lint", "unit"], maxConcurrency: 2, produces: ["docs/openapi.yaml"], reads: ["docs/database/README.md"] });
  });

  it("a file without front matter is all prompt, named after the file", () => {
    expect(parsedRole("Just do the backend work.\r\n", "/x/backend.md")).toMatchObject({ name: "backend", prompt: "Just do the backend work.", extra: {} });
  });

  it("an empty body and empty front matter load (an empty prompt)", () => {
    expect(parsedRole("---\nname: docs\n---\n")).toMatchObject({ name: "docs", prompt: "" });
    expect(parsedRole("---\n---\n", "/x/qa.md")).toMatchObject({ name: "qa", prompt: "" });
    expect(parsedRole("", "/x/qa.md")).toMatchObject({ name: "qa", prompt: "" });
  });

  it("loads Claude Code's generated descriptions with unquoted `: ` (which strict YAML rejects)", () => {
    const role = parsedRole("---\nname: code-reviewer\ndescription: Use this agent after code changes. Examples: <example>Context: user: \"review\"</example>\nmodel: inherit\n---\nReview.");
    expect(role.description).toBe('Use this agent after code changes. Examples: <example>Context: user: "review"</example>');
    expect(role.model).toBe("inherit");
  });
});

describe("parseRoleFile: problems name the file, the line and the field", () => {
  it("invalid YAML: the line in the file (front matter starts on line 2)", () => {
    const problems = problemsOf("---\nname: backend\ndescription: fine\ntools: [Read, Write\n---\nbody");
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ file: FILE, field: "tools" });
    expect(problems[0]!.line).toBeGreaterThanOrEqual(4);
    expect(problems[0]!.message).toMatch(/^invalid YAML: /);
    expect(problemsOf("---\nname: a\nname: b\n---\n")[0]).toMatchObject({ line: 3, message: expect.stringContaining("unique") });
  });

  it("a field of the wrong type: its key's line and the field, also with CRLF", () => {
    expect(problemsOf("---\r\nname: backend\r\ndescription: x\r\nmaxConcurrency: many\r\n---\r\nbody")).toEqual([
      { file: FILE, line: 4, field: "maxConcurrency", message: "must be a whole number, at least 1" },
    ]);
    expect(problemsOf("---\nname: backend\ntools:\n  - Read\n  - 5\n---\n")).toEqual([
      { file: FILE, line: 5, field: "tools[1]", message: expect.stringContaining("expected string") },
    ]);
    expect(problemsOf("---\ndescription:\n  nested: map\n---\n")[0]).toMatchObject({ line: 2, field: "description" });
    expect(problemsOf("---\nagent: cursor\n---\n")[0]).toMatchObject({ line: 2, field: "agent", message: "must be one of claude-code, codex, gemini, llm" });
    expect(problemsOf("---\nreads: [../secrets.txt]\n---\n")[0]).toMatchObject({ line: 2, field: "reads[0]" });
  });

  it("an invalid name, in the front matter or as the file name", () => {
    expect(problemsOf("---\ndescription: x\nname: my role\n---\n")).toEqual([
      { file: FILE, line: 3, field: "name", message: expect.stringContaining("[A-Za-z0-9_-]") },
    ]);
    expect(problemsOf("prompt only", "/x/my role.md")).toEqual([
      { file: "/x/my role.md", field: "name", message: expect.stringContaining('"my role" is not a role name') },
    ]);
    expect(parsedRole("---\nname: fine\n---\n", "/x/my role.md").name).toBe("fine");
  });

  it("front matter that is not key: value lines, or never closed", () => {
    expect(problemsOf("---\n- a\n- b\n---\n")).toEqual([{ file: FILE, line: 2, message: expect.stringContaining("key: value") }]);
    expect(problemsOf("---\nname: backend\nbody without a closing line\n")).toEqual([{ file: FILE, line: 1, message: expect.stringContaining("never closed") }]);
  });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "baton-roles-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("loadRoleCatalogue", () => {
  it("loads shipped → config dirs → .claude/agents → .baton/roles, a later file overriding the same name", () => {
    const root = tree({
      "shipped/backend.md": "shipped backend",
      "shipped/qa.md": "shipped qa",
      "shipped/notes.txt": "not a role file",
      "ops/backend.md": "---\nmodel: opus\n---\nops backend",
      "ws/.claude/agents/backend.md": "claude backend",
      "ws/.claude/agents/helper.md": "---\nname: qa\n---\nclaude qa",
      "ws/.baton/roles/backend.md": "baton backend",
    });
    const catalogue = loadRoleCatalogue({ shipped: join(root, "shipped"), dirs: [join(root, "ops"), join(root, "missing")], workspace: join(root, "ws") });
    expect(catalogue.problems).toEqual([]);
    expect(Object.keys(catalogue.roles).sort()).toEqual(["backend", "qa"]);
    expect(catalogue.roles.backend).toMatchObject({ prompt: "baton backend", origin: "workspace-baton", source: join(root, "ws/.baton/roles/backend.md") });
    expect(catalogue.roles.qa).toMatchObject({ prompt: "claude qa", origin: "workspace-claude" });
    expect(catalogue.overridden).toEqual([
      { name: "backend", source: join(root, "shipped/backend.md"), by: join(root, "ops/backend.md") },
      { name: "backend", source: join(root, "ops/backend.md"), by: join(root, "ws/.claude/agents/backend.md") },
      { name: "qa", source: join(root, "shipped/qa.md"), by: join(root, "ws/.claude/agents/helper.md") },
      { name: "backend", source: join(root, "ws/.claude/agents/backend.md"), by: join(root, "ws/.baton/roles/backend.md") },
    ]);
  });

  it("one bad file is a problem and never stops the others; the lower role of its name stays", () => {
    const root = tree({
      "shipped/backend.md": "shipped backend",
      "ws/.baton/roles/a-bad.md": "---\nname: backend\ntools: 7\n---\nbroken",
      "ws/.baton/roles/z-good.md": "---\nname: docs\n---\nwrite docs",
    });
    const catalogue = loadRoleCatalogue({ shipped: join(root, "shipped"), workspace: join(root, "ws") });
    expect(catalogue.roles.backend?.prompt).toBe("shipped backend");
    expect(catalogue.roles.docs?.prompt).toBe("write docs");
    expect(catalogue.problems).toEqual([{ file: join(root, "ws/.baton/roles/a-bad.md"), line: 3, field: "tools", message: "must be a comma-separated string or a list of strings" }]);
  });

  it("missing folders are fine; without a workspace only Baton's and the operator's roles load", () => {
    const root = tree({ "shipped/qa.md": "qa" });
    expect(loadRoleCatalogue({ shipped: join(root, "nowhere"), dirs: [join(root, "nor-here")], workspace: join(root, "no-ws") })).toEqual({ roles: {}, problems: [], overridden: [] });
    expect(Object.keys(loadRoleCatalogue({ shipped: join(root, "shipped") }).roles)).toEqual(["qa"]);
  });
});

describe("Baton's shipped roles/", () => {
  const TEN = ["api", "backend", "bugfix", "database", "devops", "docs", "frontend", "planner", "qa", "reviewer"];

  it("has the ten defaults, each parsing with no problem, a description, tools and a prompt that says how to ask a person", () => {
    const dir = shippedRolesDir();
    expect(readdirSync(dir).filter((name) => name.endsWith(".md")).sort()).toEqual(TEN.map((name) => `${name}.md`));
    const catalogue = loadRoleCatalogue({ shipped: dir });
    expect(catalogue.problems).toEqual([]);
    expect(Object.keys(catalogue.roles).sort()).toEqual(TEN);
    for (const role of Object.values(catalogue.roles)) {
      expect(role.origin).toBe("baton");
      expect(role.description, role.name).toBeTruthy();
      expect(role.tools?.length, role.name).toBeGreaterThan(0);
      expect(role.prompt, role.name).toContain('"question"');
      expect(role.prompt, role.name).toContain("$BATON_RESULT_FILE");
      expect(role.prompt.split("\n").length, role.name).toBeLessThanOrEqual(60);
    }
    expect(catalogue.roles.database?.produces).toEqual(["docs/database/README.md"]);
    expect(catalogue.roles.api?.produces).toEqual(["docs/openapi.yaml"]);
    expect(catalogue.roles.backend?.reads).toContain("docs/openapi.yaml");
  });

  it("is the default shipped folder of loadRoleCatalogue", () => {
    expect(Object.keys(loadRoleCatalogue({}).roles).sort()).toEqual(TEN);
  });
});
