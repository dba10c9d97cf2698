// Parsing one role file: Markdown with optional YAML front matter, as files are found in the wild (a BOM, CRLF line
// endings, no front matter, unknown keys, `tools` as one string, an empty body). Every problem names the file, the
// 1-based line in that file and the field, so a person can go straight to it.
import { basename, extname } from "node:path";
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { formatPath, Role } from "../protocol/common.ts";
import { KNOWN_KEYS, RoleFrontMatter, type RoleFile, type RoleOrigin, type RoleProblem } from "./types.ts";

interface Split {
  /** The front matter's text, or undefined when the file has none. */
  yaml: string | undefined;
  body: string;
  /** A `---` on line 1 with no closing `---`. */
  unclosed: boolean;
}

/** The front matter's first line is the file's line 2 (after the opening `---`). */
const FRONT_MATTER_OFFSET = 1;

const isFence = (line: string | undefined): boolean => line !== undefined && line.trimEnd() === "---";

/** Splits off the front matter; line endings are already `\n`. */
function splitFrontMatter(text: string): Split {
  const lines = text.split("\n");
  if (!isFence(lines[0])) return { yaml: undefined, body: text, unclosed: false };
  const close = lines.findIndex((line, index) => index > 0 && (isFence(line) || line.trimEnd() === "..."));
  if (close < 0) return { yaml: undefined, body: text, unclosed: true };
  return { yaml: lines.slice(1, close).join("\n"), body: lines.slice(close + 1).join("\n"), unclosed: false };
}

/** The YAML node at `path` with a source range, else the nearest parent's key, else undefined. */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  const keys = path.map((key) => (typeof key === "number" ? key : String(key)));
  for (let depth = keys.length; depth > 0; depth--) {
    const node: unknown = doc.getIn(keys.slice(0, depth), true);
    // a list item points at itself; a value points at its key (the brief's "line of the key")
    if (depth === keys.length && typeof keys[depth - 1] === "number" && isNode(node) && node.range) return counter.linePos(node.range[0]).line + FRONT_MATTER_OFFSET;
    const parent = depth > 1 ? doc.getIn(keys.slice(0, depth - 1), true) : doc.contents;
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(keys[depth - 1]));
      if (pair && isNode(pair.key) && pair.key.range) return counter.linePos(pair.key.range[0]).line + FRONT_MATTER_OFFSET;
    }
  }
  return undefined;
}

/** The top-level key whose entry holds `offset` (for a YAML syntax error), if any. */
function fieldAt(doc: Document, offset: number): string | undefined {
  if (!isMap(doc.contents)) return undefined;
  for (const pair of doc.contents.items) {
    const start = isNode(pair.key) ? pair.key.range?.[0] : undefined;
    const end = isNode(pair.value) ? pair.value.range?.[2] : isNode(pair.key) ? pair.key.range?.[2] : undefined;
    if (start !== undefined && end !== undefined && offset >= start && offset <= end && isScalar(pair.key)) return String(pair.key.value);
  }
  return undefined;
}

type FrontMatter = { ok: true; values: Record<string, unknown>; doc: Document | undefined; counter: LineCounter } | { ok: false; problems: RoleProblem[] };

/** A top-level `key: value` line whose plain value holds `: ` (which strict YAML rejects there). */
const LOOSE_LINE = /^([A-Za-z_][\w-]*):[ \t]+([^'"\s[{|>&*!#].*?)[ \t]*$/;

/**
 * The front matter with each loose top-level value quoted, line for line (so lines still match the file). Why: Claude
 * Code's own agent generator writes descriptions such as `description: Use this agent when… Examples: <example>…`,
 * which strict YAML rejects and Claude Code loads; they must load here too.
 */
function quoteLooseValues(yamlText: string): string {
  return yamlText.split("\n").map((line) => {
    const loose = LOOSE_LINE.exec(line);
    return loose && loose[2]!.includes(": ") ? `${loose[1]}: ${JSON.stringify(loose[2])}` : line;
  }).join("\n");
}

/** Parses the front matter's YAML into plain values; syntax errors come back with their file line. */
function readFrontMatter(yamlText: string | undefined, file: string): FrontMatter {
  const counter = new LineCounter();
  if (yamlText === undefined || yamlText.trim() === "") return { ok: true, values: {}, doc: undefined, counter };
  const doc = parseDocument(yamlText, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const lenient = new LineCounter();
    const retried = parseDocument(quoteLooseValues(yamlText), { lineCounter: lenient, prettyErrors: false, uniqueKeys: true });
    if (!retried.errors.length) return fromDocument(retried, lenient, file);
  }
  if (doc.errors.length) {
    const problems = doc.errors.map((error): RoleProblem => {
      const field = fieldAt(doc, error.pos[0]);
      return { file, line: counter.linePos(error.pos[0]).line + FRONT_MATTER_OFFSET, ...(field ? { field } : {}), message: `invalid YAML: ${error.message}` };
    });
    return { ok: false, problems };
  }
  return fromDocument(doc, counter, file);
}

/** The plain values of a document parsed without errors; anything but a mapping is a problem. */
function fromDocument(doc: Document, counter: LineCounter, file: string): FrontMatter {
  const values: unknown = doc.toJS({ maxAliasCount: 100 });
  if (values === null || values === undefined) return { ok: true, values: {}, doc, counter };
  if (typeof values !== "object" || Array.isArray(values)) {
    return { ok: false, problems: [{ file, line: 1 + FRONT_MATTER_OFFSET, message: "the front matter must be YAML `key: value` lines" }] };
  }
  return { ok: true, values: values as Record<string, unknown>, doc, counter };
}

/**
 * Parses one role file's text. Pure: never reads the disk and never throws. `file` names the file in problems and
 * becomes the role's `source`; its base name is the role's name when the front matter gives none. Either the role,
 * or every problem found (each with the 1-based line of the file and the field when known).
 */
export function parseRoleFile(text: string, file: string, origin: RoleOrigin): { ok: true; role: RoleFile } | { ok: false; problems: RoleProblem[] } {
  const normalised = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const split = splitFrontMatter(normalised);
  if (split.unclosed) return { ok: false, problems: [{ file, line: 1, message: "the front matter opened with --- on line 1 is never closed (add a line with ---)" }] };
  const front = readFrontMatter(split.yaml, file);
  if (!front.ok) return front;
  const parsed = RoleFrontMatter.safeParse(front.values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue): RoleProblem => {
      const line = front.doc ? lineOf(front.doc, front.counter, issue.path) : undefined;
      return { file, ...(line !== undefined ? { line } : {}), field: formatPath(issue.path), message: issue.message };
    });
    return { ok: false, problems };
  }
  const fromFile = basename(file, extname(file));
  const name = parsed.data.name ?? fromFile;
  if (!Role.safeParse(name).success) {
    const message = `the file has no \`name\` in its front matter and its base name "${fromFile}" is not a role name ([A-Za-z0-9_-]{1,64}): add name: to the front matter`;
    return { ok: false, problems: [{ file, field: "name", message }] };
  }
  const extra = Object.fromEntries(Object.entries(front.values).filter(([key]) => !KNOWN_KEYS.has(key)));
  const defined = Object.fromEntries(Object.entries(parsed.data).filter(([, value]) => value !== undefined));
  return { ok: true, role: { ...defined, name, prompt: split.body.trim(), extra, source: file, origin } };
}
