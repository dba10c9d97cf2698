// Review gate runs for agents: the prompt section that shows the reviewer the change (the diff and new files the
// worker put in `task.review`) and asks for a verdict, and reading that verdict back out of the agent's answer.
// Pure; used by the CLI executors (a fenced JSON block in the final message) and the llm executor (a JSON field).
import * as z from "zod";
import { ReviewVerdict, type TaskAssigned } from "../../../shared/protocol/index.ts";
import { jsonCandidates } from "./json-text.ts";

/** What runners/review.ts adds to `task.review` (workspace/review-material.ts), read defensively. */
const Material = z.object({
  since: z.string().optional(),
  base: z.string().optional(),
  diff: z.string().optional(),
  untracked: z.array(z.string()).optional(),
  truncated: z.boolean().optional(),
  note: z.string().optional(),
});

/** The verdict's shape, as the reviewer is asked to give it. */
export const VERDICT_SHAPE = `{ "verdict": "approve" | "changes_requested", "comments": [{ "file": "src/a.js", "line": 12, "message": "what to change and why" }] }`;
/** The fenced block a CLI reviewer ends its final message with. */
export const VERDICT_EXAMPLE = `{ "review": ${VERDICT_SHAPE} }`;

export interface ReviewSectionOptions {
  /**
   * `fenced` (default, CLI agents): end the final message with a fenced ```json block holding the verdict.
   * `field`: the answer is one JSON object whose `review` field holds the verdict (the llm executor).
   */
  answer?: "fenced" | "field";
}

/**
 * The prompt section of a review gate run: what to judge, the change itself (diff since the feature started,
 * new files, why there is no diff), and how to answer. Pure; a task without review material gets the
 * instruction and a note that no diff was available.
 */
export function reviewSection(task: Pick<TaskAssigned, "review">, options: ReviewSectionOptions = {}): { heading: string; body: string } {
  const parsed = Material.safeParse(task.review ?? {});
  const material = parsed.success ? parsed.data : {};
  const parts: string[] = [
    "You are reviewing the work done on this feature so far (the tasks above describe what was asked). " +
      "Check that the change does what was asked, is correct, and is safe and tested where that matters. " +
      "Request changes only for problems that must be fixed; each comment says what to change, with file and line when you can.",
  ];
  if (material.base) parts.push(`The diff starts at commit ${material.base}.`);
  if (material.note) parts.push(`Note: ${material.note}.`);
  if (material.untracked?.length) parts.push(`New files (not yet committed):\n${material.untracked.map((file) => `- ${file}`).join("\n")}`);
  if (material.diff) parts.push(`${fence(material.diff, "diff")}${material.truncated ? "\n(the diff was cut; run git yourself for the rest if you can)" : ""}`);
  else if (!material.note) parts.push("No diff was available.");
  parts.push(
    options.answer === "field"
      ? `Put your verdict in the \`review\` field of your JSON answer: ${VERDICT_SHAPE}. Do not change any files.`
      : `End your final message with your verdict as a fenced json block, exactly this shape:\n\`\`\`json\n${VERDICT_EXAMPLE}\n\`\`\`\nDo not change any files.`,
  );
  return { heading: "Review", body: parts.join("\n\n") };
}

/**
 * The verdict in an agent's answer: the last fenced JSON block (else the last bare JSON object, else the whole
 * text as JSON) that holds a valid verdict, as `{ "review": {…} }` or the bare `{ "verdict", "comments" }`.
 * Undefined when there is none. Never throws.
 */
export function verdictFromText(text: string): ReviewVerdict | undefined {
  const candidates = jsonCandidates(text);
  const ordered = [...candidates.filter((found) => found.from !== "bare").reverse(), ...candidates.filter((found) => found.from === "bare").reverse()];
  for (const found of ordered) {
    const verdict = asVerdict(found.value);
    if (verdict) return verdict;
  }
  return undefined;
}

function asVerdict(value: unknown): ReviewVerdict | undefined {
  const inner = value !== null && typeof value === "object" && "review" in value ? (value as { review: unknown }).review : value;
  const parsed = ReviewVerdict.safeParse(inner);
  return parsed.success ? parsed.data : undefined;
}

/** `body` in a code fence longer than any run of backticks inside it. */
function fence(body: string, tag: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((match) => match[0].length));
  const marks = "`".repeat(longest + 1);
  return `${marks}${tag}\n${body}\n${marks}`;
}
