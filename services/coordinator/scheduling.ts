// Pure scheduling of a feature's task DAG: readiness, the parallel bound, results. No I/O, no clocks.
import { REVIEW_GATE, type EventBody, type GateReport, type TaskLog, type TaskResult, type TaskStarted, type WireError } from "../../shared/protocol/index.ts";
import { durationMs, emit, type FeatureContext, type TaskState } from "./model.ts";

/** Statuses that hold one of the feature's `maxParallel` places (a task's gates run in its workspace). */
const ACTIVE = new Set(["dispatched", "running", "verifying", "retrying"]);
/** Statuses in which the task's own work (not its gates) is under way. */
const WORKING = new Set(["dispatched", "running"]);
/** The role gates run on; the `review` gate runs on the reviewer role. */
export const GATE_ROLE = "qa";
export const REVIEW_ROLE = "reviewer";
/** Fix rounds a review gets when the task's policy sets none. */
const DEFAULT_REVIEW_ROUNDS = 2;
/** Task id that feature-gate runs carry on the wire (messages are routed by their `gate.scope`). */
export const FEATURE_GATES_TASK_ID = "feature-gates";

export function activeCount(ctx: FeatureContext): number {
  let n = 0;
  for (const id of ctx.order) if (ACTIVE.has(ctx.tasks[id]!.status)) n++;
  return n;
}

export function allCompleted(ctx: FeatureContext): boolean {
  return ctx.order.length > 0 && ctx.order.every((id) => ctx.tasks[id]!.status === "completed");
}

export function anyFailed(ctx: FeatureContext): boolean {
  return ctx.order.some((id) => ctx.tasks[id]!.status === "failed");
}

/**
 * A working copy of `ctx` for one reducer: the task map and the outbox are copied once, then changed in
 * place (task entries are replaced, never edited), so an event costs one copy of the map, not one per change.
 */
function draft(ctx: FeatureContext): FeatureContext {
  return { ...ctx, tasks: { ...ctx.tasks }, outbox: [...ctx.outbox] };
}

/** `emit` for a draft: appends the status event to the draft's own outbox. */
function emitInto(d: FeatureContext, body: EventBody, at: string): void {
  const e = emit({ ...d, outbox: [] }, body, at);
  d.seq = e.seq;
  d.outbox.push(e.outbox[0]!);
}

/**
 * Marks blocked tasks whose dependencies all completed as ready, then dispatches ready tasks in
 * request order while fewer than `maxParallel` are active. Dispatches nothing once a task failed.
 * Idempotent: calling it twice in a row changes nothing the second time (and returns `ctx` itself).
 */
export function schedule(ctx: FeatureContext, at: string): FeatureContext {
  if (anyFailed(ctx) || !needsScheduling(ctx)) return ctx;
  const d = draft(ctx);
  scheduleInto(d, at);
  return d;
}

/** Whether every task `t` depends on has completed (a loop, not `every`: this runs for every task on every event). */
function depsDone(tasks: FeatureContext["tasks"], t: TaskState): boolean {
  for (const dep of t.dependsOn) if (tasks[dep]!.status !== "completed") return false;
  return true;
}

/** Per task order (the same array for the life of a feature in memory), who depends on each task. */
const dependentsByOrder = new WeakMap<readonly string[], Map<string, string[]>>();

function dependentsOf(ctx: FeatureContext, taskId: string): readonly string[] {
  let m = dependentsByOrder.get(ctx.order);
  if (!m) {
    m = new Map();
    for (const id of ctx.order) {
      for (const dep of ctx.tasks[id]!.dependsOn) {
        const list = m.get(dep);
        if (list) list.push(id);
        else m.set(dep, [id]);
      }
    }
    dependentsByOrder.set(ctx.order, m);
  }
  return m.get(taskId) ?? [];
}

/** Whether `scheduleInto` would change anything: a blocked task is unblocked, or a ready one fits. */
function needsScheduling(ctx: FeatureContext): boolean {
  let active = 0;
  let ready = false;
  for (const id of ctx.order) {
    const t = ctx.tasks[id]!;
    if (t.status === "blocked" && depsDone(ctx.tasks, t)) return true;
    if (ACTIVE.has(t.status)) active++;
    else if (t.status === "ready") ready = true;
  }
  return ready && !ctx.paused && active < ctx.maxParallel;
}

