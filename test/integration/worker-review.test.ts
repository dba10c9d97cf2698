// What the reviewer is shown: the workspace's git diff since the last commit before the feature started,
// new (untracked) files included, without touching the index.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { reviewMaterial } from "../../services/worker/workspace/review-material.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function repo(): { dir: string; git: (...a: string[]) => string } {
  const dir = mkdtempSync(join(tmpdir(), "baton-review-"));
  dirs.push(dir);
  const git = (...a: string[]) => execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...a], { cwd: dir, encoding: "utf8" });
  git("init", "-q");
  return { dir, git };
}

describe("reviewMaterial", () => {
  it("diffs committed and uncommitted changes since the last commit before `since`, and new files, leaving the index alone", async () => {
    const { dir, git } = repo();
    writeFileSync(join(dir, "a.js"), "one\n");
    git("add", "-A");
    git("commit", "-qm", "before", "--date", "2020-01-01T00:00:00Z");
    execFileSync("git", ["commit", "--amend", "-qm", "before"], { cwd: dir, env: { ...process.env, GIT_COMMITTER_DATE: "2020-01-01T00:00:00Z", GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" } });
    const base = git("rev-parse", "HEAD").trim();
    writeFileSync(join(dir, "a.js"), "one\ntwo\n");
    git("commit", "-qam", "during the feature"); // an agent's commit
    writeFileSync(join(dir, "a.js"), "one\ntwo\nthree\n"); // and an uncommitted change
    writeFileSync(join(dir, "new.js"), "brand new\n");
    const indexBefore = readFileSync(join(dir, ".git", "index"));
    const m = await reviewMaterial(dir, "2021-01-01T00:00:00Z");
    expect(m.base).toBe(base);
    expect(m.diff).toContain("+two");
    expect(m.diff).toContain("+three");
    expect(m.diff).toContain("+brand new");
    expect(m.untracked).toEqual(["new.js"]);
    expect(readFileSync(join(dir, ".git", "index")).equals(indexBefore)).toBe(true);
  });

  it("outside git: no diff, and says why", async () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-review-nogit-"));
    dirs.push(dir);
    expect(await reviewMaterial(dir, new Date().toISOString())).toMatchObject({ diff: "", note: expect.stringContaining("not a git repository") });
  });
});
