// The workspace's readable state files (services/worker/state-files): what each says for a realistic history of a
// three-task git feature (checkpoints, a merge conflict, a scope violation, a rollback), and that rendering is
// deterministic; plus the writer's bounded memory of features (FeatureEvents).
import { describe, expect, it } from "vitest";
import { FeatureEvents } from "../../services/worker/state-files/feature-events.ts";
import { renderStateFiles } from "../../services/worker/state-files/render.ts";
import { eventFactory, featureHistory, SHA } from "../helpers/state-history.ts";

const FEATURE = "todo";
const history = featureHistory(FEATURE, "/work/todo");
const phaseOf = (events = history) => JSON.parse(renderStateFiles(events)["current-phase.json"]) as Record<string, any>;
/** The history up to the first event of `kind` (included). */
const upTo = (kind: string, nth = 1) => {
  let seen = 0;
  return history.slice(0, history.findIndex((event) => event.kind === kind && ++seen === nth) + 1);
};

describe("current-phase.json", () => {
  it("says where the feature stands after the rollback", () => {
    const phase = phaseOf();
    expect(phase).toMatchObject({
      featureId: FEATURE, title: "Todo app", state: "executing", branch: `baton/${FEATURE}`, base: SHA.base, head: SHA.api,
      tasks: { total: 4, completed: 1, running: ["web", "web-conflict-1"], integrating: [], waiting: 1, failed: 0 },
      lastEvent: { seq: history.length, kind: "feature.rolled_back", at: history.at(-1)!.at },
      phase: "running web, web-conflict-1",
    });
    expect(phase.note).toMatch(/never read back.*baton status/);
  });

  it("gives a one-line phase as the feature moves", () => {
    expect(phaseOf(upTo("workspace.prepared")).phase).toBe("waiting: 3 tasks not started");
    expect(phaseOf(upTo("feature.accepted")).phase).toBe("preparing the workspace");
    const integrating = phaseOf(upTo("task.integrating"));
    expect(integrating.phase).toBe("integrating api");
    expect(integrating.tasks.integrating).toEqual(["api"]);
    const event = eventFactory(FEATURE, history.length + 1);
    expect(phaseOf([...history, event({ kind: "feature.verifying", gates: ["e2e"] })]).phase).toBe("verifying feature gates: e2e");
    const done = phaseOf([...history, event({ kind: "feature.completed", durationMs: 9000 })]);
    expect([done.state, done.phase]).toEqual(["completed", "completed"]);
  });

  it("follows the branch head: checkpoints move it, a rollback moves it back", () => {
    expect(phaseOf(upTo("checkpoint.created", 2)).head).toBe(SHA.docs);
    expect(phaseOf().head).toBe(SHA.api);
  });
});

