// `baton watch` on a real terminal (tmux, 120×40) against a real stack: the live board redraws in place (one progress
// line on the screen whose value changes, nothing scrolled off, no old frame left behind) and ends with the execution
// report, and Ctrl-C gives the terminal back with its cursor; on TERM=dumb, or with stdout piped, the same watch prints plain lines, one per event, as before.
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { publishFeature } from "../../shared/client/index.ts";
import { BATON_BIN, runBaton } from "../helpers/procs.ts";
import { useStack } from "../helpers/stack.ts";

// Prints "tick N of TASK" every 150 ms until the file go-TASK appears beside it, then completes.
const AGENT = `
import { appendFileSync, existsSync } from "node:fs";
const task = process.env.BATON_TASK_ID;
const release = new URL("./go-" + task, import.meta.url);
let tick = 0;
const timer = setInterval(() => {
  tick += 1;
  console.log("tick " + tick + " of " + task);
  if (existsSync(release)) {
    clearInterval(timer);
    appendFileSync(process.env.BATON_RESULT_FILE, JSON.stringify({ summary: "did " + task }));
  }
}, 150);
`;

const stack = useStack({
  tag: "wt",
  config: `workspace: ./ws\nroles:\n  qa:\n    exec: ["node", "./agent.mjs"]\n    timeoutSeconds: 300\n`,
  files: { "agent.mjs": AGENT },
  dirs: ["ws"],
  workers: [["qa", "qa-1"]],
});

const SOCKET = `baton-test-${process.pid}`;
const tmux = (...args: string[]) => {
  const run = spawnSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${run.stderr}`);
  return run.stdout;
};
let socketPath: string | undefined;
afterAll(() => {
  spawnSync("tmux", ["-L", SOCKET, "kill-server"]);
  if (socketPath) rmSync(socketPath, { force: true }); // tmux leaves its socket file behind
});

/** Starts `baton watch ID` in a new 120×40 tmux session; the pane stays after it exits, saying "[exit CODE]". */
function watchInTmux(session: string, featureId: string, term: string): void {
  const env = Object.entries({ ...stack.env, TERM: term }).map(([name, value]) => `${name}='${value}'`).join(" ");
  const command = `env -u NO_COLOR ${env} '${process.execPath}' '${BATON_BIN}' watch ${featureId}; echo "[exit $?]"; sleep 600`;
  tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command);
  socketPath ??= tmux("display-message", "-p", "-t", session, "#{socket_path}").trim();
}

/** The pane as it shows now (lines trimmed), and how many lines have scrolled off its top. */
function capture(session: string): { screen: string[]; scrolled: number } {
  const screen = tmux("capture-pane", "-p", "-t", session).split("\n").map((line) => line.trimEnd());
  return { screen, scrolled: Number(tmux("display-message", "-p", "-t", session, "#{history_size}").trim()) };
}

/** Captures the pane until `ready` holds for a capture (30 s at most), and returns that capture. */
async function until(session: string, what: string, ready: (shot: { screen: string[]; scrolled: number }) => boolean) {
  const deadline = Date.now() + 30_000;
  let shot = capture(session);
  while (!ready(shot)) {
    if (Date.now() > deadline) throw new Error(`pane never showed ${what}:\n${shot.screen.join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    shot = capture(session);
  }
  return shot;
}

const BAR = /^\[[█░]+\] +\d+% {2}\d+\/2 done/;
const bars = (screen: string[]) => screen.filter((line) => BAR.test(line));
const tickOf = (screen: string[], taskId: string) => Number(screen.find((line) => line.startsWith(`${taskId} `))?.match(/tick (\d+) of/)?.[1] ?? NaN);

