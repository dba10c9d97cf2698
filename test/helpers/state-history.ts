// A realistic status history of a three-task git feature (checkpoints, a merge conflict, a scope violation, a
// rollback), every event validated with the protocol's schema: shared by the state-files tests.
import { StatusEvent } from "../../shared/protocol/events.ts";

export const SHA = {
  base: "a".repeat(40),
  api: "1".repeat(8) + "b".repeat(32),
  docs: "2".repeat(8) + "c".repeat(32),
  web: "3".repeat(8) + "d".repeat(32),
};

type Body = Record<string, unknown> & { kind: StatusEvent["kind"] };

/** Builds valid events for `featureId` with increasing seq (from `firstSeq`) and times a minute apart. */
export function eventFactory(featureId: string, firstSeq = 1): (body: Body) => StatusEvent {
  let seq = firstSeq;
  return (body) => {
    const at = new Date(Date.UTC(2026, 0, 1, 12, seq, 0)).toISOString();
    return StatusEvent.parse({ type: "baton.v1.status_event", featureId, seq: seq++, at, ...body });
  };
}

const task = (taskId: string, role: string, attempt = 1) => ({ taskId, role, attempt });

/** The history up to (and including) the rollback: api integrated; docs integrated, then rolled back; web in a conflict. */
export function featureHistory(featureId: string, workspace: string): StatusEvent[] {
  const event = eventFactory(featureId);
  return [
    event({
      kind: "feature.accepted", title: "Todo app", maxParallel: 2, workspace, gates: ["e2e"],
      tasks: [
        { id: "api", role: "backend", title: "Build the API", dependsOn: [] },
        { id: "web", role: "frontend", title: "Build the UI", dependsOn: ["api"] },
        { id: "docs", role: "writer", title: "Write the docs", dependsOn: ["api"] },
      ],
    }),
    event({ kind: "workspace.prepared", branch: `baton/${featureId}`, base: SHA.base, head: SHA.base, dirty: [] }),
    event({ kind: "task.dispatched", ...task("api", "backend") }),
    event({ kind: "task.started", ...task("api", "backend"), workerId: "w1", delivery: 1 }),
    event({ kind: "task.log", ...task("api", "backend"), workerId: "w1", stream: "stdout", lines: ["hello"], dropped: 0 }),
    event({ kind: "task.integrating", ...task("api", "backend"), branch: `baton/${featureId}` }),
    event({ kind: "checkpoint.created", ...task("api", "backend"), commit: SHA.api, branch: `baton/${featureId}`, files: ["src/api.ts", "src/db.ts"], insertions: 40, deletions: 2 }),
    event({ kind: "task.completed", ...task("api", "backend"), workerId: "w1", durationMs: 1000, summary: "Added the REST API for todos.\nStored in SQLite." }),
    event({ kind: "task.dispatched", ...task("web", "frontend") }),
    event({ kind: "task.dispatched", ...task("docs", "writer") }),
    event({ kind: "task.started", ...task("web", "frontend"), workerId: "w2", delivery: 1 }),
    event({ kind: "task.started", ...task("docs", "writer"), workerId: "w3", delivery: 1 }),
    event({ kind: "task.integrating", ...task("docs", "writer"), branch: `baton/${featureId}` }),
    event({ kind: "checkpoint.created", ...task("docs", "writer"), commit: SHA.docs, branch: `baton/${featureId}`, files: ["docs/api.md"], insertions: 12, deletions: 0, tag: `baton/${featureId}/m1` }),
    event({ kind: "task.completed", ...task("docs", "writer"), workerId: "w3", durationMs: 500, summary: "Documented the API." }),
    event({ kind: "task.integrating", ...task("web", "frontend"), branch: `baton/${featureId}` }),
    event({ kind: "task.conflict", ...task("web", "frontend"), files: ["src/api.ts"], round: 1, fixTaskId: "web-conflict-1" }),
    event({ kind: "task.dispatched", ...task("web-conflict-1", "frontend") }),
    event({ kind: "scope.violation", ...task("web", "frontend"), files: ["package.json"], scope: ["src/web/**"], strict: false }),
    event({ kind: "feature.rolled_back", to: SHA.api, toTask: "api", tasks: ["docs"], cancelled: false, stopped: [], by: "ann" }),
  ];
}
