// The events the feature machine (machine.ts) takes: a submission, control verbs, worker messages, timers, and what
// the runtime reports (published outbox entries, unserved work).
import type { BudgetChange, FeatureRequest, TaskLog, TaskProgress, TaskResult, TaskStarted, ValidationIssue, WireError } from "../../../shared/protocol/index.ts";
import type { FeatureDefaults } from "./context.ts";
import type { AnswerEvent } from "./questions.ts";
import type { RollbackEvent } from "./rollback.ts";
import type { UnservedEvent } from "./unserved.ts";

export type FeatureEvent =
  | { type: "feature.submit"; request: FeatureRequest; at: string; defaults?: FeatureDefaults }
  | { type: "feature.cancel"; reason?: string | undefined; by?: string | undefined; at: string; subject?: string }
  | { type: "feature.pause"; reason?: string | undefined; by?: string | undefined; at: string; subject?: string }
  | { type: "feature.resume"; by?: string | undefined; at: string; subject?: string }
  | { type: "feature.budget"; change: BudgetChange; by?: string | undefined; at: string; subject?: string }
  | { type: "timer.fired"; at: string }
  | { type: "feature.reject"; errors: ValidationIssue[]; at: string }
  | { type: "task.started"; msg: TaskStarted; at: string; subject?: string }
  | { type: "task.log"; msg: TaskLog; at: string; subject?: string }
  | { type: "task.progress"; msg: TaskProgress; at: string; subject?: string }
  | { type: "task.result"; msg: TaskResult; at: string; subject?: string }
  | { type: "message.rejected"; subject: string; taskId?: string | undefined; error: WireError; at: string }
  | { type: "outbox.flushed"; msgIds: string[] }
  | { type: "plan.approve"; by?: string | undefined; at: string; subject?: string }
  | { type: "plan.reject"; by?: string | undefined; reason?: string | undefined; at: string; subject?: string }
  | AnswerEvent
  | RollbackEvent
  | UnservedEvent;
