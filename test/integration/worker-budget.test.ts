// The worker's side of budgets, with a real nats-server and real `baton worker` processes: a budget.exceeded status
// event naming a running task's run kills its process group and answers it BUDGET_EXCEEDED; a run it names that is
// still queued is answered without running, also by a worker that only finds the event in the history.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { encode } from "../../shared/codec.ts";
import type { Names } from "../../shared/subjects.ts";
import { processGone, readPid, safeKill, sleep, workerSuite } from "./worker-harness.ts";

const suite = workerSuite();

let seq = 0;
/** Publishes a `budget.exceeded` status event the way the coordinator does (JetStream, msg id). */
async function publishExceeded(n: Names, featureId: string, stopped: { taskId: string; attempt: number }[]) {
  const event = {
    type: "baton.v1.status_event", featureId, seq: ++seq, at: new Date().toISOString(), kind: "budget.exceeded",
    scope: "feature", metric: "tokens", used: 1200, limit: 1000, percent: 120, stopped,
  };
  await jetstream(suite.nc()).publish(n.status(featureId, "budget.exceeded"), encode(event), { msgID: `${featureId}.ev.${seq}` });
}

describe("baton worker: budget stops", () => {
  it("kills the named run's process group and answers BUDGET_EXCEEDED; other runs go on; named queued runs never start", async () => {
    const t = await suite.setup(
      { roles: { backend: { exec: ["./agent.sh"] }, api: { exec: ["./agent.sh"] } }, workspaceRoots: ["."] },
      {
        "agent.sh": `ws="$BATON_WORKSPACE"
echo "$BATON_TASK_ID/$BATON_ATTEMPT" >> "$ws/ran"
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
    const pidOf = (name: string) => t.msgs.until(() => existsSync(join(ws, name)) && readPid(join(ws, name)) > 0 && readPid(join(ws, name)), 10_000);
    suite.cleanup(() => ["agent.pid", "child.pid"].forEach((name) => existsSync(join(ws, name)) && safeKill(readPid(join(ws, name)))));
    await t.worker("backend", ["--id", "w-be", "--concurrency", "2"]);
    await t.publish("backend", { featureId: "fb", taskId: "long", attempt: 1, workspace: ws });
    await t.msgs.until(() => t.msgs.started("long").length);
    const [agent, child] = [await pidOf("agent.pid"), await pidOf("child.pid")];

    // another attempt of the task, or another task, is not this run
    await publishExceeded(t.n, "fb", [{ taskId: "long", attempt: 2 }, { taskId: "other", attempt: 1 }]);
    await sleep(500);
    expect([processGone(agent), processGone(child)]).toEqual([false, false]);
    expect(t.msgs.results("long")).toEqual([]);

    await publishExceeded(t.n, "fb", [{ taskId: "long", attempt: 1 }, { taskId: "queued", attempt: 1 }]);
    const [stopped] = await t.msgs.until(() => t.msgs.results("long").length && t.msgs.results("long"));
    expect(stopped).toMatchObject({
      outcome: "failed", attempt: 1, workerId: "w-be",
      error: { name: "BudgetExceeded", code: "BUDGET_EXCEEDED", message: "stopped: the budget of feature fb was used up (tokens 1200 of 1000)" },
    });
    await t.msgs.until(() => processGone(agent) && processGone(child), 5000);

    // a run the last event names, queued after it: answered without running
    await t.publish("backend", { featureId: "fb", taskId: "queued", attempt: 1, workspace: ws });
    const [queued] = await t.msgs.until(() => t.msgs.results("queued").length && t.msgs.results("queued"));
    expect(queued).toMatchObject({ outcome: "failed", error: { code: "BUDGET_EXCEEDED" } });
    // its next attempt (dispatched after a budget raise) runs
    await t.publish("backend", { featureId: "fb", taskId: "queued", attempt: 2, workspace: ws });
    const [again] = await t.msgs.until(() => t.msgs.results("queued").filter((r) => r.attempt === 2).length && t.msgs.results("queued").filter((r) => r.attempt === 2));
    expect(again).toMatchObject({ outcome: "completed" });

    // a worker that was not running when the event went out finds it in the event history
    await publishExceeded(t.n, "fb", [{ taskId: "late", attempt: 1 }]);
    const api = await t.worker("api", ["--id", "w-api"]);
    await t.publish("api", { featureId: "fb", taskId: "late", role: "api", attempt: 1, workspace: ws, dispatchedAt: new Date(Date.now() - 60_000).toISOString() });
    const [late] = await t.msgs.until(() => t.msgs.results("late").length && t.msgs.results("late"));
    expect(late).toMatchObject({ outcome: "failed", workerId: "w-api", error: { code: "BUDGET_EXCEEDED" } });
    expect(t.msgs.started("late")).toEqual([]);
    await api.waitFor(/found in the event history/);

    expect(readFileSync(join(ws, "ran"), "utf8").trim().split("\n")).toEqual(["long/1", "queued/2"]);
  }, 60_000);
});
