// The command line's side of workspaces (issue 12): `baton rollback`'s flags and what it prints for each answer, the
// integrator `baton up` adds, doctor's git version check, and `baton status` for a git feature (branch, checkpoints,
// conflicts, scope violations, handoffs, the fast-forward of `integrateInto`).
import { describe, expect, it } from "vitest";
import { parseCommand, UsageError } from "../../services/cli/args.ts";
import { gitFinding } from "../../services/cli/commands/doctor-local.ts";
import { describeOutcome, rollbackRequest } from "../../services/cli/commands/rollback.ts";
import { stackRoles } from "../../services/cli/commands/up.ts";
import { configYaml, featureYaml } from "../../services/cli/init/project.ts";
import { renderEvent, renderStatus } from "../../services/cli/render.ts";
import { emptyView } from "../../shared/client/index.ts";
import { ExecRoleConfig } from "../../shared/config.ts";
import { wireError } from "../../shared/protocol/errors.ts";
import { StatusEvent, type FeatureView, type ViewTask } from "../../shared/protocol/index.ts";
import { commandHelp } from "../../shared/usage.ts";

const SHA = (digit: string) => digit.repeat(40);
const AT = "2026-01-01T12:00:00.000Z";

describe("baton rollback", () => {
  it("takes --to, --cancel, --reason, --json and --timeout, and sends them as the verb's request", () => {
    const args = parseCommand("rollback", ["f1", "--to", "spec", "--cancel", "--reason", "bad idea", "--json"]);
    expect(args.values).toMatchObject({ to: "spec", cancel: true, reason: "bad idea", json: true });
    expect(rollbackRequest(args)).toEqual({ to: "spec", cancel: true });
    expect(rollbackRequest(parseCommand("rollback", ["f1"]))).toEqual({});
    expect(rollbackRequest(parseCommand("rollback", ["f1", "--to", "base"]))).toEqual({ to: "base" });
    expect(rollbackRequest(parseCommand("rollback", ["f1", "--to", "1a2b3c4"]))).toEqual({ to: "1a2b3c4" });
    expect(() => rollbackRequest(parseCommand("rollback", ["f1", "--to", "HEAD~2"]))).toThrow(UsageError);
    expect(() => parseCommand("rollback", ["f1", "--watch"])).toThrow("rollback does not take --watch");
    expect(() => parseCommand("status", ["f1", "--cancel"])).toThrow("status does not take --cancel");
  });

  it("a refusal prints the error and lists the files that did not come from the feature; exit 1", () => {
    const error = wireError("RollbackRefused", "the workspace has changes that did not come from the feature", { files: ["src/mine.ts", "notes.md"] });
    const told = describeOutcome("f1", { kind: "rejected", error }, 30);
    expect(told.code).toBe(1);
    expect(told.out).toEqual([]);
    expect(told.err[0]).toBe("f1: rollback refused (ROLLBACK_REFUSED): the workspace has changes that did not come from the feature");
    expect(told.err.slice(1, 3)).toEqual(["  ✗ src/mine.ts", "  ✗ notes.md"]);
    const many = describeOutcome("f1", { kind: "rejected", error: { ...error, details: { files: Array.from({ length: 60 }, (_, i) => `f${i}`) } } }, 30);
    expect(many.err).toContain("  … and 10 more");
    const invalid = describeOutcome("f1", { kind: "rejected", error: wireError("InvalidState", 'feature "f1" has no git workspace') }, 30);
    expect(invalid).toMatchObject({ code: 1, err: ['f1: rollback refused (INVALID_STATE): feature "f1" has no git workspace'] });
  });

  it("says where it went back to and which tasks run again, or that nobody answered", () => {
    const event = StatusEvent.parse({
      type: "baton.v1.status_event", featureId: "f1", seq: 9, at: AT, kind: "feature.rolled_back",
      to: SHA("a"), toTask: "spec", tasks: ["impl", "docs"], cancelled: false, stopped: [{ taskId: "impl", attempt: 2 }],
    });
    const applied = describeOutcome("f1", { kind: "applied", event }, 30);
    expect(applied.code).toBe(0);
    expect(applied.out).toEqual(["f1: rolled back to task spec's checkpoint aaaaaaaaaa; pending again: impl, docs", "stopped runs: impl (attempt 2)"]);
    expect(describeOutcome("f1", { kind: "no_answer" }, 5)).toMatchObject({ code: 1, err: [expect.stringMatching(/no answer to rollback within 5s/)] });
  });

  it("its help, submit's --init-git and status's --verbose are documented", () => {
    expect(commandHelp("rollback")).toMatch(/^usage: baton rollback ID \[--to COMMIT\|TASK\|base\] \[--cancel\]/);
    expect(commandHelp("rollback")).toMatch(/exit codes: 0 rolled back, 1 refused/);
    expect(commandHelp("submit")).toMatch(/--init-git/);
    expect(commandHelp("status")).toMatch(/-v, --verbose/);
  });
});

