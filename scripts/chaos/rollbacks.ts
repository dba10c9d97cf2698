// A rollback in the middle of a git feature, under the kills, as a person would do it with `baton pause`, `baton
// rollback --to <task>` and `baton resume`: once the feature has a checkpoint, pause it; wait until the read model
// shows nothing under way; roll back to the first checkpoint's task; check feature.rolled_back arrives (a refusal
// would be a bug here: nothing is under way and nobody touched the integration worktree); resume. A paused feature
// does not dispatch a conflict fix task, so a task waiting for one stays `fixing` (under way) for as long as it is
// paused: the harness reports such a stall (a failure) rather than wait forever; git-plan.ts gives the features it
// rolls back no conflict pairs for that reason.
import type { NatsConnection } from "@nats-io/transport-node";
import { getFeature, sendControl, type ControlOptions } from "../../shared/client/index.ts";
import type { ControlVerb } from "../../shared/protocol/control.ts";
import type { ViewTask } from "../../shared/protocol/views.ts";
import type { Names } from "../../shared/subjects.ts";
import { parseStatusEvent, TERMINAL_KINDS, type EventObserver, type SeenEvent } from "./observer.ts";

/** What happened to one planned rollback. */
export interface RollbackRecord {
  featureId: string;
  /** `done`: rolled back and resumed; `skipped`: the feature ended before it could be; the others are failures. */
  outcome: "done" | "skipped" | "refused" | "no answer";
  detail?: string | undefined;
  /** The first checkpoint's task, and the feature.rolled_back event's seq and tasks. */
  toTask?: string | undefined;
  seq?: number | undefined;
  tasks?: string[] | undefined;
  /** Conflict fix tasks that kept the paused feature from ever being quiet (their owner `fixing`, they waiting undispatched). */
  stalledFixes?: string[] | undefined;
  /** Times (ms since the epoch): the first checkpoint stored and seen, pause sent, nothing under way, rolled back, resumed. */
  checkpointAt?: number | undefined;
  sawCheckpointAt?: number | undefined;
  pausedAt?: number | undefined;
  quietAt?: number | undefined;
  rolledBackAt?: number | undefined;
  resumedAt?: number | undefined;
}

export interface RollbackDeps {
  nc: NatsConnection;
  names: Names;
  observer: EventObserver;
  /** Give up waiting at this time (ms since the epoch). */
  deadline: number;
  stopped: () => boolean;
  say: (line: string) => void;
}

/** Task states in which something runs for the task (a worker's run, a gate, a fix, a merge). */
const UNDER_WAY = new Set(["dispatched", "running", "verifying", "fixing", "integrating"]);
/** How long a pause or a resume may take to show (a rollback, queued behind the integrators' work, and the quiet wait as long as the run waits). */
const ANSWER_MS = 60_000;
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** A rollback's view of its feature: the events seen live (core subscription to its status subjects) and the observer's. */
interface Watch {
  featureId: string;
  live: SeenEvent[];
}

/**
 * The first event of the feature matching `match`, or a terminal one; undefined past `until`. It looks at the events
 * seen live, as they were published, and at the observer's: those read from the stream, so they include what a NATS
 * outage hid from the live subscription, but they may lag behind by seconds.
 */
async function nextEvent(deps: RollbackDeps, watch: Watch, match: (event: SeenEvent) => boolean, until: number): Promise<SeenEvent | undefined> {
  const cursors = [0, 0];
  while (!deps.stopped() && Date.now() < Math.min(until, deps.deadline)) {
    for (const [source, events] of [watch.live, deps.observer.events].entries()) {
      for (; cursors[source]! < events.length; cursors[source]!++) {
        const event = events[cursors[source]!]!;
        if (event.featureId === watch.featureId && event.seq > 0 && (match(event) || TERMINAL_KINDS.has(event.kind))) return event;
      }
    }
    await sleep(100);
  }
  return undefined;
}

/** Sends a control verb, retrying while NATS is away; returns when it was sent (ms), or undefined past the deadline. */
async function control(deps: RollbackDeps, featureId: string, verb: ControlVerb, opts: ControlOptions = {}): Promise<number | undefined> {
  while (!deps.stopped() && Date.now() < deps.deadline) {
    const sentAt = Date.now();
    try {
      await sendControl(deps.nc, deps.names, featureId, verb, { by: "chaos", timeoutMs: 5000, ...opts });
      return sentAt;
    } catch {
      await sleep(500);
    }
  }
  return undefined;
}

/** Sends `verb` and waits (until `until`, default ANSWER_MS) for its effect (`kind`) or its refusal, both stamped after the send. */
async function controlAndAwait(deps: RollbackDeps, watch: Watch, verb: ControlVerb, kind: string, opts: ControlOptions = {}, until?: number) {
  const sentAt = await control(deps, watch.featureId, verb, opts);
  if (sentAt === undefined) return { sentAt, event: undefined };
  const answer = (event: SeenEvent) => event.at >= sentAt && (event.kind === kind || (event.kind === "message.rejected" && !!event.git?.subject?.endsWith(`.${verb}`)));
  return { sentAt, event: await nextEvent(deps, watch, answer, until ?? Date.now() + ANSWER_MS) };
}

/** The fix task a `fixing` task waits for. */
const fixOf = (task: ViewTask): string | undefined => (task.waitingFor?.kind === "fix" ? task.waitingFor.fixTaskId : undefined);

/** What the read model shows of a paused feature: ended, quiet (nothing under way), or tasks under way. */
type Quiet = { ended: string } | { quiet: true } | { busy: string[]; stalledFixes: string[] };

