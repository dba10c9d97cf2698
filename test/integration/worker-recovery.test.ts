// "Nothing acknowledged is lost", the worker side, against a real nats-server and real worker processes:
// a SIGKILLed worker leaves no agent behind and its task is redelivered; in-progress acks keep long tasks;
// maxDeliver ends a task that kills its workers; cancellation; duplicate deliveries; a NATS restart.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { encode } from "../../shared/codec.ts";
import type { Names } from "../../shared/subjects.ts";
import { processGone, readPid, safeKill, sleep, workerSuite, type WorkerTest } from "./worker-harness.ts";

const suite = workerSuite();

/** Kills every pid written to `pid.*` files in `dir` when the test ends (they should be gone already). */
function killPidsAfter(dir: string) {
  suite.cleanup(() => {
    for (const f of existsSync(dir) ? readdirSync(dir).filter((x) => x.includes("pid")) : []) safeKill(readPid(join(dir, f)));
  });
}

/** Waits until the file holds a pid (scripts write it with `echo $$ > file`, which is not atomic). */
const pidIn = (t: WorkerTest, path: string) => t.msgs.until(() => existsSync(path) && readPid(path) > 0 && readPid(path), 10_000);

/** Publishes a `feature.cancelled` status event the way the coordinator does (JetStream, msg id). */
async function publishCancelled(n: Names, featureId: string, payload: Record<string, unknown> = {}) {
  const event = { type: "baton.v1.status_event", featureId, seq: 9, at: new Date().toISOString(), kind: "feature.cancelled", durationMs: 1234, reason: "test", ...payload };
  await jetstream(suite.nc()).publish(n.status(featureId, "feature.cancelled"), encode(event), { msgID: `${featureId}.ev.9.${Math.random()}` });
}

