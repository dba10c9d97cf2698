// OpenAPI artifacts (artifacts.ts): a description must validate as OpenAPI 3.0, 3.1 or 3.2 against the official
// schemas (@seriousme/openapi-schema-validator, on Ajv), its `$ref`s must resolve, and in 3.1+ its Schema Objects
// must be valid JSON Schema. `$ref`s to other workspace files are read with `read`; URLs are never fetched.
import { posix } from "node:path";
import { dataFormat, formatAjvErrors, isRecord, loadText, locate, MISSING, parseData, type ReadArtifact } from "./artifacts-parse.ts";
import { validateJsonSchema } from "./artifacts-schema.ts";

/** At most this many other files are read for one description's `$ref`s. */
const MAX_REF_FILES = 100;
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
/** The key the validator inlines other files under (its `x-inlined-refs`), to name them in messages. */
const INLINED = "/x-inlined-refs/";

/** A `$ref` found in a document: its value as the validator resolves it, and where it is (for messages). */
interface FoundRef { full: string; where: string }

/**
 * Problems with an OpenAPI description `doc` (parsed from `path`), each naming where (`paths./users.get.responses.200:
 * must have required property 'description'`); [] when it is valid. Swagger 2 is refused.
 */
export async function validateOpenApi(path: string, doc: unknown, read: ReadArtifact): Promise<string[]> {
  if (!isRecord(doc)) return ["(top level): an OpenAPI description must be an object with an `openapi` field"];
  if (doc["swagger"] !== undefined) return ["swagger: Swagger 2 is not OpenAPI 3; convert it (e.g. with swagger2openapi)"];
  const version = doc["openapi"];
  if (version === undefined) return ["(top level): has no `openapi` field, but the file name says it is an OpenAPI description"];
  if (typeof version !== "string" || !/^3\.[0-2]\.\d+/.test(version)) {
    return [`openapi: ${JSON.stringify(version)} is not an OpenAPI 3 version (3.0.x, 3.1.x or 3.2.x as a string)`];
  }
  const { Validator } = await import("@seriousme/openapi-schema-validator");
  const validator = new Validator({ allErrors: true, logger: false });
  const refs = findRefs(doc, "", (pointer) => locate(pointer));
  const others = await loadReferencedFiles(path, read, refs);
  if (others.messages.length > 0) return others.messages;
  for (const [uri, value] of others.files) await validator.addSpecRef(value, uri);
  // The validator takes an object (a string would be read as a file name) and changes it: give it a copy.
  const result = await validator.validate(structuredClone(doc));
  if (!result.valid) {
    if (typeof result.errors === "string") return [refProblem(result.errors, [...refs, ...others.refs])];
    return formatAjvErrors(result.errors ?? [], whereInlined);
  }
  return version.startsWith("3.0") ? [] : checkSchemaObjects(doc);
}

/** Locations inside another file the validator inlined read as `<file> at <path>`. */
function whereInlined(pointer: string): string {
  if (!pointer.startsWith(INLINED)) return locate(pointer);
  const [uri = "", ...rest] = pointer.slice(INLINED.length).split("/");
  return `${uri.replace(/~1/g, "/").replace(/~0/g, "~")} at ${locate(rest.length ? `/${rest.join("/")}` : "")}`;
}

/** The validator's "Can't resolve <ref>" with the place of that `$ref`. */
function refProblem(message: string, refs: readonly FoundRef[]): string {
  const target = /^Can't resolve (.*?)(, only internal refs are supported\.)?$/.exec(message)?.[1];
  const found = target === undefined ? undefined : refs.find((ref) => ref.full === target);
  if (found) return `${found.where}: $ref ${JSON.stringify(target)} points at nothing`;
  return target === undefined ? `the $ref check failed: ${message}` : message;
}

/** Every `$ref` string in a document, as the validator will resolve it (`#…` refs of another file carry its uri). */
function findRefs(node: unknown, uri: string, where: (pointer: string) => string, pointer = "", seen = new Set<unknown>()): FoundRef[] {
  if (typeof node !== "object" || node === null || seen.has(node)) return [];
  seen.add(node);
  const out: FoundRef[] = [];
  for (const [key, value] of Object.entries(node)) {
    const at = `${pointer}/${pointerKey(key)}`;
    if (key === "$ref" && typeof value === "string") {
      const decoded = safeDecode(value);
      out.push({ full: decoded.startsWith("#") ? `${uri}${decoded}` : decoded, where: where(pointer) });
    } else out.push(...findRefs(value, uri, where, at, seen));
  }
  return out;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The other files the `$ref`s name, keyed by the ref's file part as written (the validator's key), read relative
 * to the file that names them, transitively, at most MAX_REF_FILES. A URL is never fetched: it gets a stand-in
 * object holding the pointed-at path, so its refs count as resolved (not checked). A file outside the workspace,
 * missing or invalid is a problem (once per file). Also returns the `$ref`s found in those files.
 */
