// Process lifecycle helpers: one shutdown hook per process, and close functions safe to call twice.

export interface ShutdownOptions {
  /** Called on a second signal, just before the process exits with 130 (say so; kill what must not outlive it). */
  onForce?: (signal: NodeJS.Signals) => void;
}

/**
 * Registers `fn` for the given signals, once per process. A second signal while shutting down exits at once
 * with code 130 (the user insisted), after `onForce`. `fn`'s resolved value is the exit code. A process started
 * with an IPC channel by a supervisor (`baton up`) also shuts down, as on SIGHUP, when that channel closes:
 * the supervisor died, even by SIGKILL (the kernel closes the socket), so nothing it started outlives it.
 */
export function onShutdown(signals: NodeJS.Signals[], fn: (signal: NodeJS.Signals) => Promise<number>, opts: ShutdownOptions = {}): void {
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      opts.onForce?.(signal);
      process.exit(130);
    }
    started = true;
    fn(signal).then(
      (code) => process.exit(code),
      () => process.exit(1),
    );
  };
  for (const signal of signals) process.on(signal, () => onSignal(signal));
  if (process.channel) {
    // The channel must not keep the process alive; it only tells us when the supervisor is gone.
    process.channel.unref();
    if (!process.connected) onSignal("SIGHUP");
    else process.once("disconnect", () => !started && onSignal("SIGHUP"));
  }
}

/** Wraps a close function so that every call returns the same promise (idempotent close). */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= fn());
}

/** Runs each step in order, each in its own try/catch; returns the errors, never throws. */
export async function steps(list: [string, () => Promise<unknown> | unknown][], onError: (name: string, err: unknown) => void): Promise<void> {
  for (const [name, fn] of list) {
    try {
      await fn();
    } catch (err) {
      onError(name, err);
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
