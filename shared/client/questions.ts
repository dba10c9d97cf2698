// Questions to a person (docs/planning.md) as a client handles them: the views of the features that may have open
// questions, an answer as the person typed it made exact (an option's number, an option in other case), and
// answering one, waited for until a coordinator applied it to that very question.
import type { NatsConnection } from "@nats-io/nats-core";
import type { WireError } from "../protocol/common.ts";
import type { StatusEvent } from "../protocol/events.ts";
import type { AnswerRequest } from "../protocol/planning.ts";
import type { FeatureView, ViewQuestion } from "../protocol/views.ts";
import type { Names } from "../subjects.ts";
import { sendControl } from "./control.ts";
import { isTerminal } from "./feature-view.ts";
import { featureHistory } from "./history.ts";
import { getFeature, listFeatures } from "./read-model.ts";

/** Features whose views are asked for at once. */
const PARALLEL_GETS = 8;
/** Every feature the read model lists (its maximum). */
const ALL_FEATURES = 100_000;

/**
 * The views of the features whose questions a person may answer: every feature that has not ended (or only
 * `featureId`, whatever its state; null when there is no such feature). Read-only. Without `featureId` it needs a
 * coordinator (the feature list has no fallback: NoCoordinatorError); one feature's view falls back to its history.
 */
export async function questionViews(nc: NatsConnection, names: Names, featureId?: string): Promise<FeatureView[] | null> {
  if (featureId !== undefined) {
    const { view } = await getFeature(nc, names, featureId);
    return view ? [view] : null;
  }
  const { features } = await listFeatures(nc, names, { limit: ALL_FEATURES });
  const ids = features.filter((row) => row.state !== "unreadable" && !isTerminal(row.state)).map((row) => row.featureId);
  const views: FeatureView[] = [];
  for (let start = 0; start < ids.length; start += PARALLEL_GETS) {
    const reads = await Promise.all(ids.slice(start, start + PARALLEL_GETS).map((id) => getFeature(nc, names, id, { fallback: false })));
    for (const read of reads) if (read.view) views.push(read.view);
  }
  return views;
}

/** An answer as it will be sent, and how it was read from what the person typed (undefined: as typed). */
export interface ResolvedAnswer {
  answer: string;
  /** `option`: a number stood for the option of that number; `case`: an option matched in another case. */
  via?: "option" | "case" | undefined;
}

/**
 * What the person's `typed` answer to `question` means. With options: an option itself (exactly, else ignoring case
 * and surrounding spaces) is that option; else a whole number 1..N is option N. Anything else is sent as typed (the
 * coordinator refuses it with INVALID_ANSWER unless the question takes free text). Pure.
 */
export function resolveAnswer(question: Pick<ViewQuestion, "options"> | undefined, typed: string): ResolvedAnswer {
  const options = question?.options ?? [];
  if (!options.length || options.includes(typed)) return { answer: typed };
  const folded = typed.trim().toLowerCase();
  const same = options.filter((option) => option.trim().toLowerCase() === folded);
  if (same.length === 1) return { answer: same[0]!, via: "case" };
  if (/^[1-9][0-9]*$/.test(typed.trim())) {
    const number = Number(typed.trim());
    if (number <= options.length) return { answer: options[number - 1]!, via: "option" };
  }
  return { answer: typed };
}

export type AnswerOutcome =
  /** A coordinator answered the question (by this answer; or, `via` timeout, by its default just before). */
  | { kind: "applied"; event: Extract<StatusEvent, { kind: "question.answered" }> }
  /** Refused (message.rejected): UNKNOWN_QUESTION, ALREADY_ANSWERED, INVALID_ANSWER, UNKNOWN_FEATURE, … */
  | { kind: "rejected"; error: WireError }
  /** Nothing within the wait: no coordinator running (or the same answer again, which is a no-op). */
  | { kind: "no_answer" };

/**
 * Sends control verb `answer` and follows the feature's history for up to `waitMs` until the answer shows: the
 * question.answered event of this question, or a refusal of an answer, stamped at or after the send. Never throws
 * for a refusal or silence. Sending the same answer twice is harmless (the coordinator ignores a repeat).
 */
export async function answerQuestion(
  nc: NatsConnection, names: Names, featureId: string, answer: AnswerRequest, opts: { by?: string | undefined; waitMs: number },
): Promise<AnswerOutcome> {
  const { sentAt } = await sendControl(nc, names, featureId, "answer", { answer, by: opts.by });
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.waitMs);
  try {
    for await (const event of featureHistory(nc, names, featureId, { follow: true, signal: ac.signal })) {
      if (event.at < sentAt) continue;
      if (event.kind === "question.answered" && event.questionId === answer.questionId) return { kind: "applied", event };
      if (event.kind === "message.rejected" && event.subject.endsWith(".answer")) return { kind: "rejected", error: event.error };
    }
  } finally {
    clearTimeout(timer);
  }
  return { kind: "no_answer" };
}