describe("baton worker: crashes and redeliveries", () => {
  it("a SIGKILLed worker leaves no agent behind (its guard kills the group within ~2 s), and another worker completes the redelivered task", async () => {
    const t = await suite.setup(
      { roles: { backend: { exec: ["./agent.sh"] } }, worker: { ackWaitSeconds: 2 } },
      {
        // first run: ignore SIGTERM (so the guard must escalate to SIGKILL) and leave a grandchild; second run: done
        "agent.sh": `ws="$BATON_WORKSPACE"
if [ -e "$ws/ran-once" ]; then echo "second run"; exit 0; fi
touch "$ws/ran-once"
trap '' TERM
sleep 300 &
echo $! > "$ws/grandchild.pid"
echo $PPID > "$ws/guard.pid"
echo $$ > "$ws/agent.pid"
wait`,
      },
    );
    const ws = join(t.dir, ".baton", "workspaces", "f1");
    killPidsAfter(ws);
    const [a, b] = await Promise.all([t.worker("backend", ["--id", "w-a"]), t.worker("backend", ["--id", "w-b"])]);
    await t.publish("backend");
    const [started] = await t.msgs.until(() => t.msgs.started().length && t.msgs.started());
    const agent = await pidIn(t, join(ws, "agent.pid"));
    const grandchild = readPid(join(ws, "grandchild.pid"));
    const guard = readPid(join(ws, "guard.pid"));
    expect([agent, grandchild, guard].every((p) => !processGone(p))).toBe(true);
    const [victim, survivor] = started!.workerId === "w-a" ? [a!, "w-b"] : [b!, "w-a"];

    const killedAt = Date.now();
    victim.child.kill("SIGKILL");
    await t.msgs.until(() => [agent, grandchild, guard].every(processGone), 3500);
    expect(Date.now() - killedAt).toBeLessThan(3500);

    const [r] = await t.msgs.until(() => t.msgs.results().length && t.msgs.results(), 15_000);
    expect(r).toMatchObject({ outcome: "completed", workerId: survivor });
    expect(t.msgs.started().map((s) => [s.workerId, s.delivery])).toEqual([[started!.workerId, 1], [survivor, 2]]);
    expect(t.msgs.logs().flatMap((l) => l.lines)).toContain("second run");
    await t.msgs.until(async () => (await suite.queued(t.n)) === 0);
  });

  it("keeps a task that runs 3× the ack wait with in-progress acks: one delivery, no redelivery to the idle worker", async () => {
    const t = await suite.setup({ roles: { backend: { exec: ["./agent.sh"] } }, worker: { ackWaitSeconds: 1 } }, { "agent.sh": "sleep 3\necho done" });
    await Promise.all([t.worker("backend", ["--id", "w-a"]), t.worker("backend", ["--id", "w-b"])]);
    await t.publish("backend", { taskId: "long" });
    const [r] = await t.msgs.until(() => t.msgs.results("long").length && t.msgs.results("long"));
    expect(r).toMatchObject({ outcome: "completed" });
    expect(Date.parse(r!.finishedAt) - Date.parse(r!.startedAt)).toBeGreaterThanOrEqual(3000);
    await sleep(300); // a redelivery would show up as a second started message
    expect(t.msgs.started("long").map((s) => s.delivery)).toEqual([1]);
    expect(await suite.queued(t.n)).toBe(0);
  });

  it("fails a task as WORKER_LOST (\"worker lost\") once maxDeliver deliveries each lost their worker", async () => {
    const t = await suite.setup(
      { roles: { backend: { exec: ["./agent.sh"] } }, worker: { ackWaitSeconds: 2, maxDeliver: 2 } },
      { "agent.sh": `echo $$ > "$BATON_WORKSPACE/pid.$$"\nexec sleep 300` },
    );
    const ws = join(t.dir, ".baton", "workspaces", "f1");
    killPidsAfter(ws);
    const workers = await Promise.all(["w-a", "w-b", "w-c"].map((id) => t.worker("backend", ["--id", id])));
    const byId = new Map(workers.map((w, i) => [["w-a", "w-b", "w-c"][i]!, w]));
    await t.publish("backend", { taskId: "crash" });
    for (const delivery of [1, 2]) {
      const s = await t.msgs.until(() => t.msgs.started("crash").find((x) => x.delivery === delivery));
      const agents = await t.msgs.until(() => {
        const files = existsSync(ws) ? readdirSync(ws).filter((f) => f.startsWith("pid.")) : [];
        return files.length === delivery && files.map((f) => readPid(join(ws, f))).every((p) => p > 0) && files.map((f) => readPid(join(ws, f)));
      });
      byId.get(s.workerId)!.child.kill("SIGKILL");
      await t.msgs.until(() => agents.every(processGone), 3500); // that worker's agent died with it
    }
    const [lost] = await t.msgs.until(() => t.msgs.results("crash").length && t.msgs.results("crash"), 15_000);
    const killed = t.msgs.started("crash").map((s) => s.workerId);
    expect(lost).toMatchObject({
      outcome: "failed", exitCode: null,
      error: { name: "WorkerLost", code: "WORKER_LOST", message: "worker lost: task was delivered 2 times without finishing (maxDeliver 2)" },
    });
    expect(killed).not.toContain(lost!.workerId);
    expect(t.msgs.started("crash").map((s) => s.delivery)).toEqual([1, 2]); // the third delivery did not run
    expect(readdirSync(ws).filter((f) => f.startsWith("pid."))).toHaveLength(2);
    await t.msgs.until(async () => (await suite.queued(t.n)) === 0);
  });

  it("runs both copies of a duplicated task message (at-least-once), but JetStream keeps one result: same msg id", async () => {
    const t = await suite.setup(
      { roles: { backend: { exec: ["./agent.sh"] } } },
      { "agent.sh": `echo "run $$" >> "$BATON_WORKSPACE/runs"\nsleep 0.3\necho '{"summary":"done"}' > "$BATON_RESULT_FILE"` },
    );
    const w = await t.worker("backend", ["--concurrency", "2"]);
    const task = t.task("backend", { taskId: "dup" });
    await jetstream(suite.nc()).publish(t.n.task("backend"), encode(task)); // no msg id: both copies are stored
    await jetstream(suite.nc()).publish(t.n.task("backend"), encode(task));
    const runs = join(t.dir, ".baton", "workspaces", "f1", "runs");
    await t.msgs.until(() => existsSync(runs) && readFileSync(runs, "utf8").trim().split("\n").length === 2);
    await t.msgs.until(async () => (await suite.queued(t.n)) === 0); // both copies acked
    await w.waitFor(/duplicate/);
    await sleep(300);
    expect(t.msgs.results("dup")).toHaveLength(1);
    expect(t.msgs.results("dup")[0]).toMatchObject({ outcome: "completed", summary: "done" });
    expect(t.msgs.started("dup")).toHaveLength(1); // same delivery number, same msg id
  });

  it("keeps pulling after the NATS server restarts", async () => {
    const t = await suite.setup({ roles: { backend: { exec: ["true"] } } });
    const w = await t.worker("backend");
    await suite.server().stop();
    await sleep(1000);
    await suite.server().start();
    await w.waitFor(/"msg":"nats reconnect"/);
    // this test's own connection may still be reconnecting, or JetStream still recovering: retry (same msg id)
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await jetstream(suite.nc()).publish(t.n.task("backend"), encode(t.task("backend", { taskId: "after-restart" })), { msgID: "after-restart", timeout: 3000 });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await sleep(250);
      }
    }
    const [r] = await t.msgs.until(() => t.msgs.results("after-restart").length && t.msgs.results("after-restart"), 25_000);
    expect(r).toMatchObject({ outcome: "completed" });
    expect(w.child.exitCode).toBeNull();
  });
});