/**
 * `schedule` on a draft. After `completed` finished, only its dependents can have become ready (every
 * other blocked task was checked when its last dependency completed, or at acceptance/resume).
 */
function scheduleInto(d: FeatureContext, at: string, completed?: string): void {
  const tasks = d.tasks;
  let active = 0;
  if (completed !== undefined) {
    for (const id of dependentsOf(d, completed)) {
      const t = tasks[id]!;
      if (t.status === "blocked" && depsDone(tasks, t)) tasks[id] = { ...t, status: "ready" };
    }
    for (const id of d.order) if (ACTIVE.has(tasks[id]!.status)) active++;
  } else {
    for (const id of d.order) {
      const t = tasks[id]!;
      if (t.status === "blocked" && depsDone(tasks, t)) tasks[id] = { ...t, status: "ready" };
      else if (ACTIVE.has(t.status)) active++;
    }
  }
  if (d.paused) return;
  for (const id of d.order) {
    if (active >= d.maxParallel) break;
    const t = tasks[id]!;
    if (t.status !== "ready") continue;
    dispatchInto(d, t, at);
    active++;
  }
}

function dispatchInto(d: FeatureContext, t: TaskState, at: string): void {
  const attempt = t.attempt + 1;
  d.tasks[t.id] = {
    ...t, status: "dispatched", attempt, dispatchedAt: at,
    // a retry starts clean: nothing of the previous attempt's run carries over
    retryAt: undefined, error: undefined, startedAt: undefined, finishedAt: undefined, workerId: undefined, delivery: undefined, gate: undefined, exitCode: undefined,
  };
  const handoffs = t.dependsOn.map((dep) => {
    const x = d.tasks[dep]!;
    return { taskId: x.id, role: x.role, summary: x.summary, handoff: x.handoff };
  });
  d.outbox.push({
    // four tokens, so it can never equal a status event id (`<feature>.ev.<seq>`, three tokens)
    msgId: `${d.featureId}.task.${t.id}.${attempt}`,
    to: "task",
    role: t.role,
    payload: {
      type: "baton.v1.task_assigned",
      featureId: d.featureId, taskId: t.id, attempt, role: t.role, title: t.title,
      instructions: t.instructions, dependsOn: t.dependsOn, workspace: d.workspace,
      feature: { title: d.title, description: d.description },
      handoffs, dispatchedAt: at,
      ...(t.files ? { files: t.files } : {}),
      ...(t.expectChanges || t.files ? { expectChanges: true } : {}),
    },
  });
  emitInto(d, { kind: "task.dispatched", taskId: t.id, role: t.role, attempt }, at);
}

/**
 * A worker began (or, after a redelivery, began again) a task; its deadline counts from now.
 * Stale or late messages, and repeats of the same delivery, change nothing.
 */
export function onStarted(ctx: FeatureContext, m: TaskStarted, at: string): FeatureContext {
  const t = ctx.tasks[m.taskId];
  if (m.gate || !t || t.attempt !== m.attempt || !WORKING.has(t.status)) return ctx;
  if (t.status === "running" && t.workerId === m.workerId && (t.delivery ?? 0) >= m.delivery) return ctx;
  const deadlineAt = new Date(Date.parse(at) + t.timeoutSeconds * 1000).toISOString();
  const task: TaskState = { ...t, status: "running", startedAt: t.startedAt ?? m.at, workerId: m.workerId, delivery: m.delivery, deadlineAt };
  return emit({ ...ctx, tasks: { ...ctx.tasks, [t.id]: task } },
    { kind: "task.started", taskId: t.id, role: t.role, attempt: t.attempt, workerId: m.workerId, delivery: m.delivery }, m.at);
}

/** Output lines become task.log events; the feature's state is untouched. */
export function onLog(ctx: FeatureContext, m: TaskLog, at: string): FeatureContext {
  const t = ctx.tasks[m.taskId];
  if (!t || m.gate) return ctx; // a gate's output is reported in its gate event
  return emit(ctx, {
    kind: "task.log", taskId: t.id, role: t.role, attempt: m.attempt, workerId: m.workerId,
    stream: m.stream, lines: m.lines, dropped: m.dropped,
  }, at);
}

