// `baton init` on a project outside the repository, then `baton up` and `baton submit --watch` there: the example
// feature runs through the scaffolded agents, the review gate and the project's own tests. Also what init never does:
// overwrite a file without --force, or write anything outside the folder it was given.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../shared/config.ts";
import { checkFeatureValue } from "../../shared/protocol/feature.ts";
import { readRequest } from "../../services/cli/commands/submit.ts";
import { uniquePrefix } from "../helpers/nats-server.ts";
import { useScratch } from "../helpers/scratch.ts";
import { baton } from "../helpers/procs.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A small Node project with one passing test, as a user's own project would be. */
function nodeProject(dir: string): void {
  mkdirSync(join(dir, "test"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "my-project", version: "1.0.0", type: "module", scripts: { test: "node --test" } }, null, 2));
  writeFileSync(join(dir, "sum.js"), "export const sum = (a, b) => a + b;\n");
  writeFileSync(join(dir, "test", "sum.test.js"), 'import { test } from "node:test";\nimport assert from "node:assert/strict";\nimport { sum } from "../sum.js";\ntest("sum", () => assert.equal(sum(1, 2), 3));\n');
}

const git = (dir: string, ...args: string[]) => spawnSync("git", args, { cwd: dir, encoding: "utf8" });

const scratch = useScratch("init");

