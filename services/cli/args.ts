// The command line as every command receives it: the flags (one table for all commands), the positionals,
// and the usage errors that make `baton` exit 2.
import { isToken } from "../../shared/subjects.ts";

/** Every flag `baton` knows (parsed strictly: an unknown flag is an error). */
export const OPTIONS = {
  config: { type: "string", short: "c" },
  watch: { type: "boolean", short: "w", default: false },
  json: { type: "boolean", default: false },
  timeout: { type: "string", default: "30" },
  "log-dir": { type: "string" },
  reason: { type: "string" },
  all: { type: "boolean", default: false },
  /** `init`: the roles to scaffold (comma-separated). */
  roles: { type: "string" },
  /** `init`: overwrite files that exist. */
  force: { type: "boolean", default: false },
} as const;

export interface CliArgs {
  cmd: string;
  values: {
    config?: string | undefined;
    watch: boolean;
    json: boolean;
    timeout: string;
    "log-dir"?: string | undefined;
    reason?: string | undefined;
    all: boolean;
    roles?: string | undefined;
    force: boolean;
  };
  positionals: string[];
}

/** A command module: `run` resolves with the process's exit code. */
export interface Command {
  run(args: CliArgs): Promise<number>;
}

/** Wrong usage: printed with a pointer to `baton help`; exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The first positional as a feature id; throws UsageError when it is missing or not an id. */
export function featureIdArg(args: CliArgs): string {
  const id = args.positionals[0];
  if (!id || !isToken(id)) throw new UsageError(`${args.cmd} needs a feature id ([A-Za-z0-9_-]{1,64})`);
  return id;
}

/** `--timeout S` in seconds (default and fallback 30). */
export function timeoutSeconds(args: CliArgs): number {
  return Number(args.values.timeout) || 30;
}
