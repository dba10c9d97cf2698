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
  opts: { concurrency: number; log: Logger; name: string; handler: (msg: JsMsg) => Promise<void> },
): Promise<ConsumeLoop> {
  const messages: ConsumerMessages = await consumer.consume({ max_messages: opts.concurrency, expires: 5000 });
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  const run = async () => {
    for await (const msg of messages) {
      if (stopped) {
        msg.nak();
        continue;
      }
      const handling = (async () => {
        try {
          await opts.handler(msg);
          msg.ack();
        } catch (err) {
          const delay = Math.min(30_000, 500 * 2 ** Math.min(msg.info.deliveryCount, 6));
          opts.log.error({ err, subject: msg.subject, delivery: msg.info.deliveryCount, retryInMs: delay }, `${opts.name}: handler failed; will retry`);
          msg.nak(delay);
        }
      })();
      inflight.add(handling);
      void handling.finally(() => inflight.delete(handling));
      while (inflight.size >= opts.concurrency) await Promise.race(inflight);
    }
  };
  const done = run().catch((e) => opts.log.error({ err: e }, `${opts.name}: consumer stopped`));
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
