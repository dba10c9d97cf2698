// The `planning:` section of the operator's config file (shared/config.ts reads it).
import * as z from "zod";

/**
 * Planning (docs/planning.md): where templates, selection rules and role files come from beside the shipped ones
 * (templates/, rules/selection.yaml, roles/), whether plans wait for approval, how often a planner may try.
 */
export const PlanningSettings = z.strictObject({
  /** Default of a request's `approval`. */
  approval: z.enum(["required", "none"]).default("none"),
  /** Planner attempts (each invalid plan goes back to it with every error) before the feature fails. */
  maxAttempts: z.int().min(1).max(10).default(3),
  /** Folders of template files (`<name>.yaml`) loaded over the shipped templates/ (relative: against the config file's folder). */
  templates: z.array(z.string().min(1)).default([]),
  /** The selection rules file; default the shipped rules/selection.yaml (relative: against the config file's folder). */
  rules: z.string().min(1).optional(),
  /** Folders of role files loaded over roles/ (and before a workspace's .baton/roles/ and .claude/agents/). */
  roles: z.array(z.string().min(1)).default([]),
  /** Questions that set no timeout wait this long, then take their default or are escalated; unset: they wait. */
  questionTimeoutSeconds: z.int().min(1).max(30 * 24 * 3600).optional(),
});
export type PlanningSettings = z.infer<typeof PlanningSettings>;
