// Shared pieces of artifact validation (artifacts.ts): reading a declared file within bounds, parsing JSON and YAML
// with located error messages, and turning JSON pointers and Ajv errors into messages that say where.
import { parseAllDocuments } from "yaml";

/** Files larger than this are not validated (a problem: "too large to validate"). */
export const MAX_ARTIFACT_BYTES = 5 * 1024 * 1024;

/** Reads a file of the workspace by its repository-relative path; undefined when it does not exist. */
export type ReadArtifact = (path: string) => Promise<Buffer | undefined>;

/** Either the text of a file, or why it cannot be validated. */
export type Loaded = { text: string } | { messages: string[] };
/** Either the parsed data (`documents`: how many YAML documents held it; `value` is set only when one), or why not. */
export type Parsed = { value: unknown; documents: number } | { messages: string[] };

export const MISSING = "missing: the task declares it produces this file, but it is not there";

/** A thrown value as one line of text. */
export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads `path` and decodes it as UTF-8 (a byte-order mark dropped); missing, too large and blank files are problems. */
export async function loadText(path: string, read: ReadArtifact): Promise<Loaded> {
  let content: Buffer | undefined;
  try {
    content = await read(path);
  } catch (error) {
    return { messages: [`could not be read: ${describe(error)}`] };
  }
  if (content === undefined) return { messages: [MISSING] };
  if (content.length > MAX_ARTIFACT_BYTES) {
    return { messages: [`too large to validate: ${content.length} bytes (the limit is ${MAX_ARTIFACT_BYTES / 1024 / 1024} MiB)`] };
  }
  const text = content.toString("utf8").replace(/^\uFEFF/, "");
  if (text.trim() === "") return { messages: ["empty: the file has no content (only whitespace)"] };
  return { text };
}

/** How a file's name says its data is written: JSON, YAML, or neither (then only presence is checked). */
export function dataFormat(path: string): "json" | "yaml" | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "yaml";
  return undefined;
}

/** Parses JSON or YAML text; syntax errors come back with their line and column. */
export function parseData(format: "json" | "yaml", text: string): Parsed {
  return format === "json" ? parseJson(text) : parseYaml(text);
}

function parseJson(text: string): Parsed {
  try {
    return { value: JSON.parse(text), documents: 1 };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(message);
    if (!position || /line \d+/i.test(message)) return { messages: [`not valid JSON: ${message}`] };
    const before = text.slice(0, Number(position[1]));
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    return { messages: [`not valid JSON: ${message} (line ${line}, column ${column})`] };
  }
}

function parseYaml(text: string): Parsed {
  const documents = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(documents)) return { value: null, documents: 0 };
  const errors = documents.flatMap((document) => document.errors.map((error) => `not valid YAML: ${error.message.trimEnd()}`));
  if (errors.length > 0) return { messages: errors };
  if (documents.length !== 1) return { value: undefined, documents: documents.length };
  try {
    return { value: documents[0]!.toJS({ maxAliasCount: 1000 }), documents: 1 };
  } catch (error) {
    return { messages: [`not valid YAML: ${describe(error)}`] };
  }
}

/** A JSON pointer as a dotted path for people (`/paths/~1users/get` → `paths./users.get`; the root → `(top level)`). */
export function locate(pointer: string): string {
  if (pointer === "" || pointer === "/") return "(top level)";
  return pointer.split("/").slice(1).map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~")).join(".");
}

/** The parts of an Ajv error that `formatAjvErrors` reads (Ajv's ErrorObject, structurally). */
export interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Keywords whose errors only say "an alternative failed": dropped when a more specific error is at the same place. */
const COMBINATORS = new Set(["oneOf", "anyOf", "if", "then", "else", "not"]);

/**
 * Ajv errors as one message per place, in the order Ajv found them: `<where>: <what>; <what>`. `where` names a
 * place from its JSON pointer (default `locate`). Alternatives' noise (`must match exactly one schema in oneOf`,
 * an OpenAPI Reference's `must have required property '$ref'`) is dropped when anything more specific is there.
 */
export function formatAjvErrors(errors: readonly AjvError[], where: (pointer: string) => string = locate): string[] {
  const byPlace = new Map<string, AjvError[]>();
  for (const error of errors) byPlace.set(error.instancePath, [...(byPlace.get(error.instancePath) ?? []), error]);
  return [...byPlace].map(([pointer, found]) => {
    const specific = found.filter((error) => !COMBINATORS.has(error.keyword) && error.params["missingProperty"] !== "$ref");
    return `${where(pointer)}: ${[...new Set(mergeEnums(specific.length > 0 ? specific : found).map(errorText))].join("; ")}`;
  });
}

/** Enum errors at one place (one per alternative of a oneOf) as one error listing every allowed value. */
function mergeEnums(errors: readonly AjvError[]): AjvError[] {
  const enums = errors.filter((error) => Array.isArray(error.params["allowedValues"]));
  if (enums.length < 2) return [...errors];
  const allowedValues = [...new Set(enums.flatMap((error) => error.params["allowedValues"] as unknown[]))];
  const merged = { ...enums[0]!, params: { allowedValues } };
  return errors.flatMap((error) => (error === enums[0] ? [merged] : enums.includes(error) ? [] : [error]));
}

function errorText(error: AjvError): string {
  const message = error.message ?? `fails "${error.keyword}"`;
  const params = error.params;
  if (typeof params["additionalProperty"] === "string") return `${message} ('${params["additionalProperty"]}')`;
  if (typeof params["unevaluatedProperty"] === "string") return `${message} ('${params["unevaluatedProperty"]}')`;
  if (Array.isArray(params["allowedValues"])) return `${message}: ${params["allowedValues"].map((value) => JSON.stringify(value)).join(", ")}`;
  return message;
}
