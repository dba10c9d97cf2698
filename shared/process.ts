// Process lifecycle helpers: one shutdown hook per process, and close functions safe to call twice.

/**
 * Registers `fn` for the given signals, once per process. A second signal while shutting down
 * exits at once with code 130 (the user insisted). `fn`'s resolved value is the exit code.
 */
export function onShutdown(signals: NodeJS.Signals[], fn: (signal: NodeJS.Signals) => Promise<number>): void {
  let started = false;
  for (const signal of signals) {
    process.on(signal, () => {
      if (started) process.exit(130);
      started = true;
      fn(signal).then(
        (code) => process.exit(code),
        () => process.exit(1),
      );
    });
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
