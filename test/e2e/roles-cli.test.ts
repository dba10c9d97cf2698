// `baton roles` as a user runs it (the real bin, as a process): on a workspace whose .claude/agents/ overrides one of
// Baton's roles and whose .baton/roles/ holds an invalid file, with a config that adds a folder of its own.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBatonSync } from "../helpers/procs.ts";

function workspace(): { dir: string; cfg: string } {
  const dir = mkdtempSync(join(tmpdir(), "baton-roles-cli-"));
  mkdirSync(join(dir, "ws", ".claude", "agents"), { recursive: true });
  mkdirSync(join(dir, "ws", ".baton", "roles"), { recursive: true });
  mkdirSync(join(dir, "team-roles"));
  writeFileSync(join(dir, "ws", ".claude", "agents", "backend.md"), "---\r\nname: backend\r\ndescription: Our backend\r\ntools: Read, Edit\r\nmodel: sonnet\r\nagent: codex\r\n---\r\nUse our framework.\r\n");
  writeFileSync(join(dir, "ws", ".baton", "roles", "broken.md"), "---\nname: broken\ndescription: ok\nmaxConcurrency: lots\n---\nx\n");
  writeFileSync(join(dir, "team-roles", "security.md"), "---\ndescription: Threat models\n---\nFind the holes.\n");
  const cfg = join(dir, "baton.config.yaml");
  writeFileSync(cfg, "workspace: ./ws\nplanning:\n  roles: [./team-roles]\n");
  return { dir, cfg };
}

describe("e2e: baton roles", () => {
  it("--json lists the loaded roles with origin and overrides, and the invalid file by file:line:field; exit 0", () => {
    const { dir, cfg } = workspace();
    const ran = runBatonSync(["roles", "--json", "--config", cfg]);
    expect(ran.status, ran.stderr).toBe(0);
    const listed = JSON.parse(ran.stdout) as { workspace: string; roles: { name: string; origin: string; source: string; overrides: string[]; model?: string; agent?: string; tools?: string[] }[]; problems: { file: string; line?: number; field?: string }[] };
    expect(listed.workspace).toBe(join(dir, "ws"));
    const names = listed.roles.map((role) => role.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(["api", "backend", "planner", "reviewer", "security"]));
    const backend = listed.roles.find((role) => role.name === "backend")!;
    expect(backend).toMatchObject({ origin: "workspace-claude", source: join(dir, "ws", ".claude", "agents", "backend.md"), model: "sonnet", agent: "codex", tools: ["Read", "Edit"] });
    expect(backend.overrides).toHaveLength(1);
    expect(backend.overrides[0]).toMatch(/roles[/\\]backend\.md$/);
    expect(listed.roles.find((role) => role.name === "security")).toMatchObject({ origin: "config", overrides: [] });
    expect(listed.roles.find((role) => role.name === "api")).toMatchObject({ origin: "baton" });
    expect(listed.problems).toEqual([expect.objectContaining({ file: join(dir, "ws", ".baton", "roles", "broken.md"), line: 4, field: "maxConcurrency" })]);
    expect(names).not.toContain("broken");
  });

  it("prints the listing and the problem as file:line: field: message; --workspace picks another folder", () => {
    const { dir, cfg } = workspace();
    const ran = runBatonSync(["roles", "--config", cfg]);
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`backend  workspace-claude  ${join(dir, "ws", ".claude", "agents", "backend.md")}`);
    expect(ran.stdout).toMatch(/overrides \S*roles[/\\]backend\.md/);
    expect(ran.stdout).toContain(`${join(dir, "ws", ".baton", "roles", "broken.md")}:4: maxConcurrency: must be a whole number, at least 1`);
    const elsewhere = runBatonSync(["roles", "--json", "--config", cfg, "--workspace", join(dir, "team-roles")]);
    const other = JSON.parse(elsewhere.stdout) as { roles: { name: string; origin: string }[]; problems: unknown[] };
    expect(other.problems).toEqual([]);
    expect(other.roles.find((role) => role.name === "backend")).toMatchObject({ origin: "baton" });
  });

  it("an invalid config cannot run: exit 1 with the reason", () => {
    const { dir } = workspace();
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "planning:\n  roles: 5\n");
    const ran = runBatonSync(["roles", "--config", bad]);
    expect(ran.status).toBe(1);
    expect(ran.stderr).toContain("planning.roles");
  });
});
