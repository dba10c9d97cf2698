// The fields a zod object schema has at a path: what "did you mean" suggests for an unknown field.
import * as z from "zod";

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
