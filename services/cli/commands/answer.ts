// `baton answer ID QUESTION "ANSWER" [--by NAME]`: answers a question a feature asks (docs/planning.md) and waits
// until a coordinator applied it. With options, an option's number (1-based) stands for that option; `-` reads the
// answer from stdin.
import { readFileSync } from "node:fs";
import { answerQuestion, resolveAnswer, type AnswerOutcome } from "../../../shared/client/questions.ts";
import { getFeature } from "../../../shared/client/read-model.ts";
import { WIRE_ERRORS } from "../../../shared/protocol/errors.ts";
import type { ViewQuestion } from "../../../shared/protocol/views.ts";
import { featureIdArg, timeoutSeconds, UsageError, type CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { bold, dim, green, red, yellow } from "../render.ts";
import { safeUser } from "./control.ts";

const QUESTION_ID = /^q[1-9][0-9]{0,5}$/;
/** AnswerRequest's limit on an answer's length. */
const MAX_ANSWER = 10_000;

/** The question id and the answer as typed; throws UsageError when either is missing or malformed. */
export function answerArgs(args: CliArgs, readStdin: () => string = () => readFileSync(0, "utf8")): { questionId: string; typed: string } {
  const [, questionId, given] = args.positionals;
  if (!questionId) throw new UsageError("missing the question id (q1, q2, …: `baton questions` lists them)");
  if (!QUESTION_ID.test(questionId)) throw new UsageError(`${JSON.stringify(questionId)} is not a question id (q1, q2, …)`);
  if (given === undefined) throw new UsageError(`missing the answer (quote it: baton answer ID ${questionId} "…"; - reads it from stdin)`);
  const typed = given === "-" ? readStdin().trim() : given;
  if (!typed.trim()) throw new UsageError("the answer is empty");
  if (typed.length > MAX_ANSWER) throw new UsageError(`the answer is ${typed.length} characters; at most ${MAX_ANSWER}`);
  return { questionId, typed };
}

/** Exit 0 answered (or already answered the same way), 1 refused, no answer in time, or NATS unreachable. */
export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const featureId = featureIdArg(args);
  const { questionId, typed } = answerArgs(args);
  const by = (args.values.by?.trim() || safeUser()).slice(0, 200);
  const waitMs = timeoutSeconds(args) * 1000;
  return withNats(ctx, "baton-answer", false, async (nc) => {
    // The question's options (for a number) and whether it is already answered; the coordinator stays the judge.
    const { view } = await getFeature(nc, ctx.names, featureId);
    const question = view?.questions?.find((q) => q.questionId === questionId);
    const resolved = resolveAnswer(question, typed);
    if (resolved.via === "option") console.error(dim(`option ${typed.trim()}: ${JSON.stringify(resolved.answer)}`));
    if (question?.state === "answered" && question.answer === resolved.answer) {
      console.log(`${featureId} ${questionId}: already answered ${JSON.stringify(question.answer)}${question.by ? ` by ${question.by}` : ""}${question.answeredAt ? ` at ${question.answeredAt}` : ""}`);
      return 0;
    }
    const outcome = await answerQuestion(nc, ctx.names, featureId, { questionId, answer: resolved.answer }, { by, waitMs });
    return reportAnswer(featureId, questionId, resolved.answer, outcome, waitMs, view?.questions ?? []);
  });
}

/** Prints what became of the answer; returns the exit code. */
export function reportAnswer(featureId: string, questionId: string, answer: string, outcome: AnswerOutcome, waitMs: number, questions: readonly ViewQuestion[] = []): number {
  const question = questions.find((q) => q.questionId === questionId);
  switch (outcome.kind) {
    case "applied": {
      const { event } = outcome;
      if (event.via === "timeout" && event.answer !== answer) {
        console.error(yellow(`${featureId} ${questionId}: its time ran out first; it took its default ${JSON.stringify(event.answer)} at ${event.at}`));
        return 1;
      }
      console.log(green(`${featureId} ${questionId}: answered ${JSON.stringify(event.answer)}${event.by ? ` by ${bold(event.by)}` : ""} at ${event.at}`));
      if (event.taskId) console.log(dim(`task ${event.taskId} goes on with it: \`baton watch ${featureId}\``));
      return 0;
    }
    case "rejected": {
      console.error(red(`${featureId} ${questionId}: answer refused: ${outcome.error.message}`));
      if (question?.options?.length && outcome.error.code === WIRE_ERRORS.InvalidAnswer.code) {
        console.error(`  the options: ${question.options.map((option, index) => `${index + 1}) ${option}`).join("  ")}`);
      }
      if (outcome.error.code === WIRE_ERRORS.UnknownQuestion.code) {
        const open = questions.filter((q) => q.state !== "answered").map((q) => q.questionId);
        console.error(`  ${open.length ? `its open questions: ${open.join(", ")}` : "it has no open question"} (\`baton questions ${featureId}\`)`);
      }
      return 1;
    }
    case "no_answer":
      console.error(red(`${featureId} ${questionId}: no answer within ${Math.round(waitMs / 1000)}s (is a coordinator running? does the feature exist?)`));
      return 1;
  }
}
