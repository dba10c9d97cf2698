// Redraws a block of lines in place on a terminal (ANSI cursor moves, no alternate screen): at most one frame per
// `minIntervalMs`, again every `tickMs` (clocks move on) and on a resize; the cursor is hidden while it draws.

/** The part of a TTY write stream the screen uses (process.stdout on a terminal). */
export interface TerminalOut {
  columns?: number | undefined;
  rows?: number | undefined;
  write(chunk: string): boolean;
  on(event: "resize", listener: () => void): unknown;
  off(event: "resize", listener: () => void): unknown;
}

export interface ScreenOptions {
  /** Least time between two frames (default 100 ms: ≤ 10 frames a second). */
  minIntervalMs?: number;
  /** A frame at least this often even when nothing was scheduled (default 1000 ms; 0 = never). */
  tickMs?: number;
}

export interface Screen {
  /** Asks for a frame: drawn at once if the last one is old enough, else once the interval has passed. */
  schedule(): void;
  /**
   * Draws a last frame, leaves the cursor on the line below it (shown again), stops the timers and the resize
   * listener, then writes `after` (one line each). Safe to call twice: the second call only writes `after`.
   */
  close(after?: readonly string[]): void;
}

const ESC = "\x1b[";
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;

/**
 * Starts drawing `frame(width, height)` on `out`. The frame is asked for one column less than the terminal (a
 * line that fills the last column leaves the cursor in a "pending wrap" some terminals then clear) and one line
 * less (the line the cursor rests on), so a frame never wraps nor scrolls the board; each frame moves up over the
 * last one and clears what it no longer covers. After a resize the screen is cleared and the frame drawn from the
 * top (a terminal may have reflowed the old lines). If the process exits without `close`, the cursor is shown again.
 */
export function startScreen(out: TerminalOut, frame: (width: number, height: number) => string[], opts: ScreenOptions = {}): Screen {
  const minInterval = opts.minIntervalMs ?? 100;
  let drawn = 0;
  let lastAt = 0;
  let resized = false;
  let closed = false;
  let pending: NodeJS.Timeout | undefined;
  const restore = () => out.write(SHOW_CURSOR);
  const draw = () => {
    clearTimeout(pending);
    pending = undefined;
    lastAt = Date.now();
    const width = Math.max(10, (out.columns ?? 80) - 1);
    const height = Math.max(3, (out.rows ?? 24) - 1);
    const lines = frame(width, height);
    let chunk = HIDE_CURSOR;
    if (resized) chunk += `${ESC}H${ESC}2J`;
    else if (drawn > 1) chunk += `\r${ESC}${drawn - 1}A`;
    else chunk += "\r";
    resized = false;
    chunk += lines.map((line) => `${line}${ESC}0m${ESC}K`).join("\n") + `${ESC}J`;
    out.write(chunk);
    drawn = Math.max(1, lines.length);
  };
  const schedule = () => {
    if (closed || pending) return;
    pending = setTimeout(draw, Math.max(0, lastAt + minInterval - Date.now()));
  };
  const onResize = () => {
    resized = true;
    schedule();
  };
  const ticker = opts.tickMs === 0 ? undefined : setInterval(schedule, opts.tickMs ?? 1000);
  ticker?.unref();
  out.on("resize", onResize);
  process.once("exit", restore);
  draw();
  return {
    schedule,
    close(after = []) {
      if (!closed) {
        closed = true;
        clearInterval(ticker);
        out.off("resize", onResize);
        process.off("exit", restore);
        draw();
        out.write(`\n${SHOW_CURSOR}`);
      }
      for (const line of after) out.write(`${line}\n`);
    },
  };
}