describe("baton up and baton init: the integrator", () => {
  it("up starts one integrator besides the configured roles, unless roles: has one (then its replicas count)", () => {
    const role = (replicas: number) => ExecRoleConfig.parse({ executor: "noop", replicas });
    expect(stackRoles({ roles: {} })).toEqual({ integrator: 1 });
    expect(stackRoles({ roles: { backend: role(2) } })).toEqual({ backend: 2, integrator: 1 });
    expect(stackRoles({ roles: { backend: role(1), integrator: role(3) } })).toEqual({ backend: 1, integrator: 3 });
  });

  it("init's config mentions the integrator in a comment only, and its example feature names its workspace", () => {
    const yaml = configYaml({ name: "p", testGate: false }, ["backend", "qa"]);
    expect(yaml).toMatch(/^# `baton up` also starts one worker of the built-in role `integrator`/m);
    expect(yaml).not.toMatch(/^ {2}integrator:/m);
    expect(featureYaml({ name: "p", testGate: false }, ["backend"])).toMatch(/^workspace: \.\.\/\.\.$/m);
  });
});

describe("baton doctor: git", () => {
  it("needs git 2.25 or later, and says so when it is missing or older", () => {
    expect(gitFinding({ version: "git version 2.39.5" })).toMatchObject({ check: "git", verdict: "ok", message: "git 2.39.5 (git features need 2.25 or later)" });
    expect(gitFinding({ version: "git version 2.25.0" }).verdict).toBe("ok");
    expect(gitFinding({ version: "git version 3.1" }).verdict).toBe("ok");
    expect(gitFinding({ version: "git version 2.24.4" })).toMatchObject({ verdict: "problem", message: expect.stringMatching(/^git 2\.24\.4 is too old/), remedy: "upgrade git to 2.25 or later" });
    expect(gitFinding({ version: "git version 1.9.1" }).verdict).toBe("problem");
    expect(gitFinding({ problem: "git not found on PATH", missing: true })).toMatchObject({ verdict: "problem", message: expect.stringMatching(/^git is not installed: git features/) });
  });
});

const gitTask = (id: string, over: Partial<ViewTask>): ViewTask => ({ id, role: "backend", title: id, dependsOn: [], state: "waiting", attempt: 1, ...over });
const checkpoint = (digit: string, files: string[]) => ({ commit: SHA(digit), files, insertions: 12, deletions: 3 });

/** A git feature's view: `spec` and `impl` integrated, `docs` integrating, `ui` fixing a conflict, `api` failed on one. */
function gitView(over: Partial<FeatureView> = {}): FeatureView {
  return {
    ...emptyView("f1"), state: "executing", title: "Todos", acceptedAt: AT, seq: 20, workspace: "/src/app",
    git: { branch: "baton/f1", base: SHA("0"), head: SHA("b") },
    tasks: [
      gitTask("spec", { state: "completed", summary: "wrote the spec\nmore lines", checkpoint: checkpoint("a", ["docs/openapi.yaml"]) }),
      gitTask("impl", { state: "completed", summary: "built it", checkpoint: { ...checkpoint("b", Array.from({ length: 14 }, (_, i) => `src/f${i}.ts`)), tag: "baton/f1/m1" }, scopeViolation: ["package.json"] }),
      gitTask("docs", { state: "integrating", startedAt: AT }),
      gitTask("ui", { state: "fixing", conflict: { files: ["src/app.ts"], round: 1 }, waitingFor: { kind: "fix", fixTaskId: "ui-fix-1", conflict: true } }),
      gitTask("api", { state: "failed", error: "merge conflict, no fix round left", conflict: { files: ["src/api.ts", "src/db.ts"], round: 2 } }),
      gitTask("ui-fix-1", { state: "running", fixes: "ui", workerId: "w2" }),
    ],
    ...over,
  };
}

/** The DETAIL column of task `id`'s row. */
function detail(out: string, id: string): string {
  const row = out.split("\n").find((line) => line.startsWith(`${id} `));
  if (!row) throw new Error(`no row for ${id} in:\n${out}`);
  return row.replace(/^(\S+\s+){3}(\d\S*\s+)?/, "").trim();
}

describe("baton status: a git feature", () => {
  it("shows the integration branch, each integrated task's checkpoint, conflicts, scope violations and the integrating state", () => {
    const out = renderStatus(gitView(), new Map());
    expect(out).toMatch(/^integration branch baton\/f1 at bbbbbbbbbb \(from 0000000000, 2 checkpoints\)$/m);
    expect(detail(out, "spec")).toBe("aaaaaaaaaa +12 -3, 1 file — wrote the spec");
    expect(detail(out, "impl")).toBe("bbbbbbbbbb +12 -3, 14 files, tag baton/f1/m1; changed outside its files: package.json — built it");
    expect(out).toMatch(/^docs\s+backend\s+integrating\s+\S+/m);
    // the conflict's files, however the wait is worded (settleView derives it)
    expect(detail(out, "ui")).toMatch(/^fix task ui-fix-1 .*src\/app\.ts/);
    expect(detail(out, "api")).toBe("merge conflict, no fix round left — merge conflict (round 2) in src/api.ts, src/db.ts");
  });

  it("lists the handoffs of a few tasks (10 files each); --verbose lists every file; many tasks: a hint", () => {
    const out = renderStatus(gitView(), new Map());
    expect(out).toMatch(/^handoffs$/m);
    expect(out).toMatch(/^ {2}spec \(backend\) aaaaaaaaaa \+12 -3 — wrote the spec$/m);
    expect(out).toMatch(/^ {4}docs\/openapi\.yaml$/m);
    expect(out).toMatch(/^ {4}src\/f0\.ts, .*src\/f9\.ts and 4 more$/m);
    const verbose = renderStatus(gitView(), new Map(), { verbose: true });
    expect(verbose).toMatch(/^ {4}src\/f13\.ts$/m);
    expect(verbose).toMatch(/— wrote the spec\nmore lines$/m);
    const many = gitView({ tasks: Array.from({ length: 6 }, (_, i) => gitTask(`t${i}`, { state: "completed", checkpoint: checkpoint("c", ["x"]) })) });
    expect(renderStatus(many, new Map())).toMatch(/^6 handoffs: `baton status f1 --verbose` lists each task's files and summary$/m);
    expect(renderStatus(many, new Map(), { verbose: true })).toMatch(/^ {2}t5 \(backend\)/m);
  });

  it("after the feature ended: the target branch fast-forwarded, or why not, or where the work is left", () => {
    const done = (git: Partial<NonNullable<FeatureView["git"]>>) => renderStatus(gitView({ state: "completed", git: { branch: "baton/f1", base: SHA("0"), head: SHA("b"), ...git } }), new Map());
    expect(done({ into: "main", fastForwarded: true })).toMatch(/^main fast-forwarded to bbbbbbbbbb$/m);
    expect(done({ into: "main", fastForwarded: false, refused: "main has commits the feature does not" })).toMatch(/^main not fast-forwarded: main has commits the feature does not \(the work is on baton\/f1\)$/m);
    expect(done({})).toMatch(/^the work is on baton\/f1: `git log baton\/f1`, then merge it/m);
    expect(renderStatus(gitView({ git: { branch: "baton/f1", base: SHA("0"), head: SHA("b"), into: "main" } }), new Map())).toMatch(/when it completes, main is fast-forwarded/);
    expect(renderStatus({ ...emptyView("plain"), state: "executing", seq: 1, tasks: [] }, new Map())).not.toMatch(/integration branch/);
  });

  it("watch still prints the workspace events", () => {
    const event = StatusEvent.parse({
      type: "baton.v1.status_event", featureId: "f1", seq: 4, at: AT, kind: "checkpoint.created", taskId: "spec", role: "api", attempt: 1,
      commit: SHA("a"), branch: "baton/f1", files: ["a", "b"], insertions: 5, deletions: 1,
    });
    expect(renderEvent(event, "1/3")).toBe("12:00:00.000 [1/3] checkpoint spec (api) aaaaaaaaaa 2 files, +5 -1");
  });
});
