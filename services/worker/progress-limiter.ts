// Rate-limits an agent's progress steps into task_progress messages (~2 per second per task): steps that arrive
// too soon are merged into the next message (their tools and files kept, the latest text and usage win), so the
// latest usage always gets through. Pure: clock and timers are injected.
import type { AgentProgress } from "./runners/types.ts";
import { realTimers, type Timers } from "./log-batcher.ts";

/** One message's worth of progress: `seq` numbers start at 1 and never repeat within one limiter. */
export interface ProgressStep {
  seq: number;
  tool?: string | undefined;
  files?: string[] | undefined;
  text?: string | undefined;
  usage?: AgentProgress["usage"];
}

export interface ProgressLimiterOptions {
  /** Least time between two messages. */
  minIntervalMs?: number;
  timers?: Timers;
  onStep: (step: ProgressStep) => void;
}

/** The protocol's limits on a task_progress message. */
const MAX_TOOL_CHARS = 100;
const MAX_FILES = 50;
const MAX_FILE_CHARS = 1000;
const MAX_TEXT_CHARS = 500;

export class ProgressLimiter {
  private readonly minIntervalMs: number;
  private readonly timers: Timers;
  private pending: { tools: string[]; files: string[]; text?: string | undefined; usage?: AgentProgress["usage"] } | undefined;
  private lastSent = -Infinity;
  private timer: unknown;
  private seq = 0;
  private closed = false;

  constructor(private readonly options: ProgressLimiterOptions) {
    this.minIntervalMs = options.minIntervalMs ?? 500;
    this.timers = options.timers ?? realTimers;
  }

  /** Takes one step. Never throws; sends at once when the last message is old enough, else merges and waits. Ignored after close. */
  push(progress: AgentProgress): void {
    if (this.closed) return;
    const pending = (this.pending ??= { tools: [], files: [] });
    if (progress.tool && !pending.tools.includes(progress.tool)) pending.tools.push(progress.tool);
    for (const file of progress.files ?? []) if (!pending.files.includes(file)) pending.files.push(file);
    if (progress.text !== undefined) pending.text = progress.text;
    if (progress.usage !== undefined) pending.usage = progress.usage;
    const wait = this.lastSent + this.minIntervalMs - this.timers.now();
    if (wait <= 0) return this.flush();
    this.timer ??= this.timers.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  /** Sends what is pending now. Safe to call twice; nothing is sent after it. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }

  private flush(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    this.lastSent = this.timers.now();
    const step: ProgressStep = { seq: ++this.seq };
    if (pending.tools.length) step.tool = cut(pending.tools.join(", "), MAX_TOOL_CHARS);
    if (pending.files.length) step.files = pending.files.slice(-MAX_FILES).map((file) => cut(file, MAX_FILE_CHARS));
    if (pending.text !== undefined) step.text = cut(pending.text, MAX_TEXT_CHARS);
    if (pending.usage !== undefined) step.usage = pending.usage;
    this.options.onStep(step);
  }
}

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
