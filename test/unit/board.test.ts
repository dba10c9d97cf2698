// `baton watch`'s live board (services/cli/board): the pure frame (rows, widths, the height limit, questions, the
// critical path), the last progress line per task, ANSI-aware cutting, and the in-place redraw checked on a small
// terminal emulator that interprets the cursor moves the way a terminal does.
import { describe, expect, it } from "vitest";
import { executionReport } from "../../shared/client/report.ts";
import { STATUS_EVENT, type StatusEvent } from "../../shared/protocol/events.ts";
import type { FeatureView, ViewQuestion, ViewTask } from "../../shared/protocol/views.ts";
import { settleView } from "../../shared/protocol/waiting.ts";
import { boardWanted, clean, fit, noteRecent, renderBoard, startScreen, visibleWidth, type RecentLines, type TerminalOut } from "../../services/cli/board/index.ts";

const NOW = Date.parse("2026-03-01T12:00:00.000Z");
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
const task = (id: string, fields: Partial<ViewTask> = {}): ViewTask => ({ id, role: "backend", title: `task ${id}`, dependsOn: [], state: "waiting", attempt: 0, ...fields });
const question = (questionId: string, taskId: string, text: string, state: ViewQuestion["state"] = "open"): ViewQuestion =>
  ({ questionId, taskId, about: "task", question: text, freeText: true, askedAt: ago(30), state });

/** A feature: `done` completed in 60 s, `api` running for 42 s, `ui` waiting for it, `docs` asking q1. */
function feature(extra: Partial<FeatureView> = {}): FeatureView {
  return settleView({
    featureId: "F1", state: "executing", title: "Login page", acceptedAt: ago(300), seq: 9, notices: [],
    tasks: [
      task("done", { state: "completed", attempt: 1, startedAt: ago(200), finishedAt: ago(140), durationMs: 60_000 }),
      task("api", { state: "running", attempt: 1, dispatchedAt: ago(43), startedAt: ago(42), workerId: "backend-1" }),
      task("ui", { dependsOn: ["api"] }),
      task("docs", { role: "writer", state: "asking", attempt: 1, startedAt: ago(50), questionId: "q1" }),
    ],
    questions: [question("q1", "docs", "Which tone should the docs take?"), question("q0", "docs", "Old question", "answered")],
    ...extra,
  });
}

const board = (view: FeatureView, recent: RecentLines = new Map(), size: { width?: number; height?: number } = {}) =>
  renderBoard({ view, report: executionReport(view, { now: NOW }), recent, now: NOW, width: size.width ?? 120, height: size.height ?? 40 });