describe("e2e: `baton watch` on a terminal", () => {
  it("redraws the board in place while the feature runs, then prints the report under it; TERM=dumb and a pipe get plain lines", async () => {
    await publishFeature(stack.nc, stack.n, {
      id: "tty1", title: "Board on a terminal",
      tasks: [{ id: "a", role: "qa", title: "first" }, { id: "b", role: "qa", title: "second", dependsOn: ["a"] }],
    });
    watchInTmux("board", "tty1", "xterm-256color");

    // a runs: its row shows its latest output line, which changes from capture to capture in the same place
    const first = await until("board", "task a's progress", (shot) => tickOf(shot.screen, "a") >= 1);
    const later = await until("board", "task a's progress moving on", (shot) => tickOf(shot.screen, "a") > tickOf(first.screen, "a") + 2);
    for (const shot of [first, later]) {
      // (the bin may say first, on stderr, that it runs the sources: the board starts below that)
      expect(shot.screen.filter((line) => line.startsWith("tty1 ")), shot.screen.join("\n")).toEqual([expect.stringMatching(/^tty1 {2}executing {2}Board on a terminal/)]);
      expect(bars(shot.screen)).toEqual([expect.stringMatching(/ 0% {2}0\/2 done · 1 running · 1 waiting$/)]);
      expect(shot.screen.filter((line) => line.startsWith("a "))).toEqual([expect.stringMatching(/^a +qa +running +\d+s +tick \d+ of a$/)]);
      expect(shot.screen.filter((line) => line.startsWith("b "))).toEqual([expect.stringMatching(/^b +qa +waiting +waits for a$/)]);
      expect(shot.scrolled).toBe(0);
    }

    // a completes, b runs: the same single progress line now says 1/2, a's row is gone
    writeFileSync(join(stack.dir, "go-a"), "");
    const second = await until("board", "task b running", (shot) => tickOf(shot.screen, "b") >= 1);
    expect(bars(second.screen), second.screen.join("\n")).toEqual([expect.stringMatching(/ 50% {2}1\/2 done · 1 running$/)]);
    expect(second.screen.some((line) => line.startsWith("a "))).toBe(false);
    expect(second.screen.filter((line) => line.startsWith("b "))).toHaveLength(1);
    expect(second.scrolled).toBe(0);

    // the feature ends: the last frame stays, the report follows it, the exit code is the watch's
    writeFileSync(join(stack.dir, "go-b"), "");
    const end = await until("board", "the watch's end", (shot) => shot.screen.some((line) => line.startsWith("[exit ")));
    const screen = end.screen;
    expect(screen, screen.join("\n")).toContain("[exit 0]");
    expect(end.scrolled).toBe(0);
    expect(screen.filter((line) => /^tty1 /.test(line))).toHaveLength(1); // the last frame's header (the report has none)
    const frameAt = screen.findIndex((line) => /^tty1 {2}completed {2}Board on a terminal {2}\d/.test(line));
    const reportAt = screen.findIndex((line) => /^progress +█+ 100% {2}2\/2 tasks/.test(line));
    expect(frameAt).toBeGreaterThanOrEqual(0);
    expect(bars(screen)).toEqual([expect.stringMatching(/100% {2}2\/2 done$/)]);
    expect(reportAt).toBeGreaterThan(screen.indexOf(bars(screen)[0]!));
    expect(screen.findIndex((line) => line === "[exit 0]")).toBeGreaterThan(reportAt);
    expect(screen.some((line) => /tick \d+ of/.test(line))).toBe(false);

    // Ctrl-C while the board waits for a feature no coordinator accepts: the watch's hint shows under the board, the
    // cursor (hidden while the board draws) is shown again, the exit code is 1
    watchInTmux("stop", "never", "xterm-256color");
    const waiting = await until("stop", "the hint under the board", (shot) => shot.screen.some((line) => line.includes("is `baton coordinator` or `baton up` running?")));
    expect(waiting.screen.filter((line) => line.startsWith("never "))).toEqual(["never  waiting to be accepted"]);
    expect(tmux("display-message", "-p", "-t", "stop", "#{cursor_flag}").trim()).toBe("0");
    tmux("send-keys", "-t", "stop", "C-c");
    const stopped = await until("stop", "the watch's end", (shot) => shot.screen.some((line) => line.startsWith("[exit ")));
    expect(stopped.screen, stopped.screen.join("\n")).toContain("[exit 1]");
    expect(stopped.screen.filter((line) => line.startsWith("never "))).toHaveLength(1);
    expect(tmux("display-message", "-p", "-t", "stop", "#{cursor_flag}").trim()).toBe("1");

    // TERM=dumb on the same terminal: plain lines, one per event, each task's output included
    watchInTmux("dumb", "tty1", "dumb");
    const dumb = await until("dumb", "the plain watch's end", (shot) => shot.screen.some((line) => line.startsWith("[exit ")));
    expect(dumb.screen.join("\n")).toMatch(/\[0\/2\] started +a .*\n[\s\S]*│ a: tick 1 of a[\s\S]*\[2\/2\] completed +b[\s\S]*feature completed[\s\S]*\[exit 0\]/);
    expect(bars(dumb.screen)).toEqual([]);

    // stdout piped (CI logs), NO_COLOR unset: plain lines as before, no escape sequences
    const piped = await runBaton(["watch", "tty1"], { ...stack.env, NO_COLOR: "" });
    expect(piped.status).toBe(0);
    expect(piped.stdout).not.toContain("\x1b");
    expect(piped.stdout).toMatch(/accepted {2}Board on a terminal — 2 tasks/);
    expect(piped.stdout).toMatch(/\[1\/2\] completed +a \(qa\) .* — did a/);
    expect(piped.stdout).toMatch(/│ b: tick 1 of b/);
    expect(piped.stdout.trimEnd().split("\n").at(-1)).toMatch(/feature completed in/);
  }, 120_000);
});