describe("baton worker: cancellation", () => {
  it("kills a running task of a cancelled feature and answers it CANCELLED; answers its queued tasks without running them", async () => {
    const t = await suite.setup(
      { roles: { backend: { exec: ["./agent.sh"] }, api: { exec: ["./agent.sh"] } }, workspaceRoots: ["."] },
      {
        "agent.sh": `ws="$BATON_WORKSPACE"
echo "$BATON_FEATURE_ID/$BATON_TASK_ID" >> "$ws/ran"
if [ "$BATON_TASK_ID" = long ]; then
  sleep 300 &
  echo $! > "$ws/child.pid"
  echo $$ > "$ws/agent.pid"
  wait
fi
echo done`,
      },
    );
    const ws = join(t.dir, "ws");
    mkdirSync(ws);
    killPidsAfter(ws);
    const ran = () => readFileSync(join(ws, "ran"), "utf8").trim().split("\n");
    const w = await t.worker("backend", ["--id", "w-be", "--concurrency", "1"]);
    await t.publish("backend", { featureId: "fc", taskId: "long", workspace: ws });
    await t.msgs.until(() => t.msgs.started("long").length);
    const agent = await pidIn(t, join(ws, "agent.pid"));
    const child = readPid(join(ws, "child.pid"));
    await t.publish("backend", { featureId: "fc", taskId: "later", workspace: ws }); // queued: the only slot is busy

    // an event whose payload disagrees with its subject is ignored, with a log line
    await publishCancelled(t.n, "fc", { featureId: "someone-else" });
    await w.waitFor(/ignoring an invalid feature.cancelled event/);
    await sleep(200);
    expect(processGone(agent)).toBe(false);

    await publishCancelled(t.n, "fc");
    const [long] = await t.msgs.until(() => t.msgs.results("long").length && t.msgs.results("long"));
    expect(long).toMatchObject({
      outcome: "failed", workerId: "w-be",
      error: { name: "Cancelled", code: "CANCELLED", message: "feature fc was cancelled" },
    });
    await t.msgs.until(() => processGone(agent) && processGone(child), 3000);
    const [later] = await t.msgs.until(() => t.msgs.results("later").length && t.msgs.results("later"));
    expect(later).toMatchObject({ outcome: "failed", exitCode: null, error: { code: "CANCELLED", message: "feature fc was cancelled" } });
    expect(t.msgs.started("later")).toEqual([]);
    await t.msgs.until(async () => (await suite.queued(t.n)) === 0); // both acked

    // other features are not affected
    await t.publish("backend", { featureId: "fo", taskId: "other", workspace: ws });
    const [other] = await t.msgs.until(() => t.msgs.results("other").length && t.msgs.results("other"));
    expect(other).toMatchObject({ outcome: "completed" });

    // a worker that starts after the event finds it in the event history
    const api = await t.worker("api", ["--id", "w-api"]);
    await t.publish("api", { featureId: "fc", taskId: "late-api", role: "api", workspace: ws });
    const [lateApi] = await t.msgs.until(() => t.msgs.results("late-api").length && t.msgs.results("late-api"));
    expect(lateApi).toMatchObject({ outcome: "failed", workerId: "w-api", error: { code: "CANCELLED" } });
    await api.waitFor(/found in the event history/); // its log line may arrive after the result

    expect(ran()).toEqual(["fc/long", "fo/other"]); // neither "later" nor "late-api" ran
    expect(t.msgs.results().map((r) => r.taskId).sort()).toEqual(["late-api", "later", "long", "other"]);
  });
});
