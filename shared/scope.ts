// File scopes (the globs a task declares in `files`): may two scopes touch a common path (the coordinator never
// dispatches such tasks at once in shared mode; workers hold file-scope locks on them), and which paths lie outside one.
// Pure: no I/O. Glob syntax and matching are shared/glob.ts's.
import { globAlternatives, globMatcher, segmentTokens, type SegmentToken } from "./glob.ts";

/** Beyond this many pairs of brace alternatives, scopes are taken to overlap rather than compared (bounded work). */
const MAX_ALTERNATIVE_PAIRS = 50_000;

/** `**` or one segment's tokens. */
type Step = "**" | SegmentToken[];

/**
 * True when some path may lie in both scopes; false only when none can (proven from the globs alone). A scope is a
 * list of globs relative to the workspace (shared/glob.ts syntax); `null` is the whole workspace, and so is `[]`: a
 * task that declares no files is not held to that (only `scope: strict` checks it, after the fact), so for locking it
 * may touch anything and runs alone. Conservative: true when the globs cannot be compared (braces that expand too far,
 * or more than MAX_ALTERNATIVE_PAIRS alternative pairs); letters compare case-insensitively (case-insensitive file
 * systems). Otherwise exact up to letter case: true exactly when some path with non-empty segments matches a glob of each scope.
 * Symmetric.
 */
export function scopesMayOverlap(first: readonly string[] | null, second: readonly string[] | null): boolean {
  if (first === null || second === null || first.length === 0 || second.length === 0) return true;
  let firstSteps: Step[][];
  let secondSteps: Step[][];
  try {
    firstSteps = first.flatMap(globSteps);
    secondSteps = second.flatMap(globSteps);
  } catch {
    return true;
  }
  if (firstSteps.length * secondSteps.length > MAX_ALTERNATIVE_PAIRS) return true;
  return firstSteps.some((steps) => secondSteps.some((other) => stepsIntersect(steps, other)));
}

/**
 * The paths (workspace-relative, `/`-separated) that no glob of `scope` covers, in their order. Same matching as
 * globMatcher: a glob covers a path when it matches it or a folder it is in. `[]` covers nothing (every path is
 * outside; unlike for locking, here the declaration is taken at its word). Throws like globToRegExp on a bad glob.
 */
export function outsideScope(paths: readonly string[], scope: readonly string[]): string[] {
  const covered = globMatcher(scope);
  return paths.filter((path) => !covered(path));
}

/** A glob's alternatives as steps, each ending in `**`: a glob covers everything below what it matches. */
function globSteps(glob: string): Step[][] {
  return globAlternatives(glob).map((segments) => [...segments.map((seg): Step => (seg === "**" ? "**" : segmentTokens(seg))), "**"]);
}

/**
 * Whether one sequence of path segments matches both step lists: `**` consumes any segments (or none), and two
 * segment patterns may consume one segment when some segment matches both. Exact, since each consumed segment can be
 * chosen independently of the others.
 */
function stepsIntersect(first: readonly Step[], second: readonly Step[]): boolean {
  return sequencesIntersect(first, second, (step) => step === "**", (mine, theirs) => tokensIntersect(mine as SegmentToken[], theirs as SegmentToken[]));
}

/** Whether one segment (characters other than `/`) matches both token lists: the same walk, one level down. */
function tokensIntersect(first: readonly SegmentToken[], second: readonly SegmentToken[]): boolean {
  return sequencesIntersect(first, second, (token) => token.kind === "any", (mine, theirs) =>
    mine.kind !== "char" || theirs.kind !== "char" || mine.char.toLowerCase() === theirs.char.toLowerCase());
}

/**
 * Whether some word matches both patterns, each a list of elements where a star element matches any run of items
 * (none included) and any other element matches one item; `meet(a, b)`: some item matches both non-star elements.
 * Reachability of the end state in the product of the two automata, from (0, 0): at (i, j) a star may match nothing
 * (its side moves on) or swallow the item the other side's element matches (the other side moves on), and two
 * non-star elements that meet both move on. Every move increases i + j, so one ordered pass decides.
 */
function sequencesIntersect<Element>(first: readonly Element[], second: readonly Element[], isStar: (element: Element) => boolean, meet: (mine: Element, theirs: Element) => boolean): boolean {
  const width = second.length + 1;
  const reached = new Uint8Array((first.length + 1) * width);
  reached[0] = 1;
  for (let mine = 0; mine <= first.length; mine++) {
    for (let theirs = 0; theirs <= second.length; theirs++) {
      if (!reached[mine * width + theirs]) continue;
      if (mine === first.length && theirs === second.length) return true;
      const myStar = mine < first.length && isStar(first[mine]!);
      const theirStar = theirs < second.length && isStar(second[theirs]!);
      if (myStar || (theirStar && mine < first.length)) reached[(mine + 1) * width + theirs] = 1;
      if (theirStar || (myStar && theirs < second.length)) reached[mine * width + theirs + 1] = 1;
      if (mine < first.length && theirs < second.length && !myStar && !theirStar && meet(first[mine]!, second[theirs]!)) reached[(mine + 1) * width + theirs + 1] = 1;
    }
  }
  return false;
}
