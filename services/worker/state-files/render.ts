// The readable state files of a feature's workspace (`.baton/<featureId>/`), rendered from its status events:
// current-phase.json, completed-changes.md, pending-changes.md, rollback-plan.md. Pure and deterministic.
import type { StatusEvent } from "../../../shared/protocol/events.ts";
import { isTerminal } from "../../../shared/client/feature-view.ts";
import { buildLedger, UNDER_WAY, type Ledger } from "./ledger.ts";
import { renderCompleted, renderPending, renderRollbackPlan } from "./markdown.ts";

/** The four files, by name, as they are written into `.baton/<featureId>/`. */
export interface StateFiles {
  "current-phase.json": string;
  "completed-changes.md": string;
  "pending-changes.md": string;
  "rollback-plan.md": string;
}
export type StateFileName = keyof StateFiles;
export const STATE_FILE_NAMES: readonly StateFileName[] = ["current-phase.json", "completed-changes.md", "pending-changes.md", "rollback-plan.md"];

/** What every file says about itself. */
export const DERIVED_NOTE = "Derived from Baton's status events; never read back. `baton status <id>` is the source of truth.";

/**
 * Renders the four state files from one feature's history in seq order (events of other features, notices and
 * repeats are ignored). Deterministic: no clock is read, every time comes from an event; the same events always
 * give byte-identical files.
 */
export function renderStateFiles(events: readonly StatusEvent[]): StateFiles {
  const featureId = events.find((e) => e.seq > 0)?.featureId ?? events[0]?.featureId ?? "unknown";
  const ledger = buildLedger(featureId, events);
  return {
    "current-phase.json": `${JSON.stringify(currentPhase(ledger), null, 2)}\n`,
    "completed-changes.md": renderCompleted(ledger),
    "pending-changes.md": renderPending(ledger),
    "rollback-plan.md": renderRollbackPlan(ledger),
  };
}

/** The contents of current-phase.json. */
export function currentPhase(ledger: Ledger): Record<string, unknown> {
  const { view, git } = ledger;
  const tasks = view.tasks;
  return {
    featureId: view.featureId,
    title: view.title ?? null,
    state: view.state,
    phase: phaseLine(ledger),
    workspace: view.workspace ?? null,
    branch: git?.branch ?? null,
    base: git?.base ?? null,
    head: git?.head ?? null,
    tasks: {
      total: tasks.length,
      completed: tasks.filter((t) => t.state === "completed").length,
      running: tasks.filter((t) => UNDER_WAY.has(t.state)).map((t) => t.id),
      integrating: tasks.filter((t) => t.state === "integrating").map((t) => t.id),
      waiting: tasks.filter((t) => t.state === "waiting").length,
      failed: tasks.filter((t) => t.state === "failed").length,
      cancelled: tasks.filter((t) => t.state === "cancelled").length,
    },
    checkpoints: ledger.checkpoints.length,
    ...(view.reason ? { reason: view.reason } : {}),
    ...(ledger.integrated ? { integrated: { into: ledger.integrated.into ?? null, fastForwarded: ledger.integrated.fastForwarded, refused: ledger.integrated.refused ?? null } } : {}),
    lastEvent: ledger.lastEvent ?? null,
    note: DERIVED_NOTE,
  };
}

/** One line a person reads first: "integrating api", "running backend, frontend", "verifying feature gates: e2e", "completed". */
export function phaseLine(ledger: Ledger): string {
  const { view } = ledger;
  if (view.state === "unknown") return "not accepted yet";
  if (view.state === "rejected") return "rejected";
  if (isTerminal(view.state)) return view.reason ? `${view.state}: ${view.reason}` : view.state;
  if (view.state === "verifying") return `verifying feature gates${view.gates?.length ? `: ${view.gates.join(", ")}` : ""}`;
  const ids = (states: ReadonlySet<string>) => view.tasks.filter((t) => states.has(t.state)).map((t) => t.id);
  const integrating = ids(new Set(["integrating"]));
  const running = ids(UNDER_WAY);
  const parts = [
    ...(view.state === "paused" ? [`paused${view.paused?.reason ? ` (${view.paused.reason})` : ""}`] : []),
    ...(integrating.length ? [`integrating ${integrating.join(", ")}`] : []),
    ...(running.length ? [`running ${running.join(", ")}`] : []),
  ];
  if (parts.length) return parts.join("; ");
  if (view.workspace && !ledger.git) return "preparing the workspace";
  const waiting = view.tasks.filter((t) => t.state === "waiting").length;
  return waiting ? `waiting: ${waiting} ${waiting === 1 ? "task" : "tasks"} not started` : "executing";
}
