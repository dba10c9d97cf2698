// The design floor's coordinator: the cheapest possible coordinator side of a durable step, with no Baton logic. For
// each result taken from its durable consumer it does one KV compare-and-swap of the run's state with the revision it
// holds, publishes the next task (waiting for the ack; optionally with status events published in parallel, as Baton's
// apply does), and only then acks the result. Every publish carries a deterministic msg id, as Baton's do.
// Run by bench/design-floor.ts, which starts a chain with a core request on `ctl` and gets the chain's figures as the reply.
// Usage: node --import tsx bench/design-floor-coordinator.ts '{"url":…,"ctl":…,"stream":…,"consumer":…,"bucket":…,"taskPrefix":…,"eventPrefix":…,"payloadBytes":…}'
import { jetstream, type JsMsg } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type Msg } from "@nats-io/transport-node";
import { exitOnSignals } from "./child-process.ts";

interface Args {
  url: string;
  /** Core subject on which the bench asks for a chain (see RunRequest); the reply is a RunReply. */
  ctl: string;
  /** The results stream and this coordinator's durable consumer on it. */
  stream: string;
  consumer: string;
  /** KV bucket holding one key per run: the run's state, written with compare-and-swap at every step. */
  bucket: string;
  /** Tasks go to `<taskPrefix>.<run>.<step>`, status events to `<eventPrefix>.<run>.<step>.<k>`. */
  taskPrefix: string;
  eventPrefix: string;
  payloadBytes: number;
}

/** A chain of `steps` dependent steps, named `run` (a subject token); `valueBytes` per CAS; `events` per step. */
export interface RunRequest {
  run: string;
  steps: number;
  valueBytes: number;
  events: number;
}

/** The JetStream stored times (ms since the epoch, from timestampNanos) of the chain's results, in step order. */
export type RunReply = { stored: number[] } | { error: string };

interface Run extends RunRequest {
  value: Uint8Array;
  revision: number;
  stored: number[];
  reply: Msg;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? "{}") as Args;
  const nc = await connect({ servers: a.url, name: "baton-bench-design-floor-coordinator", noAsyncTraces: true });
  const js = jetstream(nc);
  const kv = await new Kvm(nc).open(a.bucket);
  const payload = new Uint8Array(a.payloadBytes).fill(116);
  let run: Run | undefined;

  const answer = (r: Run, reply: RunReply) => {
    if (run === r) run = undefined;
    r.reply.respond(JSON.stringify(reply));
  };
  /** Publishes step `step`'s task and, in parallel, its status events; resolves when every one is acked. */
  const dispatch = (r: Run, step: number) => {
    const id = `${r.run}.${step}`;
    const acks: Promise<unknown>[] = [js.publish(`${a.taskPrefix}.${id}`, payload, { msgID: `${id}.task` })];
    for (let k = 1; k <= r.events; k++) acks.push(js.publish(`${a.eventPrefix}.${id}.${k}`, payload, { msgID: `${id}.e${k}` }));
    return Promise.all(acks);
  };

  nc.subscribe(a.ctl, {
    callback: (err, m) => {
      if (err) return;
      const req = JSON.parse(m.string()) as RunRequest;
      if (run) return void m.respond(JSON.stringify({ error: `run ${run.run} still going` } satisfies RunReply));
      const value = new Uint8Array(req.valueBytes).fill(121);
      const r: Run = { ...req, value, revision: 0, stored: [], reply: m };
      run = r;
      void (async () => {
        r.revision = await kv.put(r.run, value);
        await dispatch(r, 1);
      })().catch((e) => answer(r, { error: `starting ${r.run}: ${(e as Error).message}` }));
    },
  });

  const onResult = async (m: JsMsg) => {
    const s = m.subject;
    const dot = s.lastIndexOf(".");
    const step = Number(s.slice(dot + 1));
    const name = s.slice(s.lastIndexOf(".", dot - 1) + 1, dot);
    const r = run;
    if (!r || r.run !== name) return; // a leftover of an abandoned run: acked and dropped
    r.stored.push(m.info.timestampNanos / 1e6);
    r.revision = await kv.update(r.run, r.value, r.revision);
    if (step < r.steps) await dispatch(r, step + 1);
    else answer(r, { stored: r.stored });
  };

  const messages = await (await js.consumers.get(a.stream, a.consumer)).consume({ max_messages: 64, expires: 5000 });
  exitOnSignals(messages, nc);
  await nc.flush();
  process.stdout.write(`design-floor coordinator ready (stream ${a.stream}, consumer ${a.consumer}, bucket ${a.bucket})\n`);
  for await (const m of messages) {
    try {
      await onResult(m);
      m.ack();
    } catch (e) {
      const r = run;
      process.stderr.write(`design-floor coordinator: ${m.subject}: ${(e as Error).message}\n`);
      m.ack(); // the floor does not retry: the run fails and says why
      if (r) answer(r, { error: `${m.subject}: ${(e as Error).message}` });
    }
  }
}

main().catch((e) => {
  process.stderr.write(`design-floor coordinator failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