describe("renderBoard", () => {
  it("draws the bar and one row per task under way, asking or waiting, with its elapsed time and last line", () => {
    const lines = board(feature(), new Map([["api", "Edit src/login.ts"]]));
    expect(lines[0]).toMatch(/^F1 {2}executing {2}Login page {2}5m00s$/);
    expect(lines[1]).toMatch(/\[█{7}░{23}\] {3}25% {2}1\/4 done · 1 running · 2 waiting/);
    const rows = lines.filter((line) => /^(api|ui|docs|done) /.test(line));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^api +backend +running +42s +Edit src\/login\.ts$/);
    expect(rows[1]).toMatch(/^docs +writer +asking +50s +asks q1: Which tone should the docs take\?$/);
    expect(rows[2]).toMatch(/^ui +backend +waiting +waits for api$/);
    expect(lines.some((line) => line.startsWith("done "))).toBe(false);
  });

  it("shows the critical path with its time left and ETA", () => {
    const lines = board(feature());
    // api has run 42 s of the role's 60 s median (18 s left), then ui's 60 s
    expect(lines).toContain("critical path api → ui · ~1m18s left · ETA 12:01:18");
    const unknown = board(feature({ tasks: [task("solo", { state: "running", attempt: 1, startedAt: ago(5) })], questions: [] }));
    expect(unknown).toContain("critical path solo · no estimate yet");
  });

  it("lists open questions with the command that answers them, even when the question is cut", () => {
    const long = feature({ questions: [question("q1", "docs", `Which tone? ${"very ".repeat(40)}long`)] });
    const lines = board(long, new Map(), { width: 90 });
    expect(lines).toContain("open question");
    const line = lines.find((entry) => entry.includes("baton answer"));
    expect(line).toMatch(/^ {2}q1 \(task docs\) Which tone\? very .*… — baton answer F1 q1 "…"$/);
    expect(visibleWidth(line!)).toBeLessThanOrEqual(90);
    expect(lines.join("\n")).not.toContain("Old question");
  });

  it("cuts every line to the width, colour codes and wide characters included", () => {
    const recent = new Map([["api", `${"x".repeat(200)}`], ["ui", "漢字".repeat(50)]]);
    for (const width of [40, 61, 80, 120]) {
      const lines = board(feature(), recent, { width });
      for (const line of lines) expect(visibleWidth(line), line).toBeLessThanOrEqual(width);
      expect(lines.find((line) => line.startsWith("api "))).toMatch(/x…$/);
    }
  });

  it("fits the height: header, bar and critical path stay, the cut task rows are counted", () => {
    const tasks = Array.from({ length: 30 }, (_, index) => task(`t${index}`, { state: "running", attempt: 1, startedAt: ago(index) }));
    const view = feature({ tasks: [...feature().tasks, ...tasks] });
    const lines = board(view, new Map(), { height: 12 });
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^F1 /);
    expect(lines.some((line) => line.startsWith("critical path"))).toBe(true);
    expect(lines.some((line) => line.includes("baton answer F1 q1"))).toBe(true);
    expect(lines.find((line) => /more tasks$/.test(line))).toMatch(/^ {2}… \d+ more tasks$/);
    for (const height of [0, 1, 3, 5]) expect(board(view, new Map(), { height }).length).toBeLessThanOrEqual(height);
  });

  it("keeps a rejected feature's errors under its header", () => {
    const view: FeatureView = { featureId: "F8", state: "rejected", tasks: [], seq: 1, notices: [], errors: [{ path: "tasks[1].dependsOn", message: "cycle a → b → a" }] };
    const lines = renderBoard({ view, report: executionReport(view, { now: NOW }), recent: new Map(), now: NOW, width: 80, height: 3 });
    expect(lines.slice(0, 2)).toEqual(["F8  rejected", "  ✗ tasks[1].dependsOn: cycle a → b → a"]);
  });

  it("says what an unaccepted feature waits for, and a notice from the watch", () => {
    const view: FeatureView = { featureId: "F9", state: "unknown", tasks: [], seq: 0, notices: [] };
    const lines = renderBoard({ view, report: executionReport(view, { now: NOW }), recent: new Map(), now: NOW, width: 80, height: 10, notice: "waiting for feature F9 to be accepted…\x1b[2J" });
    expect(lines[0]).toBe("F9  waiting to be accepted");
    expect(lines.at(-1)).toBe("waiting for feature F9 to be accepted…");
  });
});

describe("the last line of each task", () => {
  const base = { type: STATUS_EVENT, featureId: "F1", seq: 1, at: ago(1), taskId: "api", role: "backend", attempt: 1, workerId: "w" } as const;
  it("keeps the latest progress or non-blank log line, cleaned, and forgets it on a new dispatch", () => {
    const recent: RecentLines = new Map();
    expect(noteRecent(recent, { ...base, kind: "task.progress", tool: "Edit", files: ["a.ts", "b.ts"], text: "fix\ttypes" })).toBe(true);
    expect(recent.get("api")).toBe("Edit a.ts, b.ts fix types");
    const log: StatusEvent = { ...base, kind: "task.log", stream: "stdout", lines: ["one", "\x1b[32mtwo\x1b[0m\r", "   "], dropped: 0 };
    expect(noteRecent(recent, log)).toBe(true);
    expect(recent.get("api")).toBe("two");
    expect(noteRecent(recent, log)).toBe(false);
    expect(noteRecent(recent, { ...base, kind: "task.dispatched", attempt: 2 } as StatusEvent)).toBe(true);
    expect(recent.has("api")).toBe(false);
  });
});

describe("terminal text", () => {
  it("cuts coloured text by what shows, ending with a reset", () => {
    expect(fit("\x1b[31mhello world\x1b[0m", 6)).toBe("\x1b[31mhello…\x1b[0m");
    expect(fit("short", 6)).toBe("short");
    expect(visibleWidth(fit("漢字漢字漢字", 5))).toBeLessThanOrEqual(5);
    expect(clean("a\x1b]0;title\x07b\x1b[2Kc\x07\td")).toBe("abc d");
  });

  it("uses the board only on a terminal that can move its cursor, without --plain (NO_COLOR only drops colours)", () => {
    expect(boardWanted({ isTTY: true }, { TERM: "xterm-256color" })).toBe(true);
    expect(boardWanted({ isTTY: false }, { TERM: "xterm" })).toBe(false);
    expect(boardWanted({}, {})).toBe(false);
    expect(boardWanted({ isTTY: true }, { TERM: "dumb" })).toBe(false);
    expect(boardWanted({ isTTY: true }, { TERM: "xterm", NO_COLOR: "1" })).toBe(true);
    expect(boardWanted({ isTTY: true }, { TERM: "xterm" }, true)).toBe(false);
  });
});

