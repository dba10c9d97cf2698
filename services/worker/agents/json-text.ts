// Finding JSON in what a model wrote: the whole answer, fenced ```json blocks, or bare objects inside prose.
// Pure and total: models wrap, fence and comment their JSON, and none of that may throw.

/** A JSON value found in a text, and where it came from. */
export interface FoundJson {
  value: unknown;
  /** `whole`: the entire (trimmed) text; `fenced`: a ``` block; `bare`: a balanced {…} inside prose. */
  from: "whole" | "fenced" | "bare";
}

const FENCE = /(`{3,})[ \t]*([A-Za-z0-9_-]*)[^\n]*\n([\s\S]*?)\n[ \t]*\1/g;

/**
 * Every JSON value in `text`, in order of preference: the whole text if it parses; else the fenced blocks that
 * parse (json/untagged ones; in text order) followed by the balanced top-level objects found in the text outside
 * them. Never throws; at most `limit` candidates.
 */
export function jsonCandidates(text: string, limit = 50): FoundJson[] {
  const trimmed = text.trim();
  const whole = tryParse(trimmed);
  if (whole.ok) return [{ value: whole.value, from: "whole" }];
  const found: FoundJson[] = [];
  let outside = "";
  let last = 0;
  for (const match of text.matchAll(FENCE)) {
    outside += text.slice(last, match.index);
    last = match.index + match[0].length;
    const tag = (match[2] ?? "").toLowerCase();
    if (tag !== "" && tag !== "json" && tag !== "jsonc") continue;
    const parsed = tryParse(match[3] ?? "");
    if (parsed.ok && found.length < limit) found.push({ value: parsed.value, from: "fenced" });
  }
  outside += text.slice(last);
  for (const body of balancedObjects(outside)) {
    if (found.length >= limit) break;
    const parsed = tryParse(body);
    if (parsed.ok) found.push({ value: parsed.value, from: "bare" });
  }
  return found;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  if (!text.startsWith("{") && !text.startsWith("[")) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** The top-level `{…}` spans of `text`, braces inside JSON strings ignored. */
function balancedObjects(text: string): string[] {
  const spans: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === "\\") index++;
      else if (char === '"') inString = false;
    } else if (char === '"' && depth > 0) inString = true;
    else if (char === "{") {
      if (depth === 0) start = index;
      depth++;
    } else if (char === "}" && depth > 0) {
      depth--;
      if (depth === 0) spans.push(text.slice(start, index + 1));
    }
  }
  return spans;
}

/**
 * One line of an agent CLI's JSON stream, validated with `schema`: undefined for a line that is not a JSON object
 * or does not match (the executor keeps such a line as a log line). Never throws.
 */
export function streamLine<T>(text: string, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }): T | undefined {
  if (!text.trimStart().startsWith("{")) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
