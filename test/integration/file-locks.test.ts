// File-scope locks against a real nats-server: overlapping scopes wait for each other, disjoint ones and other
// spaces do not, a dead holder's lease expires, racing acquirers never hold at once, an abort leaves nothing behind.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/logging.ts";
import { connectNats, type NatsConnection } from "../../shared/nats.ts";
import type { LockSpec } from "../../shared/protocol/workspace.ts";
import { names } from "../../shared/subjects.ts";
import { sleep } from "../../shared/process.ts";
import { LockStore } from "../../services/worker/lock-store.ts";
import { FileLocks, lockKey, type LockBlocker, type LockHolder } from "../../services/worker/locks.ts";
import { startNatsServer, uniquePrefix, type NatsServer } from "../helpers/nats-server.ts";

let server: NatsServer;
const connections: NatsConnection[] = [];
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.dispose();
});
afterEach(async () => {
  await Promise.all(connections.splice(0).map((nc) => nc.close().catch(() => {})));
});

const SPACE = "/work/repo/.baton/worktrees/f1";
const holder = (taskId: string, attempt = 1, workerId = "w1"): LockHolder => ({ featureId: "f1", taskId, attempt, workerId });
const spec = (scope: string[] | null, opts: { space?: string; leaseSeconds?: number } = {}): LockSpec =>
  ({ space: opts.space ?? SPACE, scope, leaseSeconds: opts.leaseSeconds ?? 30 });
/** How long a condition may take to come true (a loaded machine is slow; nothing here is timed). */
const POLL = { timeout: 15_000 };
const never = () => new AbortController().signal;

/** A fresh bucket (unique prefix); `locks()` opens one more FileLocks on its own connection (another worker). */
async function bucket() {
  const prefix = names(uniquePrefix("lk"));
  const connect = async () => {
    const nc = await connectNats({ url: server.url, name: "file-locks-test", persistent: false });
    connections.push(nc);
    return nc;
  };
  const store = await LockStore.open(await connect(), prefix.buckets.locks, silentLogger);
  return {
    locks: async (opts: { now?: () => number } = {}) => {
      const nc = await connect();
      return { nc, locks: await FileLocks.open(nc, prefix, { log: silentLogger, ...opts }) };
    },
    /** The tasks that have an entry in `space`. */
    entries: async (space = SPACE) => (await store.list(space)).map((stored) => stored.entry.holder.taskId).sort(),
  };
}

/** Acquires and records the blockers reported while waiting, and whether it has resolved. */
function acquiring(locks: FileLocks, lockSpec: LockSpec, who: LockHolder, signal = never()) {
  const waits: LockBlocker[] = [];
  const state = { acquired: false };
  const lease = locks.acquire(lockSpec, who, { signal, pollMs: 50, onWait: (heldBy) => waits.push(heldBy) }).then((held) => {
    state.acquired = true;
    return held;
  });
  lease.catch(() => {});
  return { lease, waits, state };
}

