// The dashboard's JSON API: what each endpoint reads through the client library (shared/client) and the actions it
// sends as the same control messages as the CLI. Each handler takes validated input and returns a reply to send.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  answerQuestion, controlFeature, resolveAnswer, executionReport, getFeature, listFeatures, liveCoordinators, liveWorkers, roleBacklogs,
  type AnswerOutcome, type ControlOutcome, type RoleBacklog, type WorkerHeartbeat,
} from "../../shared/client/index.ts";
import type { Logger } from "../../shared/logging.ts";
import type { Names } from "../../shared/subjects.ts";
import { layoutDag } from "./layout.ts";
import type { AnswerBody, ControlBody } from "./schemas.ts";
import { wireError } from "../../shared/protocol/errors.ts";

export interface UiContext {
  nc: NatsConnection;
  names: Names;
  log: Logger;
  /** How long an action waits for a coordinator to apply it. */
  actionWaitMs: number;
}

/** An HTTP status and the JSON body to reply with. */
export interface Reply {
  status: number;
  body: unknown;
}

/** Every feature the read model lists: 200 rows at most, newest first. */
const LIST_LIMIT = 200;

/** GET /api/features: the list, with the deployment's prefix and the server's clock (ages are computed against it). */
export async function featuresReply(ctx: UiContext): Promise<Reply> {
  const list = await listFeatures(ctx.nc, ctx.names, { limit: LIST_LIMIT });
  return { status: 200, body: { prefix: ctx.names.prefix, at: new Date().toISOString(), ...list } };
}

/**
 * GET /api/features/:id: the view (read model, else the folded history), its execution report (progress, critical
 * path, blockers: the numbers `baton status` and `baton report` show) and its DAG's layout; 404 when unknown.
 */
export async function featureReply(ctx: UiContext, featureId: string): Promise<Reply> {
  const [{ view, source }, workers] = await Promise.all([getFeature(ctx.nc, ctx.names, featureId), liveWorkers(ctx.nc, ctx.names).catch(() => undefined)]);
  if (!view) return { status: 404, body: { error: wireError("UnknownFeature", `no feature ${featureId}`) } };
  const perRole: Record<string, number> = {};
  for (const worker of workers ?? []) perRole[worker.role] = (perRole[worker.role] ?? 0) + 1;
  const report = executionReport(view, workers ? { liveWorkers: perRole } : {});
  return {
    status: 200,
    body: { prefix: ctx.names.prefix, at: report.at, source, view, report, progress: report.progress, layout: layoutDag(view.tasks) },
  };
}

export interface RoleRow {
  role: string;
  workers: WorkerHeartbeat[];
  /** Slots of the live workers, and how many run a task now. */
  slots: number;
  busy: number;
  /** The role's task consumer (undefined before its first worker or task). */
  backlog?: RoleBacklog;
}

/** Live workers grouped by role with their slots, beside each role's backlog; every role that has either. Pure. */
export function roleRows(workers: readonly WorkerHeartbeat[], backlogs: readonly RoleBacklog[]): RoleRow[] {
  const rows = new Map<string, RoleRow>();
  const row = (role: string) => rows.get(role) ?? rows.set(role, { role, workers: [], slots: 0, busy: 0 }).get(role)!;
  for (const worker of workers) {
    const entry = row(worker.role);
    entry.workers.push(worker);
    entry.slots += worker.slots;
    entry.busy += worker.busy;
  }
  for (const backlog of backlogs) row(backlog.role).backlog = backlog;
  return [...rows.values()].sort((left, right) => left.role.localeCompare(right.role));
}

/** GET /api/workers: per role, the live workers, their slots and the role's backlog; and the live coordinators. */
export async function workersReply(ctx: UiContext): Promise<Reply> {
  const onInvalid = (key: string, err: Error) => ctx.log.warn({ key, err: err.message }, "invalid heartbeat skipped");
  const [workers, backlogs, coordinators] = await Promise.all([
    liveWorkers(ctx.nc, ctx.names, { onInvalid }),
    roleBacklogs(ctx.nc, ctx.names),
    liveCoordinators(ctx.nc, ctx.names, { onInvalid }),
  ]);
  return { status: 200, body: { at: new Date().toISOString(), roles: roleRows(workers, backlogs), coordinators } };
}

/** The HTTP status of an action's outcome: applied (or already so) 200, refused 409, no coordinator answered 504. */
function outcomeStatus(outcome: ControlOutcome | AnswerOutcome): number {
  if (outcome.kind === "rejected") return 409;
  if (outcome.kind === "no_answer") return 504;
  return 200;
}

/** POST /api/features/:id/control: the verb as `baton <verb>` sends it, waited for until a coordinator applied it. */
export async function controlReply(ctx: UiContext, featureId: string, body: ControlBody): Promise<Reply> {
  const by = body.by ?? "dashboard";
  ctx.log.info({ featureId, verb: body.verb, by }, "control from the dashboard");
  const outcome = await controlFeature(ctx.nc, ctx.names, featureId, body.verb, { reason: body.reason || undefined, by, waitMs: ctx.actionWaitMs });
  return { status: outcomeStatus(outcome), body: { outcome } };
}

/** POST /api/features/:id/answer: the answer as `baton answer` sends it, waited for until a coordinator applied it. */
export async function answerReply(ctx: UiContext, featureId: string, body: AnswerBody): Promise<Reply> {
  const by = body.by ?? "dashboard";
  ctx.log.info({ featureId, questionId: body.questionId, by }, "answer from the dashboard");
  // As `baton answer` reads it: an option in another case, or an option's number, is that option.
  const { view } = await getFeature(ctx.nc, ctx.names, featureId).catch(() => ({ view: null }));
  const { answer } = resolveAnswer(view?.questions?.find((question) => question.questionId === body.questionId), body.answer);
  const outcome = await answerQuestion(ctx.nc, ctx.names, featureId, { questionId: body.questionId, answer }, { by, waitMs: ctx.actionWaitMs });
  return { status: outcomeStatus(outcome), body: { outcome } };
}
