// One BullMQ worker process for the peer column: a no-op processor that returns the time it ran (high-resolution
// clock, ms since the epoch), so that step gaps can be read below BullMQ's millisecond finishedOn.
// Usage: node --import tsx bench/bullmq-worker.ts '{"host":…,"port":…,"prefix":…,"queue":…,"concurrency":…}'
import { Worker } from "bullmq";
import { Redis } from "ioredis";

interface Args {
  host: string;
  port: number;
  prefix: string;
  queue: string;
  concurrency: number;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? "{}") as Args;
  const connection = new Redis({ host: a.host, port: a.port, maxRetriesPerRequest: null });
  const worker = new Worker(a.queue, async () => ({ t: performance.timeOrigin + performance.now() }), { connection, prefix: a.prefix, concurrency: a.concurrency });
  worker.on("error", (e) => process.stderr.write(`bullmq worker error: ${e.message}\n`));
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await worker.close().catch(() => {});
      connection.disconnect();
      process.exit(0);
    })());
  process.on("SIGTERM", () => void close());
  process.on("SIGINT", () => void close());
  await worker.waitUntilReady();
  process.stdout.write(`bullmq worker ready (queue ${a.queue}, concurrency ${a.concurrency})\n`);
}

main().catch((e) => {
  process.stderr.write(`bullmq worker failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
