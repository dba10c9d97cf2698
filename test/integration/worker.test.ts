// The role worker against a real nats-server: real `baton worker` processes run real agent scripts;
// the test plays the coordinator (publishes TaskAssigned, reads the results stream). Crashes, redeliveries,
// cancellation and duplicates are in worker-recovery.test.ts.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { processGone, workerSuite } from "./worker-harness.ts";

const suite = workerSuite();
const setup = suite.setup;
const queued = suite.queued;
const nc = () => suite.nc();

describe("baton worker", () => {
  it("runs a task: task on stdin, BATON_* env, default workspace, result file → summary and handoff, then acks", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"], env: { EXTRA: "from-config" } } } },
      {
        "agent.sh": `input=$(cat)
echo "working in $(pwd)"
echo "a note on stderr" >&2
printf '{"summary":"did %s","handoff":{"task":%s,"cwd":"%s","env":["%s","%s","%s","%s","%s","%s"],"resultFile":"%s"}}' \\
  "$BATON_TASK_ID" "$input" "$(pwd)" "$BATON_FEATURE_ID" "$BATON_TASK_ID" "$BATON_ROLE" "$BATON_ATTEMPT" "$BATON_WORKSPACE" "$EXTRA" "$BATON_RESULT_FILE" > "$BATON_RESULT_FILE"`,
      },
    );
    await t.worker("backend", ["--id", "be-1"]);
    const task = await t.publish("backend", { featureId: "feat-a", taskId: "api", attempt: 2 });
    const [r] = await t.msgs.until(() => t.msgs.results("api").length && t.msgs.results("api"));
    const ws = join(t.dir, ".baton", "workspaces", "feat-a");
    expect(r).toMatchObject({ outcome: "completed", exitCode: 0, workerId: "be-1", role: "backend", attempt: 2, summary: "did api" });
    const handoff = r!.handoff as { task: unknown; cwd: string; env: string[]; resultFile: string };
    expect(handoff.task).toEqual(task);
    expect(handoff.cwd).toBe(ws);
    expect(handoff.env).toEqual(["feat-a", "api", "backend", "2", ws, "from-config"]);
    expect(existsSync(dirname(handoff.resultFile))).toBe(false); // per-task temp dir removed
    const [started] = t.msgs.started("api");
    expect(started).toMatchObject({ type: "baton.v1.task_started", delivery: 1, workerId: "be-1", attempt: 2 });
    // every message about the task went to its result subject, started before logs before the result
    const all = t.msgs.all();
    expect(all.every((e) => e.subject === t.n.result("feat-a", "api"))).toBe(true);
    expect(all[0]!.msg.type).toBe("baton.v1.task_started");
    expect(all.at(-1)!.msg.type).toBe("baton.v1.task_result");
    const lines = t.msgs.logs("api").flatMap((l) => l.lines.map((line) => `${l.stream}:${line}`));
    expect(lines).toEqual(expect.arrayContaining([`stdout:working in ${ws}`, "stderr:a note on stderr"]));
    // acked after the result: the work queue empties
    await t.msgs.until(async () => (await queued(t.n)) === 0);
  });

  it("reports a non-zero exit as failed with the exit code and the last stderr line", async () => {
    const t = await setup({ roles: { backend: { exec: ["./agent.sh"] } } }, { "agent.sh": `echo starting\necho "boom: the build broke" >&2\nexit 3` });
    await t.worker("backend");
    await t.publish("backend");
    const [r] = await t.msgs.until(() => t.msgs.results().length && t.msgs.results());
    expect(r).toMatchObject({ outcome: "failed", exitCode: 3, error: { name: "ExitCode", code: "EXIT_CODE", message: "exited with code 3: boom: the build broke" } });
  });

  it("kills the whole process group on timeout, grandchildren included", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"], timeoutSeconds: 1 } }, workspaceRoots: ["."] },
      { "agent.sh": `sleep 300 &\necho $! > "$BATON_WORKSPACE/sleep.pid"\nwait` },
    );
    const ws = join(t.dir, "given-workspace");
    mkdirSync(ws);
    await t.worker("backend");
    const t0 = Date.now();
    await t.publish("backend", { workspace: ws });
    const [r] = await t.msgs.until(() => t.msgs.results().length && t.msgs.results());
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r).toMatchObject({ outcome: "failed", error: { name: "Timeout", code: "TIMEOUT" } });
    const pid = Number(readFileSync(join(ws, "sleep.pid"), "utf8"));
    expect(pid).toBeGreaterThan(0);
    await t.msgs.until(() => processGone(pid), 3000);
  });

  it("streams output as TaskLog batches: long lines truncated, excess lines over the rate limit counted as dropped", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"] } }, worker: { logLinesPerSecond: 20, logLineMaxChars: 100 } },
      { "agent.sh": `head -c 300 /dev/zero | tr '\\0' x; echo\ni=1; while [ $i -le 150 ]; do echo "line $i"; i=$((i+1)); done` },
    );
    await t.worker("backend");
    await t.publish("backend");
    await t.msgs.until(() => t.msgs.results().length);
    const logs = t.msgs.logs();
    expect(logs.map((l) => l.batch)).toEqual(logs.map((_, i) => i + 1));
    expect(logs.every((l) => l.delivery === 1 && l.lines.length >= 1 && l.lines.length <= 100)).toBe(true);
    const lines = logs.flatMap((l) => l.lines);
    expect(lines[0]!.length).toBeLessThanOrEqual(100);
    expect(lines[0]).toMatch(/^x{50,}… \[truncated \d+ chars\]$/);
    const forwarded = lines.filter((l) => !l.startsWith("[baton]"));
    const dropped = logs.reduce((s, l) => s + l.dropped, 0);
    expect(dropped).toBeGreaterThan(100);
    expect(forwarded.length + dropped).toBe(151);
    expect(forwarded.slice(1, 4)).toEqual(["line 1", "line 2", "line 3"]);
    expect(t.msgs.results()[0]).toMatchObject({ outcome: "completed" });
  });

  it("fails a task whose result file is invalid, and one whose command cannot be started", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"] }, api: { exec: ["./missing-agent"] } } },
      { "agent.sh": `echo '{"summary": 42}' > "$BATON_RESULT_FILE"` },
    );
    await Promise.all([t.worker("backend"), t.worker("api")]);
    await t.publish("backend", { taskId: "bad-result" });
    await t.publish("api", { taskId: "no-binary" });
    const [r] = await t.msgs.until(() => t.msgs.results("bad-result").length && t.msgs.results("bad-result"));
    expect(r).toMatchObject({ outcome: "failed", exitCode: 0, error: { name: "ProtocolError" } });
    expect(r!.error!.message).toMatch(/result file.*summary/);
    const [s] = await t.msgs.until(() => t.msgs.results("no-binary").length && t.msgs.results("no-binary"));
    expect(s).toMatchObject({ outcome: "failed", error: { name: "SpawnError" } });
    expect(s!.error!.message).toContain(join(t.dir, "missing-agent"));
  });

  it("fails tasks with NO_EXECUTOR when its config has no executor for the role", async () => {
    const t = await setup({ roles: { backend: { exec: ["true"] } } });
    const w = await t.worker("ghost", ["--id", "ghost-1"]);
    expect(w.output()).toMatch(/no executor configured for role/);
    await t.publish("ghost");
    const [r] = await t.msgs.until(() => t.msgs.results().length && t.msgs.results());
    expect(r).toMatchObject({
      outcome: "failed",
      error: { name: "NoExecutor", code: "NO_EXECUTOR", message: `no executor configured for role "ghost" on worker ghost-1 (config ${t.cfgPath})` },
    });
    expect(t.msgs.started()).toEqual([]);
  });

  it("survives invalid task messages: fails those naming a task, terminates them, and goes on", async () => {
    const t = await setup({ roles: { backend: { exec: ["true"] } } });
    const w = await t.worker("backend");
    await jetstream(nc()).publish(t.n.task("backend"), "not json at all");
    await jetstream(nc()).publish(t.n.task("backend"), JSON.stringify({ type: "baton.v1.task_assigned", featureId: "f1", taskId: "broken", attempt: 1 }));
    await t.publish("backend", { taskId: "good" });
    const [good] = await t.msgs.until(() => t.msgs.results("good").length && t.msgs.results("good"));
    expect(good).toMatchObject({ outcome: "completed" });
    const [bad] = t.msgs.results("broken");
    expect(bad).toMatchObject({ outcome: "failed", error: { name: "ProtocolError" } });
    expect(bad!.error!.message).toMatch(/failed validation/);
    expect(w.output()).toMatch(/malformed JSON/);
    expect(w.child.exitCode).toBeNull();
    await t.msgs.until(async () => (await queued(t.n)) === 0); // all three acked or terminated
  });

  it("shares a role's tasks between two workers, one task per free slot", async () => {
    const t = await setup({ roles: { backend: { exec: ["./agent.sh"] } } }, { "agent.sh": "sleep 1" });
    await Promise.all([t.worker("backend", ["--id", "w-a", "--concurrency", "1"]), t.worker("backend", ["--id", "w-b", "--concurrency", "1"])]);
    for (const id of ["t1", "t2", "t3", "t4"]) await t.publish("backend", { taskId: id });
    const results = await t.msgs.until(() => t.msgs.results().length === 4 && t.msgs.results());
    expect(new Set(results.map((r) => r.workerId))).toEqual(new Set(["w-a", "w-b"]));
    expect(results.every((r) => r.outcome === "completed")).toBe(true);
    // two at a time, never more, and never one after another: count the runs in progress at each start
    const runs = results.map((r) => [Date.parse(r.startedAt), Date.parse(r.finishedAt)] as const);
    const busyAt = (t: number) => runs.filter(([s, e]) => s <= t && t < e).length;
    expect(Math.max(...runs.map(([s]) => busyAt(s)))).toBe(2);
  });

  it("never has more tasks delivered than its slots while more wait in the stream (a busy worker does not hoard)", async () => {
    const t = await setup({ roles: { backend: { exec: ["./agent.sh"] } } }, { "agent.sh": "sleep 0.3" });
    await t.worker("backend", ["--concurrency", "2"]);
    const ids = ["t1", "t2", "t3", "t4", "t5", "t6"];
    for (const id of ids) await t.publish("backend", { taskId: id });
    const jsm = await jetstreamManager(nc());
    let maxDelivered = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ci = await jsm.consumers.info(t.n.streams.tasks, t.n.consumers.role("backend"));
        maxDelivered = Math.max(maxDelivered, ci.num_ack_pending);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const results = await t.msgs.until(() => t.msgs.results().length === ids.length && t.msgs.results(), 30_000);
    sampling = false;
    await sampler;
    // delivered and not yet acked: both slots used. The server may count a third for the instant between
    // serving the next pull and processing the ack that freed the slot (it handles acks on their own queue),
    // so the exact bound is checked on the runs themselves: never more than two at once.
    expect(maxDelivered).toBeGreaterThanOrEqual(2);
    expect(maxDelivered).toBeLessThanOrEqual(3);
    const runs = results.map((r) => [Date.parse(r.startedAt), Date.parse(r.finishedAt)] as const);
    expect(Math.max(...runs.map(([s]) => runs.filter(([a, e]) => a <= s && s < e).length))).toBe(2);
    expect(results.every((r) => r.outcome === "completed" && r.delivery === 1)).toBe(true);
  });
});