describe("file locks", () => {
  it("disjoint scopes hold at once; release removes the entries", async () => {
    const stack = await bucket();
    const { locks } = await stack.locks();
    const first = await locks.acquire(spec(["src/a.ts", "docs/**"]), holder("t1"), { signal: never() });
    const second = await locks.acquire(spec(["src/b.ts", "test/*.ts"]), holder("t2"), { signal: never() });
    expect(await stack.entries()).toEqual(["t1", "t2"]);
    await Promise.all([first.release(), second.release(), second.release()]);
    expect(await stack.entries()).toEqual([]);
    expect(first.lost || second.lost).toBe(false);
  });

  it("an overlapping scope waits until the holder releases", async () => {
    const stack = await bucket();
    const { locks: workerA } = await stack.locks();
    const { locks: workerB } = await stack.locks();
    const held = await workerA.acquire(spec(["src/**"]), holder("t1"), { signal: never() });
    const waiter = acquiring(workerB, spec(["src/deep/x.ts"]), holder("t2", 1, "w2"));
    await expect.poll(() => waiter.waits.length, POLL).toBe(1);
    expect(waiter.waits[0]).toMatchObject({ featureId: "f1", taskId: "t1", attempt: 1, workerId: "w1", scope: ["src/**"] });
    expect(waiter.state.acquired).toBe(false);
    await held.release();
    const lease = await waiter.lease;
    expect(await stack.entries()).toEqual(["t2"]);
    await lease.release();
  });

  it("a task without a scope waits for every holder, and every scope waits for it", async () => {
    const stack = await bucket();
    const { locks } = await stack.locks();
    const docs = await locks.acquire(spec(["docs/x.md"]), holder("docs"), { signal: never() });
    const whole = acquiring(locks, spec(null), holder("whole"));
    await expect.poll(() => whole.waits.map((blocker) => blocker.taskId), POLL).toEqual(["docs"]);
    await docs.release();
    const wholeLease = await whole.lease;
    const lib = acquiring(locks, spec(["lib/z.ts"]), holder("lib"));
    await expect.poll(() => lib.waits.map((blocker) => blocker.taskId), POLL).toEqual(["whole"]);
    expect(lib.state.acquired).toBe(false);
    await wholeLease.release();
    await (await lib.lease).release();
  });

  it("a holder that stops renewing (its worker died) loses the lock after its lease, and the waiter gets it", async () => {
    const stack = await bucket();
    const dead = await stack.locks();
    const { locks: alive } = await stack.locks();
    const deadLease = await dead.locks.acquire(spec(["src/**"], { leaseSeconds: 2 }), holder("t1", 1, "dead"), { signal: never() });
    await dead.nc.close(); // no release: the entry stays until its lease runs out
    const waiter = acquiring(alive, spec(["src/a.ts"], { leaseSeconds: 2 }), holder("t2", 1, "alive"));
    const lease = await waiter.lease;
    expect(waiter.waits.map((blocker) => blocker.workerId)).toEqual(["dead"]);
    expect(await stack.entries()).toEqual(["t2"]);
    await expect.poll(() => deadLease.lost, POLL).toBe(true);
    await lease.release();
  });

  it("many acquirers of overlapping scopes never hold at once, and all get their turn", async () => {
    const stack = await bucket();
    const workers = await Promise.all([stack.locks(), stack.locks(), stack.locks()]);
    const scopes = [["src/**"], ["src/a.ts"], null, ["src/*.ts"], ["**/a.ts"], ["src"]];
    let holding = 0;
    let mostAtOnce = 0;
    const held: string[] = [];
    await Promise.all(scopes.map(async (scope, index) => {
      const { locks } = workers[index % workers.length]!;
      const lease = await locks.acquire(spec(scope, { leaseSeconds: 5 }), holder(`t${index}`), { signal: never(), pollMs: 20 });
      holding++;
      mostAtOnce = Math.max(mostAtOnce, holding);
      held.push(`t${index}`);
      await sleep(150);
      holding--;
      await lease.release();
    }));
    expect(mostAtOnce).toBe(1);
    expect(held.sort()).toEqual(["t0", "t1", "t2", "t3", "t4", "t5"]);
    expect(await stack.entries()).toEqual([]);
  });

  it("an abort while waiting rejects with the signal's reason and leaves no entry", async () => {
    const stack = await bucket();
    const { locks } = await stack.locks();
    const held = await locks.acquire(spec(["src/**"]), holder("t1"), { signal: never() });
    const controller = new AbortController();
    const waiter = acquiring(locks, spec(["src/a.ts"]), holder("t2"), controller.signal);
    await expect.poll(() => waiter.waits.length, POLL).toBe(1);
    const reason = new Error("task cancelled");
    controller.abort(reason);
    await expect(waiter.lease).rejects.toBe(reason);
    expect(await stack.entries()).toEqual(["t1"]);
    await expect(locks.acquire(spec(["other"]), holder("t3"), { signal: controller.signal })).rejects.toBe(reason);
    expect(await stack.entries()).toEqual(["t1"]);
    await held.release();
  });

  it("two spaces are independent", async () => {
    const stack = await bucket();
    const { locks } = await stack.locks();
    const first = await locks.acquire(spec(null), holder("t1"), { signal: never() });
    const second = await locks.acquire(spec(null, { space: "/work/other" }), holder("t2"), { signal: never() });
    expect(await stack.entries()).toEqual(["t1"]);
    expect(await stack.entries("/work/other")).toEqual(["t2"]);
    await Promise.all([first.release(), second.release()]);
  });

  it("a redelivered task takes over the entry its earlier delivery left, without waiting for the lease", async () => {
    const stack = await bucket();
    const crashed = await stack.locks();
    const { locks } = await stack.locks();
    await crashed.locks.acquire(spec(["src/**"], { leaseSeconds: 3600 }), holder("t1", 1, "crashed"), { signal: never() });
    await crashed.nc.close();
    const lease = await locks.acquire(spec(["src/**"], { leaseSeconds: 3600 }), holder("t1", 2, "w2"), { signal: never() });
    expect(lease.key).toBe(lockKey(SPACE, holder("t1")));
    const other = acquiring(locks, spec(["src/a.ts"]), holder("t2"));
    await expect.poll(() => other.waits.map((blocker) => `${blocker.taskId}#${blocker.attempt}@${blocker.workerId}`), POLL).toEqual(["t1#2@w2"]);
    await lease.release();
    await (await other.lease).release();
  });

  it("a holder whose entry another took as expired (clocks apart) learns it lost the lease", async () => {
    const stack = await bucket();
    const { locks: slow } = await stack.locks();
    const { locks: ahead } = await stack.locks({ now: () => Date.now() + 60_000 });
    let lostCalls = 0;
    const first = await slow.acquire(spec(["src/**"], { leaseSeconds: 3 }), holder("t1"), { signal: never(), onLost: () => lostCalls++ });
    const second = await ahead.acquire(spec(["src/**"], { leaseSeconds: 3 }), holder("t2"), { signal: never() });
    expect(await stack.entries()).toEqual(["t2"]);
    await expect.poll(() => first.lost, POLL).toBe(true);
    expect(lostCalls).toBe(1);
    await first.release(); // leaves the other holder's entry alone
    expect(await stack.entries()).toEqual(["t2"]);
    await second.release();
  });
});
