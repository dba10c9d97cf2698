// Pulls a role's tasks for one worker process: ONE long-lived inbox subscription on which the worker sends raw
// JetStream pull requests, each asking only for free slots that no open request covers (no subscription,
// iterator or timer per task). Status messages on the inbox end requests; a reconnect or a lost request resets them.
import { JsHeaders, type JsMsg } from "@nats-io/jetstream";
import { createInbox, nanos, type Msg, type Subscription } from "@nats-io/nats-core";
import { loadToJsMsg } from "../../shared/internals/nats.ts";
import type { Logger } from "../../shared/logging.ts";
import type { NatsConnection } from "../../shared/nats.ts";
import { classifyStatus, PullLedger } from "./pull-ledger.ts";
import { quietly } from "./quietly.ts";

/** How long a pull request waits on the server for tasks. */
export const PULL_EXPIRES_MS = 5000;
/** A request not ended within its expiry plus this margin was lost (disconnect, consumer gone without a word). */
const PULL_ANSWER_GRACE_MS = 10_000;
/** Unanswered this long past its expiry, a request is checked with the server (nats-server 2.9 may drop an expiring one without its 408). */
const PULL_LAPSE_MARGIN_MS = 1000;
/** How long `stop()` waits for the server to confirm that the inbox is closed. */
const STOP_FLUSH_MS = 2000;

// nats.js's own JsMsg (delivery info, ack / nak / working / term) for a message delivered on the inbox; loaded
// when this module is, so that a library that no longer has it stops the worker at start-up (shared/internals/nats.ts).
const toJsMsg = loadToJsMsg();

export interface PullerOptions {
  nc: NatsConnection;
  /** The JetStream API prefix (`$JS.API` unless a domain is used). */
  apiPrefix: string;
  stream: string;
  /** The role's durable pull consumer. */
  consumer: string;
  /** Tasks this worker runs at once: it never holds more (running or delivered and waiting). */
  slots: number;
  /** Timeout of `ackAck()` on delivered messages (unused by the worker; nats.js wants one). */
  ackTimeoutMs: number;
  log: Logger;
  /** A delivered task that took a slot. Call `release()` once it is finished, whatever happened to it. */
  onTask(msg: JsMsg): void;
  /**
   * Makes sure the role consumer exists, recreating it when it is gone. Called when the server says it was
   * deleted, after a reconnect, and when requests got no answer; retried with backoff until it resolves.
   */
  ensureConsumer(): Promise<void>;
  /** Pull requests waiting on the role consumer (consumer info's `num_waiting`); without it, a lost request waits out the grace. */
  waitingRequests?(): Promise<number>;
  expiresMs?: number;
  answerGraceMs?: number;
}

export interface Puller {
  /** The task of one `onTask` call is finished: its slot is free, and the worker asks for a task again at once. */
  release(): void;
  /**
   * Stops pulling at once: no new requests; the inbox is unsubscribed, so the server drops the idle requests
   * (nobody listens); a task it sent before that is nak'ed (another worker takes it at once). Resolves once
   * the server confirmed the unsubscription (or after 2 s). Same promise on every call; never rejects.
   */
  stop(): Promise<void>;
}

/** Starts pulling: subscribes the inbox and sends the first request, synchronously. */
export function startPuller(options: PullerOptions): Puller {
  const puller = new RolePuller(options);
  puller.start();
  return puller;
}

