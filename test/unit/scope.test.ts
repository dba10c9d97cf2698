// File scopes: when two tasks' `files` may touch a common path (lock planning), and which changed paths lie outside one.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { globMatcher } from "../../shared/glob.ts";
import { outsideScope, scopesMayOverlap } from "../../shared/scope.ts";

const overlap = (first: string[] | null, second: string[] | null) => scopesMayOverlap(first, second);

describe("scopesMayOverlap", () => {
  it.each([
    // [first, second, may overlap]
    [["src/a.ts"], ["src/b.ts"], false],
    [["src/a.ts"], ["src/a.ts"], true],
    [["src"], ["src/a.ts"], true], // a folder covers what is below it
    [["src/"], ["src/deep/er/a.ts"], true],
    [["src/a"], ["src/ab"], false], // prefix as a string, not as a path
    [["src/*.ts"], ["src/*.js"], false],
    [["src/*.ts"], ["src/index.*"], true],
    [["src/*.ts"], ["src/sub/x.js"], false],
    [["src/*.ts"], ["src/lib.ts/x.js"], true], // `*.ts` may be a folder
    [["*.ts"], ["src/x.ts"], false],
    [["**/*.ts"], ["docs/**"], true],
    [["**/*.ts"], ["docs/readme.md"], true], // readme.md may be a folder holding a .ts file
    [["a/**/b"], ["a/c"], true], // a/c/b
    [["a/**/b"], ["c/b"], false],
    [["a/?"], ["a/bc"], false],
    [["a/?"], ["a/b*"], true],
    [["a/?c"], ["a/b?"], true], // a/bc
    [["{src,lib}/x.ts"], ["lib/**"], true],
    [["{src,lib}/x.ts"], ["test/**"], false],
    [["src/{a,b}.ts"], ["src/c.ts"], false],
    [["."], ["anything/at/all"], true],
    [["./src/a.ts"], ["src//a.ts"], true], // `.` and empty segments are dropped
    [["src/\\*.ts"], ["src/a.ts"], false], // an escaped star is a literal star
    [["src/\\*.ts"], ["src/*"], true],
    [["src/\\{a,b}.ts"], ["src/a.ts"], false], // escaped braces are literal
    [["app/[id]/page.tsx"], ["app/*/page.tsx"], true],
    [["app/[id]/page.tsx"], ["app/id/page.tsx"], false], // brackets are literal
    [["README.md"], ["readme.md"], true], // case-insensitive file systems
    [["docs/a.md", "src/x.ts"], ["lib/**", "src/**"], true],
    [["docs/a.md", "src/x.ts"], ["lib/**", "test/**"], false],
  ] as const)("%j vs %j → %s", (first, second, expected) => {
    expect(overlap([...first], [...second])).toBe(expected);
    expect(overlap([...second], [...first])).toBe(expected);
  });

  it("null and [] are the whole workspace: they overlap every scope, including each other", () => {
    for (const scope of [null, [], ["src/a.ts"], ["**/x"]]) {
      expect(overlap(null, scope)).toBe(true);
      expect(overlap(scope, null)).toBe(true);
      expect(overlap([], scope)).toBe(true);
      expect(overlap(scope, [])).toBe(true);
    }
  });

  it("answers true when braces expand too far to compare", () => {
    const huge = "{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}";
    expect(overlap([huge], ["zzz"])).toBe(true);
  });

  it("answers true when too many alternatives would have to be compared", () => {
    const many = Array.from({ length: 100 }, (_, index) => `dir${index}/{a,b,c,d,e,f,g,h}.ts`);
    expect(overlap(many, many.map((glob) => `other/${glob}`))).toBe(true);
  });
});

