// The built-in executors used by benchmarks: noop and sleep (duration parsing, abort).
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/logging.ts";
import { createNoopExecutor, createSleepExecutor, sleepDuration } from "../../services/worker/runners/builtin.ts";
import type { TaskAssigned } from "../../shared/protocol/index.ts";
import { loadConfig } from "../../shared/config.ts";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const task = (instructions?: string) => ({ instructions }) as TaskAssigned;
const ctx = (signal = new AbortController().signal) => ({ signal, onLine: () => {}, log: silentLogger });

describe("built-in executors", () => {
  it("sleep reads its duration from the instructions, else the config default", () => {
    expect(sleepDuration(task("50"), 7)).toBe(50);
    expect(sleepDuration(task(" 20ms "), 7)).toBe(20);
    expect(sleepDuration(task('{"sleepMs": 30}'), 7)).toBe(30);
    expect(sleepDuration(task("write the backend"), 7)).toBe(7);
    expect(sleepDuration(task(), 7)).toBe(7);
  });

  it("noop completes; sleep completes after its duration and fails when aborted", async () => {
    expect(await createNoopExecutor().run(task(), ctx())).toEqual({ outcome: "completed", exitCode: 0 });
    const t0 = Date.now();
    expect((await createSleepExecutor(5).run(task("60"), ctx())).outcome).toBe("completed");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    const ac = new AbortController();
    const p = createSleepExecutor(10_000).run(task(), ctx(ac.signal));
    ac.abort();
    expect(await p).toMatchObject({ outcome: "failed", error: { code: "ABORTED" } });
  });

  it("config: noop and sleep need no argv; exec without one is a clear error", () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-cfg-"));
    writeFileSync(join(dir, "a.yaml"), "roles:\n  qa: { executor: noop }\n  backend: { executor: sleep, sleepMs: 50 }\n");
    const cfg = loadConfig({ file: join(dir, "a.yaml"), env: {} });
    expect(cfg.roles.qa!.executor).toBe("noop");
    expect(cfg.roles.backend!.sleepMs).toBe(50);
    writeFileSync(join(dir, "b.yaml"), "roles:\n  qa: { timeoutSeconds: 5 }\n");
    expect(() => loadConfig({ file: join(dir, "b.yaml"), env: {} })).toThrow(/roles\.qa\.exec: `exec` \(an argv\) is required/);
  });
});