/** A terminal of `rows` × `columns` that applies what a screen writes: text, \r, \n, cursor up, erase line/below/all, home. */
class FakeTerminal implements TerminalOut {
  lines: string[];
  scrolled = 0;
  cursorHidden = false;
  private row = 0;
  private col = 0;
  constructor(public columns: number, public rows: number, private readonly listeners: (() => void)[] = []) {
    this.lines = Array.from({ length: rows }, () => "");
  }
  on(_event: "resize", listener: () => void) { this.listeners.push(listener); }
  off(_event: "resize", listener: () => void) { this.listeners.splice(this.listeners.indexOf(listener), 1); }
  write(chunk: string): boolean {
    const tokens = chunk.match(/\x1b\[[0-9;?]*[A-Za-z]|[\r\n]|[^\x1b\r\n]/gu) ?? [];
    for (const token of tokens) this.apply(token);
    return true;
  }
  private apply(token: string): void {
    if (token === "\r") this.col = 0;
    else if (token === "\n") this.newline();
    else if (token.startsWith("\x1b[")) this.control(token);
    else {
      const line = this.lines[this.row]!.padEnd(this.col);
      this.lines[this.row] = line.slice(0, this.col) + token + line.slice(this.col + 1);
      this.col += 1;
    }
  }
  private newline(): void {
    this.col = 0;
    if (this.row < this.rows - 1) this.row += 1;
    else (this.lines.shift(), this.lines.push(""), (this.scrolled += 1));
  }
  private control(token: string): void {
    const count = Number(token.slice(2, -1)) || 1;
    const code = token.slice(2);
    if (token.endsWith("A")) this.row = Math.max(0, this.row - count);
    else if (code === "K") this.lines[this.row] = this.lines[this.row]!.slice(0, this.col);
    else if (code === "J") this.lines = this.lines.map((line, index) => (index < this.row ? line : index === this.row ? line.slice(0, this.col) : ""));
    else if (code === "2J") this.lines = this.lines.map(() => "");
    else if (code === "H") (this.row = 0), (this.col = 0);
    else if (code === "?25l" || code === "?25h") this.cursorHidden = code === "?25l";
  }
  screen(): string[] {
    return this.lines.map((line) => line.trimEnd());
  }
}

describe("the in-place redraw", () => {
  it("draws each frame over the last one: a longer, then a shorter frame leave no stale lines, and nothing scrolls", async () => {
    const terminal = new FakeTerminal(40, 12);
    terminal.write("$ baton watch F1\n");
    let frames = [["progress 1/3", "a running", "b waiting", "c waiting"], ["progress 2/3", "b running", "c waiting"], ["progress 3/3"]];
    let asked: { width: number; height: number } | undefined;
    const screen = startScreen(terminal, (width, height) => ((asked = { width, height }), frames[0]!), { minIntervalMs: 0, tickMs: 0 });
    expect(asked).toEqual({ width: 39, height: 11 });
    expect(terminal.cursorHidden).toBe(true);
    expect(terminal.screen().slice(0, 5)).toEqual(["$ baton watch F1", "progress 1/3", "a running", "b waiting", "c waiting"]);
    frames = frames.slice(1);
    screen.schedule();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(terminal.screen().slice(0, 5)).toEqual(["$ baton watch F1", "progress 2/3", "b running", "c waiting", ""]);
    frames = frames.slice(1);
    screen.close(["report line"]);
    expect(terminal.screen().slice(0, 4)).toEqual(["$ baton watch F1", "progress 3/3", "report line", ""]);
    expect(terminal.screen().filter((line) => line.startsWith("progress"))).toHaveLength(1);
    expect(terminal.scrolled).toBe(0);
    expect(terminal.cursorHidden).toBe(false);
  });

  it("after a resize redraws from the top of a cleared screen at the new size", async () => {
    const listeners: (() => void)[] = [];
    const terminal = new FakeTerminal(60, 10, listeners);
    const sizes: number[] = [];
    const screen = startScreen(terminal, (width) => (sizes.push(width), ["frame", "x".repeat(width)]), { minIntervalMs: 0, tickMs: 0 });
    terminal.columns = 30;
    for (const listener of listeners) listener();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sizes).toEqual([59, 29]);
    expect(terminal.screen().slice(0, 3)).toEqual(["frame", "x".repeat(29), ""]);
    screen.close();
    expect(listeners).toHaveLength(0);
  });
});
