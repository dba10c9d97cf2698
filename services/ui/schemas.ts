// What the dashboard's JSON API accepts: each request body and path parameter as a zod schema, and the one place
// that parses them into typed values or a 400 naming the specific problem.
import * as z from "zod";
import { formatPath, Id } from "../../shared/protocol/common.ts";
import { AnswerRequest } from "../../shared/protocol/planning.ts";

/** Who acts (recorded in the status events as `by`), as the page's "acting as" field sends it. */
const By = z.string().trim().min(1).max(200);

/** POST /api/features/:id/control — the verbs the page's buttons send (the CLI's cancel/pause/resume/approve/reject). */
export const ControlBody = z
  .strictObject({
    verb: z.enum(["pause", "resume", "cancel", "approve", "reject"]),
    reason: z.string().trim().max(2_000).optional(),
    by: By.optional(),
  })
  .refine((body) => body.verb !== "reject" || Boolean(body.reason), { message: "reject needs a reason (it is recorded with the rejection)", path: ["reason"] });
export type ControlBody = z.infer<typeof ControlBody>;

/** POST /api/features/:id/answer — an answer to an open question. */
export const AnswerBody = z.strictObject({ ...AnswerRequest.shape, by: By.optional() });
export type AnswerBody = z.infer<typeof AnswerBody>;

/** A feature id in a path. */
export const FeatureIdParam = Id;

/** A request the API refuses: the HTTP status and the body it replies with. */
export class BadRequest extends Error {
  override name = "BadRequest";
  constructor(
    message: string,
    readonly status: 400 | 404 | 413 | 415 = 400,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/**
 * `json` as `schema` says, or a BadRequest (400) whose message names the first problem (`reason: reject needs a
 * reason`) and whose issues list every one. Pure.
 */
export function parseBody<S extends z.ZodType>(schema: S, json: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
  const first = issues[0]!;
  throw new BadRequest(`${what}: ${first.path === "(root)" || first.path === "" ? "" : `${first.path}: `}${first.message}`, 400, issues);
}
