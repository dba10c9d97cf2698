// Control messages: clients → coordinators on `baton.control.<featureId>.<verb>` (cancel, pause, resume, budget,
// rollback, approve, reject, answer).
import * as z from "zod";
import { BudgetChange } from "./budget.ts";
import { Id } from "./common.ts";
import { AnswerRequest } from "./planning.ts";

export const ControlVerb = z.enum(["cancel", "pause", "resume", "budget", "rollback", "approve", "reject", "answer"]);

/** Verb `rollback`: back to a checkpoint (a commit, or the task whose checkpoint it is; default the feature's start). */
export const RollbackRequest = z.strictObject({
  /** A checkpoint commit (full or abbreviated, ≥ 7 hex digits), a task id, or "base" (the feature's start). */
  to: z.string().min(1).max(64).optional(),
  /** Mark the rolled-back tasks cancelled instead of pending again: once resumed, the feature goes on (and can complete) without them. */
  cancel: z.boolean().optional(),
});
export type RollbackRequest = z.infer<typeof RollbackRequest>;
export type ControlVerb = z.infer<typeof ControlVerb>;

export const ControlMessage = z.strictObject({
  type: z.literal("baton.v1.control"),
  featureId: Id,
  verb: ControlVerb,
  reason: z.string().max(2000).optional(),
  /** Who asked (free text, shown in status events). */
  by: z.string().max(200).optional(),
  /** Verb `budget`: the new limits (they replace the old ones; `baton resume` then continues a feature paused for budget). */
  budget: BudgetChange.optional(),
  /** Verb `rollback`: where to (default: the feature's start) and whether the tasks after it are cancelled. */
  rollback: RollbackRequest.optional(),
  /** Verb `answer`: the question (`q1`, …) and the answer. `approve` / `reject` (with `reason`) decide a plan awaiting approval. */
  answer: AnswerRequest.optional(),
}).refine((m) => (m.verb === "budget") === (m.budget !== undefined), { message: "the budget verb needs `budget` (the new limits), and only it takes one", path: ["budget"] })
  .refine((m) => m.verb === "rollback" || m.rollback === undefined, { message: "only the rollback verb takes `rollback`", path: ["rollback"] })
  .refine((m) => (m.verb === "answer") === (m.answer !== undefined), { message: "the answer verb needs `answer` ({ questionId, answer }), and only it takes one", path: ["answer"] });
export type ControlMessage = z.infer<typeof ControlMessage>;
