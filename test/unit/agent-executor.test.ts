// The agent executor's pure parts: how a run's end becomes an outcome, the progress rate limit, and the config
// homes (exclusive per concurrent run, kept across runs, stale locks reclaimed).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claimHome, homesRoot, listHomes } from "../../services/worker/agents/homes.ts";
import { agentOutcome, type AgentReport } from "../../services/worker/agents/supervise.ts";
import type { ProcessRun } from "../../services/worker/process/run.ts";
import { ProgressLimiter, type ProgressStep } from "../../services/worker/progress-limiter.ts";
import type { Timers } from "../../services/worker/log-batcher.ts";

const limits = { timeoutSeconds: 60, stallSeconds: 30 };
const ended = (over: Partial<ProcessRun> = {}): ProcessRun => ({ code: 0, signal: null, timedOut: false, aborted: false, lastStderr: "", ...over });
const usage = { inputTokens: 10, outputTokens: 5 };

describe("agentOutcome", () => {
  it("the final result decides: ok completes with its summary and usage, even when the process had to be killed after it", () => {
    const report: AgentReport = { final: { kind: "final", ok: true, summary: "did it", usage } };
    expect(agentOutcome(ended(), report, limits)).toEqual({ outcome: "completed", exitCode: 0, summary: "did it", usage });
    expect(agentOutcome(ended({ code: null, signal: "SIGTERM", killedAfterResult: true }), report, limits)).toMatchObject({ outcome: "completed", summary: "did it" });
    expect(agentOutcome(ended({ code: 1 }), report, limits)).toMatchObject({ outcome: "completed" });
  });

  it("a failed final result fails AGENT_ERROR with the CLI's text, keeping its usage", () => {
    const out = agentOutcome(ended({ code: 1 }), { final: { kind: "final", ok: false, error: "API Error: 401 bad key", usage } }, limits);
    expect(out).toMatchObject({ outcome: "failed", error: { code: "AGENT_ERROR", message: "API Error: 401 bad key" }, usage });
  });

  it("without a final result: stall, timeout, abort and spawn failures say so; partial usage is kept", () => {
    const partial: AgentReport = { usage };
    expect(agentOutcome(ended({ code: null, stalled: true, killedWith: "SIGTERM" }), partial, limits)).toMatchObject({ outcome: "failed", error: { code: "STALLED", message: expect.stringContaining("30s") }, usage });
    expect(agentOutcome(ended({ code: null, timedOut: true }), partial, limits)).toMatchObject({ error: { code: "TIMEOUT" }, usage });
    expect(agentOutcome(ended({ code: null, aborted: true }), partial, limits)).toMatchObject({ error: { code: "ABORTED" } });
    const spawnError = { name: "SpawnError", code: "SPAWN", message: "cannot run" };
    expect(agentOutcome(ended({ code: null, spawnError }), {}, limits)).toMatchObject({ error: spawnError });
  });

  it("an exit without a result fails AGENT_ERROR, even exit 0, naming the last stderr line", () => {
    expect(agentOutcome(ended({ code: 0 }), {}, limits)).toMatchObject({ outcome: "failed", error: { code: "AGENT_ERROR", message: "the agent ended without a result" } });
    expect(agentOutcome(ended({ code: 2, lastStderr: "boom" }), {}, limits)).toMatchObject({ error: { code: "AGENT_ERROR", message: expect.stringMatching(/code 2.*boom/) } });
  });

  it("caps the summary at MAX_SUMMARY_CHARS", () => {
    const out = agentOutcome(ended(), { final: { kind: "final", ok: true, summary: "x".repeat(200_000) } }, limits);
    expect(out.summary).toHaveLength(100_000);
  });
});

/** A manual clock for the limiter. */
function fakeTimers(): Timers & { advance(ms: number): void } {
  let now = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  let ids = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => (pending.set(++ids, { at: now + ms, fn }), ids),
    clearTimeout: (handle) => void pending.delete(handle as number),
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...pending]) if (timer.at <= now) (pending.delete(id), timer.fn());
    },
  };
}

