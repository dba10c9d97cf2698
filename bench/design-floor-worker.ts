// The design floor's worker: the cheapest possible worker side of a durable step, with no Baton logic. It takes tasks
// from a durable pull consumer on a work-queue stream, publishes a result (a JetStream publish, waiting for the ack,
// with a deterministic msg id as Baton's worker does), and only then acks the task. Run by bench/design-floor.ts.
// Usage: node --import tsx bench/design-floor-worker.ts '{"url":…,"stream":…,"consumer":…,"resultPrefix":…,"payloadBytes":…}'
//
// Tasks come from `consumer.consume({ max_messages: 1 })`: one long-lived pull subscription that asks for the next task
// as soon as it receives one (a pull of 1 is always waiting at the server), so taking a task costs no request of its
// own. `fetch()` per task would open and close a subscription and send a pull request for each task: more messages and
// more CPU for the same single slot, so consume() is the cheaper of the two correct choices.
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { exitOnSignals } from "./child-process.ts";

interface Args {
  url: string;
  stream: string;
  consumer: string;
  /** Results go to `<resultPrefix>.<the task subject's last two tokens>` (the run and the step). */
  resultPrefix: string;
  payloadBytes: number;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? "{}") as Args;
  const nc = await connect({ servers: a.url, name: "baton-bench-design-floor-worker", noAsyncTraces: true });
  const js = jetstream(nc);
  const payload = new Uint8Array(a.payloadBytes).fill(114);
  const messages = await (await js.consumers.get(a.stream, a.consumer)).consume({ max_messages: 1, expires: 5000 });
  exitOnSignals(messages, nc);
  process.stdout.write(`design-floor worker ready (stream ${a.stream}, consumer ${a.consumer})\n`);
  for await (const m of messages) {
    const s = m.subject;
    const tail = s.slice(s.lastIndexOf(".", s.lastIndexOf(".") - 1) + 1); // "<run>.<step>"
    try {
      await js.publish(`${a.resultPrefix}.${tail}`, payload, { msgID: `${tail}.result` });
      m.ack();
    } catch (e) {
      process.stderr.write(`design-floor worker: publishing the result of ${s} failed: ${(e as Error).message}\n`);
      m.nak(100);
    }
  }
}

main().catch((e) => {
  process.stderr.write(`design-floor worker failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