/**
 * A task finished. Only the current attempt of a dispatched/running task counts; duplicates and
 * stale attempts are no-ops. Completion schedules dependents; failure stops further dispatch.
 */
export function onResult(ctx: FeatureContext, m: TaskResult, at: string): FeatureContext {
  if (m.gate) return m.gate.scope === "feature" ? onFeatureGateResult(ctx, m, at) : onTaskGateResult(ctx, m, at);
  const t0 = ctx.tasks[m.taskId];
  if (!t0 || t0.attempt !== m.attempt || !WORKING.has(t0.status)) return ctx;
  const d = draft(ctx);
  // A short task reports only its result (the worker skips task_started): record its start from it.
  if (t0.status === "dispatched") {
    d.tasks[t0.id] = { ...t0, status: "running", startedAt: m.startedAt, workerId: m.workerId, delivery: m.delivery ?? 1 };
    emitInto(d, { kind: "task.started", taskId: t0.id, role: t0.role, attempt: t0.attempt, workerId: m.workerId, delivery: m.delivery ?? 1 }, m.startedAt);
  }
  const t = d.tasks[m.taskId]!;
  const base = { ...t, finishedAt: m.finishedAt, startedAt: t.startedAt ?? m.startedAt, workerId: m.workerId, exitCode: m.exitCode, deadlineAt: undefined };
  const dur = durationMs(base.startedAt, m.finishedAt);
  if (m.outcome === "completed" && t.gates?.length) {
    // The work is done; it counts only once its gates pass (run one after another on qa workers).
    d.tasks[t.id] = { ...base, status: "verifying", summary: m.summary, handoff: m.handoff, gate: { index: 0, run: 1 } };
    emitInto(d, { kind: "task.verifying", taskId: t.id, role: t.role, attempt: t.attempt, workerId: m.workerId, gates: t.gates }, at);
    dispatchGate(d, { name: t.gates[0]!, scope: "task", run: 1 }, t.id, t.attempt, at);
    return d;
  }
  if (m.outcome === "completed") {
    d.tasks[t.id] = { ...base, status: "completed", summary: m.summary, handoff: m.handoff };
    emitInto(d, { kind: "task.completed", taskId: t.id, role: t.role, attempt: t.attempt, workerId: m.workerId, durationMs: dur, summary: m.summary }, at);
    if (t.fixFor) afterFix(d, d.tasks[t.id]!, at);
    if (!anyFailed(d)) scheduleInto(d, at, t.id);
    return d;
  }
  const error = m.error ?? { name: "TaskFailed", message: `exit code ${m.exitCode ?? "unknown"}` };
  failTask(d, { ...base, error }, error, at, { workerId: m.workerId, durationMs: dur, exitCode: m.exitCode });
  return d;
}

/**
 * A task failed (work, deadline or gate): its policy retries it (status `retrying` until `retryAt`, then a
 * new attempt), or it fails — `escalate` fails too until questions to humans exist, and says so. A failed
 * fix task also fails the task whose gate it was fixing.
 */
