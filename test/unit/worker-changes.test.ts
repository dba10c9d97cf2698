// The phantom-completion check's pure parts: the glob matcher for `files`, comparing snapshots, and the verdict.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { changedPaths, expectsChanges, noChangesError, type WorkspaceSnapshot } from "../../services/worker/workspace/changes.ts";
import { globMatcher, globToRegExp } from "../../services/worker/workspace/glob.ts";

const matches = (glob: string, path: string) => globToRegExp(glob).test(path);

describe("globToRegExp", () => {
  it.each([
    ["src/**/*.js", ["src/a.js", "src/x/a.js", "src/x/y/z.js", "src/.hidden.js"], ["src/a.ts", "lib/a.js", "a.js", "xsrc/a.js"]],
    ["**/*.test.ts", ["a.test.ts", "test/unit/b.test.ts"], ["a.test.tsx", "test/a.ts"]],
    ["docs/openapi.yaml", ["docs/openapi.yaml"], ["docs/openapi.yml", "docs/openapi.yaml.bak", "x/docs/openapi.yaml"]],
    ["*.md", ["README.md", ".x.md"], ["docs/README.md", "README.mdx"]],
    ["src/?.js", ["src/a.js"], ["src/ab.js", "src//.js", "src/a/b.js"]],
    ["src/{api,web}/*.{ts,tsx}", ["src/api/a.ts", "src/web/b.tsx"], ["src/lib/a.ts", "src/api/a.js", "src/api/x/a.ts"]],
    ["{src/**/*.js,docs}", ["src/a.js", "docs/x.md", "docs"], ["lib/a.js", "docsx"]],
    ["a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/xb", "ab"]],
    ["a/**", ["a/b", "a/b/c"], ["ab", "b/a"]],
    ["**", ["a", "a/b/c", ".env"], []],
    ["docs", ["docs", "docs/a.md", "docs/x/y.md"], ["docs.md", "mydocs/a"]],
    ["docs/", ["docs/a.md"], ["docs.md"]],
    ["./src/*.js", ["src/a.js"], ["a.js"]],
    [".", ["a", "x/y"], []],
    ["app/[id]/page.tsx", ["app/[id]/page.tsx"], ["app/i/page.tsx"]],
    ["a+b(c).js", ["a+b(c).js"], ["aab(c).js", "a+bc.js"]],
    ["\\*.js", ["*.js"], ["a.js"]],
    ["{a}.js", ["{a}.js"], ["a.js"]],
    ["a{b,c{d,e}}", ["ab", "acd", "ace"], ["ac", "a{b,c{d,e}}"]],
    ["src/**/**/*.js", ["src/a.js", "src/x/a.js"], ["a.js"]],
  ])("%s", (glob, yes, no) => {
    for (const p of yes) expect(matches(glob, p), `${glob} should match ${p}`).toBe(true);
    for (const p of no) expect(matches(glob, p), `${glob} should not match ${p}`).toBe(false);
  });

  it("a glob without special characters matches exactly that path and what is below it", () => {
    const seg = fc.stringMatching(/^[A-Za-z0-9._ +()[\]$^-]{1,8}$/).filter((s) => s !== "." && s !== "..");
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 4 }), fc.array(seg, { minLength: 1, maxLength: 4 }), (a, b) => {
        const glob = a.join("/");
        expect(matches(glob, glob)).toBe(true);
        expect(matches(glob, `${glob}/${b.join("/")}`)).toBe(true);
        expect(matches(glob, b.join("/"))).toBe(b.join("/") === glob || b.join("/").startsWith(`${glob}/`));
      }),
    );
  });

  it("`*` never crosses a folder boundary and `**` matches any path", () => {
    const seg = fc.stringMatching(/^[a-z.]{1,6}$/).filter((s) => s !== "." && s !== "..");
    fc.assert(
      fc.property(fc.array(seg, { minLength: 2, maxLength: 5 }), (segs) => {
        const path = segs.join("/");
        expect(matches("**", path)).toBe(true);
        expect(matches("**/*", path)).toBe(true);
        // `*` is exactly one folder; then the second segment must match (and what is below it counts)
        expect(matches(`*/${segs.at(-1)}`, path)).toBe(segs[1] === segs.at(-1));
      }),
    );
  });

  it("refuses a glob whose braces expand too far", () => {
    expect(() => globToRegExp("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}")).toThrow(/more than 256 patterns/);
  });

  it("globMatcher matches when any glob does", () => {
    const m = globMatcher(["src/**/*.js", "docs/openapi.yaml"]);
    expect(["src/a/b.js", "docs/openapi.yaml", "README.md"].map(m)).toEqual([true, true, false]);
  });
});

