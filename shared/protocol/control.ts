// Control messages: clients → coordinators on `baton.control.<featureId>.<verb>` (cancel, pause, resume, budget).
import * as z from "zod";
import { BudgetChange } from "./budget.ts";
import { Id } from "./common.ts";

export const ControlVerb = z.enum(["cancel", "pause", "resume", "budget"]);
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
}).refine((m) => (m.verb === "budget") === (m.budget !== undefined), { message: "the budget verb needs `budget` (the new limits), and only it takes one", path: ["budget"] });
export type ControlMessage = z.infer<typeof ControlMessage>;
