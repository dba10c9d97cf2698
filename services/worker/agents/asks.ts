// Reading a question or a plan out of a CLI agent's final message: the documented way to ask is to END the message
// with a fenced ```json block `{ "question": { … } }`, and a planner ends it with `{ "plan": { … } }`. Pure.
import { Question } from "../../../shared/protocol/index.ts";
import { jsonCandidates, type FoundJson } from "./json-text.ts";

/** What the final message asks or proposes; `problems` when it holds a question block that is not a valid Question. */
export interface Asked {
  question?: Question | undefined;
  plan?: unknown;
  problems?: string[] | undefined;
}

/**
 * The question and plan in `text`. Only the last fenced json block counts (or the whole message when it is one
 * JSON object), so JSON the agent merely quotes earlier in its message is never taken for a question. A planner
 * (`planner`) is read more leniently: a bare `{ "plan": … }` object in prose counts too, and so does a plan object
 * given without the `plan` wrapper (it has `tasks` or `template`). An invalid question block gives `problems`
 * (sentences naming the field), never a question. Never throws.
 */
export function askedInText(text: string, options: { planner?: boolean } = {}): Asked {
  const candidates = jsonCandidates(text);
  const fencedOrWhole = candidates.filter((found) => found.from !== "bare");
  const ordered: FoundJson[] = options.planner
    ? [...fencedOrWhole.reverse(), ...candidates.filter((found) => found.from === "bare").reverse()]
    : fencedOrWhole.slice(-1);
  for (const found of ordered) {
    const asked = readBlock(found.value, options.planner === true);
    if (asked) return asked;
  }
  return {};
}

function readBlock(value: unknown, planner: boolean): Asked | undefined {
  if (!isRecord(value)) return undefined;
  const asked: Asked = {};
  if ("question" in value) {
    // `{ "question": "…" }` alone is accepted too: the question's own text, no options
    const raw = typeof value.question === "string" ? { question: value.question } : value.question;
    const parsed = Question.safeParse(raw);
    if (parsed.success) asked.question = parsed.data;
    else asked.problems = parsed.error.issues.map((issue) => `question${issue.path.length ? `.${issue.path.join(".")}` : ""}: ${issue.message}`).slice(0, 20);
  }
  if ("plan" in value) asked.plan = value.plan;
  else if (planner && !("question" in value) && ("tasks" in value || "template" in value)) asked.plan = value;
  return asked.question || asked.problems || asked.plan !== undefined ? asked : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