describe("completed-changes.md", () => {
  const text = renderStateFiles(history)["completed-changes.md"];

  it("lists what is on the branch, in merge order, with checkpoint, files, diffstat and summary", () => {
    expect(text).toContain("## 1. api (backend): Build the API");
    expect(text).toContain(`\`${SHA.api.slice(0, 10)}\``);
    expect(text).toContain("Files (2, +40 −2): `src/api.ts`, `src/db.ts`");
    expect(text).toContain("> Added the REST API for todos.\n> Stored in SQLite.");
  });

  it("no longer lists work a rollback undid, and says it was undone", () => {
    expect(text).not.toContain("## 2.");
    expect(text).not.toContain("docs/api.md");
    expect(text).toMatch(/Rolled back at .* to `api`'s checkpoint .*undone: `docs`/);
    const before = renderStateFiles(upTo("task.completed", 2))["completed-changes.md"];
    expect(before).toContain("## 2. docs (writer): Write the docs");
    expect(before).toContain("(tag `baton/todo/m1`)");
  });
});

describe("pending-changes.md", () => {
  const text = renderStateFiles(history)["pending-changes.md"];
  const section = (id: string) => text.slice(text.indexOf(`## ${id} `)).split("\n## ")[0]!;

  it("lists each task not completed with its state, dependencies and problems", () => {
    expect(text).not.toContain("## api ");
    expect(section("web")).toContain("— fixing");
    expect(section("web")).toContain("Depends on: `api` (completed)");
    expect(section("web")).toMatch(/Merge conflict \(round 1, .*\) in `src\/api.ts`: fix task `web-conflict-1` resolves it/);
    expect(section("web")).toContain("Scope violation: changed `package.json` outside `src/web/**`");
    expect(section("docs")).toContain("— waiting");
    expect(section("docs")).toMatch(/Rolled back at .*pending again/);
    expect(section("web-conflict-1")).toContain("Fixes: `web`");
  });

  it("shows a task's last error and its artifact problems", () => {
    const event = eventFactory(FEATURE, history.length + 1);
    const more = [
      event({ kind: "artifact.invalid", taskId: "web", role: "frontend", attempt: 1, problems: [{ path: "docs/openapi.yaml", messages: ["paths is required"] }] }),
      event({ kind: "task.failed", taskId: "web", role: "frontend", attempt: 1, error: { name: "ArtifactInvalid", code: "ARTIFACT_INVALID", message: "docs/openapi.yaml is not valid OpenAPI" } }),
    ];
    const web = renderStateFiles([...history, ...more])["pending-changes.md"];
    expect(web).toContain("## web (frontend): Build the UI — failed");
    expect(web).toContain("Last error: docs/openapi.yaml is not valid OpenAPI");
    expect(web).toContain("`docs/openapi.yaml`: paths is required");
  });
});

describe("rollback-plan.md", () => {
  const text = renderStateFiles(history)["rollback-plan.md"];

  it("gives each checkpoint newest first with its command, then the start", () => {
    const toApi = text.indexOf("baton rollback todo --to api");
    const toBase = text.indexOf("baton rollback todo --to base");
    expect(toApi).toBeGreaterThan(0);
    expect(toBase).toBeGreaterThan(toApi);
    expect(text).toMatch(/After `api`: checkpoint `1111111[1b]+` \(the current head\)/);
    expect(text).toMatch(/Undoes `api` \(integrated after it\), and with them the tasks that depend on them.*`web`, `docs`, `web-conflict-1`/);
  });

  it("lists the tasks a rollback would undo when several are integrated", () => {
    const plan = renderStateFiles(upTo("task.completed", 2))["rollback-plan.md"];
    expect(plan.indexOf("--to docs")).toBeLessThan(plan.indexOf("--to api"));
    const toApi = plan.slice(plan.indexOf("--to api")).split("\n## ")[0]!;
    expect(toApi).toContain("Undoes `docs` (integrated after it)");
    expect(plan.slice(plan.indexOf("--to base"))).toContain("Undoes `api`, `docs` (integrated after it)");
  });

  it("warns that changes not from the feature make rollback refuse", () => {
    expect(text).toMatch(/rollback refuses.*changes that did not come from the feature/);
  });
});

describe("renderStateFiles", () => {
  it("is deterministic and ignores repeats, logs and other features' events", () => {
    const other = eventFactory("other")({ kind: "feature.accepted", title: "Other", maxParallel: 1, tasks: [] });
    const noisy = [...history.slice(0, 8), ...history.slice(3, 6), other, ...history.slice(8)];
    expect(renderStateFiles(noisy)).toEqual(renderStateFiles(history));
    expect(renderStateFiles(history.filter((event) => event.kind !== "task.log"))).toEqual(renderStateFiles(history));
  });
});

describe("FeatureEvents", () => {
  it("keeps events in order, drops repeats and reports gaps", () => {
    const store = new FeatureEvents();
    store.set(FEATURE, history.slice(0, 3), "/work/todo");
    expect(store.add(history[1]!)).toBe("duplicate");
    expect(store.add(history[4]!)).toBe("gap");
    expect(store.add(history[3]!)).toBe("added");
    expect(store.add(history[4]!)).toBe("added"); // a task.log: counted, not kept
    expect(store.get(FEATURE)!.events.map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    expect(store.add(eventFactory("nobody")({ kind: "feature.resumed" }))).toBe("unknown");
  });

  it("forgets features that ended long ago, and the least active beyond its cap", () => {
    let now = 0;
    const store = new FeatureEvents({ maxFeatures: 2, forgetAfterMs: 1000, now: () => now });
    store.set("ended", [eventFactory("ended")({ kind: "feature.completed", durationMs: 1 })], "/x");
    store.set("old", [], "/x");
    now = 500;
    store.set("new", [], "/x");
    expect(store.all().map((feature) => feature.featureId)).toEqual(["old", "new"]);
    expect(store.add(eventFactory("new")({ kind: "feature.failed", durationMs: 1, reason: "no" }))).toBe("added");
    now = 1400;
    expect(store.prune()).toEqual([]);
    now = 1600;
    expect(store.prune()).toEqual(["new"]);
  });
});
