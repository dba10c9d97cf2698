// Building blocks shared by every message family.
import * as z from "zod";
import { TOKEN_RE } from "../subjects.ts";

/** Subject-safe identifier: feature ids, task ids, roles. */
export const Id = z
  .string()
  .regex(TOKEN_RE, "must be 1-64 characters of [A-Za-z0-9_-] (it becomes a NATS subject token)");

export const Role = Id.describe("role name, e.g. backend");

/** ISO-8601 timestamp. */
export const Timestamp = z.iso.datetime({ offset: true });

/** An error as it crosses a process boundary: branch on `name`/`code`, never on classes. */
export const WireError = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
  details: z.unknown().optional(),
});
export type WireError = z.infer<typeof WireError>;

/** A zod issue path as people write it: `tasks[2].dependsOn[0]`; `(root)` for the whole message. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) out += typeof segment === "number" ? `[${segment}]` : out ? `.${String(segment)}` : String(segment);
  return out || "(root)";
}

/** One validation problem: where (a JSON path such as `tasks[2].dependsOn[0]`) and what. */
export const ValidationIssue = z.object({ path: z.string(), message: z.string() });
export type ValidationIssue = z.infer<typeof ValidationIssue>;

/** Anything JSON: handoff documents are free-form but must survive a JSON round trip. */
export const Json: z.ZodType<unknown> = z.unknown().refine((value) => {
  try {
    return JSON.stringify(value) !== undefined;
  } catch {
    return false;
  }
}, "must be JSON-serialisable");
