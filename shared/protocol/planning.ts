// Planning on the wire (docs/planning.md): templates and selection rules (data files the coordinator loads and hands
// to planners), the plan a planner returns, streams, questions to a person and their answers.
import * as z from "zod";
import { Id, Json, Role, Timestamp, ValidationIssue } from "./common.ts";
import { GateName } from "./gates.ts";

/** A template's name (`api-first`), a stream's (`database`), a kind of change (`schema`): subject-safe ids. */
export const TemplateName = Id.describe("template name, e.g. api-first");
export const StreamName = Id.describe("stream name, e.g. database");
export const ChangeKind = Id.describe("kind of change, e.g. schema (a selection rule's kind)");

/** The task id of a feature's planner run (`plan: auto`); a plan may not use it. */
export const PLANNER_TASK_ID = "plan";
/** The role that plans (`plan: auto`). */
export const PLANNER_ROLE = "planner";

/** A template parameter's value: text, a number, a flag, or a list (a step with `forEach` runs once per item). */
export const ParamValue = z.union([z.string().max(2000), z.number(), z.boolean(), z.array(z.string().min(1).max(2000)).max(50)]);
export type ParamValue = z.infer<typeof ParamValue>;
export const ParamName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, "must be 1-64 characters of [A-Za-z0-9_], starting with a letter");

/** A stream's own gates: run (on the integrated work) when its last task completes; its dependents outside it wait for them. */
export const StreamSpec = z.strictObject({
  description: z.string().max(500).optional(),
  gates: z.array(GateName).max(20).optional(),
});
export type StreamSpec = z.infer<typeof StreamSpec>;

/**
 * A selection rule: a kind of change, the role that makes it, and where it goes in a plan. Templates name kinds
 * (a step's role defaults to its kind's); plans are checked against the rules (docs/planning.md).
 */
export const SelectionRule = z.strictObject({
  kind: ChangeKind,
  role: Role,
  /** When it applies, in words (the planner reads it). */
  description: z.string().min(1).max(500),
  /** Words in a goal or a task's title that suggest this kind (lower case; matched as whole words). */
  match: z.array(z.string().min(1).max(100)).max(50).optional(),
  /** Tasks of these kinds must come after a task of this kind (depend on it, directly or not) when both are in a plan. */
  before: z.array(ChangeKind).max(50).optional(),
  /** Every plan has a task of this kind. */
  always: z.boolean().optional(),
  /** A task of this kind comes after every other task of the plan. */
  last: z.boolean().optional(),
});
export type SelectionRule = z.infer<typeof SelectionRule>;

/** A question a task (or the coordinator) asks a person: free text, or one of `options`; `default` when no one answers in time. */
export const Question = z.strictObject({
  question: z.string().min(1).max(4000),
  options: z.array(z.string().min(1).max(200)).min(1).max(20).optional(),
  default: z.string().min(1).max(2000).optional(),
  /** No answer this long after it was asked: the default is taken, else the question is escalated (it stays open). */
  timeoutSeconds: z.int().min(1).max(30 * 24 * 3600).optional(),
  /** What it is about: a missing requirement, a breaking change, a design choice, a failing test that needs a decision. */
  topic: z.enum(["requirement", "breaking-change", "design", "test", "other"]).optional(),
  /** Background the person needs (what was tried, what each option means). */
  context: z.string().max(20_000).optional(),
});
export type Question = z.infer<typeof Question>;

/** Why a question was asked: a task's own question, a failure policy's `then: escalate`, a budget stop. */
export const QuestionAbout = z.enum(["task", "escalation", "budget"]);
export type QuestionAbout = z.infer<typeof QuestionAbout>;

/** A question's id inside its feature: `q1`, `q2`, … */
export const QuestionId = z.string().regex(/^q[1-9][0-9]{0,5}$/, "must be q1, q2, …");

/** An answer a task receives with its next dispatch (and an agent in its resumed session). */
export const GivenAnswer = z.object({
  questionId: QuestionId,
  question: z.string(),
  answer: z.string(),
  by: z.string().optional(),
  at: Timestamp,
});
export type GivenAnswer = z.infer<typeof GivenAnswer>;

/** Control verb `answer`: which question, and the answer (one of its options, or free text). */
export const AnswerRequest = z.strictObject({
  questionId: QuestionId,
  answer: z.string().min(1).max(10_000),
});
export type AnswerRequest = z.infer<typeof AnswerRequest>;
