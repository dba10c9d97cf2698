// An agent's prompt carries what its dependencies handed off — from git and the gates, not only their summary —
// and the artifacts it must produce (issue 12 item 6).
import { describe, expect, it } from "vitest";
import { buildPrompt } from "../../services/worker/agents/prompt.ts";

describe("the prompt's handoffs", () => {
  it("lists the files git saw change, the checkpoint, artifacts, gates, next steps and constraints", () => {
    const prompt = buildPrompt({
      task: { featureId: "f", taskId: "backend", title: "Implement", feature: { title: "Todos" }, produces: ["docs/backend.md"] },
      handoffs: [{
        taskId: "api", role: "api", summary: "Wrote the contract",
        changes: { files: ["docs/openapi.yaml"], insertions: 40, deletions: 2 }, commit: "0123456789abcdef0123456789abcdef01234567",
        artifacts: ["docs/openapi.yaml"], gates: [{ name: "lint", tests: 3 }],
        nextSteps: ["implement GET /todos"], constraints: ["ids are UUIDs"],
      }],
    });
    expect(prompt).toContain("# Artifacts this task must produce");
    expect(prompt).toContain("- docs/backend.md");
    expect(prompt).toContain("Files it changed (from git, +40 −2, commit 0123456789): docs/openapi.yaml");
    expect(prompt).toContain("Artifacts it produced: docs/openapi.yaml");
    expect(prompt).toContain("Gates it passed: lint (3 tests)");
    expect(prompt).toContain("- implement GET /todos");
    expect(prompt).toContain("Constraints to respect:\n- ids are UUIDs");
  });

  it("adds nothing for a handoff without facts", () => {
    const prompt = buildPrompt({ task: { featureId: "f", taskId: "b", title: "B", feature: { title: "F" } }, handoffs: [{ taskId: "a", role: "api", summary: "did a" }] });
    expect(prompt).toContain("# Handed off by task a (api)\n\ndid a\n\n");
    expect(prompt).not.toContain("Files it changed");
  });
});
