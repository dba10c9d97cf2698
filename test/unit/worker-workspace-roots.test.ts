// Workspace confinement on real temporary folders and symlinks: a task's workspace is accepted only when its real
// path lies under the real path of one of the worker's roots (always including its git worktrees' default root);
// everything else fails WORKSPACE_OUTSIDE_ROOTS.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultWorktreesRoot, isWithin, workspaceFor, workspaceRoots, type WorkspaceOptions } from "../../services/worker/workspace/resolve.ts";

const dirs: string[] = [];
const savedCache = process.env.XDG_CACHE_HOME;
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
});

/**
 * A fresh folder (its real path: /tmp may itself be a symlink) with `root/`, `outside/` and a worker cwd `cwd/`;
 * XDG_CACHE_HOME is its `cache/`, so the worktrees' default root is `<base>/cache/baton/worktrees`.
 */
function layout() {
  const base = realpathSync(mkdtempSync(join(tmpdir(), "baton-roots-")));
  dirs.push(base);
  process.env.XDG_CACHE_HOME = join(base, "cache");
  const at = (...parts: string[]) => {
    const path = join(base, ...parts);
    mkdirSync(path, { recursive: true });
    return path;
  };
  return { base, root: at("root"), outside: at("outside"), cwd: at("cwd"), at };
}

const named = (workspace: string | undefined) => workspaceFor({ featureId: "f1", workspace }, options);
let options: WorkspaceOptions;

