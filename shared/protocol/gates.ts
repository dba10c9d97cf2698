// Quality gates on the wire: which gate run a qa task message asks for, and what the gate found.
// A gate's command is never in a message: the qa worker looks the name up in its operator's config.
import * as z from "zod";
import { Id } from "./common.ts";

/** Gate names are config keys and appear in msg ids: subject-token characters only. */
export const GateName = Id.describe("gate name from the operator's config, e.g. unit");

/**
 * Whose gate this run is: a task's (after the task's work), the feature's (before it completes), or a
 * `baseline`: a test gate run once when the feature is accepted, before any task, to measure its test count.
 */
export const GateScope = z.enum(["task", "feature", "baseline"]);

/** On a task message for the qa role: run gate `name` (run `run` of it) for the task or the feature. */
export const GateRef = z.object({
  name: GateName,
  scope: GateScope,
  /** Counts the runs of this gate for this task attempt (or the feature), from 1. */
  run: z.int().min(1),
  /** Overrides the gate's configured expectation: `fail` for a test-driven task's red phase. */
  expect: z.enum(["pass", "fail"]).optional(),
});
export type GateRef = z.infer<typeof GateRef>;

export const TestCountsWire = z.object({
  runner: z.string(),
  passed: z.int().min(0),
  failed: z.int().min(0),
  skipped: z.int().min(0),
  total: z.int().min(0),
  /** Names of failing tests where the runner's output gives them (at most 10, each at most 200 characters). */
  failedNames: z.array(z.string().max(200)).max(10).optional(),
});

export const CoverageWire = z.object({
  file: z.string(),
  metric: z.string(),
  /** Measured percentage, 0–100. */
  pct: z.number(),
  min: z.number(),
});

/** The reserved gate name of the reviewer's verdict: run by the `reviewer` role's executor, needs no config. */
export const REVIEW_GATE = "review";

/** One review comment. */
export const ReviewComment = z.strictObject({
  file: z.string().max(500).optional(),
  line: z.int().min(1).optional(),
  message: z.string().min(1).max(4000),
});

/** What a reviewer answers (in its result file): approve, or changes requested with comments. */
export const ReviewVerdict = z.strictObject({
  verdict: z.enum(["approve", "changes_requested"]),
  comments: z.array(ReviewComment).max(200).default([]),
});
export type ReviewVerdict = z.infer<typeof ReviewVerdict>;

/** What a qa worker found when it ran a gate; carried by its task_result and by gate.passed / gate.failed. */
export const GateReport = GateRef.extend({
  passed: z.boolean(),
  expect: z.enum(["pass", "fail"]),
  command: z.array(z.string()),
  exitCode: z.int().nullable(),
  durationMs: z.number().min(0),
  tests: TestCountsWire.optional(),
  coverage: CoverageWire.optional(),
  /** Why it failed, in one line (e.g. "exit 1: 1 of 30 tests failed: adds", "coverage 71.2% (lines) is under the minimum 80%"). */
  reason: z.string().max(2000).optional(),
  /** The last lines of the command's output. */
  outputTail: z.string().max(8000),
  /** The reviewer's verdict, for the `review` gate. */
  review: ReviewVerdict.optional(),
});
export type GateReport = z.infer<typeof GateReport>;
