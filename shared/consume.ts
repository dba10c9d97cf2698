// A bounded-concurrency consume loop for a durable JetStream consumer: ack on success, nak with backoff on error.
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "./logging.ts";

export interface ConsumeLoop {
  /** Stops taking messages, waits for in-flight handlers. Same promise on every call. */
  stop(): Promise<void>;
  /** Resolves when the loop ended (after stop, or if the consumer failed). */
  done: Promise<void>;
}

/**
 * Feeds messages to `handler` with at most `concurrency` in flight. A handler that resolves
 * means "processed": the message is acked. A throw means "try later": nak with a growing delay.
 */
export async function consumeLoop(
  consumer: Consumer,
  o: { concurrency: number; log: Logger; name: string; handler: (m: JsMsg) => Promise<void> },
): Promise<ConsumeLoop> {
  const messages: ConsumerMessages = await consumer.consume({ max_messages: o.concurrency, expires: 5000 });
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  const run = async () => {
    for await (const m of messages) {
      if (stopped) {
        m.nak();
        continue;
      }
      const p = (async () => {
        try {
          await o.handler(m);
          m.ack();
        } catch (e) {
          const delay = Math.min(30_000, 500 * 2 ** Math.min(m.info.deliveryCount, 6));
          o.log.error({ err: e, subject: m.subject, delivery: m.info.deliveryCount, retryInMs: delay }, `${o.name}: handler failed; will retry`);
          m.nak(delay);
        }
      })();
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      while (inflight.size >= o.concurrency) await Promise.race(inflight);
    }
  };
  const done = run().catch((e) => o.log.error({ err: e }, `${o.name}: consumer stopped`));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stopped = true;
      await messages.close().catch(() => {});
      await Promise.allSettled([...inflight]);
      await done;
    })());
  return { stop, done };
}
