// JSON Schema artifacts (artifacts.ts): a schema must validate against the meta-schema of the dialect its `$schema`
// names (draft 2020-12, 2019-09, draft-07, -06, -04, each with its own Ajv class) and compile. Nothing is fetched.
import { createRequire } from "node:module";
import type { AnySchemaObject } from "ajv";
import { describe, formatAjvErrors, isRecord, locate, type AjvError } from "./artifacts-parse.ts";

/** The dialects we can check, by their meta-schema's id. */
export const DIALECTS = {
  "2020-12": "https://json-schema.org/draft/2020-12/schema",
  "2019-09": "https://json-schema.org/draft/2019-09/schema",
  "draft-07": "http://json-schema.org/draft-07/schema",
  "draft-06": "http://json-schema.org/draft-06/schema",
  "draft-04": "http://json-schema.org/draft-04/schema",
} as const;
export type Dialect = keyof typeof DIALECTS;

/** The checks of one schema: the dialect to assume without `$schema`, the pointer it sits at, whether to compile it. */
export interface SchemaCheck {
  fallback?: Dialect;
  /** JSON pointer of the schema inside its file (an OpenAPI Schema Object), prepended to error locations. */
  at?: string;
  /** Compile it too (bad regular expressions, `$ref`s into the schema that lead nowhere). Default true. */
  compile?: boolean;
}

/** The smallest part of an Ajv instance used here (every Ajv class has it). */
interface AjvLike {
  getSchema(key: string): ((data: unknown) => boolean | Promise<unknown>) & { errors?: AjvError[] | null } | undefined;
  compile(schema: AnySchemaObject | boolean): unknown;
}

/** True when `value` is a `$schema` that points at json-schema.org (the file is then a JSON Schema). */
export function isJsonSchemaUri(value: unknown): boolean {
  return typeof value === "string" && /^https?:\/\/json-schema\.org\//i.test(value);
}

/** The dialect a `$schema` names (http or https, with or without a trailing `#`), or undefined. */
export function dialectOf(uri: string): Dialect | undefined {
  const bare = uri.trim().replace(/^https?:\/\//i, "").replace(/#$/, "");
  return (Object.keys(DIALECTS) as Dialect[]).find((dialect) => DIALECTS[dialect].replace(/^https?:\/\//, "") === bare);
}

/**
 * Problems with a JSON Schema, each naming where (`properties.name.type: must be …`); [] when it is valid. Without
 * `$schema` it is checked as `fallback` (default draft 2020-12) and the messages say so. References to other files
 * or URLs are neither fetched nor checked; a `$ref` into the schema itself that leads nowhere is a problem.
 */
export async function validateJsonSchema(schema: unknown, check: SchemaCheck = {}): Promise<string[]> {
  const where = (pointer: string): string => locate(`${check.at ?? ""}${pointer}`);
  if (typeof schema === "boolean") return [];
  if (!isRecord(schema)) return [`${where("")}: a JSON Schema must be an object or a boolean`];
  const declared = schema["$schema"];
  if (declared !== undefined && typeof declared !== "string") return [`${where("/$schema")}: must be a string (a meta-schema URI)`];
  const dialect = declared === undefined ? (check.fallback ?? "2020-12") : dialectOf(declared);
  if (!dialect) {
    return [`${where("/$schema")}: unknown $schema "${declared}"; known: ${Object.values(DIALECTS).join(", ")}`];
  }
  const note = declared === undefined ? ` (no $schema: checked as JSON Schema ${dialect})` : "";
  const ajv = await ajvFor(dialect);
  const validateMeta = ajv.getSchema(DIALECTS[dialect]);
  if (!validateMeta) return [`${where("")}: the ${dialect} meta-schema is not available${note}`];
  if (validateMeta(schema) !== true) return formatAjvErrors(validateMeta.errors ?? [], where).map((message) => message + note);
  if (check.compile === false) return [];
  try {
    ajv.compile(schema);
    return [];
  } catch (error) {
    if (isUncheckedRef(error, schema)) return [];
    return [`${where("")}: does not compile: ${describe(error)}${note}`];
  }
}

/** A reference Ajv could not resolve because it leads out of the schema (a URL or another file): not ours to check. */
function isUncheckedRef(error: unknown, schema: Record<string, unknown>): boolean {
  if (!isRecord(error) || typeof error["missingSchema"] !== "string") return false;
  const root = typeof schema["$id"] === "string" ? schema["$id"].replace(/#$/, "") : "";
  return error["missingSchema"] !== "" && error["missingSchema"] !== root;
}

/**
 * A fresh Ajv instance for the dialect: not strict (unknown keywords such as `example` are allowed), all errors,
 * formats known (ajv-formats), no logging, no loading of remote schemas (Ajv only fetches with `loadSchema`, unset).
 */
async function ajvFor(dialect: Dialect): Promise<AjvLike> {
  const options = { strict: false, allErrors: true, logger: false as const, validateSchema: false };
  const { default: formatsModule } = await import("ajv-formats");
  const addFormats = formatsModule.default;
  if (dialect === "2020-12") {
    const { Ajv2020 } = await import("ajv/dist/2020.js");
    return addFormats(new Ajv2020(options));
  }
  if (dialect === "2019-09") {
    const { Ajv2019 } = await import("ajv/dist/2019.js");
    return addFormats(new Ajv2019(options));
  }
  if (dialect === "draft-04") {
    const { default: draft04Module } = await import("ajv-draft-04");
    return addFormats(new draft04Module.default(options));
  }
  const { Ajv } = await import("ajv");
  const ajv = addFormats(new Ajv(options));
  if (dialect === "draft-06") ajv.addMetaSchema(createRequire(import.meta.url)("ajv/dist/refs/json-schema-draft-06.json"));
  return ajv;
}
