// Line diffs for the agent demo's scripts: the change from one version of a file to the next as hunks with a few
// lines of context, which the dialects turn into Claude Code `Edit` calls and Codex `apply_patch` updates.

/** One line of an edit script: kept, removed or added. */
export type Op = { kind: "same" | "del" | "add"; line: string };

/** One changed region: up to `context` unchanged lines before and after it, and its edit script (inner unchanged lines included). */
export interface Hunk {
  before: string[];
  body: Op[];
  after: string[];
}

/** A text's lines without the final line break (a file's last line ends with one). */
export function linesOf(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** The edit script from `old` to `now` by longest common subsequence (files here have a few hundred lines). Pure. */
function operations(old: readonly string[], now: readonly string[]): Op[] {
  const cols = now.length + 1;
  const common = new Uint32Array((old.length + 1) * cols);
  const at = (row: number, col: number) => common[row * cols + col]!;
  for (let row = old.length - 1; row >= 0; row--) {
    for (let col = now.length - 1; col >= 0; col--) {
      common[row * cols + col] = old[row] === now[col] ? at(row + 1, col + 1) + 1 : Math.max(at(row + 1, col), at(row, col + 1));
    }
  }
  const ops: Op[] = [];
  let row = 0;
  let col = 0;
  while (row < old.length || col < now.length) {
    if (row < old.length && col < now.length && old[row] === now[col]) {
      ops.push({ kind: "same", line: old[row++]! });
      col++;
    } else if (col < now.length && (row === old.length || at(row, col + 1) >= at(row + 1, col))) {
      ops.push({ kind: "add", line: now[col++]! });
    } else {
      ops.push({ kind: "del", line: old[row++]! });
    }
  }
  return ops;
}

/**
 * The hunks that turn `oldText` into `newText`, each with up to `context` unchanged lines on either side; changes
 * closer than 2 × `context` lines share a hunk, so hunks never overlap. Pure; empty when the texts are equal.
 */
export function hunks(oldText: string, newText: string, context = 3): Hunk[] {
  const ops = operations(linesOf(oldText), linesOf(newText));
  const out: Hunk[] = [];
  let index = 0;
  while (index < ops.length) {
    if (ops[index]!.kind === "same") {
      index++;
      continue;
    }
    let end = index;
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== "same") end++;
      let same = end;
      while (same < ops.length && ops[same]!.kind === "same") same++;
      if (same >= ops.length || same - end > 2 * context) break;
      end = same;
    }
    const before = ops.slice(Math.max(0, index - context), index).map((op) => op.line);
    const after = ops.slice(end, end + context).map((op) => op.line);
    out.push({ before, body: ops.slice(index, end), after });
    index = end;
  }
  return out;
}

/** The hunk as the text it replaces and the text that replaces it (whole lines, each with its line break). */
export function hunkTexts(hunk: Hunk): { oldText: string; newText: string } {
  const side = (drop: Op["kind"]) => [...hunk.before, ...hunk.body.filter((op) => op.kind !== drop).map((op) => op.line), ...hunk.after];
  const text = (lines: readonly string[]) => lines.map((line) => `${line}\n`).join("");
  return { oldText: text(side("add")), newText: text(side("del")) };
}

const MARK: Record<Op["kind"], string> = { same: " ", del: "-", add: "+" };

/** The hunk in Codex's `apply_patch` notation: `@@`, then its lines marked ` ` (context), `-` or `+`. */
export function patchHunk(hunk: Hunk): string {
  const lines = ["@@", ...hunk.before.map((line) => ` ${line}`), ...hunk.body.map((op) => `${MARK[op.kind]}${op.line}`), ...hunk.after.map((line) => ` ${line}`)];
  return lines.join("\n");
}
