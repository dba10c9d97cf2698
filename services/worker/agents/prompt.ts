// The prompt an agent gets for one task, built from data only: the role's prompt file, the feature, the task's
// title and instructions (a fix task's carry the failing gate's reason and output tail, or the reviewer's
// comments), what the tasks it depends on handed off, the answers a person gave to its questions, and how to ask one.
// Shared by the CLI executors and the llm executor (planner runs get planner-prompt.ts instead).
import type { GivenAnswer, Handoff, TaskAssigned } from "../../../shared/protocol/index.ts";

/** A dependency's handoff with its stored result fetched (the worker resolves `stored` references before a run). */
export type ResolvedHandoff = Omit<Handoff, "stored">;

export interface PromptParts {
  /** The role's prompt file's text, if the role has one. */
  rolePrompt?: string | undefined;
  task: Pick<TaskAssigned, "featureId" | "taskId" | "title" | "instructions" | "feature" | "files" | "produces" | "answers">;
  handoffs: readonly ResolvedHandoff[];
  /** Extra sections (e.g. the review material of a review gate run). */
  extra?: readonly { heading: string; body: string }[] | undefined;
  /**
   * How the agent may ask a person (askSection): `fenced` (default, CLI agents) a fenced json block ending its final
   * message, `field` a `question` field of its JSON answer (the llm executor), `none` no section (review gate runs).
   */
  ask?: "fenced" | "field" | "none" | undefined;
}

/** The block a CLI agent ends its final message with to ask a person. */
export const QUESTION_EXAMPLE = `{ "question": { "question": "Should deleting a user also delete their todos?", "options": ["delete them", "keep them"], "default": "keep them" } }`;

/** Handoff JSON longer than this is cut in the prompt (the whole document stays in the results store). */
export const PROMPT_HANDOFF_CHARS = 200_000;

/** The prompt as Markdown sections. Pure; the same parts always give the same text. */
export function buildPrompt(parts: PromptParts): string {
  const { task } = parts;
  const sections: string[] = [];
  if (parts.rolePrompt?.trim()) sections.push(parts.rolePrompt.trim());
  sections.push(`# Feature: ${task.feature.title}${task.feature.description ? `\n\n${task.feature.description}` : ""}`);
  sections.push(`# Your task: ${task.title}${task.instructions ? `\n\n${task.instructions}` : ""}`);
  if (task.files?.length) sections.push(`# Files this task is expected to change\n\n${task.files.map((file) => `- ${file}`).join("\n")}`);
  if (task.produces?.length) sections.push(`# Artifacts this task must produce (they are validated before anything that depends on it starts)\n\n${task.produces.map((file) => `- ${file}`).join("\n")}`);
  for (const given of parts.handoffs) {
    const body = [given.summary ? given.summary : "", factsOf(given), given.handoff !== undefined ? fenced(given.handoff) : ""].filter(Boolean).join("\n\n");
    sections.push(`# Handed off by task ${given.taskId} (${given.role})\n\n${body || "(nothing)"}`);
  }
  for (const section of parts.extra ?? []) sections.push(`# ${section.heading}\n\n${section.body}`);
  if (task.answers?.length) sections.push(answersSection(task.answers));
  if ((parts.ask ?? "fenced") !== "none") sections.push(askSection(parts.ask === "field" ? "field" : "fenced"));
  sections.push("Work in the current folder. When you are done, end with a short summary of what you changed.");
  return sections.join("\n\n");
}

/** The answers a person gave to this task's questions, oldest first, and that the agent goes on with them. Pure. */
export function answersSection(answers: readonly GivenAnswer[]): string {
  const items = answers.map((given) => `- You asked (${given.questionId}): ${given.question}\n  Answer${given.by ? ` (from ${given.by})` : ""}: ${given.answer}`);
  return `# Answers to your questions\n\n${items.join("\n")}\n\nGo on with your task, following these answers.`;
}

/** How to stop and ask a person instead of guessing. Pure. */
export function askSection(answer: "fenced" | "field"): string {
  const how = answer === "field"
    ? 'give a `question` field in your JSON answer — { "question": "…", "options": ["…"], "default": "…" } (options and default are optional) — and no files.'
    : `change no files and end your final message with a fenced json block (options and default are optional):\n\`\`\`json\n${QUESTION_EXAMPLE}\n\`\`\``;
  return "# If a person must decide\n\n" +
    "When you cannot go on without a decision only a person can make — a missing requirement, a breaking change, a design choice, " +
    `a failing test that needs a decision — do not guess: ${how}\nThe task then waits for the answer and continues with it.`;
}

/** What git and the gates say about a dependency's work (its handoff's facts), as lines; "" when there are none. */
function factsOf(given: ResolvedHandoff): string {
  const lines: string[] = [];
  if (given.changes) {
    const more = given.changes.more ? ` and ${given.changes.more} more` : "";
    lines.push(`Files it changed (from git, +${given.changes.insertions} −${given.changes.deletions}${given.commit ? `, commit ${given.commit.slice(0, 10)}` : ""}): ${given.changes.files.join(", ") || "none"}${more}`);
  }
  if (given.artifacts?.length) lines.push(`Artifacts it produced: ${given.artifacts.join(", ")}`);
  if (given.gates?.length) lines.push(`Gates it passed: ${given.gates.map((gate) => (gate.tests !== undefined ? `${gate.name} (${gate.tests} tests)` : gate.name)).join(", ")}`);
  if (given.nextSteps?.length) lines.push(`Next steps it names:\n${given.nextSteps.map((step) => `- ${step}`).join("\n")}`);
  if (given.constraints?.length) lines.push(`Constraints to respect:\n${given.constraints.map((rule) => `- ${rule}`).join("\n")}`);
  return lines.join("\n");
}

function fenced(value: unknown): string {
  let json = JSON.stringify(value, null, 2);
  if (json.length > PROMPT_HANDOFF_CHARS) json = `${json.slice(0, PROMPT_HANDOFF_CHARS)}\n… (cut at ${PROMPT_HANDOFF_CHARS} characters)`;
  return "```json\n" + json + "\n```";
}
