// Glob patterns over workspace-relative paths, as tasks name them in `files`: compiled to regular expressions
// with the few rules a task author expects (`**`, `*`, `?`, `{a,b}`, a folder matches what is below it), and
// parsed into segments and tokens for reasoning about globs without paths (shared/scope.ts).

const MAX_BRACE_EXPANSIONS = 256;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** One piece of a path segment's pattern: a literal character, `?` (one character) or `*` (any run of them). */
export type SegmentToken = { kind: "char"; char: string } | { kind: "one" } | { kind: "any" };

/** A predicate over workspace-relative paths: true when one of `globs` matches the path or a folder it is in. */
export function globMatcher(globs: readonly string[]): (path: string) => boolean {
  const patterns = globs.map(globToRegExp);
  return (path) => patterns.some((re) => re.test(path));
}

/**
 * Compiles a glob relative to the workspace. `**` (a whole segment) is any number of folders, `*` any
 * characters but `/` (dot files included), `?` one such character, `{a,b}` alternatives (nested allowed),
 * `\` escapes the next character; everything else is literal, `[` and `]` too (`app/[id]/page.tsx`). A glob
 * also matches everything below a folder it matches (`docs` = `docs/**`); `.` is the whole workspace.
 * Throws when braces expand to more than MAX_BRACE_EXPANSIONS patterns.
 */
export function globToRegExp(glob: string): RegExp {
  const alternatives = globAlternatives(glob).map((segments) => {
    if (segments.length === 0) return ".*";
    let source = "";
    segments.forEach((seg, index) => {
      const first = index === 0;
      const last = index === segments.length - 1;
      if (seg === "**") source += first ? (last ? ".*" : "(?:.*/)?") : last ? "(?:/.*)?" : "(?:/.*)?/";
      else source += (first || segments[index - 1] === "**" ? "" : "/") + segmentSource(seg);
    });
    return source;
  });
  return new RegExp(`^(?:${alternatives.join("|")})(?:/.*)?$`, "s");
}

/**
 * A glob's alternatives (its braces expanded), each as its path segments: empty and `.` segments dropped, runs of
 * `**` collapsed to one. No segments: the whole workspace. Throws like globToRegExp.
 */
export function globAlternatives(glob: string): string[][] {
  return expandBraces(glob).map((pattern) => pattern.split("/")
    .filter((seg) => seg !== "" && seg !== ".")
    .filter((seg, index, all) => !(seg === "**" && all[index - 1] === "**")));
}

/** One path segment (not `**`) as tokens: `\x` is a literal x, runs of `*` are one `*`. */
export function segmentTokens(seg: string): SegmentToken[] {
  const tokens: SegmentToken[] = [];
  for (let pos = 0; pos < seg.length; pos++) {
    const char = seg[pos]!;
    if (char === "\\" && pos + 1 < seg.length) tokens.push({ kind: "char", char: seg[++pos]! });
    else if (char === "*") {
      tokens.push({ kind: "any" });
      while (seg[pos + 1] === "*") pos++;
    } else if (char === "?") tokens.push({ kind: "one" });
    else tokens.push({ kind: "char", char });
  }
  return tokens;
}

/** One path segment without `**` as a regular expression source. */
function segmentSource(seg: string): string {
  return segmentTokens(seg).map((token) => (token.kind === "any" ? "[^/]*" : token.kind === "one" ? "[^/]" : escapeRegExp(token.char))).join("");
}

/** `a{b,c{d,e}}` → `ab`, `acd`, `ace`. A group without a comma, or an unbalanced brace, is literal. */
function expandBraces(pattern: string): string[] {
  for (let open = 0; open < pattern.length; open++) {
    if (pattern[open] === "\\") {
      open++;
      continue;
    }
    if (pattern[open] !== "{") continue;
    let depth = 0;
    let end = -1;
    const bounds = [open];
    for (let pos = open; pos < pattern.length && end < 0; pos++) {
      if (pattern[pos] === "\\") pos++;
      else if (pattern[pos] === "{") depth++;
      else if (pattern[pos] === "}" && --depth === 0) end = pos;
      else if (pattern[pos] === "," && depth === 1) bounds.push(pos);
    }
    if (end < 0) return [pattern];
    if (bounds.length === 1) continue;
    bounds.push(end);
    const out: string[] = [];
    const tails = expandBraces(pattern.slice(end + 1));
    for (let alt = 0; alt + 1 < bounds.length; alt++) {
      for (const choice of expandBraces(pattern.slice(bounds[alt]! + 1, bounds[alt + 1]))) {
        for (const tail of tails) out.push(pattern.slice(0, open) + choice + tail);
        if (out.length > MAX_BRACE_EXPANSIONS) throw new Error(`glob ${JSON.stringify(pattern)} expands to more than ${MAX_BRACE_EXPANSIONS} patterns`);
      }
    }
    return out;
  }
  return [pattern];
}