function failTask(d: FeatureContext, t: TaskState, error: WireError, at: string, extra: { workerId?: string | undefined; durationMs?: number | undefined; exitCode?: number | null | undefined } = {}): void {
  const retry = t.policy?.retry;
  if (retry && t.attempt < retry.maxAttempts) {
    const backoffMs = Math.min(3600_000, (retry.backoffSeconds ?? 5) * 1000 * 2 ** (t.attempt - 1));
    const retryAt = new Date(Date.parse(at) + backoffMs).toISOString();
    d.tasks[t.id] = { ...t, status: "retrying", retryAt, error, finishedAt: at, deadlineAt: undefined, gate: undefined, fixing: undefined };
    emitInto(d, { kind: "task.retrying", taskId: t.id, role: t.role, attempt: t.attempt, nextAttempt: t.attempt + 1, retryAt, reason: error.message }, at);
    return;
  }
  const escalated = t.policy?.then === "escalate"
    ? { ...error, message: `${error.message} (policy "escalate": questions to a human are not available yet, so the task fails)` }
    : error;
  d.tasks[t.id] = { ...t, status: "failed", error: escalated, finishedAt: at, deadlineAt: undefined, gate: undefined, fixing: undefined };
  emitInto(d, { kind: "task.failed", taskId: t.id, role: t.role, attempt: t.attempt, workerId: extra.workerId ?? t.workerId, durationMs: extra.durationMs ?? durationMs(t.startedAt, at), exitCode: extra.exitCode, error: escalated }, at);
  const owner = t.fixFor?.taskId ? d.tasks[t.fixFor.taskId] : undefined;
  if (owner && owner.status === "fixing") {
    const e = { name: "FixFailed", code: "FIX_FAILED", message: `fix round ${t.fixFor!.round} for gate "${t.fixFor!.gate}" (task ${t.id}) failed: ${escalated.message}` };
    d.tasks[owner.id] = { ...owner, status: "failed", error: e, finishedAt: at, fixing: undefined, gate: undefined };
    emitInto(d, { kind: "task.failed", taskId: owner.id, role: owner.role, attempt: owner.attempt, workerId: owner.workerId, error: e }, at);
  }
}

/** A task id for a fix task that no task of the feature has: `<task>-fix-<round>`. */
function freshId(d: FeatureContext, base: string): string {
  let id = base;
  for (let i = 2; d.tasks[id]; i++) id = `${base}-${i}`;
  return id;
}

/**
 * A gate failed and the policy has fix rounds left: a new task for the fix role, given the gate's output,
 * runs now (it takes the gated task's place under maxParallel); when it completes the gate runs again.
 */
function startFix(d: FeatureContext, owner: TaskState | undefined, m: TaskResult, reason: string, role: string, round: number, at: string): void {
  const gate = m.gate!.name;
  const r = m.gateReport;
  const fixId = freshId(d, `${(owner?.id ?? "feature").slice(0, 48)}-fix-${round}`);
  const title = `Fix gate ${gate} for ${owner ? `task ${owner.id}` : "the feature"} (round ${round})`;
  const instructions = [
    `The gate "${gate}" failed${owner ? ` for task "${owner.id}" (${owner.title})` : " for the feature"}: ${reason}.`,
    r?.command.length ? `Command: ${r.command.join(" ")} (exit code ${r.exitCode ?? "none"})` : "",
    r?.outputTail ? `Its output (last lines):\n${r.outputTail}` : "",
    r?.review?.comments.length ? `The reviewer's comments:\n${r.review.comments.map((c) => `- ${c.file ? `${c.file}${c.line ? `:${c.line}` : ""}: ` : ""}${c.message}`).join("\n")}` : "",
    "Change the code in the workspace so that this gate passes; it runs again when you are done.",
    owner?.instructions ? `The task's own instructions were:\n${owner.instructions}` : "",
  ].filter(Boolean).join("\n\n");
  d.tasks[fixId] = {
    // the task's own dependencies (all completed): the fix task gets the same handoffs
    id: fixId, role, title, instructions, dependsOn: owner ? [...owner.dependsOn] : [], status: "ready", attempt: 0,
    timeoutSeconds: owner?.timeoutSeconds ?? 4 * 3600, fixFor: { taskId: owner?.id, gate, round },
  };
  d.order = [...d.order, fixId];
  if (owner) d.tasks[owner.id] = { ...owner, status: "fixing", fixRounds: round, fixing: { fixTaskId: fixId, gate, round } };
  else Object.assign(d, { featureFixRounds: round, featureFixing: { fixTaskId: fixId, gate, round } });
  emitInto(d, { kind: "task.fixing", taskId: owner?.id, attempt: owner?.attempt, gate, round, fixTaskId: fixId, fixRole: role, title, reason }, at);
  scheduleInto(d, at);
}

/**
 * A fix task completed: the task's gates run again from the first (a fix may break what passed before), or,
 * for a feature gate, the failed gate again.
 */
