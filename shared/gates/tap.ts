// TAP (Test Anything Protocol, versions 13 and 14) read from a command's output: the format mocha, ava,
// node --test, node-tap and many others can print, so a runner Baton does not know still has counts. Pure.
import { counts, type Found, type SummaryParser } from "./summary.ts";

const VERSION = /^TAP version 1[34]$/;
const PLAN = /^1\.\.(\d+)(?:\s+#.*)?$/;
const POINT = /^(not )?ok\b(?:\s+\d+)?(?:\s+-)?(?:\s+(.*))?$/;
/** A `# SKIP` / `# TODO` directive (any case, any word starting so), not escaped as `\#`. */
const DIRECTIVE = /(?:^|[^\\])#\s*(skip|todo)\S*(?:\s.*)?$/i;
const BAIL = /^Bail out!\s*(.*)$/;

/** What a walk over one TAP document found. Only leaf tests are counted (a parent test point summarises
 *  its subtests), except a failing parent none of whose subtests failed (a failed hook). */
interface Walk {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  names: string[];
  /** Test points at the document's top level (what its plan counts). */
  top: number;
  plan: number | null;
  bail: string | null;
  /** The last line that belongs to the document's top level. */
  last: number;
}

interface Level {
  indent: number;
  failed: boolean;
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

/** Counts the test points of `lines[start, end)`, skipping YAML diagnostic blocks. */
function walk(lines: string[], start: number, end: number): Walk {
  const out: Walk = { passed: 0, failed: 0, skipped: 0, todo: 0, names: [], top: 0, plan: null, bail: null, last: -1 };
  const open: Level[] = [];
  let yamlEnd: string | null = null;
  let lastPointIndent = -1;
  for (let index = start; index < end; index++) {
    const raw = lines[index]!;
    const line = raw.trim();
    const indent = indentOf(raw);
    if (yamlEnd !== null) {
      if (line === "..." && raw.startsWith(yamlEnd)) yamlEnd = null;
      continue;
    }
    if (line === "---" && lastPointIndent >= 0 && indent > lastPointIndent) {
      yamlEnd = " ".repeat(indent);
      continue;
    }
    const bail = BAIL.exec(line);
    if (bail) {
      out.bail = bail[1] ?? "";
      out.last = index;
      break;
    }
    const plan = PLAN.exec(line);
    if (plan && indent === 0) {
      out.plan = Number(plan[1]);
      out.last = index;
      continue;
    }
    const point = POINT.exec(line);
    if (!point) continue;
    lastPointIndent = indent;
    // Subtests of this point are the open levels deeper than it.
    let hadChildren = false;
    let childFailed = false;
    while (open.length > 0 && open.at(-1)!.indent > indent) {
      const child = open.pop()!;
      hadChildren = true;
      childFailed ||= child.failed;
    }
    const failed = count(out, point[1] !== undefined, point[2] ?? "", hadChildren, childFailed);
    const level = open.at(-1)?.indent === indent ? open.at(-1)! : (open.push({ indent, failed: false }), open.at(-1)!);
    level.failed ||= failed || childFailed;
    if (indent === 0) {
      out.top++;
      out.last = index;
    }
  }
  return out;
}

/** Adds one test point to the walk's counts; returns whether it failed (a TODO never fails). */
function count(out: Walk, notOk: boolean, description: string, hadChildren: boolean, childFailed: boolean): boolean {
  const directive = DIRECTIVE.exec(description);
  const kind = directive?.[1]?.toLowerCase();
  const body = directive ? description.slice(0, directive.index + (directive[0].startsWith("#") ? 0 : 1)) : description;
  const name = body.replace(/\s+#\s*time=\S+$/, "").trim();
  const failed = notOk && kind === undefined;
  if (hadChildren && !(failed && !childFailed)) return failed;
  if (kind === "skip") out.skipped++;
  else if (kind === "todo") out.todo++;
  else if (failed) {
    out.failed++;
    out.names.push(name);
  } else out.passed++;
  return failed;
}

/** Where the last TAP document of the output starts: its `TAP version` line, or after the plan before. */
function lastDocument(lines: string[]): { start: number; end: number } | null {
  let anchor = -1;
  for (let index = lines.length - 1; index >= 0 && anchor < 0; index--) {
    const raw = lines[index]!;
    if (indentOf(raw) === 0 && PLAN.test(raw.trim())) anchor = index;
  }
  let version = -1;
  for (let index = anchor < 0 ? lines.length - 1 : anchor; index >= 0 && version < 0; index--) {
    if (VERSION.test(lines[index]!.trim()) && indentOf(lines[index]!) === 0) version = index;
  }
  if (anchor < 0) {
    // No plan: only a bail-out after a version line is a TAP document.
    const bail = lines.findIndex((l, index) => index > version && BAIL.test(l.trim()));
    return version >= 0 && bail > version ? { start: version, end: lines.length } : null;
  }
  let start = version;
  if (start < 0) {
    start = 0;
    for (let index = anchor - 1; index >= 0; index--) {
      if (indentOf(lines[index]!) === 0 && PLAN.test(lines[index]!.trim())) {
        start = index + 1;
        break;
      }
    }
  }
  let end = lines.length;
  for (let index = anchor + 1; index < lines.length; index++) {
    if (VERSION.test(lines[index]!.trim())) {
      end = index;
      break;
    }
  }
  return { start, end };
}

/**
 * The last TAP document in the output: passed, failed (`not ok` without a directive), skipped (`# SKIP`) and
 * todo (`# TODO`, in the total only) leaf tests. A plan of `1..0` means no tests (points after it are
 * ignored); planned tests that never reported, and a `Bail out!`, count as failed.
 */
export const tap: SummaryParser = (lines) => {
  const doc = lastDocument(lines);
  if (!doc) return null;
  const found = walk(lines, doc.start, doc.end);
  if (found.plan === null && found.bail === null) return null;
  if (found.plan === 0 && found.bail === null) return { counts: counts("tap", 0, 0, 0, 0), line: found.last };
  const missing = found.plan !== null ? Math.max(0, found.plan - found.top) : 0;
  const bailed = found.bail !== null ? Math.max(1, missing) : missing;
  const names = found.bail !== null ? [...found.names, `Bail out! ${found.bail}`] : found.names;
  const failed = found.failed + bailed;
  const total = found.passed + failed + found.skipped + found.todo;
  return { counts: counts("tap", found.passed, failed, found.skipped, total, names), line: found.last } satisfies Found;
};

/** Names of the failing leaf tests of the last TAP document (for runners whose own summary has none). */
export function tapFailedNames(lines: string[]): string[] {
  const doc = lastDocument(lines);
  return doc ? walk(lines, doc.start, doc.end).names : [];
}
