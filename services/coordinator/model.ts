// The feature's persisted data: tasks, their states, the status-event sequence and the outbox.
import type { FailurePolicy, FeatureRequest, TaskAssigned, StatusEvent, EventBody, ValidationIssue, WireError } from "../../shared/protocol/index.ts";

export const TASK_STATUSES = ["blocked", "ready", "dispatched", "running", "verifying", "fixing", "retrying", "completed", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export interface TaskState {
  id: string;
  role: string;
  title: string;
  instructions?: string | undefined;
  dependsOn: string[];
  status: TaskStatus;
  attempt: number;
  /** Seconds from a (re)start until the coordinator fails the task; timers are data, not setTimeouts. */
  timeoutSeconds: number;
  /** ISO time at which a running task times out (set on every start, cleared when it ends). */
  deadlineAt?: string | undefined;
  dispatchedAt?: string | undefined;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  workerId?: string | undefined;
  /** JetStream delivery of the current attempt that last reported a start. */
  delivery?: number | undefined;
  summary?: string | undefined;
  handoff?: unknown;
  error?: WireError | undefined;
  exitCode?: number | null | undefined;
  /** Phantom-completion check, passed on to the worker: globs the task must change, or any change at all. */
  files?: string[] | undefined;
  expectChanges?: boolean | undefined;
  /** Gates (config names) that must pass, in order, after the work before the task counts as completed. */
  gates?: string[] | undefined;
  /** While verifying: which gate runs now (index into `gates`) and its run number (counts every gate run of this attempt). */
  gate?: { index: number; run: number } | undefined;
  /** The task's failure policy (its own, else the feature's). */
  policy?: FailurePolicy | undefined;
  /** While retrying: when the next attempt is dispatched. */
  retryAt?: string | undefined;
  /** Fix rounds used so far, and the one under way (status `fixing`). */
  fixRounds?: number | undefined;
  fixing?: { fixTaskId: string; gate: string; round: number } | undefined;
  /** A phase of a test-driven task: its gates run expecting failure in `red`. */
  tddPhase?: "red" | "green" | "refactor" | undefined;
  /** On a fix task: whose gate it fixes (`taskId` absent for a feature gate). */
  fixFor?: { taskId?: string | undefined; gate: string; round: number } | undefined;
}

/** An outbound message waiting to be published; `msgId` is deterministic so republishing is harmless. */
export type OutboxEntry =
  | { msgId: string; to: "task"; role: string; payload: TaskAssigned }
  | { msgId: string; to: "status"; kind: StatusEvent["kind"]; payload: StatusEvent };

export interface FeatureContext {
  featureId: string;
  title: string;
  description?: string | undefined;
  workspace?: string | undefined;
  maxParallel: number;
  /** Task ids in request order (dispatch order among ready tasks). */
  order: string[];
  tasks: Record<string, TaskState>;
  /** Last status-event sequence number used. */
  seq: number;
  outbox: OutboxEntry[];
  /** No new task starts while paused; running ones finish. */
  paused: boolean;
  submittedAt: string;
  finishedAt?: string | undefined;
  /** The feature's own gates, run in order once every task completed. */
  gates?: string[] | undefined;
  /** While the feature's gates run: which one (index into `gates`) and its run number. */
  featureGate?: { index: number; run: number } | undefined;
  /** Every feature gate passed. */
  gatesPassed?: boolean | undefined;
  /** Why a feature gate failed (the feature fails with it). */
  gateFailure?: string | undefined;
  /** The feature's default failure policy; its `fix` also covers the feature's gates. */
  policy?: FailurePolicy | undefined;
  featureFixRounds?: number | undefined;
  featureFixing?: { fixTaskId: string; gate: string; round: number } | undefined;
  /** Why the feature failed or was rejected. */
  reason?: string | undefined;
  rejection?: ValidationIssue[] | undefined;
}

export function emptyContext(featureId: string): FeatureContext {
  return { featureId, title: "", maxParallel: 1, order: [], tasks: {}, seq: 0, outbox: [], paused: false, submittedAt: "" };
}

export interface FeatureDefaults {
  /** Deadline for tasks that set no `timeoutSeconds`. */
  taskTimeoutSeconds: number;
}

export const DEFAULTS: FeatureDefaults = { taskTimeoutSeconds: 4 * 3600 };

export function contextFromRequest(featureId: string, req: FeatureRequest, at: string, defaults: FeatureDefaults = DEFAULTS): FeatureContext {
  const tasks: Record<string, TaskState> = {};
  const order: string[] = [];
  const taken = new Set(req.tasks.map((t) => t.id));
  const fresh = (base: string) => {
    let id = base.slice(0, 64);
    for (let i = 2; taken.has(id); i++) id = `${base.slice(0, 60)}-${i}`;
    taken.add(id);
    return id;
  };
  /** A test-driven task's dependents wait for its refactor phase. */
  const finalId = new Map<string, string>();
  const tddIds = new Map<string, { red: string; refactor: string }>();
  for (const t of req.tasks) {
    if (!t.tdd) continue;
    const ids = { red: fresh(`${t.id.slice(0, 56)}-red`), refactor: fresh(`${t.id.slice(0, 51)}-refactor`) };
    tddIds.set(t.id, ids);
    finalId.set(t.id, ids.refactor);
  }
  const deps = (ds: readonly string[] | undefined) => [...new Set((ds ?? []).map((d) => finalId.get(d) ?? d))];
  for (const t of req.tasks) {
    const common = {
      status: "blocked" as const, attempt: 0, timeoutSeconds: t.timeoutSeconds ?? defaults.taskTimeoutSeconds,
      ...(t.onFailure ?? req.onFailure ? { policy: t.onFailure ?? req.onFailure } : {}),
    };
    const own: TaskState = {
      id: t.id, role: t.role, title: t.title, instructions: t.instructions, dependsOn: deps(t.dependsOn), ...common,
      ...(t.gates?.length ? { gates: [...t.gates] } : {}),
      ...(t.files?.length ? { files: [...t.files] } : {}),
      ...(t.expectChanges ? { expectChanges: true } : {}),
    };
    const ids = tddIds.get(t.id);
    if (!ids || !t.tdd) {
      tasks[t.id] = own;
      order.push(t.id);
      continue;
    }
    const gate = t.tdd.gate;
    const what = t.instructions ? `\n\nThe behaviour:\n${t.instructions}` : "";
    tasks[ids.red] = {
      id: ids.red, role: "qa", title: `${t.title} — red: write failing tests`, dependsOn: deps(t.dependsOn), ...common,
      instructions: `Test-driven task "${t.id}", red phase: write the tests for the behaviour below, and do not implement it. The gate "${gate}" must fail when you are done (the tests fail because the code does not exist yet).${what}`,
      gates: [gate], tddPhase: "red", expectChanges: true,
    };
    tasks[t.id] = {
      ...own, dependsOn: [ids.red], tddPhase: "green",
      instructions: `Test-driven task, green phase: implement the behaviour so that the tests written in the red phase pass (gate "${gate}").${what}`,
      gates: [...new Set([gate, ...(t.gates ?? [])])], expectChanges: true,
    };
    tasks[ids.refactor] = {
      id: ids.refactor, role: t.role, title: `${t.title} — refactor`, dependsOn: [t.id], ...common,
      instructions: `Test-driven task "${t.id}", refactor phase: improve the code you wrote without changing its behaviour; the tests must stay green.${what}`,
      gates: [...new Set([gate, ...(t.tdd.refactorGates ?? t.gates ?? [])])], tddPhase: "refactor",
    };
    order.push(ids.red, t.id, ids.refactor);
  }
  return {
    featureId, title: req.title, description: req.description, workspace: req.workspace,
    maxParallel: req.maxParallel ?? 1, order, tasks,
    seq: 0, outbox: [], paused: false, submittedAt: at,
    ...(req.gates?.length ? { gates: [...req.gates] } : {}),
    ...(req.onFailure ? { policy: req.onFailure } : {}),
  };
}

/** Appends a status event (next seq, deterministic msg id) to the outbox. */
export function emit(ctx: FeatureContext, body: EventBody, at: string): FeatureContext {
  const seq = ctx.seq + 1;
  const payload = { ...body, type: "baton.v1.status_event", featureId: ctx.featureId, seq, at } as StatusEvent;
  return { ...ctx, seq, outbox: [...ctx.outbox, { msgId: `${ctx.featureId}.ev.${seq}`, to: "status", kind: body.kind, payload }] };
}

export function durationMs(from: string | undefined, to: string): number {
  return from ? Math.max(0, Date.parse(to) - Date.parse(from)) : 0;
}
