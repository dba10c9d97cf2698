// Baton's reach into xstate's internals: an inert actor scope, so that the coordinator runs its pure machine with
// `machine.transition` and no actor per event. Kept apart from nats.ts so that processes without a machine (the
// CLI) do not load xstate. Checked by test/unit/internals.test.ts and test/unit/step-equivalence.test.ts.
import { createActor, type ActorScope, type AnyStateMachine, type EventFromLogic, type InputFrom, type SnapshotFrom } from "xstate";

/**
 * An actor scope for `machine.transition(snapshot, event, scope)` and friends, without running an actor per
 * event: `self` and `system` come from an actor created (never started) with `input`; defer, emit, logger,
 * stopChild and the action executor do nothing. Right only for machines whose actions are all `assign` and
 * that spawn, emit and defer nothing (their hooks would silently do nothing). Build once and reuse.
 */
export function inertActorScope<TMachine extends AnyStateMachine>(
  machine: TMachine,
  input?: InputFrom<TMachine>,
): ActorScope<SnapshotFrom<TMachine>, EventFromLogic<TMachine>> {
  const self = createActor(machine, { input } as Parameters<typeof createActor<TMachine>>[1]);
  const noop = (): void => {};
  return {
    self, id: "", sessionId: "", system: self.system,
    defer: noop, emit: noop, logger: noop, stopChild: noop, actionExecutor: noop,
  } as unknown as ActorScope<SnapshotFrom<TMachine>, EventFromLogic<TMachine>>;
}
