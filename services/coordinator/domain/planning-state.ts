// What a feature keeps about its plan, its questions to people and its streams (docs/planning.md). Plain JSON in the
// feature's context, like the rest of it; planning.ts, questions.ts and streams.ts keep it.
import type { FeatureRequest, GivenAnswer, Question, QuestionAbout, SelectionRule, StreamSpec, Template, ValidationIssue } from "../../../shared/protocol/index.ts";

/** What the planner may use, as the coordinator's configuration had it when the feature was accepted (kept while it plans). */
export interface PlannerKit {
  templates: Template[];
  rules: SelectionRule[];
  /** Roles a plan may name (undefined: any) and the configured gates. */
  roles?: string[] | undefined;
  gates: string[];
  /** Role files' defaults (gates, produces, reads) per role. */
  roleDefaults?: Record<string, { gates?: string[] | undefined; produces?: string[] | undefined; reads?: string[] | undefined }> | undefined;
  maxAttempts: number;
  /** Configured gates that count tests: the plan's feature gates are measured before its tasks run (test-counts.ts). */
  testGates?: string[] | undefined;
}

/** The feature's plan: where it came from, whether it waits for a person, and (while the planner plans) its kit. */
export interface PlanningState {
  source: "request" | "template" | "planner";
  approval: "required" | "none";
  goal?: string | undefined;
  template?: string | undefined;
  summary?: string | undefined;
  notes?: string[] | undefined;
  /** The plan is known (a planner's plan checked and accepted, or the request's own), and since when. */
  ready: boolean;
  readyAt?: string | undefined;
  /** Planner attempts whose plan was invalid, and the last plan and errors (sent back with the next attempt). */
  invalid?: number | undefined;
  errors?: ValidationIssue[] | undefined;
  previous?: { plan: unknown; errors: ValidationIssue[] } | undefined;
  /** The request the plan's tasks are added to (its fields, tasks aside), while the planner plans. */
  base?: FeatureRequest | undefined;
  kit?: PlannerKit | undefined;
  approved?: { by?: string | undefined; at: string } | undefined;
  rejected?: { by?: string | undefined; at: string; reason?: string | undefined } | undefined;
}

/** A question to a person: what was asked, by whom, and what became of it. */
export interface QuestionState extends Question {
  id: string;
  taskId?: string | undefined;
  about: QuestionAbout;
  freeText: boolean;
  askedAt: string;
  timeoutAt?: string | undefined;
  state: "open" | "escalated" | "answered";
  answer?: GivenAnswer | undefined;
  via?: "person" | "timeout" | "resolved" | undefined;
}

/** The feature's streams (a task's `stream`) and their gates. */
export type StreamsState = Record<string, StreamSpec>;