describe("workspaceFor: confinement to the workspace roots", () => {
  it("accepts a workspace under a root, and the root itself", async () => {
    const { root, cwd, at } = layout();
    options = { cwd, workspaceRoots: [root] };
    expect(await named(at("root", "repo"))).toEqual({ dir: join(root, "repo") });
    expect(await named(root)).toEqual({ dir: root });
  });

  it("refuses a workspace outside every root, naming the workspace and the roots", async () => {
    const { root, outside, cwd, base } = layout();
    options = { cwd, workspaceRoots: [root, join(base, "other")] };
    const worktrees = join(base, "cache", "baton", "worktrees");
    expect(defaultWorktreesRoot()).toBe(worktrees);
    const result = await named(outside);
    expect(result).toEqual({
      error: {
        name: "WorkspaceOutsideRoots", code: "WORKSPACE_OUTSIDE_ROOTS",
        message: `workspace "${outside}" is outside this worker's workspace roots: ${root}, ${join(base, "other")}, ${worktrees} — use a workspace under one of them, or have the worker's operator add a root (workspaceRoots in its config)`,
        details: { workspace: outside, resolved: outside, roots: [root, join(base, "other"), worktrees] },
      },
    });
    expect(await named("/")).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS" } });
    expect(await named("/etc")).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS" } });
  });

  it("refuses a symlink inside a root that points outside, saying what it resolved to", async () => {
    const { root, outside, cwd } = layout();
    symlinkSync(outside, join(root, "escape"));
    options = { cwd, workspaceRoots: [root] };
    const result = await named(join(root, "escape"));
    expect(result).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS", message: expect.stringContaining(`workspace "${join(root, "escape")}" (resolved to "${outside}") is outside`) } });
    // … also through a symlinked parent folder, and for a folder that does not exist yet behind it
    mkdirSync(join(outside, "deep"));
    expect(await named(join(root, "escape", "deep"))).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS" } });
    expect(await named(join(root, "escape", "missing"))).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS" } });
  });

  it("accepts a symlink that stays inside a root, running in its real path", async () => {
    const { root, cwd, at } = layout();
    const real = at("root", "projects", "app");
    symlinkSync(real, join(root, "app-link"));
    options = { cwd, workspaceRoots: [root] };
    expect(await named(join(root, "app-link"))).toEqual({ dir: real });
  });

  it("resolves the roots' own symlinks: a root that is a link admits its target's folders, by either path", async () => {
    const { base, outside, cwd, at } = layout();
    const target = at("real-root", "ws");
    symlinkSync(join(base, "real-root"), join(base, "root-link"));
    options = { cwd, workspaceRoots: [join(base, "root-link")] };
    expect(await named(target)).toEqual({ dir: target });
    expect(await named(join(base, "root-link", "ws"))).toEqual({ dir: target });
    const refused = await named(outside);
    expect(refused).toMatchObject({ error: { message: expect.stringContaining(`roots: ${join(base, "root-link")} (${join(base, "real-root")})`) } });
  });

  it("is not fooled by `..` or by a sibling whose name starts like the root", async () => {
    const { root, cwd, at } = layout();
    const sibling = at("root-other");
    options = { cwd, workspaceRoots: [root] };
    expect(await named(sibling)).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS" } });
    expect(await named(join(root, "..", "outside"))).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS" } });
    expect(await named(join(root, "a", "..", "..", "outside"))).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS" } });
  });

  it("decides confinement before existence: a missing folder outside is refused as outside, one inside as missing", async () => {
    const { root, cwd, base } = layout();
    options = { cwd, workspaceRoots: [root] };
    expect(await named(join(base, "nowhere", "x"))).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS" } });
    expect(await named(join(root, "nowhere"))).toMatchObject({ error: { code: "WORKSPACE", message: `workspace "${join(root, "nowhere")}" named by the task does not exist on this worker` } });
    writeFileSync(join(root, "file"), "x");
    expect(await named(join(root, "file"))).toMatchObject({ error: { code: "WORKSPACE", message: expect.stringContaining("is not a directory") } });
    expect(await named("relative/ws")).toMatchObject({ error: { code: "WORKSPACE", message: expect.stringContaining("is not an absolute path") } });
  });

  it("default roots: the configured workspace, <cwd>/.baton/workspaces (even before it exists) and the worktrees' root", async () => {
    const { cwd, at, outside, base } = layout();
    const configured = at("configured");
    const worktrees = join(base, "cache", "baton", "worktrees");
    options = { cwd, workspace: configured };
    expect(workspaceRoots(options)).toEqual([configured, join(cwd, ".baton", "workspaces"), worktrees]);
    expect(await named(at("configured", "sub"))).toEqual({ dir: join(configured, "sub") });
    expect(await named(at("cwd", ".baton", "workspaces", "f9"))).toEqual({ dir: join(cwd, ".baton", "workspaces", "f9") });
    expect(await named(cwd)).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS" } });
    expect(await named(outside)).toMatchObject({ error: { code: "WORKSPACE_OUTSIDE_ROOTS" } });
    options = { cwd };
    expect(workspaceRoots(options)).toEqual([join(cwd, ".baton", "workspaces"), worktrees]);
    // the worker's own git worktrees (made by it, named by no message) are always under a root, configured roots or not
    const worktree = at("cache", "baton", "worktrees", "repo-0123456789ab", "f1", "tasks", "t1");
    expect(await named(worktree)).toEqual({ dir: worktree });
    options = { cwd, workspaceRoots: [at("elsewhere")] };
    expect(workspaceRoots(options)).toEqual([join(base, "elsewhere"), worktrees]);
    expect(await named(worktree)).toEqual({ dir: worktree });
  });

  it("a task naming no workspace gets the default one, created", async () => {
    const { cwd, at } = layout();
    options = { cwd, workspaceRoots: [at("elsewhere")] };
    expect(await named(undefined)).toEqual({ dir: join(cwd, ".baton", "workspaces", "f1") });
  });
});

describe("isWithin", () => {
  it("is true for the root and below it only", () => {
    expect(isWithin("/srv/ws", "/srv/ws")).toBe(true);
    expect(isWithin("/srv/ws/a/b", "/srv/ws")).toBe(true);
    expect(isWithin("/srv/ws/..a", "/srv/ws")).toBe(true);
    expect(isWithin("/srv/wsx", "/srv/ws")).toBe(false);
    expect(isWithin("/srv", "/srv/ws")).toBe(false);
    expect(isWithin("/anything", "/")).toBe(true);
  });
});