describe("ProgressLimiter", () => {
  it("sends at most one message per interval, merging the tools and files of skipped steps; the latest usage is never lost", () => {
    const timers = fakeTimers();
    const sent: ProgressStep[] = [];
    const limiter = new ProgressLimiter({ minIntervalMs: 500, timers, onStep: (step) => sent.push(step) });
    limiter.push({ tool: "Write", files: ["a.js"], usage: { inputTokens: 1, outputTokens: 1 } });
    limiter.push({ tool: "Edit", files: ["b.js"], text: "editing", usage: { inputTokens: 2, outputTokens: 1 } });
    limiter.push({ tool: "Bash", files: ["a.js"], text: "npm test", usage: { inputTokens: 3, outputTokens: 2 } });
    expect(sent).toHaveLength(1);
    timers.advance(499);
    expect(sent).toHaveLength(1);
    timers.advance(1);
    expect(sent[1]).toEqual({ seq: 2, tool: "Edit, Bash", files: ["b.js", "a.js"], text: "npm test", usage: { inputTokens: 3, outputTokens: 2 } });
    limiter.push({ text: "last words", usage: { inputTokens: 9, outputTokens: 9 } });
    limiter.close();
    expect(sent.at(-1)).toEqual({ seq: 3, text: "last words", usage: { inputTokens: 9, outputTokens: 9 } });
    limiter.push({ text: "after close" });
    timers.advance(10_000);
    expect(sent).toHaveLength(3);
  });

  it("keeps messages within the protocol's limits", () => {
    const sent: ProgressStep[] = [];
    const limiter = new ProgressLimiter({ timers: fakeTimers(), onStep: (step) => sent.push(step) });
    limiter.push({ tool: "T".repeat(300), files: Array.from({ length: 80 }, (_, index) => `f${index}`), text: "x".repeat(900) });
    expect(sent[0]!.tool!.length).toBeLessThanOrEqual(100);
    expect(sent[0]!.files).toHaveLength(50);
    expect(sent[0]!.text!.length).toBeLessThanOrEqual(500);
  });
});

describe("agent homes", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const cwd = () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-homes-"));
    dirs.push(dir);
    return dir;
  };

  it("gives concurrent runs different homes and hands a released one out again", async () => {
    const root = cwd();
    const claims = await Promise.all([claimHome(root, "claude-code"), claimHome(root, "claude-code"), claimHome(root, "claude-code")]);
    expect(new Set(claims.map((lease) => lease!.dir)).size).toBe(3);
    expect(await listHomes(root, "claude-code")).toEqual([0, 1, 2].map((index) => join(homesRoot(root, "claude-code"), String(index))));
    await claims[1]!.release();
    await claims[1]!.release(); // idempotent
    expect((await claimHome(root, "claude-code"))!.dir).toBe(claims[1]!.dir);
    expect(await claimHome(root, "claude-code", claims[0]!.dir)).toBeUndefined(); // held
  });

  it("reclaims a home whose lock holds a dead pid, not one held by a live process; keeps the home's files", async () => {
    const root = cwd();
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    const home0 = join(homesRoot(root, "codex"), "0");
    const home1 = join(homesRoot(root, "codex"), "1");
    mkdirSync(home0, { recursive: true });
    mkdirSync(home1, { recursive: true });
    writeFileSync(join(home0, "baton.lock"), `${process.ppid}\n`); // a live process (vitest's parent)
    writeFileSync(join(home1, "baton.lock"), `${dead}\n`);
    writeFileSync(join(home1, "session.json"), "{}");
    const lease = await claimHome(root, "codex");
    expect(lease!.dir).toBe(home1);
    expect(existsSync(join(home1, "session.json"))).toBe(true);
    await lease!.release();
    expect(existsSync(join(home1, "baton.lock"))).toBe(false);
    expect(existsSync(join(home0, "baton.lock"))).toBe(true);
  });
});
