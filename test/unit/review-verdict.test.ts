// Review gate runs for agents: the prompt section (the change to review and how to answer) and reading the
// verdict back out of an agent's final message.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { reviewSection, verdictFromText } from "../../services/worker/agents/review-verdict.ts";
import type { TaskAssigned } from "../../shared/protocol/index.ts";

const withMaterial = (material: Record<string, unknown>) => ({ review: { since: "2024-01-01T00:00:00.000Z", ...material } }) as Pick<TaskAssigned, "review">;

describe("reviewSection", () => {
  it("shows the diff (in a fence longer than any backticks in it), the new files, and asks for a fenced verdict", () => {
    const diff = "--- a/x.md\n+++ b/x.md\n+```js\n+code\n+```";
    const { heading, body } = reviewSection(withMaterial({ base: "abc1234", diff, untracked: ["src/new.js"], truncated: true }));
    expect(heading).toBe("Review");
    expect(body).toContain("abc1234");
    expect(body).toContain("- src/new.js");
    expect(body).toContain("````diff\n" + diff + "\n````");
    expect(body).toContain("the diff was cut");
    expect(body).toMatch(/```json\n\{ "review": \{ "verdict": "approve" \| "changes_requested"/);
  });

  it("for the llm executor asks for the `review` field instead, and says when there is no diff", () => {
    const { body } = reviewSection(withMaterial({ diff: "", untracked: [], note: "the workspace is not a git repository: no diff" }), { answer: "field" });
    expect(body).toContain("Note: the workspace is not a git repository");
    expect(body).toContain("`review` field");
    expect(body).not.toContain("```json");
    expect(reviewSection({}).body).toContain("No diff was available.");
  });
});

describe("verdictFromText", () => {
  const approve = { verdict: "approve", comments: [] };
  it("reads the last fenced block that holds a verdict, wrapped or bare", () => {
    const text = 'I looked.\n```json\n{"review":{"verdict":"changes_requested","comments":[{"message":"old"}]}}\n```\nOn second thought:\n```json\n{"review":{"verdict":"approve"}}\n```';
    expect(verdictFromText(text)).toEqual(approve);
    expect(verdictFromText('```\n{"verdict":"changes_requested","comments":[{"file":"a.js","line":3,"message":"rename"}]}\n```')).toEqual({
      verdict: "changes_requested", comments: [{ file: "a.js", line: 3, message: "rename" }],
    });
  });

  it("falls back to a bare JSON object in the text, or the whole text", () => {
    expect(verdictFromText('All good. {"review": {"verdict": "approve", "comments": []}} Bye.')).toEqual(approve);
    expect(verdictFromText('{"review":{"verdict":"approve"}}')).toEqual(approve);
  });

  it("prefers a fenced verdict over a bare one, and skips invalid candidates", () => {
    const text = '```json\n{"review":{"verdict":"approve"}}\n```\nExample of a bad one: {"review":{"verdict":"changes_requested","comments":[{"message":"x"}]}}\n```json\n{"review":{"verdict":"maybe"}}\n```';
    expect(verdictFromText(text)).toEqual(approve);
  });

  it("undefined without a valid verdict; never throws", () => {
    expect(verdictFromText("LGTM")).toBeUndefined();
    expect(verdictFromText('```json\n{"review":{"verdict":"yes"}}\n```')).toBeUndefined();
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
      expect(() => verdictFromText(text)).not.toThrow();
    }), { numRuns: 300 });
  });
});
