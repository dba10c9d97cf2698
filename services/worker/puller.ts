// Pulls a role's tasks for one worker process: ONE long-lived inbox subscription on which the worker sends raw
// JetStream pull requests, each asking only for free slots that no open request covers (no subscription,
// iterator or timer per task). Status messages on the inbox end requests; a reconnect or a lost request resets them.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { JsHeaders, type JsMsg } from "@nats-io/jetstream";
import { createInbox, nanos, type Msg, type Subscription } from "@nats-io/nats-core";
import type { Logger } from "../../shared/logging.ts";
import type { NatsConnection } from "../../shared/nats.ts";
import { classifyStatus, PullLedger } from "./pull-ledger.ts";

/** How long a pull request waits on the server for tasks. */
export const PULL_EXPIRES_MS = 5000;
/** A request not ended within its expiry plus this margin was lost (disconnect, consumer gone without a word). */
const PULL_ANSWER_GRACE_MS = 10_000;
/** How long `stop()` waits for the server to confirm that the inbox is closed. */
const STOP_FLUSH_MS = 2000;

// nats.js turns a delivered message into a JsMsg (delivery info, ack / nak / working / term) with `toJsMsg` in
// lib/jsmsg.js, which the package's "exports" do not list. It is loaded by file path so that acks stay the library's code.
const require = createRequire(import.meta.url);
const jsmsgModule = require(join(dirname(require.resolve("@nats-io/jetstream")), "jsmsg.js")) as { toJsMsg?: unknown };
if (typeof jsmsgModule.toJsMsg !== "function") throw new Error("@nats-io/jetstream: lib/jsmsg.js has no toJsMsg (the worker was written against 3.4)");
const toJsMsg = jsmsgModule.toJsMsg as (m: Msg, ackTimeoutMs?: number) => JsMsg;

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
  onTask(m: JsMsg): void;
  /**
   * Makes sure the role consumer exists, recreating it when it is gone. Called when the server says it was
   * deleted, after a reconnect, and when requests got no answer; retried with backoff until it resolves.
   */
  ensureConsumer(): Promise<void>;
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
export function startPuller(o: PullerOptions): Puller {
  const { nc, log } = o;
  const expiresMs = o.expiresMs ?? PULL_EXPIRES_MS;
  const graceMs = o.answerGraceMs ?? PULL_ANSWER_GRACE_MS;
  const ledger = new PullLedger(o.slots, expiresMs + graceMs);
  // The subject nats.js's own pull consumer uses; stream and consumer names come validated from subjects.ts.
  const nextSubject = `${o.apiPrefix}.CONSUMER.MSG.NEXT.${o.stream}.${o.consumer}`;
  const expires = nanos(expiresMs);
  const abort = new AbortController();
  let stopped = false;
  /** The current inbox: requests reply to `<inbox>.<request id>`; tasks arrive with their own subject. */
  let inbox = "";
  let sub: Subscription | undefined;
  /** Set while the consumer is being checked or recreated: no requests meanwhile. */
  let recovering: Promise<void> | undefined;
  /** Set while pulling waits after a refused request. */
  let held: NodeJS.Timeout | undefined;
  let refusals = 0;

  /**
   * Subscribes a new inbox and closes the previous one. A new subject (not the old one) after a reconnect:
   * the server may still hold requests sent to the old one, and they must not deliver tasks nobody counts.
   */
  function listen(): void {
    const prev = sub;
    const box = createInbox();
    inbox = box;
    sub = nc.subscribe(`${box}.*`, { callback: (err, msg) => onMessage(box, err, msg) });
    if (prev && !prev.isClosed()) prev.drain().catch(() => {});
  }

  function onMessage(box: string, err: Error | null, msg: Msg): void {
    if (err) {
      // The server refused or closed the subscription (permissions): nothing more arrives on it.
      if (box !== inbox || stopped) return;
      log.error({ err }, "pull inbox subscription failed; subscribing a new one");
      listen();
      ledger.reset();
      return pullAfter(backoff(++refusals));
    }
    if (msg.subject.startsWith(box) && msg.subject.charAt(box.length) === ".") return onStatus(box, msg);
    const m = toJsMsg(msg, o.ackTimeoutMs);
    if (stopped) {
      safely(() => m.nak());
      log.info({ subject: m.subject, seq: m.seq }, "a task arrived while draining: handed back (nak)");
      return;
    }
    if (!ledger.delivered(box === inbox)) {
      safely(() => m.nak());
      log.warn({ subject: m.subject, seq: m.seq, ...ledger.counts() }, "a task arrived with no free slot: handed back (nak)");
      return;
    }
    if (refusals) log.info("pulling again");
    refusals = 0;
    o.onTask(m);
    pull(); // only asks when free slots were left uncovered (see onStatus): nothing in the usual case
  }

  /** A status the server sent to one of this worker's pull requests (never a task). */
  function onStatus(box: string, msg: Msg): void {
    if (box !== inbox || stopped) return; // about a request of an inbox already replaced: forgotten with it
    const id = msg.subject.slice(box.length + 1);
    const h = msg.headers;
    const s = classifyStatus(h?.code ?? 0, h?.description ?? "", h?.get(JsHeaders.PendingMessagesHdr));
    if (s.kind === "ignore") return;
    if (s.kind === "consumerGone") {
      log.warn({ code: s.code, description: s.description }, "pull requests ended: the role consumer is gone or moved; checking it");
      ledger.reset();
      return recover();
    }
    if (!ledger.ended(id, s.remaining)) return;
    if (s.expected) {
      // An idle request expired (408): the normal end of a quiet period. While other requests are open they
      // take new tasks, and the last one to expire asks for every free slot at once: an idle worker ends up
      // with one request (not one per slot that freed at a different time), fewer requests and 408s to handle.
      if (refusals) log.info("pulling again");
      refusals = 0;
      if (!ledger.hasOpenRequests()) pull();
      return;
    }
    const delay = backoff(++refusals);
    log.warn({ code: s.code, description: s.description, retryInMs: delay }, "pull request refused; pulling again soon");
    pullAfter(delay);
  }

  /** Asks for as many tasks as there are free slots not covered by open requests (none: does nothing). */
  function pull(): void {
    if (stopped || recovering || held) return;
    const batch = ledger.want();
    if (batch === 0) return;
    const id = ledger.sent(batch, Date.now());
    try {
      nc.publish(nextSubject, `{"batch":${batch},"expires":${expires}}`, { reply: `${inbox}.${id}` });
    } catch (err) {
      ledger.ended(id, batch); // never left this process
      const delay = backoff(++refusals);
      log.warn({ err, retryInMs: delay }, "could not send a pull request; retrying");
      pullAfter(delay);
    }
  }

  function pullAfter(ms: number): void {
    if (held || stopped) return;
    held = setTimeout(() => {
      held = undefined;
      pull();
    }, ms);
  }

  /** Checks (and recreates) the consumer with backoff until that works, then pulls. Idempotent while running. */
  function recover(): void {
    if (recovering || stopped) return;
    recovering = (async () => {
      for (let attempt = 1; !stopped; attempt++) {
        try {
          await o.ensureConsumer();
          return;
        } catch (err) {
          const delay = backoff(attempt);
          log.warn({ err, retryInMs: delay }, "could not check the role consumer; retrying");
          await pause(delay, abort.signal);
        }
      }
    })().finally(() => {
      recovering = undefined;
      pull();
    });
  }

  // Watchdog: requests that got no answer within their expiry plus a margin were lost; and free slots left
  // unasked with no request open (after a refused or failed request) are asked for at the latest on the next tick.
  const watchdog = setInterval(() => {
    if (stopped || recovering) return;
    if (ledger.overdue(Date.now())) {
      log.warn({ ...ledger.counts(), waitedSeconds: (expiresMs + graceMs) / 1000 }, "pull requests got no answer; checking the role consumer and pulling again");
      ledger.reset();
      return recover();
    }
    if (!ledger.hasOpenRequests()) pull();
  }, expiresMs);
  watchdog.unref();

  // After a reconnect every open request is lost (or would deliver to an inbox nobody counts): new inbox, pull again.
  const statuses = nc.status();
  void (async () => {
    for await (const s of statuses) {
      if (s.type !== "reconnect" || stopped) continue;
      log.info("reconnected to NATS: pulling again on a new inbox");
      listen();
      ledger.reset();
      recover(); // JetStream may have restarted without the consumer
    }
  })().catch(() => {});

  listen();
  pull();

  let stopping: Promise<void> | undefined;
  return {
    release() {
      ledger.finished();
      pull();
    },
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        abort.abort();
        clearInterval(watchdog);
        clearTimeout(held);
        // nats.js types status() as a plain AsyncIterable; its iterator can be stopped (else it ends with the connection).
        if ("stop" in statuses && typeof statuses.stop === "function") statuses.stop();
        const s = sub;
        if (!s || s.isClosed() || nc.isClosed()) return;
        // UNSUB then a round trip: whatever the server sent before it reaches onMessage (and is nak'ed).
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([s.drain().catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, STOP_FLUSH_MS)))]);
        clearTimeout(timer);
      })()),
  };
}

/** 500 ms, 1 s, 2 s, 4 s, then 5 s. */
const backoff = (attempt: number): number => Math.min(5000, 250 * 2 ** attempt);

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the connection is closing or gone: JetStream redelivers after ack wait
  }
}
