// What an agent run takes from role files (services/worker/agents/role-prompt.ts): the config's prompt file, model and
// allowedTools win; else the role file's body, model (not `inherit`) and tools (Claude Code only); a git feature's
// role files come from its repository, not the worktree; edits are seen once the short cache expires.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../shared/logging.ts";
import { createRoleSource, type RoleSourceOptions } from "../../services/worker/agents/role-prompt.ts";

const log = createLogger({ name: "test", level: "silent" });

function folders() {
  const root = mkdtempSync(join(tmpdir(), "baton-role-prompt-"));
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write("shipped/backend.md", "---\ntools: Read, Edit, Bash\nmodel: inherit\n---\nShipped backend prompt.");
  write("shipped/reviewer.md", "---\nmodel: claude-opus-4\n---\nShipped reviewer prompt.");
  mkdirSync(join(root, "run"));
  return { root, write, shipped: join(root, "shipped"), run: join(root, "run") };
}

function source(opts: Partial<RoleSourceOptions> & { shipped: string; root: string }) {
  return createRoleSource({
    role: "backend", rc: {}, useTools: true, ...opts,
    deps: { roleDirs: [], cwd: opts.root, workspaceRoots: [opts.root], ...opts.deps },
  });
}

const TASK = { featureId: "f1" };

describe("worker: role prompt, model and tools from role files", () => {
  it("without config settings: the role file's body and tools; `model: inherit` is no model", async () => {
    const dirs = folders();
    const setup = await source(dirs).forRun(TASK, dirs.run, log);
    expect(setup).toEqual({ prompt: "Shipped backend prompt.", model: undefined, allowedTools: ["Read", "Edit", "Bash"], file: join(dirs.shipped, "backend.md") });
    const reviewer = await source({ ...dirs, role: "reviewer" }).forRun(TASK, dirs.run, log);
    expect(reviewer).toMatchObject({ prompt: "Shipped reviewer prompt.", model: "claude-opus-4", allowedTools: undefined });
  });

  it("the operator's config wins: prompt file, model, allowedTools", async () => {
    const dirs = folders();
    dirs.write("prompts/backend.md", "Operator prompt.");
    const setup = await source({ ...dirs, rc: { prompt: join(dirs.root, "prompts/backend.md"), model: "m1", allowedTools: ["Write"] } }).forRun(TASK, dirs.run, log);
    expect(setup).toMatchObject({ prompt: "Operator prompt.", model: "m1", allowedTools: ["Write"] });
  });

  it("a missing config prompt file rejects; a role nobody wrote a file for has nothing", async () => {
    const dirs = folders();
    await expect(source({ ...dirs, rc: { prompt: join(dirs.root, "nope.md") } }).forRun(TASK, dirs.run, log)).rejects.toThrow(/ENOENT/);
    expect(await source({ ...dirs, role: "devops" }).forRun(TASK, dirs.run, log)).toEqual({ prompt: undefined, model: undefined, allowedTools: undefined, file: undefined });
  });

  it("tools are Claude Code's only: another CLI keeps its own default", async () => {
    const dirs = folders();
    expect((await source({ ...dirs, useTools: false }).forRun(TASK, dirs.run, log)).allowedTools).toBeUndefined();
  });

  it("layers the config's folders and the workspace's files, and sees an edit once the cache expires", async () => {
    const dirs = folders();
    dirs.write("team/backend.md", "Team backend.");
    dirs.write("run/.claude/agents/backend.md", "---\nmodel: sonnet\n---\nRepo backend.");
    let clock = 0;
    const roles = source({ ...dirs, deps: { roleDirs: [join(dirs.root, "team")], cwd: dirs.root, workspaceRoots: [dirs.root] }, ttlMs: 5000, now: () => clock });
    expect(await roles.forRun(TASK, dirs.run, log)).toMatchObject({ prompt: "Repo backend.", model: "sonnet" });
    dirs.write("run/.baton/roles/backend.md", "Edited.");
    clock = 4000;
    expect((await roles.forRun(TASK, dirs.run, log)).prompt).toBe("Repo backend.");
    clock = 9000;
    expect((await roles.forRun(TASK, dirs.run, log)).prompt).toBe("Edited.");
  });

  it("a git feature reads the repository's role files, not the worktree's", async () => {
    const dirs = folders();
    dirs.write("repo/.baton/roles/backend.md", "From the repository.");
    dirs.write("run/.baton/roles/backend.md", "From the worktree.");
    const checkout = { repo: join(dirs.root, "repo"), kind: "task" as const, branch: "baton/f1.tasks/t1" };
    expect((await source(dirs).forRun({ ...TASK, checkout }, dirs.run, log)).prompt).toBe("From the repository.");
    expect((await source(dirs).forRun(TASK, dirs.run, log)).prompt).toBe("From the worktree.");
  });
});