async function loadReferencedFiles(path: string, read: ReadArtifact, refs: readonly FoundRef[]) {
  const files = new Map<string, Record<string, unknown>>();
  const messages: string[] = [];
  const queue = refs.map((ref) => ({ ref, from: path }));
  const failed = new Set<string>();
  const otherRefs: FoundRef[] = [];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const [filePart = "", fragment] = next.ref.full.split("#", 2);
    if (filePart === "") continue;
    if (SCHEME.test(filePart)) {
      standIn(files, filePart, fragment);
      continue;
    }
    if (files.has(filePart) || failed.has(filePart)) continue;
    if (files.size >= MAX_REF_FILES) {
      messages.push(`${next.ref.where}: more than ${MAX_REF_FILES} files are referenced; not validated`);
      break;
    }
    const target = posix.normalize(posix.join(posix.dirname(next.from), filePart));
    if (target.startsWith("../") || target === ".." || posix.isAbsolute(filePart)) {
      failed.add(filePart);
      messages.push(`${next.ref.where}: $ref ${JSON.stringify(next.ref.full)} points outside the workspace`);
      continue;
    }
    const loaded = await loadReferenced(target, read);
    if ("messages" in loaded) {
      failed.add(filePart);
      const where = `${next.ref.where}: $ref ${JSON.stringify(next.ref.full)}: ${target} is`;
      messages.push(...loaded.messages.map((message) => `${where} ${message === MISSING ? "missing" : message}`));
      continue;
    }
    files.set(filePart, loaded.value);
    const found = findRefs(loaded.value, filePart, (pointer) => `${target} at ${locate(pointer)}`);
    queue.push(...found.map((ref) => ({ ref, from: target })));
    otherRefs.push(...found);
  }
  return { files, messages, refs: otherRefs };
}

/** A file a `$ref` names, parsed (YAML also reads JSON); it must hold one object. */
async function loadReferenced(target: string, read: ReadArtifact): Promise<{ value: Record<string, unknown> } | { messages: string[] }> {
  const loaded = await loadText(target, read);
  if ("messages" in loaded) return loaded;
  const parsed = parseData(dataFormat(target) ?? "yaml", loaded.text);
  if ("messages" in parsed) return parsed;
  if (!isRecord(parsed.value)) return { messages: ["not one JSON or YAML object"] };
  return { value: parsed.value };
}

/** Registers a stand-in for a URL's document with an empty object at the pointer, so the ref resolves unfetched. */
function standIn(files: Map<string, Record<string, unknown>>, uri: string, fragment: string | undefined): void {
  let node = files.get(uri) ?? {};
  files.set(uri, node);
  if (!fragment?.startsWith("/")) return;
  for (const segment of fragment.split("/").slice(1).map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))) {
    const child = isRecord(node[segment]) ? (node[segment] as Record<string, unknown>) : {};
    node[segment] = child;
    node = child;
  }
}

/** Parts of an OpenAPI 3.1 description under which a `schema` field holds a Schema Object. */
const SCHEMA_HOMES = ["paths", "webhooks", "components"] as const;
/** Fields not searched for `schema` fields: data (examples, defaults) and `components.schemas` (checked as a whole). */
const SKIP_FIELDS = new Set(["example", "examples", "default", "enum", "const", "schemas"]);

/**
 * OpenAPI 3.1+ leaves Schema Objects to JSON Schema, so the official schema does not check them: each one
 * (`components.schemas.*` and every `schema` field of parameters, headers and media types) is checked against the
 * draft 2020-12 meta-schema, unless the description declares another `jsonSchemaDialect`.
 */
async function checkSchemaObjects(doc: Record<string, unknown>): Promise<string[]> {
  const dialect = doc["jsonSchemaDialect"];
  if (dialect !== undefined && !/^https:\/\/(spec\.openapis\.org\/oas\/3\.[12]\/dialect|json-schema\.org\/draft\/2020-12\/schema)/.test(String(dialect))) return [];
  const found: Array<{ at: string; schema: unknown }> = [];
  const components = isRecord(doc["components"]) ? doc["components"] : {};
  if (isRecord(components["schemas"])) {
    for (const [name, schema] of Object.entries(components["schemas"])) found.push({ at: `/components/schemas/${pointerKey(name)}`, schema });
  }
  for (const home of SCHEMA_HOMES) findSchemaFields(doc[home], `/${home}`, found, new Set());
  const messages: string[] = [];
  for (const { at, schema } of found) messages.push(...(await validateJsonSchema(schema, { fallback: "2020-12", at, compile: false })));
  return messages;
}

function findSchemaFields(node: unknown, pointer: string, found: Array<{ at: string; schema: unknown }>, seen: Set<unknown>): void {
  if (typeof node !== "object" || node === null || seen.has(node)) return;
  seen.add(node);
  for (const [key, value] of Object.entries(node)) {
    if (key === "schema") found.push({ at: `${pointer}/schema`, schema: value });
    else if (!SKIP_FIELDS.has(key)) findSchemaFields(value, `${pointer}/${pointerKey(key)}`, found, seen);
  }
}

/** A key as one JSON pointer segment. */
const pointerKey = (key: string): string => key.replace(/~/g, "~0").replace(/\//g, "~1");
