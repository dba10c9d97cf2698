// Streams (docs/planning.md): tasks grouped by name (`stream`), a stream's own gates run when its last task completes,
// and only that stream's dependents wait for them (task → stream → feature levels). A stream with gates gets a task of
// its own that has no work: it depends on every task of the stream, tasks outside the stream that depend on one of its
// tasks depend on it too, and it runs the gates on the integrated work as soon as it is ready. Pure.
import type { StreamSpec } from "../../../shared/protocol/index.ts";
import type { FeatureContext, TaskState } from "./context.ts";
import { dispatchGate, GATE_ROLE } from "./dispatch.ts";
import { emitInto } from "./status-events.ts";
import { moveTask } from "./task-lifecycle.ts";

/** Adds a gate task per stream that has gates and tasks, and makes the stream's outside dependents wait for it. */
export function addStreamGates(tasks: Record<string, TaskState>, order: string[], streams: Record<string, StreamSpec> | undefined, mint: (base: string) => string, timeoutSeconds: number): void {
  for (const [name, spec] of Object.entries(streams ?? {})) {
    const members = order.filter((id) => tasks[id]!.stream === name);
    if (!spec.gates?.length || !members.length) continue;
    const id = mint(`${name.slice(0, 58)}-gates`);
    const inStream = new Set(members);
    // a task a member waits for cannot wait for the stream's gates (that would be a cycle): it sits inside the stream's span
    const before = ancestorsOf(tasks, members);
    for (const other of order) {
      const task = tasks[other]!;
      if (inStream.has(other) || before.has(other) || !task.dependsOn.some((dep) => inStream.has(dep))) continue;
      tasks[other] = { ...task, dependsOn: [...task.dependsOn, id] };
    }
    tasks[id] = {
      id, role: GATE_ROLE, title: `Stream ${name}: gates ${spec.gates.join(", ")}`, dependsOn: members, status: "blocked", attempt: 0,
      timeoutSeconds, gates: [...spec.gates], stream: name, streamGate: name,
      // a stream's gates have no work to retry or fix: a failure stops the stream's dependents (dag.ts), nothing else
      policy: { then: "fail" },
    };
    // after its last member, so that dispatch order stays the request's
    const last = Math.max(...members.map((member) => order.indexOf(member)));
    order.splice(last + 1, 0, id);
  }
}

/** Every task that `ids` wait for, directly or not. */
function ancestorsOf(tasks: Record<string, TaskState>, ids: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const stack = ids.flatMap((id) => tasks[id]?.dependsOn ?? []);
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(tasks[id]?.dependsOn ?? []));
  }
  return seen;
}

/** A stream's gate task became ready: its gates run at once (on the integration branch in a git feature); no worker does work for it. */
export function startStreamGates(draft: FeatureContext, task: TaskState, at: string): void {
  const attempt = task.attempt + 1;
  draft.tasks[task.id] = moveTask(task, "check", { attempt, dispatchedAt: at, workerId: "coordinator", verify: { current: { index: 0, run: 1 } } });
  emitInto(draft, { kind: "task.dispatched", taskId: task.id, role: task.role, attempt }, at);
  emitInto(draft, { kind: "task.verifying", taskId: task.id, role: task.role, attempt, workerId: "coordinator", gates: task.gates ?? [] }, at);
  dispatchGate(draft, { name: task.gates![0]!, scope: "task", run: 1 }, task.id, attempt, at);
}
