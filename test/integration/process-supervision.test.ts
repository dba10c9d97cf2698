// runProcess's supervision for agent CLIs, with real processes behind the exec guard: a command silent for
// `stallMs` is killed as stalled (output keeps it alive), and one that does not exit after its result was seen
// gets RESULT_EXIT_MS, then its group is killed — children included.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../shared/logging.ts";
import { RESULT_EXIT_MS, runProcess, type ProcessOptions } from "../../services/worker/process/run.ts";
import { groupGone } from "../helpers/agent-procs.ts";

const log = createLogger({ name: "test", level: "silent" });

function run(script: string, over: Partial<ProcessOptions> = {}, resultAfterLine?: string) {
  const lines: string[] = [];
  const resultSeen = new AbortController();
  const ran = runProcess("sh", ["-c", script], { cwd: process.cwd(), env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdin: "", timeoutMs: 60_000, resultSeen: resultSeen.signal, ...over }, {
    signal: new AbortController().signal,
    log,
    onLine: (_stream, line) => {
      lines.push(line);
      if (line === resultAfterLine) resultSeen.abort();
    },
  });
  return { ran, lines };
}

describe("runProcess supervision", () => {
  it("kills a command that prints nothing for stallMs, with its group", async () => {
    const started = Date.now();
    const { ran, lines } = run("echo started; sleep 30 & echo $! ; wait", { stallMs: 700 });
    const result = await ran;
    expect(result).toMatchObject({ stalled: true, timedOut: false, aborted: false, killedWith: "SIGTERM" });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(groupGone(Number(lines[1]))).toBe(true);
  }, 20_000);

  it("output on stdout or stderr keeps a slow command from stalling", async () => {
    const { ran } = run("for i in 1 2 3 4 5 6; do echo out; sleep 0.25; echo err >&2; sleep 0.25; done", { stallMs: 1500 });
    const result = await ran;
    expect(result.code).toBe(0);
    expect(result.stalled).toBeUndefined();
  }, 20_000);

  it("after the result is seen, a command that does not exit is killed after RESULT_EXIT_MS; no stall or timeout is counted", async () => {
    const started = Date.now();
    const { ran, lines } = run("echo result; sleep 30 & echo $!; wait", { stallMs: 1000, timeoutMs: 3000 }, "result");
    const result = await ran;
    expect(result).toMatchObject({ killedAfterResult: true, timedOut: false });
    expect(result.stalled).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(RESULT_EXIT_MS - 100);
    expect(groupGone(Number(lines[1]))).toBe(true);
  }, 20_000);

  it("passes a line longer than the default piece size on whole when maxLineChars allows it", async () => {
    const { ran, lines } = run("head -c 300000 /dev/zero | tr '\\0' x; echo; echo next", { maxLineChars: 1024 * 1024 });
    expect((await ran).code).toBe(0);
    expect(lines.map((line) => line.length)).toEqual([300_000, 4]);
  }, 20_000);
});
