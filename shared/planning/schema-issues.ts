// Zod issues as people read them: one issue per unknown field, each with the nearest known field ("did you mean"),
// paths kept as segments so a YAML file can turn them into line numbers. Pure.
import * as z from "zod";
import { didYouMean } from "../protocol/suggest.ts";

/** One problem at a path of segments (`["steps", 2, "dependsOn", 0]`). */
export interface PathIssue {
  path: PropertyKey[];
  message: string;
}

/** A zod issue of `schema`'s parse as path issues: an unknown-keys issue becomes one per key, with a "did you mean". */
export function schemaIssues(schema: z.ZodType, issue: z.core.$ZodIssue): PathIssue[] {
  if (issue.code !== "unrecognized_keys") return [{ path: [...issue.path], message: issue.message }];
  const known = fieldsAt(schema, issue.path);
  return issue.keys.map((key) => ({ path: [...issue.path, key], message: `unknown field "${key}"${didYouMean(key, known)}${known.length ? ` (fields: ${known.join(", ")})` : ""}` }));
}

/** The field names of the object schema at `path` inside `schema` (indices step into arrays, keys into records); [] if none. */
export function fieldsAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  // zod's public wrappers only: optional, default and nullable are unwrapped, an array steps to its element.
  const unwrap = (inner: unknown): unknown => {
    let current = inner;
    while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) current = current.unwrap();
    return current;
  };
  let current = unwrap(schema);
  for (const segment of path) {
    const next =
      typeof segment === "number" && current instanceof z.ZodArray ? current.element
      : typeof segment === "string" && current instanceof z.ZodObject ? current.shape[segment]
      : typeof segment === "string" && current instanceof z.ZodRecord ? current.valueType
      : undefined;
    current = unwrap(next);
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

/** `steps[2].dependsOn[0]` back into segments (the inverse of formatPath; `(root)` is []). */
export function parsePath(path: string): PropertyKey[] {
  if (path === "(root)" || path === "") return [];
  const segments: PropertyKey[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) segments.push(match[2] !== undefined ? Number(match[2]) : match[1]!);
  return segments;
}
