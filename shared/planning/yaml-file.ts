// YAML data files (templates, selection rules) read with their positions, so that a problem names the file, the
// line and the field. Never throws: an unreadable or malformed file is a list of problems.
import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import { formatPath } from "../protocol/common.ts";
import type { PathIssue } from "./schema-issues.ts";

/** A problem with a data file: which file, where in it (1-based line, field path) when known, and what. */
export interface CatalogueProblem {
  file: string;
  line?: number;
  field?: string;
  message: string;
}

/** A parsed YAML file: its value, and where a path of it is written. */
export interface YamlFile {
  file: string;
  value: unknown;
  /** The line of the field at `path` (or of the nearest part of it that exists). */
  lineOf(path: readonly PropertyKey[]): number | undefined;
  /** Path issues as problems of this file, each with its line and field. */
  problems(issues: readonly PathIssue[]): CatalogueProblem[];
}

/** Reads and parses `file`: the parsed file, or the problems (unreadable, YAML syntax errors with their lines). */
export function readYamlFile(file: string): { ok: true; yaml: YamlFile } | { ok: false; problems: CatalogueProblem[] } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return { ok: false, problems: [{ file, message: `cannot read it: ${(err as Error).message}` }] };
  }
  return parseYamlText(file, text);
}

/** Parses YAML `text` as the content of `file` (see readYamlFile). */
export function parseYamlText(file: string, text: string): { ok: true; yaml: YamlFile } | { ok: false; problems: CatalogueProblem[] } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({ file, line: counter.linePos(error.pos[0]).line, message: `YAML syntax: ${error.message.split("\n")[0]}` })),
    };
  }
  const lineOf = (path: readonly PropertyKey[]) => {
    const offset = offsetOf(doc, path);
    return offset === undefined ? undefined : counter.linePos(offset).line;
  };
  const problems = (issues: readonly PathIssue[]) =>
    issues.map((issue) => {
      const line = lineOf(issue.path);
      return { file, ...(line !== undefined ? { line } : {}), ...(issue.path.length ? { field: formatPath(issue.path) } : {}), message: issue.message };
    });
  return { ok: true, yaml: { file, value: doc.toJS(), lineOf, problems } };
}

/** The start offset of the node at `path`: a map entry's key, a list item; the nearest existing ancestor when it is missing. */
function offsetOf(doc: Document, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = startOf(node);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      offset = startOf(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment] !== undefined) {
      node = node.items[segment];
      offset = startOf(node) ?? offset;
    } else break;
  }
  return offset;
}

function startOf(node: unknown): number | undefined {
  const range = node && typeof node === "object" && "range" in node ? (node as { range?: unknown }).range : undefined;
  return Array.isArray(range) && typeof range[0] === "number" ? range[0] : undefined;
}
