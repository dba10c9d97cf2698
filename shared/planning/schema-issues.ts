// Zod issues as people read them: one issue per unknown field, each with the nearest known field ("did you mean"),
// paths kept as segments so a YAML file can turn them into line numbers. Pure.
import * as z from "zod";
import { fieldsAt } from "../protocol/fields.ts";
import { didYouMean } from "../protocol/suggest.ts";

export { fieldsAt };

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

/** `steps[2].dependsOn[0]` back into segments (the inverse of formatPath; `(root)` is []). */
export function parsePath(path: string): PropertyKey[] {
  if (path === "(root)" || path === "") return [];
  const segments: PropertyKey[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) segments.push(match[2] !== undefined ? Number(match[2]) : match[1]!);
  return segments;
}
