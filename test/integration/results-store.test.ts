// Results out of the snapshot, over real processes: a real nats-server, `baton coordinator` and `baton worker`
// processes running exec scripts that hand off up to 1 MiB each. Large results travel through the results object
// store by reference; the feature's checkpoint stays small, and survives a coordinator SIGKILL mid-way.
import { readFileSync } from "node:fs";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import { encode } from "../../shared/codec.ts";
import { featureHistory } from "../../shared/client/index.ts";
import { silentLogger } from "../../shared/logging.ts";
import { openObjectStore } from "../../shared/nats.ts";
import { MAX_HANDOFF_BYTES, SUMMARY_PREVIEW_CHARS, type StatusEvent, type TaskAssigned } from "../../shared/protocol/index.ts";
import { openResultsStore, sha256Hex } from "../../services/worker/results-store.ts";
import { followUntilEnd } from "../helpers/follow.ts";
import { baton, type Proc } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

// An agent that checks every handoff it got on stdin (whole summary, blob against its sha256) and hands off
// `handoffBytes` of JSON itself. `instructions` carry the sizes. Exit 3/4: a handoff or summary arrived damaged.
const AGENT = `
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
const sha = (s) => createHash("sha256").update(s).digest("hex");
function blobOf(seed, length) {
  const parts = [];
  for (let i = 0, total = 0; total < length; i++) { const p = createHash("sha256").update(seed + ":" + i).digest("base64"); parts.push(p); total += p.length; }
  return parts.join("").slice(0, length);
}
const task = JSON.parse(readFileSync(0, "utf8"));
const spec = JSON.parse(task.instructions);
const seen = [];
for (const h of task.handoffs) {
  const blob = h.handoff?.blob ?? "";
  if (h.stored || h.handoff?.from !== h.taskId || sha(blob) !== h.handoff.sha) { console.error("handoff of " + h.taskId + " is not intact: " + JSON.stringify(h).slice(0, 300)); process.exit(3); }
  if (h.summary !== blobOf("summary:" + h.taskId, h.handoff.summaryChars)) { console.error("summary of " + h.taskId + " is not whole: " + (h.summary ?? "").length + " chars"); process.exit(4); }
  seen.push(h.taskId + ":" + sha(blob) + ":" + Buffer.byteLength(JSON.stringify(h.handoff)));
}
const skeleton = JSON.stringify({ from: task.taskId, summaryChars: spec.summaryChars, sha: "0".repeat(64), blob: "" }).length;
const blob = blobOf("handoff:" + task.taskId, spec.handoffBytes - skeleton);
const handoff = { from: task.taskId, summaryChars: spec.summaryChars, sha: sha(blob), blob };
writeFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: blobOf("summary:" + task.taskId, spec.summaryChars), handoff }));
console.log("seen " + seen.join(" "));
`;

const stack = useStack({
  tag: "results",
  config: `coordinator:\n  ackWaitSeconds: 2\n  rescanSeconds: 2\nroles:\n  backend:\n    exec: ["node", "./agent.mjs"]\n    timeoutSeconds: 60\n    concurrency: 2\n`,
  files: { "agent.mjs": AGENT },
  workers: [["backend", "backend-1"], ["backend", "backend-2"]],
  stopSignal: "SIGKILL",
});

/** The largest value the feature's checkpoint had in the features KV while `run` ran. */
async function largestCheckpoint<T>(featureId: string, run: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  const kv = await new Kvm(stack.nc).open(stack.n.buckets.features);
  let bytes = 0;
  const watch = await kv.watch({ key: featureId });
  const watching = (async () => {
    for await (const entry of watch) bytes = Math.max(bytes, entry.value.length);
  })();
  try {
    return { result: await run(), bytes };
  } finally {
    watch.stop();
    await watching;
  }
}

