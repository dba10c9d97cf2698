// The workspace summary a planner is shown: tree (bounded, dependencies and build output skipped), package.json,
// test runner, README start, languages; on a real temp folder. It never throws.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderWorkspaceSummary, summarizeWorkspace, SUMMARY_LIMITS } from "../../services/worker/workspace-summary.ts";

const root = mkdtempSync(join(tmpdir(), "baton-ws-summary-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("summarizeWorkspace", () => {
  it("a Node project: name, scripts, dependency names, vitest, README start, languages; node_modules, .git and dist skipped", async () => {
    const readme = Array.from({ length: 60 }, (_unused, index) => `line ${index + 1}`).join("\n");
    const dir = folder("node", {
      "package.json": JSON.stringify({ name: "todo-app", scripts: { test: "vitest run", start: "node src/server.js" }, dependencies: { express: "^4" }, devDependencies: { vitest: "^3" } }),
      "README.md": readme,
      "src/server.js": "", "src/app.ts": "", "src/db/schema.sql": "", "src/db/deep/more.ts": "",
      "node_modules/express/index.js": "", ".git/HEAD": "", "dist/app.js": "",
    });
    const summary = await summarizeWorkspace(dir);
    expect(summary.packageJson).toEqual({ name: "todo-app", scripts: { test: "vitest run", start: "node src/server.js" }, dependencies: ["express"], devDependencies: ["vitest"] });
    expect(summary.testRunner).toBe("vitest");
    expect(summary.readme?.file).toBe("README.md");
    expect(summary.readme?.lines).toHaveLength(SUMMARY_LIMITS.readmeLines);
    expect(summary.tree).toEqual(["README.md", "package.json", "src/", "src/app.ts", "src/db/", "src/server.js"]);
    expect(summary.tree.some((path) => /node_modules|\.git|dist/.test(path))).toBe(false);
    expect(Object.fromEntries(summary.languages)).toEqual({ TypeScript: 2, JavaScript: 1, SQL: 1, JSON: 1, Markdown: 1 });
    const text = renderWorkspaceSummary(summary);
    expect(text).toContain("package.json: todo-app\n- scripts:\n  - test: vitest run");
    expect(text).toContain("- dependencies: express");
    expect(text).toContain("Test runner: vitest");
    expect(text).toContain("> line 40");
    expect(text).not.toContain("> line 41");
  });

  it("recognises node --test, pytest and go test", async () => {
    const nodeTest = await summarizeWorkspace(folder("nodetest", { "package.json": JSON.stringify({ scripts: { test: "node --test test/" } }) }));
    expect(nodeTest.testRunner).toBe("node --test");
    expect((await summarizeWorkspace(folder("py", { "pyproject.toml": "", "app/main.py": "" }))).testRunner).toBe("pytest");
    expect((await summarizeWorkspace(folder("go", { "go.mod": "module x", "main.go": "" }))).testRunner).toBe("go test");
  });

  it("bounds the tree and the rendered text", async () => {
    const files: Record<string, string> = {};
    for (let index = 0; index < 300; index++) files[`f${String(index).padStart(3, "0")}.txt`] = "";
    const summary = await summarizeWorkspace(folder("many", files));
    expect(summary.tree).toHaveLength(SUMMARY_LIMITS.treeEntries);
    expect(summary.treeCut).toBe(true);
    expect(renderWorkspaceSummary(summary)).toContain("… (more not shown)");
    const huge = renderWorkspaceSummary({ ...summary, tree: Array.from({ length: 5000 }, (_unused, index) => `a-long-file-name-${index}.txt`) });
    expect(huge.length).toBeLessThanOrEqual(SUMMARY_LIMITS.renderedChars + 20);
  });

  it("never throws: a missing folder, a broken package.json", async () => {
    const missing = await summarizeWorkspace(join(root, "does-not-exist"));
    expect(missing).toMatchObject({ tree: [], languages: [] });
    expect(renderWorkspaceSummary(missing)).toContain("The workspace is empty.");
    const broken = await summarizeWorkspace(folder("broken", { "package.json": "{ not json" }));
    expect(broken.packageJson).toBeUndefined();
    expect(broken.tree).toEqual(["package.json"]);
  });
});