class RolePuller implements Puller {
  private readonly log: Logger;
  private readonly ledger: PullLedger;
  private readonly expiresMs: number;
  private readonly graceMs: number;
  /** The subject nats.js's own pull consumer uses; stream and consumer names come validated from subjects.ts. */
  private readonly nextSubject: string;
  private readonly expires: number;
  private readonly abort = new AbortController();
  private stopped = false;
  /** The current inbox: requests reply to `<inbox>.<request id>`; tasks arrive with their own subject. */
  private inbox = "";
  private sub: Subscription | undefined;
  /** Set while the consumer is being checked or recreated: no requests meanwhile. */
  private recovering: Promise<void> | undefined;
  /** Set while pulling waits after a refused request. */
  private held: NodeJS.Timeout | undefined;
  private refusals = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private statuses: AsyncIterable<{ type: string }> | undefined;
  /** Set while the server is asked whether a lapsed request still waits there. */
  private probing = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: PullerOptions) {
    this.log = options.log;
    this.expiresMs = options.expiresMs ?? PULL_EXPIRES_MS;
    this.graceMs = options.answerGraceMs ?? PULL_ANSWER_GRACE_MS;
    this.ledger = new PullLedger(options.slots, this.expiresMs + this.graceMs);
    this.nextSubject = `${options.apiPrefix}.CONSUMER.MSG.NEXT.${options.stream}.${options.consumer}`;
    this.expires = nanos(this.expiresMs);
  }

  start(): void {
    this.startWatchdog();
    this.followReconnects();
    this.listen();
    this.pull();
  }

  release(): void {
    this.ledger.finished();
    this.pull();
  }

  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      this.stopped = true;
      this.abort.abort();
      clearInterval(this.watchdog);
      clearTimeout(this.held);
      // nats.js types status() as a plain AsyncIterable; its iterator can be stopped (else it ends with the connection).
      const statuses = this.statuses;
      if (statuses && "stop" in statuses && typeof statuses.stop === "function") statuses.stop();
      const sub = this.sub;
      if (!sub || sub.isClosed() || this.options.nc.isClosed()) return;
      // UNSUB then a round trip: whatever the server sent before it reaches onMessage (and is nak'ed).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([sub.drain().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_FLUSH_MS)))]);
      clearTimeout(timer);
    })());
  }

  /**
   * Subscribes a new inbox and closes the previous one. A new subject (not the old one) after a reconnect:
   * the server may still hold requests sent to the old one, and they must not deliver tasks nobody counts.
   */
  private listen(): void {
    const prev = this.sub;
    const box = createInbox();
    this.inbox = box;
    this.sub = this.options.nc.subscribe(`${box}.*`, { callback: (err, msg) => this.onMessage(box, err, msg) });
    if (prev && !prev.isClosed()) prev.drain().catch(() => {});
  }

  private onMessage(box: string, err: Error | null, msg: Msg): void {
    if (err) {
      // The server refused or closed the subscription (permissions): nothing more arrives on it.
      if (box !== this.inbox || this.stopped) return;
      this.log.error({ err }, "pull inbox subscription failed; subscribing a new one");
      this.listen();
      this.ledger.reset();
      return this.pullAfter(backoff(++this.refusals));
    }
    if (msg.subject.startsWith(box) && msg.subject.charAt(box.length) === ".") return this.onStatus(box, msg);
    const task = toJsMsg(msg, this.options.ackTimeoutMs);
    if (this.stopped) {
      quietly(() => task.nak());
      this.log.info({ subject: task.subject, seq: task.seq }, "a task arrived while draining: handed back (nak)");
      return;
    }
    if (!this.ledger.delivered(box === this.inbox)) {
      quietly(() => task.nak());
      this.log.warn({ subject: task.subject, seq: task.seq, ...this.ledger.counts() }, "a task arrived with no free slot: handed back (nak)");
      return;
    }
    if (this.refusals) this.log.info("pulling again");
    this.refusals = 0;
    this.options.onTask(task);
    this.pull(); // only asks when free slots were left uncovered (see onStatus): nothing in the usual case
  }

  /** A status the server sent to one of this worker's pull requests (never a task). */
  private onStatus(box: string, msg: Msg): void {
    if (box !== this.inbox || this.stopped) return; // about a request of an inbox already replaced: forgotten with it
    const id = msg.subject.slice(box.length + 1);
    const headers = msg.headers;
    const status = classifyStatus(headers?.code ?? 0, headers?.description ?? "", headers?.get(JsHeaders.PendingMessagesHdr));
    if (status.kind === "ignore") return;
    if (status.kind === "consumerGone") {
      this.log.warn({ code: status.code, description: status.description }, "pull requests ended: the role consumer is gone or moved; checking it");
      this.ledger.reset();
      return this.recover();
    }
    if (!this.ledger.ended(id, status.remaining)) return;
    if (status.expected) {
      // An idle request expired (408): the normal end of a quiet period. While other requests are open they
      // take new tasks, and the last one to expire asks for every free slot at once: an idle worker ends up
      // with one request (not one per slot that freed at a different time), fewer requests and 408s to handle.
      if (this.refusals) this.log.info("pulling again");
      this.refusals = 0;
      if (!this.ledger.hasOpenRequests()) this.pull();
      return;
    }
    const delay = backoff(++this.refusals);
    this.log.warn({ code: status.code, description: status.description, retryInMs: delay }, "pull request refused; pulling again soon");
    this.pullAfter(delay);
  }

  /** Asks for as many tasks as there are free slots not covered by open requests (none: does nothing). */
  private pull(): void {
    if (this.stopped || this.recovering || this.held) return;
    const batch = this.ledger.want();
    if (batch === 0) return;
    const id = this.ledger.sent(batch, Date.now());
    try {
      this.options.nc.publish(this.nextSubject, `{"batch":${batch},"expires":${this.expires}}`, { reply: `${this.inbox}.${id}` });
    } catch (err) {
      this.ledger.ended(id, batch); // never left this process
      const delay = backoff(++this.refusals);
      this.log.warn({ err, retryInMs: delay }, "could not send a pull request; retrying");
      this.pullAfter(delay);
    }
  }

  private pullAfter(ms: number): void {
    if (this.held || this.stopped) return;
    this.held = setTimeout(() => {
      this.held = undefined;
      this.pull();
    }, ms);
  }

  /** Checks (and recreates) the consumer with backoff until that works, then pulls. Idempotent while running. */
  private recover(): void {
    if (this.recovering || this.stopped) return;
    this.recovering = (async () => {
      for (let attempt = 1; !this.stopped; attempt++) {
        try {
          await this.options.ensureConsumer();
          return;
        } catch (err) {
          const delay = backoff(attempt);
          this.log.warn({ err, retryInMs: delay }, "could not check the role consumer; retrying");
          await pause(delay, this.abort.signal);
        }
      }
    })().finally(() => {
      this.recovering = undefined;
      this.pull();
    });
  }

  /**
   * Requests that got no answer within their expiry plus a margin were lost; and free slots left unasked with
   * no request open (after a refused or failed request) are asked for at the latest on the next tick.
   */
  private startWatchdog(): void {
    this.watchdog = setInterval(() => {
      if (this.stopped || this.recovering) return;
      if (this.ledger.overdue(Date.now())) {
        this.log.warn({ ...this.ledger.counts(), waitedSeconds: (this.expiresMs + this.graceMs) / 1000 }, "pull requests got no answer; checking the role consumer and pulling again");
        this.ledger.reset();
        return this.recover();
      }
      return this.ledger.hasOpenRequests() ? this.probeLapsed() : this.pull();
    }, Math.min(this.expiresMs, 1000));
    this.watchdog.unref();
  }

  /**
   * The latest request is past its expiry (plus a margin) with tasks still pending: if no pull request waits on the
   * role consumer, ours ended without a status; forget it and ask again. Another answer (other workers' requests
   * count too) or none leaves it to the grace. Never throws.
   */
  private probeLapsed(): void {
    const latest = this.ledger.latestPending();
    const waitingRequests = this.options.waitingRequests;
    if (!latest || !waitingRequests || this.probing || Date.now() - latest.at < this.expiresMs + PULL_LAPSE_MARGIN_MS) return;
    this.probing = true;
    waitingRequests().then((waiting) => {
      if (waiting !== 0 || this.stopped || this.recovering || this.ledger.latestPending()?.id !== latest.id) return;
      this.log.info({ ...this.ledger.counts() }, "a pull request ended without an answer (none waits on the server); pulling again");
      this.ledger.reset();
      this.pull();
    }).catch(() => {}).finally(() => (this.probing = false)); // no answer: the grace decides, as before
  }

  /** After a reconnect every open request is lost (or would deliver to an inbox nobody counts): new inbox, pull again. */
  private followReconnects(): void {
    const statuses = this.options.nc.status();
    this.statuses = statuses;
    void (async () => {
      for await (const status of statuses) {
        if (status.type !== "reconnect" || this.stopped) continue;
        this.log.info("reconnected to NATS: pulling again on a new inbox");
        this.listen();
        this.ledger.reset();
        this.recover(); // JetStream may have restarted without the consumer
      }
    })().catch(() => {});
  }
}

/** 500 ms, 1 s, 2 s, 4 s, then 5 s. */
const backoff = (attempt: number): number => Math.min(5000, 250 * 2 ** attempt);

const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    if (signal.aborted) resolve();
  });