const git = (head: string | null, dirty: Record<string, string>, committed?: { since: string | null; paths: string[] }): WorkspaceSnapshot => ({
  kind: "git", dir: "/ws", head, dirty: new Map(Object.entries(dirty)), ...(committed ? { committed } : {}),
});
const walk = (files: Record<string, string>): WorkspaceSnapshot => ({ kind: "files", dir: "/ws", files: new Map(Object.entries(files)) });

describe("changedPaths", () => {
  it("git: a path whose state differs (dirtied, changed again, cleaned, deleted) changed; one that stayed the same did not", () => {
    const before = git("c1", { "a.txt": "blob:1", "same.txt": "blob:2", "reverted.txt": "blob:3" });
    const after = git("c1", { "a.txt": "blob:9", "same.txt": "blob:2", "new.txt": "blob:4", "gone.txt": "absent" });
    expect(changedPaths(before, after)).toEqual(["a.txt", "gone.txt", "new.txt", "reverted.txt"]);
    expect(changedPaths(before, before)).toEqual([]);
  });

  it("git: after a commit, the paths between the two HEADs changed too", () => {
    const before = git("c1", { "wip.txt": "blob:1" });
    const after = git("c2", { "wip.txt": "blob:1" }, { since: "c1", paths: ["src/a.js", "src/b.js"] });
    expect(changedPaths(before, after)).toEqual(["src/a.js", "src/b.js"]);
    expect(changedPaths(git(null, {}), git("c1", {}, { since: null, paths: ["first.txt"] }))).toEqual(["first.txt"]);
  });

  it("refuses snapshots that cannot be compared", () => {
    expect(() => changedPaths(git("c1", {}), git("c2", {}))).toThrow(/since/);
    expect(() => changedPaths(git("c1", {}), git("c2", {}, { since: "c0", paths: [] }))).toThrow(/since/);
    expect(() => changedPaths(git("c1", {}), walk({}))).toThrow(/compare/);
  });

  it("outside git: files added, removed or with another size or mtime", () => {
    const before = walk({ a: "1:10", b: "1:10", c: "1:10" });
    const after = walk({ a: "1:10", b: "1:11", d: "0:12" });
    expect(changedPaths(before, after)).toEqual(["b", "c", "d"]);
  });
});

describe("noChangesError", () => {
  it("without globs: fails only when nothing changed", () => {
    expect(noChangesError(undefined, [])).toEqual({ name: "NoChanges", code: "NO_CHANGES", message: "no changes in the workspace" });
    expect(noChangesError([], ["x"])).toBeUndefined();
  });

  it("with globs: fails when no changed path matches, and says what was expected and what changed instead", () => {
    const files = ["src/**/*.js", "docs/openapi.yaml"];
    expect(noChangesError(files, ["src/x/a.js"])).toBeUndefined();
    expect(noChangesError(files, [])).toMatchObject({ code: "NO_CHANGES", message: "no changes (expected changes to src/**/*.js, docs/openapi.yaml)" });
    const e = noChangesError(files, ["README.md", "a", "b", "c", "d", "e", "f"]);
    expect(e?.message).toBe("no changes (expected changes to src/**/*.js, docs/openapi.yaml; changed only README.md, a, b, c, d and 2 more)");
    expect(e?.details).toEqual({ expected: files, changed: ["README.md", "a", "b", "c", "d", "e", "f"] });
  });

  it("expectsChanges: files imply it", () => {
    expect([expectsChanges({}), expectsChanges({ expectChanges: true }), expectsChanges({ files: ["a"] }), expectsChanges({ files: [] })]).toEqual([false, true, true, false]);
  });
});
