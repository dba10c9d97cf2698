// After a chaos run: does the read model the coordinators answer (api.features.get, projected from the stored
// state) tell the same story as each feature's status history? Compares the feature's state and seq, every task's
// state, attempt, what it waits for and its open question, the plan, the questions and the streams, for every
// submitted feature.
import type { NatsConnection } from "@nats-io/transport-node";
import { foldHistory, getFeature, type FeatureView } from "../../shared/client/index.ts";
import type { Names } from "../../shared/subjects.ts";

export interface ReadModelCheck {
  checked: number;
  /** One line per feature whose read model and history disagree (or that the read model could not give). */
  mismatches: string[];
}

/** The parts of a view both sources must agree on: the feature's and tasks' states, its plan, questions and streams. */
function essence(view: FeatureView): string {
  const plan = view.plan ? [view.plan.source ?? null, view.plan.approval ?? null, view.plan.invalid ?? 0, !!view.plan.approvedAt] : null;
  return JSON.stringify({
    state: view.state, seq: view.seq, tasks: view.tasks.map((task) => [task.id, task.state, task.attempt, task.waitingFor?.kind ?? null, task.questionId ?? null]),
    plan, questions: (view.questions ?? []).map((question) => [question.questionId, question.state, question.answer ?? null, question.via ?? null]),
    streams: (view.streams ?? []).map((stream) => [stream.name, stream.state, stream.completed, stream.tasks]),
  });
}

export async function checkReadModel(nc: NatsConnection, names: Names, featureIds: readonly string[]): Promise<ReadModelCheck> {
  const mismatches: string[] = [];
  for (const id of featureIds) {
    try {
      const read = await getFeature(nc, names, id, { fallback: false, timeoutMs: 10_000 });
      const history = await foldHistory(nc, names, id);
      if (!read.view) mismatches.push(`${id}: the read model does not know it (history: ${history.state})`);
      else if (essence(read.view) !== essence(history)) mismatches.push(`${id}: read model ${essence(read.view)} vs history ${essence(history)}`);
    } catch (error) {
      mismatches.push(`${id}: ${(error as Error).message}`);
    }
  }
  return { checked: featureIds.length, mismatches };
}
