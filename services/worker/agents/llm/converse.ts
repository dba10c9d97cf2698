// The conversation of one `llm` run: ask, validate the structured answer, re-ask with the validation errors
// (bounded by `repairAttempts`), and keep count of the usage of every call.
import type { Usage } from "../../../../shared/protocol/index.ts";
import type { ExecContext } from "../../runners/types.ts";
import { OUTPUT_SHAPE, parseLlmOutput, type LlmOutput } from "./output.ts";
import type { ChatMessage, ModelReply, Provider } from "./providers.ts";

/** Lines of one answer copied to the task's log (the rest is counted). */
const LOGGED_ANSWER_LINES = 200;

/** Usage summed over the calls of one run. */
export class UsageTally {
  private input = 0;
  private output = 0;
  private cacheRead = 0;
  private calls = 0;
  private answeredBy: string | undefined;

  constructor(private readonly model: string) {}

  add(reply: ModelReply): void {
    this.input += reply.usage.input;
    this.output += reply.usage.output;
    this.cacheRead += reply.usage.cacheRead;
    this.calls += 1;
    this.answeredBy = reply.model || this.answeredBy;
  }

  /** The running total; undefined before the first answer. */
  total(): Usage | undefined {
    if (this.calls === 0) return undefined;
    return { inputTokens: this.input, outputTokens: this.output, cacheReadTokens: this.cacheRead, turns: this.calls, model: (this.answeredBy ?? this.model).slice(0, 200) };
  }
}

/** The system instruction: who the model is here, and the one JSON object it must answer with. */
export function systemInstruction(role: string, review: boolean): string {
  return [
    `You work as the "${role}" role of a software team, through an API: you cannot run commands or read files other than what the conversation shows you.`,
    "Answer with exactly one JSON object and nothing else (no text before or after it), of this shape:",
    OUTPUT_SHAPE,
    "File paths are relative to the workspace root (no absolute paths, no .., nothing in .git); each file's content is its complete new text, not a diff.",
    review
      ? "This is a review: `review` is required, and give no `files`."
      : "Leave out `files` when you change no file, `handoff` when the tasks after you need nothing beyond your summary, and `review` (you are not reviewing).",
  ].join("\n");
}

/** The message that re-asks after an invalid answer. */
export function repairRequest(problems: readonly string[]): string {
  return `Your answer could not be used:\n${problems.map((problem) => `- ${problem}`).join("\n")}\nAnswer again with the whole corrected JSON object only.`;
}

export interface Conversation {
  provider: Provider;
  model: string;
  system: string;
  prompt: string;
  repairAttempts: number;
  requireReview: boolean;
  tally: UsageTally;
  signal: AbortSignal;
  ctx: Pick<ExecContext, "onLine" | "onProgress">;
}

/**
 * Asks until the answer is valid or the re-asks are used up: `{ output }` or `{ problems }` of the last answer.
 * Rejects with the SDK's error when a call fails (after the SDK's retries) or `signal` aborts; usage of the calls
 * made so far is in `tally` either way.
 */
export async function converse(talk: Conversation): Promise<{ output: LlmOutput } | { problems: string[] }> {
  const messages: ChatMessage[] = [{ role: "user", content: talk.prompt }];
  for (let attempt = 0; ; attempt++) {
    const reply = await talk.provider.call({ model: talk.model, system: talk.system, messages }, talk.signal);
    talk.tally.add(reply);
    logAnswer(talk.ctx, reply.text);
    const parsed = parseLlmOutput(reply.text, { requireReview: talk.requireReview });
    const call = attempt + 1;
    if (parsed.ok) {
      talk.ctx.onProgress?.({ text: `answer ${call}: ${firstLine(parsed.output.summary)}`, usage: talk.tally.total() });
      return { output: parsed.output };
    }
    const problems = reply.truncated ? ["the answer was cut at the token limit (maxTokens): make it shorter", ...parsed.problems] : parsed.problems;
    const again = attempt < talk.repairAttempts;
    talk.ctx.onProgress?.({ text: `answer ${call} invalid${again ? ", asking again" : ""}: ${problems[0] ?? ""}`.slice(0, 400), usage: talk.tally.total() });
    for (const problem of problems) talk.ctx.onLine("stderr", `invalid answer: ${problem}`);
    if (!again) return { problems };
    messages.push({ role: "assistant", content: reply.text.trim() || "(empty answer)" }, { role: "user", content: repairRequest(problems) });
  }
}

function logAnswer(ctx: Pick<ExecContext, "onLine">, text: string): void {
  const lines = text.split("\n");
  for (const line of lines.slice(0, LOGGED_ANSWER_LINES)) ctx.onLine("stdout", line);
  if (lines.length > LOGGED_ANSWER_LINES) ctx.onLine("stdout", `… (${lines.length - LOGGED_ANSWER_LINES} more lines of the answer)`);
}

function firstLine(text: string): string {
  return (text.split("\n").find((line) => line.trim()) ?? "").trim().slice(0, 300);
}
