// The structured answer an `llm` role gives: a summary, files to write into the workspace, a handoff, on a review
// gate run a verdict, a question for a person, and on a planner run the plan. Validated with zod; what fails is described in words the model can act on.
import * as z from "zod";
import { BoundedHandoff, MAX_SUMMARY_CHARS, Question, ReviewVerdict } from "../../../../shared/protocol/index.ts";
import { jsonCandidates } from "../json-text.ts";

/** Largest file the model may write (UTF-8 bytes), and largest total of one answer. */
export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_FILES_TOTAL_BYTES = 8 * 1024 * 1024;
export const MAX_FILES = 200;

/**
 * Why `path` may not be written, or undefined when it is a plain relative path inside the workspace: not absolute,
 * no `..`, `.` or empty segments, no backslashes or NUL, nothing in a `.git` folder. Pure (symlinks are checked at
 * write time, files.ts).
 */
export function unsafePathReason(path: string): string | undefined {
  if (path.includes("\0")) return "contains a NUL character";
  if (path.includes("\\")) return "use / as the separator";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "must be relative to the workspace";
  const segments = path.split("/");
  if (segments.some((segment) => segment === "..")) return "must not contain ..";
  if (segments.some((segment) => segment === "" || segment === ".")) return "must not contain empty or . segments";
  if (segments.some((segment) => segment === ".git")) return "must not write into .git";
  return undefined;
}

export const OutputFile = z.object({
  path: z.string().min(1).max(1000).superRefine((path, ctx) => {
    const reason = unsafePathReason(path);
    if (reason) ctx.addIssue({ code: "custom", message: `path "${path}" ${reason}` });
  }),
  content: z.string().refine((content) => Buffer.byteLength(content) <= MAX_FILE_BYTES, { message: `file content is larger than ${MAX_FILE_BYTES} bytes` }),
});
export type OutputFile = z.infer<typeof OutputFile>;

/** The answer of an `llm` role (docs/agents.md). Unknown fields are ignored. */
export const LlmOutput = z.object({
  summary: z.string().min(1).max(MAX_SUMMARY_CHARS),
  files: z.array(OutputFile).max(MAX_FILES).optional(),
  handoff: BoundedHandoff.optional(),
  review: ReviewVerdict.optional(),
  /** What should come next, and constraints the tasks after this one must respect (handed to them). */
  nextSteps: z.array(z.string().max(2000)).max(50).optional(),
  constraints: z.array(z.string().max(2000)).max(50).optional(),
  /** A decision only a person can make: the task waits for the answer (its files, if any, are not written). */
  question: Question.optional(),
  /** A planner run's plan (checked by the coordinator, which sends every error back). */
  plan: BoundedHandoff.optional(),
}).superRefine((output, ctx) => {
  const total = (output.files ?? []).reduce((sum, file) => sum + Buffer.byteLength(file.content), 0);
  if (total > MAX_FILES_TOTAL_BYTES) ctx.addIssue({ code: "custom", path: ["files"], message: `files total ${total} bytes; the limit is ${MAX_FILES_TOTAL_BYTES}` });
  const paths = (output.files ?? []).map((file) => file.path);
  const twice = paths.find((path, index) => paths.indexOf(path) !== index);
  if (twice) ctx.addIssue({ code: "custom", path: ["files"], message: `file "${twice}" is given twice` });
});
export type LlmOutput = z.infer<typeof LlmOutput>;

/** The answer's shape as the model is told it (a JSON-Schema-like sketch that reads well in a prompt). */
export const OUTPUT_SHAPE = `{
  "summary": string,            // required: what you did or decided, for the people and tasks after you
  "files": [{ "path": string, "content": string }],   // optional: files to create or replace in the workspace
  "handoff": any JSON,          // optional: data for the tasks that depend on yours (a plan, an API spec, …)
  "nextSteps": [string],        // optional: what the tasks after yours should do next
  "constraints": [string],      // optional: constraints they must respect (a naming rule, an invariant)
  "review": { "verdict": "approve" | "changes_requested", "comments": [{ "file"?: string, "line"?: number, "message": string }] },   // only when asked to review
  "question": { "question": string, "options"?: [string], "default"?: string },   // only when a person must decide before you can go on
  "plan": { … }                 // only when asked to plan: the plan, in the shape the prompt gives
}`;

export type ParsedOutput = { ok: true; output: LlmOutput } | { ok: false; problems: string[] };

/**
 * Reads the model's answer: the JSON object in it (the whole text, a fenced block, or an object in prose; the last
 * valid one wins), validated. `requireReview`: an answer without `review` is invalid. Never throws; problems are
 * sentences naming the field.
 */
export function parseLlmOutput(text: string, options: { requireReview?: boolean } = {}): ParsedOutput {
  const objects = jsonCandidates(text).filter((found) => found.value !== null && typeof found.value === "object" && !Array.isArray(found.value));
  if (objects.length === 0) return { ok: false, problems: ["the answer holds no JSON object: answer with exactly one JSON object"] };
  let problems: string[] = [];
  for (const found of objects.reverse()) {
    const parsed = LlmOutput.safeParse(found.value);
    if (!parsed.success) {
      if (problems.length === 0) problems = parsed.error.issues.map((issue) => `${issue.path.length ? issue.path.join(".") : "the answer"}: ${issue.message}`);
      continue;
    }
    if (options.requireReview && !parsed.data.review) {
      if (problems.length === 0) problems = ['review: required on a review: give { "verdict": "approve" | "changes_requested", "comments": [...] }'];
      continue;
    }
    return { ok: true, output: parsed.data };
  }
  return { ok: false, problems: problems.slice(0, 20) };
}