/**
 * Polls the read model until the feature is paused with no task under way, or the only tasks under way are `fixing`
 * ones whose fix task waits undispatched (a paused feature dispatches nothing, so they would wait forever, and the
 * coordinator counts them as under way: it refuses a rollback). Undefined at the run's deadline.
 */
async function quiet(deps: RollbackDeps, featureId: string): Promise<Quiet | undefined> {
  while (!deps.stopped() && Date.now() < deps.deadline) {
    try {
      const { view } = await getFeature(deps.nc, deps.names, featureId, { fallback: false, timeoutMs: 5000 });
      if (view && ["completed", "failed", "rejected", "cancelled"].includes(view.state)) return { ended: view.state };
      const busy = view?.state === "paused" ? view.tasks.filter((task) => UNDER_WAY.has(task.state)) : undefined;
      if (busy && !busy.length) return { quiet: true };
      const waitingFix = (task: ViewTask) => task.state === "fixing" && view!.tasks.find((fix) => fix.id === fixOf(task))?.state === "waiting";
      if (busy?.every(waitingFix)) return { busy: busy.map((task) => task.id), stalledFixes: busy.map((task) => fixOf(task)!) };
    } catch {
      // no coordinator answered (one was killed, or NATS is away): ask again
    }
    await sleep(300);
  }
  return undefined;
}

/** Waits for the first checkpoint, then pauses the feature (noting both in `rec`); undefined once paused, else why not. */
async function pauseAfterCheckpoint(deps: RollbackDeps, watch: Watch, rec: RollbackRecord): Promise<Partial<RollbackRecord> | undefined> {
  const first = await nextEvent(deps, watch, (event) => event.kind === "checkpoint.created", deps.deadline);
  if (!first) return { detail: "no checkpoint before the deadline" };
  if (first.kind !== "checkpoint.created") return { outcome: "skipped", detail: `${first.kind} before its first checkpoint` };
  Object.assign(rec, { toTask: first.taskId, checkpointAt: first.ts, sawCheckpointAt: Date.now() });
  const paused = await controlAndAwait(deps, watch, "pause", "feature.paused");
  rec.pausedAt = paused.sentAt;
  if (!paused.event) return { detail: "no answer to the pause" };
  if (paused.event.kind !== "feature.paused") return { outcome: "skipped", detail: `pause answered by ${paused.event.kind} ${paused.event.detail ?? ""}`.trim() };
  return undefined;
}

/** The paused feature: once nothing is under way, roll it back to `rec.toTask`'s checkpoint and resume it. */
async function rollBackAndResume(deps: RollbackDeps, watch: Watch, rec: RollbackRecord): Promise<RollbackRecord> {
  const { featureId } = watch;
  // A rollback that cannot go on resumes the feature, so that it still ends (the record says why).
  const giveUp = async (failed: Partial<RollbackRecord>) => {
    await control(deps, featureId, "resume");
    return { ...rec, ...failed };
  };
  const state = await quiet(deps, featureId);
  if (!state) return giveUp({ detail: "tasks still under way" });
  if ("ended" in state) return { ...rec, outcome: "skipped", detail: `${state.ended} while paused` };
  if ("busy" in state) {
    const detail = `stalled: ${state.busy.join(", ")} fixing while ${state.stalledFixes.join(", ")} wait(s) undispatched (a paused feature does not dispatch them; the coordinator refuses a rollback meanwhile)`;
    return giveUp({ stalledFixes: state.stalledFixes, detail });
  }
  rec.quietAt = Date.now();
  // as long as the run waits: on a slow machine the integrators' queue may hold the rollback for minutes
  const rolled = await controlAndAwait(deps, watch, "rollback", "feature.rolled_back", { rollback: { to: rec.toTask! } }, deps.deadline);
  if (!rolled.event) return giveUp({ detail: "no answer to the rollback" });
  if (rolled.event.kind === "message.rejected") return giveUp({ outcome: "refused", detail: rolled.event.detail });
  if (rolled.event.kind !== "feature.rolled_back") return { ...rec, outcome: "skipped", detail: `${rolled.event.kind} instead of a rollback` };
  Object.assign(rec, { seq: rolled.event.seq, tasks: rolled.event.git?.tasks ?? [], rolledBackAt: rolled.event.ts });
  deps.say(`${featureId} rolled back to ${rec.toTask}'s checkpoint (${rec.tasks!.length} task(s) pending again); resuming`);
  // The rollback paused the feature again ("rollback: …"): resume it, again if the first resume got no answer.
  for (let tries = 0; tries < 3 && rec.resumedAt === undefined; tries++) {
    const resumed = await controlAndAwait(deps, watch, "resume", "feature.resumed");
    if (resumed.event?.kind === "feature.resumed") rec.resumedAt = resumed.event.ts;
    else if (resumed.event) return { ...rec, detail: `resume answered by ${resumed.event.kind} ${resumed.event.detail ?? ""}`.trim() };
  }
  return rec.resumedAt === undefined ? { ...rec, detail: "no answer to the resume" } : { ...rec, outcome: "done" };
}

/** Drives the rollback of `featureId` from its submission to its resume. Never throws; the record says what happened. */
export async function driveRollback(deps: RollbackDeps, featureId: string): Promise<RollbackRecord> {
  const watch: Watch = { featureId, live: [] };
  const sub = deps.nc.subscribe(deps.names.statusOf(featureId), {
    callback: (_err, msg) => {
      const event = parseStatusEvent(msg.data, 0, Date.now());
      if (event) watch.live.push(event);
    },
  });
  try {
    const rec: RollbackRecord = { featureId, outcome: "no answer" };
    const notPaused = await pauseAfterCheckpoint(deps, watch, rec);
    return notPaused ? { ...rec, ...notPaused } : await rollBackAndResume(deps, watch, rec);
  } finally {
    sub.unsubscribe();
  }
}
