// The prompt an agent gets for one task, built from data only: the role's prompt file, the feature, the task's
// title and instructions (a fix task's carry the failing gate's reason and output tail, or the reviewer's
// comments), and what the tasks it depends on handed off. Shared by the CLI executors and the llm executor.
import type { Handoff, TaskAssigned } from "../../../shared/protocol/index.ts";

/** A dependency's handoff with its stored result fetched (the worker resolves `stored` references before a run). */
export type ResolvedHandoff = Omit<Handoff, "stored">;

export interface PromptParts {
  /** The role's prompt file's text, if the role has one. */
  rolePrompt?: string | undefined;
  task: Pick<TaskAssigned, "featureId" | "taskId" | "title" | "instructions" | "feature" | "files">;
  handoffs: readonly ResolvedHandoff[];
  /** Extra sections (e.g. the review material of a review gate run). */
  extra?: readonly { heading: string; body: string }[] | undefined;
}

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
  for (const given of parts.handoffs) {
    const body = [given.summary ? given.summary : "", given.handoff !== undefined ? fenced(given.handoff) : ""].filter(Boolean).join("\n\n");
    sections.push(`# Handed off by task ${given.taskId} (${given.role})\n\n${body || "(nothing)"}`);
  }
  for (const section of parts.extra ?? []) sections.push(`# ${section.heading}\n\n${section.body}`);
  sections.push("Work in the current folder. When you are done, end with a short summary of what you changed.");
  return sections.join("\n\n");
}

function fenced(value: unknown): string {
  let json = JSON.stringify(value, null, 2);
  if (json.length > PROMPT_HANDOFF_CHARS) json = `${json.slice(0, PROMPT_HANDOFF_CHARS)}\n… (cut at ${PROMPT_HANDOFF_CHARS} characters)`;
  return "```json\n" + json + "\n```";
}