describe("baton worker shutdown (SIGTERM)", () => {
  it("lets a running task finish within the grace period, publishes its result, deletes its heartbeat, exits 0", async () => {
    const t = await setup({ roles: { backend: { exec: ["./agent.sh"] } }, worker: { drainGraceSeconds: 30 } }, { "agent.sh": "sleep 1.5\necho done" });
    const w = await t.worker("backend", ["--id", "w-grace"]);
    await t.publish("backend");
    await t.msgs.until(() => t.msgs.started().length);
    const kv = await new Kvm(nc()).open(t.n.buckets.workers);
    const beat = await t.msgs.until(async () => {
      const e = await kv.get("backend.w-grace");
      const body = e?.operation === "PUT" ? (e.json() as { busy: number }) : undefined;
      return body && body.busy === 1 ? body : undefined;
    });
    expect(beat).toMatchObject({ workerId: "w-grace", role: "backend", slots: 1, busy: 1, state: "working", tasks: [{ featureId: "f1", taskId: "t1" }] });
    w.child.kill("SIGTERM");
    expect(await w.exited).toBe(0);
    expect(t.msgs.results()[0] ?? (await t.msgs.until(() => t.msgs.results()[0]))).toMatchObject({ outcome: "completed", workerId: "w-grace" });
    expect((await kv.get("backend.w-grace"))?.operation ?? "gone").not.toBe("PUT");
    expect(w.output()).toMatch(/drain: waiting for running tasks/);
  });

  it("hands a task back when the grace period is over; another worker of the role picks it up and completes it", async () => {
    const t = await setup(
      { roles: { backend: { exec: ["./agent.sh"] } }, worker: { drainGraceSeconds: 0.3 } },
      // the first run outlasts any grace (a loaded machine must not let it finish in time); the second one is quick
      { "agent.sh": `echo $$ > "$BATON_WORKSPACE/pid.$(date +%s%N)"\n[ -e "$BATON_WORKSPACE/ran" ] || { touch "$BATON_WORKSPACE/ran"; sleep 30; }\necho done` },
    );
    const a = await t.worker("backend", ["--id", "w-a"]);
    await t.publish("backend");
    await t.msgs.until(() => t.msgs.started().length);
    const b = await t.worker("backend", ["--id", "w-b"]);
    a.child.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    expect(a.output()).toMatch(/handed back \(nak\)/);
    const ws = join(t.dir, ".baton", "workspaces", "f1");
    const [first] = readdirSync(ws).filter((f) => f.startsWith("pid.")).sort();
    expect(processGone(Number(readFileSync(join(ws, first!), "utf8")))).toBe(true); // w-a's agent was killed
    const [r] = await t.msgs.until(() => t.msgs.results().length && t.msgs.results());
    expect(r).toMatchObject({ outcome: "completed", workerId: "w-b" });
    expect(t.msgs.started().map((s) => [s.workerId, s.delivery])).toEqual([["w-a", 1], ["w-b", 2]]);
    expect(t.msgs.results()).toHaveLength(1);
    expect(b.child.exitCode).toBeNull();
  });
});