// Small alphabets so that random globs and paths often meet.
const SEGMENT_NAMES = ["a", "b", "ab", "ba", "aa", "bb", "abb", "aab", "c"];
const globSegment = fc.constantFrom("a", "b", "ab", "*", "?", "a*", "*b", "**", "{a,b}", "{ab,*b}", "a?");
const glob = fc.array(globSegment, { minLength: 1, maxLength: 3 }).map((segs) => segs.join("/"));
const scope = fc.array(glob, { minLength: 1, maxLength: 2 });
const path = fc.array(fc.constantFrom(...SEGMENT_NAMES), { minLength: 1, maxLength: 5 }).map((segs) => segs.join("/"));

/** Every path of up to `depth` segments named from SEGMENT_NAMES. */
function universe(depth: number): string[] {
  let level = [""];
  const all: string[] = [];
  for (let at = 0; at < depth; at++) {
    level = level.flatMap((prefix) => SEGMENT_NAMES.map((name) => (prefix ? `${prefix}/${name}` : name)));
    all.push(...level);
  }
  return all;
}

describe("scopesMayOverlap properties", () => {
  it("is sound: when a path lies in both scopes, they may overlap", () => {
    fc.assert(fc.property(scope, scope, fc.array(path, { minLength: 1, maxLength: 30 }), (first, second, paths) => {
      const inFirst = globMatcher(first);
      const inSecond = globMatcher(second);
      if (paths.some((candidate) => inFirst(candidate) && inSecond(candidate))) expect(overlap(first, second)).toBe(true);
    }), { numRuns: 2000 });
  });

  it("is sound on a path built to lie in both scopes", () => {
    // A path matched by one glob, extended below: the glob of the other scope is made to match it too.
    fc.assert(fc.property(path, path, fc.nat(), (base, below, cut) => {
      const segs = base.split("/");
      const first = [segs.slice(0, 1 + (cut % segs.length)).join("/")];
      const second = [`**/${segs[segs.length - 1]}/${below}`];
      const candidate = `${base}/${below}`;
      if (globMatcher(first)(candidate) && globMatcher(second)(candidate)) expect(overlap(first, second)).toBe(true);
    }));
  });

  it("is exact on small globs: true exactly when some path of up to 4 segments lies in both", () => {
    const paths = universe(4);
    const small = fc.array(fc.array(fc.constantFrom("a", "b", "ab", "*", "?", "a*", "*b", "**"), { minLength: 1, maxLength: 2 }).map((segs) => segs.join("/")), { minLength: 1, maxLength: 2 });
    fc.assert(fc.property(small, small, (first, second) => {
      const inFirst = globMatcher(first);
      const inSecond = globMatcher(second);
      const witness = paths.find((candidate) => inFirst(candidate) && inSecond(candidate));
      expect(overlap(first, second), `witness: ${witness}`).toBe(witness !== undefined);
    }), { numRuns: 300 });
  });

  it("is symmetric", () => {
    fc.assert(fc.property(scope, scope, (first, second) => {
      expect(overlap(first, second)).toBe(overlap(second, first));
    }), { numRuns: 1000 });
  });
});

describe("outsideScope", () => {
  it("lists the paths no glob covers, in order, with globMatcher's semantics", () => {
    const changed = ["src/a.ts", "src/deep/b.ts", "docs/x.md", "README.md", "test/a.test.ts"];
    expect(outsideScope(changed, ["src", "**/*.md"])).toEqual(["test/a.test.ts"]);
    expect(outsideScope(changed, ["src/*.ts"])).toEqual(["src/deep/b.ts", "docs/x.md", "README.md", "test/a.test.ts"]);
    expect(outsideScope(changed, ["."])).toEqual([]);
  });

  it("takes [] at its word: nothing is covered", () => {
    expect(outsideScope(["a", "b/c"], [])).toEqual(["a", "b/c"]);
  });

  it("agrees with globMatcher on random scopes and paths", () => {
    fc.assert(fc.property(scope, fc.array(path, { maxLength: 20 }), (globs, paths) => {
      const covered = globMatcher(globs);
      expect(outsideScope(paths, globs)).toEqual(paths.filter((candidate) => !covered(candidate)));
    }));
  });
});
