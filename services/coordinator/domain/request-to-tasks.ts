// Turns an accepted feature request into the feature's context: one task state per task, with a test-driven
// task expanded into its three phases (red: qa writes failing tests → green: the task's role → refactor).
import { requestHash, type FeatureRequest, type TaskSpec } from "../../../shared/protocol/index.ts";
import { DEFAULTS, type FeatureContext, type FeatureDefaults, type TaskState } from "./context.ts";
import { gitFromRequest } from "./workspace.ts";
import { addStreamGates } from "./streams.ts";
import { planningFromRequest, plannerTasks } from "./planning.ts";

/** Ids of the extra tasks a test-driven task becomes (its own id is the green phase). */
interface TddIds {
  red: string;
  refactor: string;
}

/** Hands out task ids no task of the request has (a phase id may clash with a task the user named so). */
function idMinter(taken: Set<string>): (base: string) => string {
  return (base) => {
    let id = base.slice(0, 64);
    for (let suffix = 2; taken.has(id); suffix++) id = `${base.slice(0, 60)}-${suffix}`;
    taken.add(id);
    return id;
  };
}

/** The three phases of test-driven task `spec`, in dispatch order. `common`: fields every phase shares. */
function tddPhases(spec: TaskSpec, own: TaskState, ids: TddIds, deps: string[], common: Pick<TaskState, "status" | "attempt" | "timeoutSeconds" | "policy" | "allowTestRemoval" | "budget">): TaskState[] {
  const gate = spec.tdd!.gate;
  const what = spec.instructions ? `\n\nThe behaviour:\n${spec.instructions}` : "";
  const red: TaskState = {
    id: ids.red, role: "qa", title: `${spec.title} — red: write failing tests`, dependsOn: deps, ...common,
    instructions: `Test-driven task "${spec.id}", red phase: write the tests for the behaviour below, and do not implement it. The gate "${gate}" must fail when you are done (the tests fail because the code does not exist yet).${what}`,
    gates: [gate], tddPhase: "red", expectChanges: true,
  };
  const green: TaskState = {
    ...own, dependsOn: [ids.red], tddPhase: "green",
    instructions: `Test-driven task, green phase: implement the behaviour so that the tests written in the red phase pass (gate "${gate}").${what}`,
    gates: [...new Set([gate, ...(spec.gates ?? [])])], expectChanges: true,
  };
  const refactor: TaskState = {
    id: ids.refactor, role: spec.role, title: `${spec.title} — refactor`, dependsOn: [spec.id], ...common,
    instructions: `Test-driven task "${spec.id}", refactor phase: improve the code you wrote without changing its behaviour; the tests must stay green.${what}`,
    gates: [...new Set([gate, ...(spec.tdd!.refactorGates ?? spec.gates ?? [])])], tddPhase: "refactor",
  };
  return [red, green, refactor];
}

/** The task states of a request's tasks, in request order (a test-driven task as its three phases), with its streams' gate tasks. Pure. */
export function tasksFromRequest(req: FeatureRequest, defaults: FeatureDefaults, reserved: readonly string[] = []): { tasks: Record<string, TaskState>; order: string[] } {
  const tasks: Record<string, TaskState> = {};
  const order: string[] = [];
  const mint = idMinter(new Set([...reserved, ...(req.tasks ?? []).map((t) => t.id)]));
  const tddIds = new Map<string, TddIds>();
  for (const spec of req.tasks ?? []) if (spec.tdd) tddIds.set(spec.id, { red: mint(`${spec.id.slice(0, 56)}-red`), refactor: mint(`${spec.id.slice(0, 51)}-refactor`) });
  /** A test-driven task's dependents wait for its refactor phase. */
  const deps = (ds: readonly string[] | undefined) => [...new Set((ds ?? []).map((d) => tddIds.get(d)?.refactor ?? d))];
  for (const spec of req.tasks ?? []) {
    const common = {
      status: "blocked" as const, attempt: 0, timeoutSeconds: spec.timeoutSeconds ?? defaults.taskTimeoutSeconds,
      ...(spec.onFailure ?? req.onFailure ? { policy: spec.onFailure ?? req.onFailure } : {}),
      ...(spec.allowTestRemoval ? { allowTestRemoval: true } : {}),
      // each phase of a test-driven task has the task's budget as its own
      ...(spec.budget ? { budget: { ...spec.budget } } : {}),
      ...(spec.stream ? { stream: spec.stream } : {}),
    };
    const own: TaskState = {
      id: spec.id, role: spec.role, title: spec.title, instructions: spec.instructions, dependsOn: deps(spec.dependsOn), ...common,
      ...(spec.gates?.length ? { gates: [...spec.gates] } : {}),
      ...(spec.files?.length ? { files: [...spec.files] } : {}),
      ...(spec.expectChanges ? { expectChanges: true } : {}),
      ...(spec.isolation ? { isolation: spec.isolation } : {}),
      ...(spec.produces?.length ? { produces: [...spec.produces] } : {}),
      ...(spec.milestone ? { milestone: spec.milestone } : {}),
      ...(spec.kind ? { kind: spec.kind } : {}),
    };
    const ids = tddIds.get(spec.id);
    const phases = ids && spec.tdd ? tddPhases(spec, own, ids, deps(spec.dependsOn), common) : [own];
    for (const phase of phases) {
      tasks[phase.id] = phase;
      order.push(phase.id);
    }
  }
  addStreamGates(tasks, order, req.streams, mint, defaults.taskTimeoutSeconds);
  return { tasks, order };
}

/**
 * The context of a feature accepted at `at`: every task blocked, nothing dispatched yet, the request's
 * fingerprint kept (a later submission under the same id is compared with it). With `plan: auto` its only task is
 * the planner's run (planning.ts adds the plan's tasks once it is checked). Pure.
 */
export function contextFromRequest(featureId: string, req: FeatureRequest, at: string, defaults: FeatureDefaults = DEFAULTS): FeatureContext {
  const dispatchTimeout = req.dispatchTimeoutSeconds ?? defaults.dispatchTimeoutSeconds;
  const { tasks, order } = req.plan === "auto" ? plannerTasks(req, defaults) : tasksFromRequest(req, defaults);
  const planning = planningFromRequest(req, defaults);
  return {
    featureId, title: req.title, description: req.description, workspace: req.workspace,
    maxParallel: req.maxParallel ?? 1, order, tasks, seq: 0, outbox: [], submittedAt: at,
    ...(req.gates?.length ? { featureGates: { gates: [...req.gates] } } : {}),
    ...(req.onFailure ? { policy: req.onFailure } : {}),
    ...(req.budget ? { budget: { ...req.budget } } : {}),
    requestHash: requestHash(req),
    ...(dispatchTimeout !== undefined ? { dispatchTimeoutSeconds: dispatchTimeout } : {}),
    ...(req.workspace ? { git: gitFromRequest(featureId, req, defaults) } : {}),
    ...(planning ? { planning: planning.ready ? { ...planning, readyAt: at } : planning } : {}),
    ...(req.streams && Object.keys(req.streams).length ? { streams: req.streams } : {}),
    ...(defaults.questionTimeoutSeconds ? { questionTimeoutSeconds: defaults.questionTimeoutSeconds } : {}),
  };
}
