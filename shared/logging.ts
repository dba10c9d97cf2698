// Structured logging: one pino root per process (JSON to stderr), child loggers per feature/task.
import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Creates the process's root logger. Level from options (config), default info. `rewrite`, when given, sees every
 * serialised line (JSON) before it is written and returns what is written instead (the worker redacts secrets there).
 */
export function createLogger(opts: { name: string; level?: string | undefined; rewrite?: ((line: string) => string) | undefined }): Logger {
  const hooks = opts.rewrite ? { hooks: { streamWrite: opts.rewrite } } : {};
  return pino({ name: opts.name, level: opts.level ?? "info", base: { pid: process.pid, proc: opts.name }, ...hooks }, pino.destination(2));
}

/** A logger that discards everything (library default). */
export const silentLogger: Logger = pino({ level: "silent" });
