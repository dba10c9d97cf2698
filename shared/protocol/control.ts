// Control messages: clients → coordinators on `baton.control.<featureId>.<verb>` (cancel, pause, resume).
import * as z from "zod";
import { Id } from "./common.ts";

export const ControlVerb = z.enum(["cancel", "pause", "resume"]);
export type ControlVerb = z.infer<typeof ControlVerb>;

export const ControlMessage = z.strictObject({
  type: z.literal("baton.v1.control"),
  featureId: Id,
  verb: ControlVerb,
  reason: z.string().max(2000).optional(),
  /** Who asked (free text, shown in status events). */
  by: z.string().max(200).optional(),
});
export type ControlMessage = z.infer<typeof ControlMessage>;