function afterFix(d: FeatureContext, fix: TaskState, at: string): void {
  const f = fix.fixFor!;
  if (f.taskId) {
    const t = d.tasks[f.taskId];
    if (!t || t.status !== "fixing" || !t.gate || !t.gates) return;
    const gate = { index: 0, run: t.gate.run + 1 };
    d.tasks[t.id] = { ...t, status: "verifying", fixing: undefined, gate };
    emitInto(d, { kind: "task.verifying", taskId: t.id, role: t.role, attempt: t.attempt, workerId: t.workerId ?? "", gates: t.gates }, at);
    dispatchGate(d, { name: t.gates[gate.index]!, scope: "task", run: gate.run }, t.id, t.attempt, at);
    return;
  }
  const fg = d.featureGate;
  if (!d.featureFixing || !fg || !d.gates) return;
  d.featureFixing = undefined;
  d.featureGate = { index: fg.index, run: fg.run + 1 };
  dispatchGate(d, { name: d.gates[fg.index]!, scope: "feature", run: fg.run + 1 }, undefined, 1, at);
}

/** Puts a gate run for the qa role in the outbox: a task message naming the gate, never its command. */
function dispatchGate(d: FeatureContext, gate: { name: string; scope: "task" | "feature"; run: number; expect?: "fail" }, taskId: string | undefined, attempt: number, at: string): void {
  const wireTaskId = taskId ?? FEATURE_GATES_TASK_ID;
  // A test-driven task's red phase: its tests must fail (the work they test does not exist yet).
  if (taskId && d.tasks[taskId]?.tddPhase === "red") gate = { ...gate, expect: "fail" };
  const review = gate.name === REVIEW_GATE;
  // A review sees the task's (or, for the feature, every task's) summary and handoff; the worker adds the diff.
  const reviewed = !review ? [] : taskId ? [d.tasks[taskId]!] : d.order.map((id) => d.tasks[id]!);
  d.outbox.push({
    // six tokens (four for a feature gate, with "fgate"): never equal to a dispatch or a status event id
    msgId: taskId ? `${d.featureId}.gate.${taskId}.${attempt}.${gate.name}.${gate.run}` : `${d.featureId}.fgate.${gate.name}.${gate.run}`,
    to: "task",
    role: review ? REVIEW_ROLE : GATE_ROLE,
    payload: {
      type: "baton.v1.task_assigned",
      featureId: d.featureId, taskId: wireTaskId, attempt, role: review ? REVIEW_ROLE : GATE_ROLE,
      title: review ? `Review ${taskId ? `task ${taskId} (${d.tasks[taskId]!.title})` : `the feature "${d.title}"`}` : taskId ? `gate ${gate.name} for task ${taskId}` : `feature gate ${gate.name}`,
      ...(review && taskId ? { instructions: d.tasks[taskId]!.instructions } : {}),
      dependsOn: [], workspace: d.workspace,
      feature: { title: d.title, description: d.description },
      handoffs: reviewed.filter((t) => t.status === "completed" || t.id === taskId).map((t) => ({ taskId: t.id, role: t.role, summary: t.summary, handoff: t.handoff })),
      dispatchedAt: at, gate,
      ...(review ? { review: { since: d.submittedAt } } : {}),
    },
  });
}

/** The status event body for a gate run's outcome (a result without a report — e.g. the qa worker failed — counts as failed). */
function gateEvent(m: TaskResult, passed: boolean, taskId: string | undefined, attempt: number | undefined): EventBody {
  const r: Partial<GateReport> = m.gateReport ?? {};
  return {
    kind: passed ? "gate.passed" : "gate.failed",
    gate: m.gate!.name, scope: m.gate!.scope, run: m.gate!.run, taskId, attempt, workerId: m.workerId,
    expect: r.expect ?? "pass", command: r.command ?? [], exitCode: r.exitCode ?? m.exitCode ?? null,
    durationMs: r.durationMs ?? durationMs(m.startedAt, m.finishedAt),
    tests: r.tests, coverage: r.coverage,
    reason: passed ? undefined : (r.reason ?? m.error?.message ?? "the gate did not pass"),
    outputTail: r.outputTail ?? "",
    ...(r.review ? { review: r.review } : {}),
  } as EventBody;
}

const gatePassed = (m: TaskResult): boolean => m.outcome === "completed" && m.gateReport?.passed === true;

