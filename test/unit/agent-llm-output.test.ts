// The llm executor's pure parts: reading the model's structured answer (JSON found in prose or fences, validated,
// problems the model can act on), the path rules for files it writes, and confinement of those writes (real
// folders and symlinks in a temporary directory).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { writeOutputFiles } from "../../services/worker/agents/llm/files.ts";
import { MAX_FILE_BYTES, parseLlmOutput, unsafePathReason } from "../../services/worker/agents/llm/output.ts";
import { MAX_HANDOFF_BYTES } from "../../shared/protocol/index.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const scratch = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "baton-llm-files-"));
  dirs.push(dir);
  return dir;
};

describe("parseLlmOutput", () => {
  it("accepts a bare JSON answer, a fenced one, and one in prose (the last valid object wins)", () => {
    expect(parseLlmOutput('{"summary":"done"}')).toEqual({ ok: true, output: { summary: "done" } });
    expect(parseLlmOutput('Here:\n```json\n{"summary":"fenced","handoff":{"a":1}}\n```\nThanks')).toMatchObject({ ok: true, output: { summary: "fenced", handoff: { a: 1 } } });
    expect(parseLlmOutput('first {"summary":"one"} then {"summary":"two"}')).toMatchObject({ ok: true, output: { summary: "two" } });
    expect(parseLlmOutput('{"summary":"s","extra":true}')).toMatchObject({ ok: true, output: { summary: "s" } });
  });

  it("names what is wrong, field by field", () => {
    expect(parseLlmOutput("no json here")).toEqual({ ok: false, problems: [expect.stringContaining("no JSON object")] });
    const bad = parseLlmOutput('{"files":[{"path":"../etc/passwd","content":"x"}]}');
    expect(bad.ok).toBe(false);
    const problems = (bad as { problems: string[] }).problems.join("\n");
    expect(problems).toMatch(/^summary: /m);
    expect(problems).toMatch(/files\.0\.path: path "\.\.\/etc\/passwd" must not contain \.\./);
  });

  it("bounds the handoff and each file's size", () => {
    const big = "x".repeat(MAX_HANDOFF_BYTES);
    expect(parseLlmOutput(JSON.stringify({ summary: "s", handoff: { big } }))).toMatchObject({ ok: false, problems: [expect.stringMatching(/^handoff: .*larger than/)] });
    const file = { path: "a.txt", content: "y".repeat(MAX_FILE_BYTES + 1) };
    expect(parseLlmOutput(JSON.stringify({ summary: "s", files: [file] }))).toMatchObject({ ok: false, problems: [expect.stringMatching(/files\.0\.content: .*larger than/)] });
  });

  it("on a review, an answer without a verdict is invalid; with one, it is read", () => {
    expect(parseLlmOutput('{"summary":"looks fine"}', { requireReview: true })).toMatchObject({ ok: false, problems: [expect.stringMatching(/^review: required/)] });
    const ok = parseLlmOutput('{"summary":"s","review":{"verdict":"changes_requested","comments":[{"file":"a.js","line":2,"message":"fix"}]}}', { requireReview: true });
    expect(ok).toMatchObject({ ok: true, output: { review: { verdict: "changes_requested", comments: [{ file: "a.js", line: 2, message: "fix" }] } } });
  });

  it("never throws, whatever the text", () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
      const parsed = parseLlmOutput(text);
      expect(typeof parsed.ok).toBe("boolean");
    }), { numRuns: 300 });
  });
});

describe("unsafePathReason", () => {
  it("allows plain relative paths and refuses every way out of the workspace", () => {
    for (const ok of ["a.js", "src/a.js", "docs/api/openapi.yaml", ".github/workflows/ci.yml", "a..b/c"]) expect(unsafePathReason(ok), ok).toBeUndefined();
    for (const bad of ["/etc/passwd", "../x", "src/../../x", "a//b", "./a", "a/./b", "C:/x", "a\\b", ".git/hooks/pre-commit", "sub/.git/config", "a\0b"]) {
      expect(unsafePathReason(bad), bad).toBeDefined();
    }
  });
});

describe("writeOutputFiles", () => {
  it("writes files (creating folders) and reports each", async () => {
    const dir = scratch();
    const seen: string[] = [];
    const out = await writeOutputFiles(dir, [{ path: "src/deep/a.js", content: "A" }, { path: "b.txt", content: "B" }], (path) => seen.push(path));
    expect(out).toEqual({ written: ["src/deep/a.js", "b.txt"] });
    expect(seen).toEqual(["src/deep/a.js", "b.txt"]);
    expect(readFileSync(join(dir, "src/deep/a.js"), "utf8")).toBe("A");
  });

  it("refuses a symlink in the workspace that leads outside it, writing nothing there", async () => {
    const dir = scratch();
    const outside = scratch();
    symlinkSync(outside, join(dir, "escape"));
    writeFileSync(join(outside, "victim.txt"), "original");
    symlinkSync(join(outside, "victim.txt"), join(dir, "link.txt"));
    const viaFolder = await writeOutputFiles(dir, [{ path: "ok.txt", content: "fine" }, { path: "escape/new.txt", content: "x" }], () => {});
    expect(viaFolder).toMatchObject({ written: ["ok.txt"], error: expect.stringContaining("leads outside the workspace") });
    expect(existsSync(join(outside, "new.txt"))).toBe(false);
    const viaFile = await writeOutputFiles(dir, [{ path: "link.txt", content: "x" }], () => {});
    expect(viaFile.error).toContain("leads outside the workspace");
    expect(readFileSync(join(outside, "victim.txt"), "utf8")).toBe("original");
  });

  it("follows symlinks that stay inside, and refuses a file where a folder must be", async () => {
    const dir = scratch();
    mkdirSync(join(dir, "real"));
    symlinkSync(join(dir, "real"), join(dir, "alias"));
    expect(await writeOutputFiles(dir, [{ path: "alias/x.txt", content: "in" }], () => {})).toEqual({ written: ["alias/x.txt"] });
    expect(readFileSync(join(dir, "real/x.txt"), "utf8")).toBe("in");
    writeFileSync(join(dir, "plain"), "");
    expect((await writeOutputFiles(dir, [{ path: "plain/y.txt", content: "" }], () => {})).error).toContain("is not a folder");
    expect((await writeOutputFiles(dir, [{ path: "real", content: "" }], () => {})).error).toContain("is a folder");
  });
});