/** The tasks of the feature's checkpoint once `ready` holds for them (polled for up to 15 s: it is written when the feature goes quiet). */
type CheckpointTask = { status: string; stored?: unknown; handoff?: unknown };
async function checkpointWhen(featureId: string, ready: (tasks: CheckpointTask[]) => boolean): Promise<CheckpointTask[]> {
  const kv = await new Kvm(stack.nc).open(stack.n.buckets.features);
  for (const deadline = Date.now() + 15_000; ; ) {
    const entry = await kv.get(featureId);
    const tasks = entry ? Object.values((entry.json() as { snapshot: { context: { tasks: Record<string, CheckpointTask> } } }).snapshot.context.tasks) : [];
    if (ready(tasks) || Date.now() > deadline) return tasks;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The coordinator process's peak resident memory (VmHWM), in MiB. */
const peakRssMiB = (proc: Proc): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.child.pid}/status`, "utf8"))![1]) / 1024;

const spec = (handoffBytes: number, summaryChars: number) => JSON.stringify({ handoffBytes, summaryChars });
const completedOf = (events: StatusEvent[]) => events.flatMap((e) => (e.kind === "task.completed" ? [e] : []));

describe("the results store", () => {
  it("stores and reads back a result by reference, checking its sha256; a missing or replaced object is an error", async () => {
    const store = openResultsStore(stack.nc, stack.n, silentLogger);
    const body = Buffer.from(JSON.stringify({ summary: "s", handoff: { blob: "x".repeat(MAX_HANDOFF_BYTES - 20) } }));
    const owner = { featureId: "direct", taskId: "t1", attempt: 1 };
    const ref = await store.put(owner, body);
    expect(ref).toEqual({ key: `direct.t1.1.${sha256Hex(body).slice(0, 16)}`, bytes: body.length, sha256: sha256Hex(body) });
    expect(await store.put(owner, body)).toEqual(ref); // idempotent
    expect(Buffer.from(await store.get(ref)).equals(body)).toBe(true);
    await expect(store.get({ ...ref, key: "direct.t1.1.0000000000000000" })).rejects.toThrow(/is missing/);
    await (await openObjectStore(stack.nc, stack.n.buckets.results)).putBlob({ name: ref.key }, Buffer.from("something else"));
    await expect(store.get(ref)).rejects.toMatchObject({ name: "ResultStore", message: expect.stringMatching(/is corrupt/) });
  });

  it("a worker fails a task whose stored handoff is missing with RESULT_STORE, before running it", async () => {
    const task: TaskAssigned = {
      type: "baton.v1.task_assigned", featureId: "ghost", taskId: "t1", attempt: 1, role: "backend", title: "t", instructions: spec(10, 10),
      dependsOn: ["t0"], feature: { title: "f" }, dispatchedAt: new Date().toISOString(),
      handoffs: [{ taskId: "t0", role: "backend", stored: { key: "ghost.t0.1.0123456789abcdef", bytes: 10, sha256: "c".repeat(64) } }],
    };
    await jetstream(stack.nc).publish(stack.n.task("backend"), encode(task));
    // pino writes the message last: the line with the error, then "a stored handoff could not be read"
    const line = await Promise.any(stack.procs.slice(1).map((proc) => proc.waitFor(/\{[^\n]*the handoff of task t0 could not be read[^\n]*\}/, 30_000)));
    expect(JSON.parse(line)).toMatchObject({
      featureId: "ghost", taskId: "t1", msg: "a stored handoff could not be read; the task fails without running",
      error: { code: "RESULT_STORE", message: "the handoff of task t0 could not be read: stored result ghost.t0.1.0123456789abcdef is missing (expired, or never written)" },
    });
  });
});

describe("handoffs out of the snapshot", () => {
  it("a 1 MiB handoff and a 20,000-character summary reach the dependent intact; the checkpoint stays small", async () => {
    const request = {
      id: "big-handoff", title: "1 MiB handoff", maxParallel: 1,
      tasks: [
        { id: "a", role: "backend", title: "produce", instructions: spec(MAX_HANDOFF_BYTES, 20_000) },
        { id: "b", role: "backend", title: "consume", instructions: spec(100, 10), dependsOn: ["a"] },
      ],
    };
    const { result, bytes } = await largestCheckpoint(request.id, async () => {
      await jetstream(stack.nc).publish(stack.n.featureSubmit(), encode(request));
      return followUntilEnd(stack.nc, stack.n, request.id, { timeoutMs: 60_000 });
    });
    const { view, events } = result;
    expect(view.state, JSON.stringify(events.filter((e) => e.kind === "task.failed" || e.kind === "task.log"))).toBe("completed");
    const a = completedOf(events).find((e) => e.taskId === "a")!;
    expect(a.summary).toHaveLength(SUMMARY_PREVIEW_CHARS);
    expect(a.stored!.bytes).toBeGreaterThan(MAX_HANDOFF_BYTES);
    const seen = events.flatMap((e) => (e.kind === "task.log" && e.taskId === "b" ? e.lines : [])).find((line) => line.startsWith("seen "));
    expect(seen).toMatch(new RegExp(`^seen a:[0-9a-f]{64}:${MAX_HANDOFF_BYTES}$`));
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(32 * 1024);
  });

  it("50 tasks × 500 KiB handoffs checkpoint, survive a coordinator SIGKILL mid-way and complete", async () => {
    const request = {
      id: "fifty", title: "50 × 500 KiB", maxParallel: 4,
      // five chains of ten: each task checks the handoff of the one five before it
      tasks: Array.from({ length: 50 }, (_, index) => ({
        id: `t${index}`, role: "backend", title: `step ${index}`, instructions: spec(500 * 1024, 1000),
        ...(index >= 5 ? { dependsOn: [`t${index - 5}`] } : {}),
      })),
    };
    const started = Date.now();
    let rssBeforeKill = 0;
    const { result: events, bytes } = await largestCheckpoint(request.id, async () => {
      await jetstream(stack.nc).publish(stack.n.featureSubmit(), encode(request));
      const seen: StatusEvent[] = [];
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), 90_000);
      try {
        for await (const event of featureHistory(stack.nc, stack.n, request.id, { follow: true, signal: ac.signal })) {
          seen.push(event);
          if (event.kind === "task.completed" && completedOf(seen).length === 20) {
            rssBeforeKill = peakRssMiB(stack.procs[0]!);
            await stack.procs[0]!.kill("SIGKILL");
            const next = baton(["coordinator", "--config", stack.cfg], stack.env);
            stack.procs[0] = next;
            await next.waitFor(/coordinator ready/, 30_000);
          }
          if (event.kind === "feature.completed" || event.kind === "feature.failed") break;
        }
      } finally {
        clearTimeout(timer);
      }
      return seen;
    });
    const failures = events.filter((e) => e.kind === "task.failed");
    expect(failures, JSON.stringify(failures).slice(0, 2000)).toEqual([]);
    expect(events.at(-1)?.kind).toBe("feature.completed");
    expect(new Set(completedOf(events).map((e) => e.taskId)).size).toBe(50);
    expect(completedOf(events).every((e) => e.stored && e.stored.bytes > 500 * 1024)).toBe(true);
    const rssAfter = peakRssMiB(stack.procs[0]!);
    const figure = `50 tasks × 500 KiB handoffs in ${((Date.now() - started) / 1000).toFixed(1)} s: largest checkpoint ${(bytes / 1024).toFixed(1)} KiB; coordinator peak RSS (VmHWM) ${rssBeforeKill.toFixed(0)} MiB before the SIGKILL, ${rssAfter.toFixed(0)} MiB for the restarted one`;
    console.log(figure);
    expect(bytes).toBeLessThan(256 * 1024); // inline, the results alone would be 25 MiB
    // the checkpoint the feature ends with holds every task's reference, and no body
    const final = await checkpointWhen(request.id, (tasks) => tasks.every((task) => task.status === "completed"));
    expect(final.filter((task) => task.stored && task.handoff === undefined)).toHaveLength(50);
    expect(Math.max(rssBeforeKill, rssAfter)).toBeLessThan(400);
  }, 120_000);
});