/**
 * A gate run for a task came back. Only the run the task waits for counts (duplicates and stale runs are
 * no-ops). Passed: the next gate, or the task completes. Failed: the task fails with the gate's reason.
 */
function onTaskGateResult(ctx: FeatureContext, m: TaskResult, at: string): FeatureContext {
  const t = ctx.tasks[m.taskId];
  const g = m.gate!;
  if (!t || t.status !== "verifying" || !t.gate || t.attempt !== m.attempt || t.gate.run !== g.run || t.gates?.[t.gate.index] !== g.name) return ctx;
  const d = draft(ctx);
  const passed = gatePassed(m);
  emitInto(d, gateEvent(m, passed, t.id, t.attempt), at);
  if (passed && t.gate.index + 1 < t.gates.length) {
    const next = { index: t.gate.index + 1, run: t.gate.run + 1 };
    d.tasks[t.id] = { ...t, gate: next };
    dispatchGate(d, { name: t.gates[next.index]!, scope: "task", run: next.run }, t.id, t.attempt, at);
    return d;
  }
  if (passed) {
    d.tasks[t.id] = { ...t, status: "completed", gate: undefined };
    emitInto(d, { kind: "task.completed", taskId: t.id, role: t.role, attempt: t.attempt, workerId: t.workerId ?? m.workerId, durationMs: durationMs(t.startedAt, t.finishedAt ?? at), summary: t.summary }, at);
    if (!anyFailed(d)) scheduleInto(d, at, t.id);
    return d;
  }
  const reason = (gateEvent(m, false, t.id, t.attempt) as { reason: string }).reason;
  // A red phase that did not fail has nothing to fix: its tests test nothing missing. Requested changes
  // go back to the author's role (the task's), for the policy's rounds or DEFAULT_REVIEW_ROUNDS.
  const isReview = g.name === REVIEW_GATE;
  const fix = t.tddPhase === "red" ? undefined
    : isReview ? { maxRounds: t.policy?.fix?.maxRounds ?? DEFAULT_REVIEW_ROUNDS, role: t.role }
    : t.policy?.fix;
  if (fix && (t.fixRounds ?? 0) < fix.maxRounds) {
    startFix(d, t, m, reason, fix.role ?? "bugfix", (t.fixRounds ?? 0) + 1, at);
    return d;
  }
  const rounds = t.fixRounds ? ` (after ${t.fixRounds} fix round${t.fixRounds > 1 ? "s" : ""})` : "";
  const error = { name: "GateFailed", code: "GATE_FAILED", message: `gate "${g.name}" failed${rounds}: ${reason}` };
  failTask(d, t, error, at);
  return d;
}

/** Whether the feature's gates should start now: every task completed, gates configured, none started. */
export function featureGatesDue(ctx: FeatureContext): boolean {
  return !!ctx.gates?.length && !ctx.featureGate && !ctx.gatesPassed && !ctx.gateFailure && allCompleted(ctx);
}

/** Starts the feature's gates (the machine's `verifying` state entry). */
export function startFeatureGates(ctx: FeatureContext, at: string): FeatureContext {
  if (!featureGatesDue(ctx)) return ctx;
  const d = draft(ctx);
  d.featureGate = { index: 0, run: 1 };
  emitInto(d, { kind: "feature.verifying", gates: ctx.gates! }, at);
  dispatchGate(d, { name: ctx.gates![0]!, scope: "feature", run: 1 }, undefined, 1, at);
  return d;
}

