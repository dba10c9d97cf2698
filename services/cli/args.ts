// The command line as every command receives it: each command's own flags (parsed strictly, so a flag of another
// command is an error), the positionals, and the usage errors that make `baton` exit 2.
import { parseArgs } from "node:util";
import { argsErrorMessage } from "../../shared/cli-args.ts";
import { isToken } from "../../shared/subjects.ts";

/** Every flag `baton` knows; each command accepts only those its entry in COMMAND_SPECS names. */
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
  /** `budget`: the new limits, and the task whose own budget they are. */
  tokens: { type: "string" },
  "cost-usd": { type: "string" },
  "wall-seconds": { type: "string" },
  task: { type: "string" },
  // The switches below have no default: they are absent unless given (so the other commands' parsed values stay as they were).
  /** `submit`: make a local workspace that is not a git repository (or has no commit) one first. */
  "init-git": { type: "boolean" },
  /** `status`: every task's handoff (checkpoint, files git saw change, summary). */
  verbose: { type: "boolean", short: "v" },
  /** `rollback`: the checkpoint to go back to (a commit, a task id or "base"), and whether the tasks after it are cancelled. */
  to: { type: "string" },
  cancel: { type: "boolean" },
  /** `approve`, `reject`, `answer`: who decides (default: the local user's name). */
  by: { type: "string" },
  /** `submit` without a FILE (or over its fields): the request from flags (docs/planning.md). */
  title: { type: "string" },
  workspace: { type: "string" },
  template: { type: "string" },
  /** `--param key=value`, repeatable; the same key twice (or `key[]=value`) makes a list. */
  param: { type: "string", multiple: true },
  skip: { type: "string", multiple: true },
  /** `--step-role STEP=ROLE`, repeatable: another role for a template step. */
  "step-role": { type: "string", multiple: true },
  goal: { type: "string" },
  plan: { type: "string" },
  approval: { type: "boolean" },
  "max-parallel": { type: "string" },
  /** `watch`, `submit --watch`: plain lines even on a terminal (no live board). */
  plain: { type: "boolean" },
  /** `report`: Markdown instead of the terminal table. */
  markdown: { type: "boolean" },
} as const;

export type FlagName = keyof typeof OPTIONS;

/** What each CLI command accepts: its flags and at most how many positionals. */
export const COMMAND_SPECS = {
  up: { flags: ["config", "log-dir"], positionals: 0 },
  submit: {
    flags: ["config", "watch", "json", "plain", "timeout", "init-git", "title", "workspace", "template", "param", "skip", "step-role", "goal", "plan", "approval", "max-parallel"],
    positionals: 1,
  },
  watch: { flags: ["config", "json", "plain"], positionals: 1 },
  status: { flags: ["config", "json", "verbose"], positionals: 1 },
  report: { flags: ["config", "json", "markdown"], positionals: 1 },
  ls: { flags: ["config", "all", "json"], positionals: 0 },
  workers: { flags: ["config", "json"], positionals: 0 },
  doctor: { flags: ["config", "json"], positionals: 0 },
  init: { flags: ["roles", "force"], positionals: 1 },
  cancel: { flags: ["config", "reason", "timeout"], positionals: 1 },
  pause: { flags: ["config", "reason", "timeout"], positionals: 1 },
  resume: { flags: ["config", "reason", "timeout"], positionals: 1 },
  budget: { flags: ["config", "tokens", "cost-usd", "wall-seconds", "task", "timeout"], positionals: 1 },
  rollback: { flags: ["config", "to", "cancel", "reason", "json", "timeout"], positionals: 1 },
  approve: { flags: ["config", "by", "timeout"], positionals: 1 },
  reject: { flags: ["config", "reason", "by", "timeout"], positionals: 1 },
  questions: { flags: ["config", "all", "json"], positionals: 1 },
  answer: { flags: ["config", "by", "timeout"], positionals: 3 },
  roles: { flags: ["config", "json", "workspace"], positionals: 0 },
} as const satisfies Record<string, { flags: readonly FlagName[]; positionals: number }>;

export type CliCommand = keyof typeof COMMAND_SPECS;

export const isCliCommand = (name: string): name is CliCommand => Object.hasOwn(COMMAND_SPECS, name);

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
    tokens?: string | undefined;
    "cost-usd"?: string | undefined;
    "wall-seconds"?: string | undefined;
    task?: string | undefined;
    "init-git"?: boolean | undefined;
    verbose?: boolean | undefined;
    to?: string | undefined;
    cancel?: boolean | undefined;
    by?: string | undefined;
    title?: string | undefined;
    workspace?: string | undefined;
    template?: string | undefined;
    param?: string[] | undefined;
    skip?: string[] | undefined;
    "step-role"?: string[] | undefined;
    goal?: string | undefined;
    plan?: string | undefined;
    approval?: boolean | undefined;
    "max-parallel"?: string | undefined;
    plain?: boolean | undefined;
    markdown?: boolean | undefined;
  };
  positionals: string[];
}

/** A command module: `run` resolves with the process's exit code. */
export interface Command {
  run(args: CliArgs): Promise<number>;
}

/** Wrong usage: printed with the command's usage; exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** True when `--help` or `-h` comes before a `--` (then nothing else on the line matters). */
export const asksForHelp = (argv: readonly string[]): boolean => {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
};

/**
 * Parses `argv` with the flags of `cmd` only. Throws UsageError for an unknown flag (naming the nearest one the
 * command takes), a flag without its value, a value given to a switch, or more positionals than the command takes.
 */
export function parseCommand(cmd: CliCommand, argv: string[]): CliArgs {
  const spec = COMMAND_SPECS[cmd];
  const options = Object.fromEntries(spec.flags.map((flag) => [flag, OPTIONS[flag]]));
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const another = /^Unknown option '--([^'=]+)/.exec((err as Error).message)?.[1];
    if (another && Object.hasOwn(OPTIONS, another)) throw new UsageError(`${cmd} does not take --${another}`);
    throw new UsageError(argsErrorMessage(err as Error, spec.flags));
  }
  const { positionals } = parsed;
  if (positionals.length > spec.positionals) {
    const extra = positionals.slice(spec.positionals).map((arg) => JSON.stringify(arg)).join(" ");
    throw new UsageError(`unexpected argument ${extra} (${cmd} takes ${POSITIONAL_WORDS[spec.positionals]}${cmd === "answer" ? `: quote the answer, e.g. "use Postgres"` : ""})`);
  }
  const defaults = { watch: false, json: false, timeout: "30", all: false, force: false };
  return { cmd, values: { ...defaults, ...parsed.values } as CliArgs["values"], positionals };
}

const POSITIONAL_WORDS: Record<number, string> = { 0: "none", 1: "one", 2: "two", 3: "three" };

/** The first positional as a feature id; throws UsageError when it is missing or not an id. */
export function featureIdArg(args: CliArgs): string {
  const id = args.positionals[0];
  if (!id) throw new UsageError("missing the feature id");
  if (!isToken(id)) throw new UsageError(`${JSON.stringify(id)} is not a feature id ([A-Za-z0-9_-]{1,64})`);
  return id;
}

/** `--timeout S` in seconds (default and fallback 30). */
export function timeoutSeconds(args: CliArgs): number {
  return Number(args.values.timeout) || 30;
}