describe("baton init", () => {
  it("scaffolds a project that `baton up` and `baton submit --watch` then run end to end", async () => {
    const project = join(scratch.tmp, "my-project");
    nodeProject(project);
    const init = baton(["init", "my-project"], {}, { cwd: scratch.tmp });
    expect(await init.exited).toBe(0);
    expect(init.output()).toMatch(/gatePresets \[node\]/);
    expect(init.output()).toMatch(/baton up .*it reads baton\.config\.yaml/);
    for (const file of ["baton.config.yaml", ".baton/agents/backend.mjs", ".baton/agents/qa.mjs", ".baton/agents/reviewer.mjs", ".baton/features/example.yaml"]) {
      expect(existsSync(join(project, file)), file).toBe(true);
    }
    expect(git(project, "log", "--format=%s").stdout.trim()).toBe("baton init"); // a new repository with a first commit
    expect(git(project, "status", "--porcelain").stdout).toBe("");

    // XDG_CACHE_HOME: the feature's git worktrees go under the scratch folder, not this machine's ~/.cache
    const env = { NATS_URL: scratch.nats.url, BATON_PREFIX: uniquePrefix("init"), XDG_CACHE_HOME: join(scratch.tmp, "cache") };
    const up = baton(["up", "--config", "baton.config.yaml"], env, { cwd: project });
    try {
      await up.waitFor(/^baton up: ready/m, 60_000);
      const submit = baton(["submit", ".baton/features/example.yaml", "--watch"], env, { cwd: project });
      expect(await submit.exited, submit.output()).toBe(0);
      expect(submit.output()).toMatch(/gate passed review for backend/);
      expect(submit.output()).toMatch(/gate passed test for feature .*1\/1 tests passed/);
      expect(submit.output()).toMatch(/feature completed/);
      // The example names its workspace: the agent worked in a worktree of its own, and its note is a checkpoint on
      // the feature's integration branch; the project's own files are untouched, and what `baton up` writes at run
      // time (logs) stays out of git.
      expect(git(project, "show", "baton/example:docs/baton/backend.md").stdout).toMatch(/Write down what the backend role would do in my-project/);
      expect(existsSync(join(project, "docs/baton/backend.md"))).toBe(false);
      expect(git(project, "status", "--porcelain", "--untracked-files=all").stdout.trim()).toBe("");
      const status = baton(["status", "example"], { ...env, NO_COLOR: "1" }, { cwd: project });
      expect(await status.exited, status.output()).toBe(0);
      expect(status.output()).toMatch(/^integration branch baton\/example at [0-9a-f]{10}/m);
      expect(status.output()).toMatch(/^ {4}docs\/baton\/backend\.md$/m); // the handoff: the file git saw change
    } finally {
      await up.kill("SIGTERM");
    }
    expect(await up.exited).toBe(0);
  }, 150_000); // `baton up` alone may take its 60 s on a loaded 2-core machine; the feature and the stop come after it

  it("never overwrites a file without --force, says what it skipped, and writes nothing outside its folder", async () => {
    const project = join(scratch.tmp, "existing");
    mkdirSync(project);
    writeFileSync(join(project, "baton.config.yaml"), "# mine\n");
    const rootBefore = ["baton.config.yaml", ".baton/agents", ".baton/features"].map((path) => existsSync(join(ROOT, path)));
    const headBefore = git(ROOT, "rev-parse", "HEAD").stdout;
    // Run from the repository's own folder, with the project elsewhere.
    const first = baton(["init", project, "--roles", "database,api,reviewer"], {}, { cwd: ROOT });
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/skipped baton\.config\.yaml \(exists; --force overwrites it\)/);
    expect(readFileSync(join(project, "baton.config.yaml"), "utf8")).toBe("# mine\n");
    expect(existsSync(join(project, ".baton/agents/database.mjs"))).toBe(true);
    expect(existsSync(join(project, ".baton/agents/api.mjs"))).toBe(true);
    expect(["baton.config.yaml", ".baton/agents", ".baton/features"].map((path) => existsSync(join(ROOT, path)))).toEqual(rootBefore);
    expect(git(ROOT, "rev-parse", "HEAD").stdout).toBe(headBefore);

    const again = baton(["init", project], {}, { cwd: scratch.tmp });
    expect(await again.exited).toBe(0);
    expect(again.output()).toMatch(/skipped \.baton\/features\/example\.yaml/);
    const forced = baton(["init", project, "--roles", "database,api,reviewer", "--force"], {}, { cwd: scratch.tmp });
    expect(await forced.exited).toBe(0);
    expect(readFileSync(join(project, "baton.config.yaml"), "utf8")).toMatch(/\.baton\/agents\/database\.mjs/);
  });

  it("writes a config and an example request that Baton accepts, for each kind of project it recognises", async () => {
    const kinds: Record<string, Record<string, string>> = {
      plain: { "README.md": "# plain\n" },
      python: { "pyproject.toml": '[project]\nname = "py"\n' },
      elixir: { "mix.exs": "defmodule X.MixProject do\nend\n" },
      "node-no-tests": { "package.json": '{ "name": "nt", "scripts": { "test": "echo \\"Error: no test specified\\" && exit 1" } }' },
    };
    for (const [kind, files] of Object.entries(kinds)) {
      const project = join(scratch.tmp, `kind-${kind}`);
      mkdirSync(project);
      for (const [name, text] of Object.entries(files)) writeFileSync(join(project, name), text);
      const roles = kind === "plain" ? "qa" : "backend,frontend,qa,reviewer";
      const init = baton(["init", project, "--roles", roles], {}, { cwd: scratch.tmp });
      expect(await init.exited, init.output()).toBe(0);
      const cfg = loadConfig({ file: join(project, "baton.config.yaml"), env: {} });
      expect(Object.keys(cfg.roles).join(","), kind).toBe(roles);
      // as `baton submit` reads it: the relative workspace resolved against the file's folder, i.e. the project
      const request = readRequest(join(project, ".baton/features/example.yaml")) as { workspace?: string; gates?: unknown };
      expect(request.workspace, kind).toBe(project);
      const check = checkFeatureValue(request, { roles: Object.keys(cfg.roles), gates: Object.keys(cfg.gates) });
      expect(check.ok ? [] : check.errors, kind).toEqual([]);
      // A `test` gate only where the project has tests of its own to run.
      expect(request.gates, kind).toBeUndefined();
    }
    const bad = baton(["init", join(scratch.tmp, "bad"), "--roles", "back end"], {}, { cwd: scratch.tmp });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/"back end" is not a role name/);
  });
});