function onFeatureGateResult(ctx: FeatureContext, m: TaskResult, at: string): FeatureContext {
  const fg = ctx.featureGate;
  const g = m.gate!;
  if (!fg || ctx.featureFixing || ctx.gatesPassed || ctx.gateFailure || fg.run !== g.run || ctx.gates?.[fg.index] !== g.name) return ctx;
  const d = draft(ctx);
  const passed = gatePassed(m);
  emitInto(d, gateEvent(m, passed, undefined, undefined), at);
  if (passed && fg.index + 1 < ctx.gates!.length) {
    d.featureGate = { index: fg.index + 1, run: fg.run + 1 };
    dispatchGate(d, { name: ctx.gates![fg.index + 1]!, scope: "feature", run: fg.run + 1 }, undefined, 1, at);
  } else if (passed) {
    d.gatesPassed = true;
  } else {
    const reason = (gateEvent(m, false, undefined, undefined) as { reason: string }).reason;
    const fix = g.name === REVIEW_GATE ? { maxRounds: ctx.policy?.fix?.maxRounds ?? DEFAULT_REVIEW_ROUNDS, role: ctx.policy?.fix?.role ?? "bugfix" } : ctx.policy?.fix;
    if (fix && (ctx.featureFixRounds ?? 0) < fix.maxRounds) {
      startFix(d, undefined, m, reason, fix.role ?? "bugfix", (ctx.featureFixRounds ?? 0) + 1, at);
      return d;
    }
    const rounds = ctx.featureFixRounds ? ` (after ${ctx.featureFixRounds} fix round${ctx.featureFixRounds > 1 ? "s" : ""})` : "";
    const escalate = ctx.policy?.then === "escalate" ? ' (policy "escalate": questions to a human are not available yet, so the feature fails)' : "";
    d.gateFailure = `feature gate "${g.name}" failed${rounds}: ${reason}${escalate}`;
  }
  return d;
}

/** Removes published entries from the outbox (by msg id); unknown ids are ignored. */
export function onFlushed(ctx: FeatureContext, msgIds: readonly string[]): FeatureContext {
  if (!msgIds.length || !ctx.outbox.length) return ctx;
  const done = new Set(msgIds);
  const outbox = ctx.outbox.filter((e) => !done.has(e.msgId));
  return outbox.length === ctx.outbox.length ? ctx : { ...ctx, outbox };
}

export function failedTask(ctx: FeatureContext): TaskState | undefined {
  for (const id of ctx.order) if (ctx.tasks[id]!.status === "failed") return ctx.tasks[id];
  return undefined;
}

/**
 * Fails every active task whose deadline has passed at `at` (through its failure policy), and sends the
 * tasks whose retry is due back to `ready`. Idempotent; a no-op when nothing is due.
 */
export function onTimer(ctx: FeatureContext, at: string): FeatureContext {
  const now = Date.parse(at);
  const due = ctx.order.filter((id) => {
    const t = ctx.tasks[id]!;
    return (ACTIVE.has(t.status) && t.deadlineAt && Date.parse(t.deadlineAt) <= now) || (t.status === "retrying" && t.retryAt && Date.parse(t.retryAt) <= now);
  });
  if (!due.length) return ctx;
  const d = draft(ctx);
  for (const id of due) {
    const t = d.tasks[id]!;
    if (t.status === "retrying") {
      d.tasks[id] = { ...t, status: "ready", retryAt: undefined };
      continue;
    }
    const error = { name: "Timeout", code: "DEADLINE", message: `no result within ${t.timeoutSeconds}s of the task starting (deadline ${t.deadlineAt})` };
    failTask(d, { ...t, finishedAt: at, deadlineAt: undefined }, error, at, { durationMs: durationMs(t.startedAt, at) });
  }
  if (!anyFailed(d)) scheduleInto(d, at);
  return d;
}

/** The earliest deadline among active tasks, or undefined: what a coordinator must arm a timer for. */
export function nextDeadline(ctx: FeatureContext): string | undefined {
  let min: string | undefined;
  for (const id of ctx.order) {
    const t = ctx.tasks[id]!;
    if (ACTIVE.has(t.status) && t.deadlineAt && (!min || t.deadlineAt < min)) min = t.deadlineAt;
    if (t.status === "retrying" && t.retryAt && (!min || t.retryAt < min)) min = t.retryAt;
  }
  return min;
}

/** Marks every task that has not ended as cancelled (their late results are then ignored). */
export function cancelTasks(ctx: FeatureContext): FeatureContext {
  const tasks = { ...ctx.tasks };
  for (const id of ctx.order) {
    const t = tasks[id]!;
    if (t.status !== "completed" && t.status !== "failed") tasks[id] = { ...t, status: "cancelled", deadlineAt: undefined };
  }
  return { ...ctx, tasks };
}
