// The people of a chaos run: they approve the plans that wait for approval and answer the questions, each after a
// random delay, finding them as a person's client does (in the status history: plan.ready with approval required,
// question.asked with its id) and acting through the public control verbs while processes are being killed. Some act
// twice: a repeated approve or answer must be harmless, and a different late answer must be refused.
import type { NatsConnection } from "@nats-io/transport-node";
import { sendControl } from "../../shared/client/index.ts";
import type { Names } from "../../shared/subjects.ts";
import type { EventObserver, SeenEvent } from "./observer.ts";
import { Rng } from "./random.ts";

/** One decision a person made, and every control message it took. */
export interface PersonAction {
  featureId: string;
  verb: "approve" | "answer";
  questionId?: string | undefined;
  taskId?: string | undefined;
  /** What the question is about (task, escalation, budget). */
  about?: string | undefined;
  /** When the driver saw the plan or the question (ms since the epoch). */
  seenAt: number;
  /** Each control message JetStream stored, in order (with its answer for `answer`). */
  sent: { at: number; answer?: string | undefined }[];
  /** Messages planned that could not be stored before the deadline. */
  lost: number;
}

export interface PeopleDeps {
  nc: NatsConnection;
  names: Names;
  observer: EventObserver;
  seed: string;
  /** Give up sending at this time (ms since the epoch). */
  deadline: number;
  stopped: () => boolean;
  say: (line: string) => void;
}

/** One message to send: after `delayMs` (from the one before), with `answer` for the answer verb. */
interface Step {
  delayMs: number;
  answer?: string | undefined;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, Math.max(0, ms)));

/** What a person answers: "retry" to an escalated failure; to a task's question one of its options or free text. */
function answerOf(rng: Rng, event: SeenEvent): string {
  if (event.planning?.about === "escalation") return "retry";
  return rng.next() < 0.5 ? "right" : `go on, ${event.featureId}/${event.taskId ?? "?"} (${event.planning?.questionId ?? "?"})`;
}

/** The messages for one decision: the first after 0.3–5 s; a quarter repeat it, a tenth of the answers change it late. */
function stepsOf(rng: Rng, event: SeenEvent, verb: PersonAction["verb"]): Step[] {
  const answer = verb === "answer" ? answerOf(rng, event) : undefined;
  const steps: Step[] = [{ delayMs: rng.int(300, 5000), answer }];
  const draw = rng.next();
  if (draw < 0.25) steps.push({ delayMs: rng.int(0, 1500), answer });
  else if (draw < 0.35 && verb === "answer" && event.planning?.about === "task") steps.push({ delayMs: rng.int(0, 1500), answer: `changed my mind (${answer})` });
  return steps;
}

export class People {
  readonly actions: PersonAction[] = [];
  private cursor = 0;
  private readonly seen = new Set<string>();
  private readonly pending: Promise<void>[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: PeopleDeps) {}

  /** Looks at the history every 200 ms for plans to approve and questions to answer. */
  start(): void {
    this.timer = setInterval(() => this.scan(), 200);
  }

  /** Stops looking and waits for the messages under way (each gives up at the deadline). Safe to call twice. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.scan();
    await Promise.all(this.pending);
  }

  private scan(): void {
    const events = this.deps.observer.events;
    for (; this.cursor < events.length; this.cursor++) {
      const event = events[this.cursor]!;
      if (event.seq === 0) continue;
      if (event.kind === "plan.ready" && event.planning?.approval === "required") this.act(event, "approve");
      if (event.kind === "question.asked" && event.planning?.questionId) this.act(event, "answer");
    }
  }

  /** Decides once per plan and per question (the history may show an event twice), then sends in the background. */
  private act(event: SeenEvent, verb: PersonAction["verb"]): void {
    const questionId = verb === "answer" ? event.planning?.questionId : undefined;
    const key = `${event.featureId}:${verb}:${questionId ?? ""}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const action: PersonAction = { featureId: event.featureId, verb, questionId, taskId: event.taskId, about: event.planning?.about, seenAt: Date.now(), sent: [], lost: 0 };
    this.actions.push(action);
    this.pending.push(this.send(action, stepsOf(new Rng(`${this.deps.seed}:people:${key}`), event, verb)));
  }

  /** Sends each step's control message, retrying while NATS is away, until stored or the deadline. */
  private async send(action: PersonAction, steps: Step[]): Promise<void> {
    for (const step of steps) {
      await sleep(step.delayMs);
      let stored = false;
      while (!stored && !this.deps.stopped() && Date.now() < this.deps.deadline) {
        try {
          const answer = step.answer !== undefined && action.questionId ? { questionId: action.questionId, answer: step.answer } : undefined;
          await sendControl(this.deps.nc, this.deps.names, action.featureId, action.verb, { by: "chaos-person", timeoutMs: 5000, answer });
          action.sent.push({ at: Date.now(), answer: step.answer });
          stored = true;
        } catch {
          await sleep(500);
        }
      }
      if (!stored) {
        action.lost++;
        this.deps.say(`${action.featureId}: ${action.verb}${action.questionId ? ` ${action.questionId}` : ""} could not be sent before the deadline`);
      }
    }
  }
}
