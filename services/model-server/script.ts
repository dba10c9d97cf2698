// Scripts for the scripted model server: what a fake model answers, turn by turn, so that real agent CLIs can be
// run in tests and demos without a network. Validated with zod like every input.
import * as z from "zod";

/** A tool call the model makes; `name` and `input` in the dialect's own terms (Claude's `Write`, Codex's `shell`, …). */
export const ScriptToolCall = z.strictObject({ name: z.string().min(1), input: z.record(z.string(), z.unknown()), id: z.string().optional() });

export const ScriptTurn = z.strictObject({
  /** The model's text (its final message when there are no tool calls). */
  text: z.string().optional(),
  /** A JSON answer (structured output): sent as text, JSON-encoded. */
  json: z.unknown().optional(),
  tools: z.array(ScriptToolCall).default([]),
  /** Reported usage of this turn; default: estimated from the request and the answer (4 characters a token). */
  usage: z.strictObject({ input: z.int().min(0).optional(), output: z.int().min(0).optional(), cacheRead: z.int().min(0).optional() }).optional(),
  /** Wait this long before answering. */
  delayMs: z.int().min(0).default(0),
  /** Accept the request, start the answer, then send nothing more (a model that stopped answering). */
  stall: z.boolean().default(false),
  /** Answer with an HTTP error instead: `times` of the requests for this turn (default all), then the turn itself. */
  error: z.strictObject({
    status: z.int().min(400).max(599),
    message: z.string(),
    retryAfterSeconds: z.number().min(0).optional(),
    times: z.int().min(1).optional(),
  }).optional(),
});
export type ScriptTurn = z.infer<typeof ScriptTurn>;

export const Script = z.strictObject({
  /** Used for conversations whose first user message contains this text; absent: the fallback script. */
  match: z.string().optional(),
  turns: z.array(ScriptTurn).min(1),
  /** After the last turn: answer with this text (default "Done."). */
  then: z.string().default("Done."),
});
export type Script = z.infer<typeof Script>;

export const ScriptFile = z.strictObject({ scripts: z.array(Script).min(1) });
export type ScriptFile = z.infer<typeof ScriptFile>;

/** A conversation as a dialect reads it from one request. */
export interface ConversationRead {
  /** Assistant turns already in the conversation: the index of the turn to play. */
  turn: number;
  /** The first user message's text (scripts are matched against it). */
  prompt: string;
  stream: boolean;
  model?: string | undefined;
  /** Characters of input, for the usage estimate. */
  inputChars: number;
}

/** What to answer: a turn of a script, or the script's closing text once its turns are used up. */
export type Answer = { turn: ScriptTurn; scriptIndex: number; turnIndex: number };

/** Picks the answer for a conversation. Pure. Undefined when no script matches (the server answers 404). */
export function pickAnswer(scripts: readonly Script[], read: Pick<ConversationRead, "turn" | "prompt">): Answer | undefined {
  let index = scripts.findIndex((s) => s.match !== undefined && read.prompt.includes(s.match));
  if (index < 0) index = scripts.findIndex((s) => s.match === undefined);
  const script = scripts[index];
  if (!script) return undefined;
  const turn = script.turns[read.turn] ?? ScriptTurn.parse({ text: script.then });
  return { turn, scriptIndex: index, turnIndex: read.turn };
}

/** Tokens for `chars` characters of text, as the server reports them when a turn gives no usage. */
export const estimateTokens = (chars: number): number => Math.max(1, Math.ceil(chars / 4));
