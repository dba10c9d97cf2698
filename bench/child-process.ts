// Shared by the benchmark's small child processes (the design floor's worker and coordinator): stop
// consuming and drain the connection on SIGTERM/SIGINT, then exit 0.
import type { ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

export function exitOnSignals(messages: ConsumerMessages, nc: NatsConnection): void {
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await messages.close().catch(() => {});
      await nc.drain().catch(() => {});
      process.exit(0);
    })());
  process.on("SIGTERM", () => void close());
  process.on("SIGINT", () => void close());
}
