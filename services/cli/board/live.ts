// The live board `baton watch` draws on a terminal: folds nothing itself (the watch folds the view), keeps each task's
// last progress line, redraws the frame in place, and when the feature ends prints the execution report below it.
import { executionReport } from "../../../shared/client/report.ts";
import type { ExecutionReport } from "../../../shared/client/report-types.ts";
import type { StatusEvent } from "../../../shared/protocol/events.ts";
import type { FeatureView } from "../../../shared/protocol/views.ts";
import { renderBoard } from "./frame.ts";
import { noteRecent, type RecentLines } from "./recent.ts";
import { startScreen, type ScreenOptions, type TerminalOut } from "./screen.ts";

export interface LiveBoard {
  /** After the watch folded `event` into the view: keeps its progress line and asks for a frame. */
  event(event: StatusEvent): void;
  /** A line from the watch (a hint, a skipped event): shown under the board while it runs, printed after it closes. */
  note(line: string): void;
  /**
   * Draws the last frame and gives the terminal back (cursor shown, below the board); with `ended`, prints the
   * feature's execution report under it. Safe to call twice (the second call does nothing).
   */
  close(opts: { ended: boolean }): void;
}

export interface LiveBoardOptions extends ScreenOptions {
  /** The report's lines as printed when the feature ended (e.g. the `baton report` table). */
  renderReport: (report: ExecutionReport) => string;
  /** The clock (default Date.now). */
  now?: () => number;
}

/** Starts drawing the board of `view` (which the caller keeps folding) on the terminal `out`. */
export function startLiveBoard(view: FeatureView, out: TerminalOut, opts: LiveBoardOptions): LiveBoard {
  const now = opts.now ?? Date.now;
  const recent: RecentLines = new Map();
  let notice: string | undefined;
  let closed = false;
  const frame = (width: number, height: number) => {
    const at = now();
    return renderBoard({ view, report: executionReport(view, { now: at }), recent, now: at, width, height, notice });
  };
  const screen = startScreen(out, frame, opts);
  return {
    event(event) {
      noteRecent(recent, event);
      screen.schedule();
    },
    note(line) {
      if (closed) {
        out.write(`${line}\n`);
        return;
      }
      notice = line;
      screen.schedule();
    },
    close({ ended }) {
      if (closed) return;
      closed = true;
      notice = undefined;
      screen.close(ended ? ["", opts.renderReport(executionReport(view, { now: now() }))] : []);
    },
  };
}

/**
 * Whether `baton watch` draws the board: stdout is a terminal that can move its cursor (TERM is not `dumb`) and
 * `--plain` was not given; otherwise it prints plain lines, one per event (CI logs, pipes, files). NO_COLOR only
 * takes the colours away (colors.ts): it is a convention about colour, not about redrawing.
 */
export function boardWanted(out: { isTTY?: boolean | undefined }, env: Readonly<Record<string, string | undefined>>, plain = false): boolean {
  return out.isTTY === true && env.TERM !== "dumb" && !plain;
}
