// Every `baton` help text: the top-level list and each command's usage, flags and exit codes. Plain data and string
// building only, so `baton --help` and `baton <command> --help` load no command module.
import { VIEW_HELP } from "./usage-views.ts";

interface CommandHelp {
  /** One line for the top-level list. */
  summary: string;
  /** The synopsis, without the leading "baton ". */
  usage: string;
  /** A few lines on what the command does. */
  about: string;
  flags: readonly (readonly [flag: string, meaning: string])[];
  exit: string;
}

const CONFIG = ["-c, --config FILE", "the config file (default: $BATON_CONFIG, else ./baton.config.yaml if present)"] as const;
const JSON_FLAG = (what: string) => ["--json", `print ${what} as JSON`] as const;
const NATS = "NATS unreachable";
const USAGE_ERROR = "2 usage error";

/** The commands in the order the top-level help lists them. */
export const HELP = {
  up: {
    summary: "local stack: nats-server (if none answers), a coordinator, the workers of every configured role and an integrator",
    usage: "up [--config FILE] [--log-dir DIR]",
    about: [
      "Runs until Ctrl-C (or SIGTERM), which stops the workers (letting running tasks finish), then the coordinator,",
      "then the nats-server it started. Each process's output goes to its own log file. Besides the configured roles it",
      "starts one worker of role `integrator` (git worktrees, merges, checkpoints, rollbacks), unless `roles:` has one.",
    ].join("\n"),
    flags: [CONFIG, ["--log-dir DIR", "where the processes' logs go (default .baton/logs)"]],
    exit: `0 stopped on request, 1 no NATS server could be had, ${USAGE_ERROR}`,
  },
  init: {
    summary: "scaffold a config, one example agent per role and a git workspace in DIR",
    usage: "init [DIR] [--roles ROLE,ROLE,...] [--force]",
    about: "Writes baton.config.yaml, an example agent per role, an example feature request and a git workspace in DIR\n(default: the current folder), then prints the next commands. Existing files are kept unless --force.",
    flags: [["--roles LIST", "the roles to scaffold, comma-separated (e.g. database,api,backend)"], ["--force", "overwrite files that exist"]],
    exit: `0 done, 1 failed, ${USAGE_ERROR}`,
  },
  submit: {
    summary: "submit a feature request (a JSON or YAML file, - for stdin, or flags: a template, a goal to plan); prints its id",
    usage: "submit [FILE|-] [--title T] [--template NAME --param K=V… --skip STEP…] [--goal TEXT --plan auto] [--approval] [--workspace DIR] [--watch] [--json] …",
    about: [
      "Validates the request locally (every problem is printed), stores it in JetStream and waits until a coordinator",
      "accepts or rejects it. Submitting the same request again is a no-op that prints the same id. A `workspace` that",
      "exists on this machine must be a git repository with a commit (each task is integrated as a commit on a branch).",
      "The request may come from flags instead of FILE (or flags may change FILE's fields): e.g. `baton submit --title",
      '"Notifications" --goal "implement a notification system with real-time updates" --approval --workspace .`.',
      "Templates are expanded by the coordinator. A `--param` given twice (or as `key[]=value`) is a list.",
    ].join("\n"),
    flags: [
      ["--title TEXT", "the feature's title (default: the goal's first line, else the template's name)"],
      ["--workspace DIR", "the git repository it works on (relative to the current folder)"],
      ["--template NAME", "expand a template (api-first, tdd-feature, bugfix, refactor, db-migration, perf, or your own)"],
      ["--param KEY=VALUE", "a template parameter (repeatable; the same KEY again, or KEY[]=VALUE, makes a list)"],
      ["--skip STEP", "leave out a template step (repeatable)"],
      ["--step-role STEP=ROLE", "another role for a template step (repeatable)"],
      ["--goal TEXT", "what to build, in words, for the planner (implies --plan auto)"],
      ["--plan auto", "the planner role plans the tasks from the goal (default goal: the title)"],
      ["--approval", "nothing runs until a person approves the plan (`baton approve ID`)"],
      ["--max-parallel N", "tasks of the feature running at once"],
      ["-w, --watch", "then follow the feature until it ends (as `baton watch`: a live board on a terminal)"],
      ["--plain", "with --watch: one line per event even on a terminal"],
      ["--json", 'print {"featureId","duplicate"} as one JSON line; with --watch, then each status event as one JSON line'],
      ["--timeout S", "how long to wait for a coordinator to accept it (default 30); it runs later anyway"],
      ["--init-git", "make a local workspace that is not a git repository (or has no commit) one: git init, .baton/ excluded, first commit"],
      CONFIG,
    ],
    exit: `0 accepted (with --watch: completed), 1 failed or cancelled (with --watch), or ${NATS},\n  2 invalid or rejected, or a local workspace that is not a git repository with a commit (or a usage error)`,
  },
  watch: {
    summary: "replay a feature's history and follow it until it ends",
    usage: "watch ID [--json] [--plain] [--config FILE]",
    about: "Prints every status event of the feature from its start, then new ones as they come, and exits when the\nfeature ends. Ctrl-C stops watching (the feature goes on).",
    flags: [
      ["--json", "print each status event as one JSON line (NDJSON); messages go to stderr"],
      ["--plain", "one line per event even on a terminal (default there: a live board redrawn in place, then the report)"],
      CONFIG,
    ],
    exit: `0 completed, 1 failed or cancelled (or stopped watching), or ${NATS}, 2 rejected (or a usage error)`,
  },
  status: {
    summary: "a feature's current state, tasks, what each waits for, and timings",
    usage: "status ID [--verbose] [--json] [--config FILE]",
    about: [
      "Asks the coordinators' read model; with none answering, folds the feature's status history instead. A git feature",
      "also shows its integration branch, each integrated task's checkpoint and the handoffs (files git saw change, summary).",
      "A plan awaiting approval is shown as the ordered list you approve, with the commands that approve or reject it;",
      "open questions with the command that answers each; and the progress of each stream.",
    ].join("\n"),
    flags: [["-v, --verbose", "every task's handoff with all its files (default: the handoffs of a few tasks, 10 files each)"], JSON_FLAG("the feature's view"), CONFIG],
    exit: `0 completed, 1 failed or cancelled, or ${NATS}, 2 rejected (or a usage error),\n  3 still going (received, planning, awaiting approval, executing, verifying or paused), 4 no such feature`,
  },
  ...VIEW_HELP,
  ls: {
    summary: "features, newest first, with their state and progress",
    usage: "ls [--all] [--json] [--config FILE]",
    about: "Lists the newest 50 features (--all: every one) from the coordinators' read model.",
    flags: [["--all", "every feature, not only the newest 50"], JSON_FLAG("an array of {featureId, state, title, submittedAt, finishedAt?, tasks, completed}"), CONFIG],
    exit: `0 listed, 1 NATS unreachable or no coordinator answered, ${USAGE_ERROR}`,
  },
  workers: {
    summary: "live coordinators and workers (from their heartbeats), each busy worker's task",
    usage: "workers [--json] [--config FILE]",
    about: "Lists the live coordinators (with their config fingerprints) and workers, from their heartbeats.",
    flags: [JSON_FLAG('{"coordinators": [...], "workers": [...]}'), CONFIG],
    exit: `0 listed, 1 ${NATS}, ${USAGE_ERROR}`,
  },
  doctor: {
    summary: "check NATS, JetStream, coordinators and their configs, and a worker for every role",
    usage: "doctor [--config FILE] [--json]",
    about: [
      "Checks, one line each: NATS answers, JetStream is enabled, Baton's streams exist, coordinators are live and agree",
      "on the config (and with FILE's), every configured role has a live worker, an integrator worker is live, git 2.25 or",
      "later is installed, the agent CLIs answer. Each problem names its remedy.",
    ].join("\n"),
    flags: [CONFIG, JSON_FLAG("the checks")],
    exit: `0 healthy, 1 a problem was found (or ${NATS}), ${USAGE_ERROR}`,
  },
  cancel: {
    summary: "cancel a feature: nothing more starts, running tasks are killed",
    usage: "cancel ID [--reason TEXT] [--timeout S] [--config FILE]",
    about: "Asks the coordinators to cancel the feature and waits until one did.",
    flags: [["--reason TEXT", "recorded with the cancellation and shown by status"], ["--timeout S", "how long to wait for the answer (default 30)"], CONFIG],
    exit: `0 cancelled (or already cancelled), 1 refused or no answer, or ${NATS}, ${USAGE_ERROR}`,
  },
  pause: {
    summary: "pause a feature: running tasks finish, no new task starts",
    usage: "pause ID [--reason TEXT] [--timeout S] [--config FILE]",
    about: "Asks the coordinators to pause the feature and waits until one did. `baton resume ID` goes on.",
    flags: [["--reason TEXT", "recorded with the pause and shown by status"], ["--timeout S", "how long to wait for the answer (default 30)"], CONFIG],
    exit: `0 paused (or already paused), 1 refused or no answer, or ${NATS}, ${USAGE_ERROR}`,
  },
  resume: {
    summary: "resume a paused feature",
    usage: "resume ID [--reason TEXT] [--timeout S] [--config FILE]",
    about: "Asks the coordinators to resume the feature and waits until one did. A feature paused because a budget\nwas used up is refused while a limit is still reached: raise it first with `baton budget ID`.",
    flags: [["--reason TEXT", "recorded with the resumption"], ["--timeout S", "how long to wait for the answer (default 30)"], CONFIG],
    exit: `0 resumed (or not paused), 1 refused or no answer, or ${NATS}, ${USAGE_ERROR}`,
  },
  budget: {
    summary: "set a feature's (or one task's) budget limits: tokens, dollars, wall time",
    usage: "budget ID [--tokens N] [--cost-usd X] [--wall-seconds S] [--task TASK] [--timeout S] [--config FILE]",
    about: [
      "Sets new limits on the feature's budget (with --task, on that task's own) and waits until a coordinator applied",
      "them; the limits named replace the old ones, the others stay. Reaching a limit pauses the feature and stops the",
      "tasks it concerns; after raising it, `baton resume ID` goes on. docs/budgets.md tells what is counted.",
    ].join("\n"),
    flags: [
      ["--tokens N", "input + output tokens, as the agents report them"],
      ["--cost-usd X", "dollars, as the agents report them"],
      ["--wall-seconds S", "wall time from the feature's acceptance (a task's: from its first start)"],
      ["--task TASK", "set this task's own budget instead of the feature's"],
      ["--timeout S", "how long to wait for the answer (default 30)"],
      CONFIG,
    ],
    exit: `0 applied, 1 refused or no answer, or ${NATS}, ${USAGE_ERROR}`,
  },
  rollback: {
    summary: "move a git feature's integration branch back to a checkpoint; later tasks run again (or are cancelled)",
    usage: "rollback ID [--to COMMIT|TASK|base] [--cancel] [--reason TEXT] [--json] [--timeout S] [--config FILE]",
    about: [
      "Asks the coordinators to move the feature's integration branch back to a checkpoint and waits until one did: the",
      "worktrees and branches of the tasks after it are removed, those tasks are pending again (with --cancel:",
      "cancelled) and the feature pauses (`baton resume` goes on). Nothing may be under way: pause the feature and let",
      "running tasks finish first. Changes that did not come from the feature are never destroyed: then the rollback is",
      "refused, nothing changes, and the files are listed.",
    ].join("\n"),
    flags: [
      ["--to WHERE", "a checkpoint commit (7-64 hex digits), the task whose checkpoint it is, or base (the feature's start; the default)"],
      ["--cancel", "cancel the rolled-back tasks instead of running them again"],
      ["--reason TEXT", "recorded with the rollback and shown by status"],
      ["--json", 'print one JSON line: {"featureId","outcome"} with the feature.rolled_back `event` or the `error`'],
      ["--timeout S", "how long to wait for the answer (default 30)"],
      CONFIG,
    ],
    exit: `0 rolled back, 1 refused (ROLLBACK_REFUSED, INVALID_STATE) or no answer, or ${NATS}, ${USAGE_ERROR}`,
  },
  approve: {
    summary: "approve a feature's plan that awaits approval: its tasks start",
    usage: "approve ID [--by NAME] [--timeout S] [--config FILE]",
    about: "Approves the plan `baton status ID` shows (state awaitingApproval) and waits until a coordinator applied it;\nprints who approved it and when (recorded in the feature's history).",
    flags: [["--by NAME", "who approves (default: your user name)"], ["--timeout S", "how long to wait for the answer (default 30)"], CONFIG],
    exit: `0 approved, 1 refused (e.g. INVALID_STATE: not awaiting approval) or no answer, or ${NATS}, ${USAGE_ERROR}`,
  },
  reject: {
    summary: "reject a feature's plan that awaits approval: the feature is cancelled",
    usage: "reject ID --reason TEXT [--by NAME] [--timeout S] [--config FILE]",
    about: "Rejects the plan awaiting approval and waits until a coordinator applied it; the feature is cancelled, and the\nreason is recorded with who rejected it. Submit a changed request to try again.",
    flags: [["--reason TEXT", "why (required)"], ["--by NAME", "who rejects (default: your user name)"], ["--timeout S", "how long to wait for the answer (default 30)"], CONFIG],
    exit: `0 rejected, 1 refused (e.g. INVALID_STATE) or no answer, or ${NATS}, ${USAGE_ERROR}`,
  },
  questions: {
    summary: "the questions features ask a person, newest first, with the command that answers each",
    usage: "questions [ID] [--all] [--json] [--config FILE]",
    about: "Lists the open (and escalated) questions of every feature under way, or of feature ID: the task that asks, the\nquestion, its options, its default and when it times out, and the `baton answer` command.",
    flags: [["--all", "the answered questions too"], JSON_FLAG("an array of questions (each with featureId, and `command` while open)"), CONFIG],
    exit: `0 listed, 1 no such feature, no coordinator answered, or ${NATS}, ${USAGE_ERROR}`,
  },
  answer: {
    summary: "answer a feature's question: the task that asked goes on with the answer",
    usage: 'answer ID QUESTION "ANSWER"|- [--by NAME] [--timeout S] [--config FILE]',
    about: [
      "Answers question QUESTION (q1, q2, …: `baton questions` lists them) and waits until a coordinator applied it.",
      "With options, ANSWER is one of them (case does not matter) or its number: `baton answer ID q1 2` is the second",
      "option. - reads the answer from stdin. The same answer again is a no-op; a different one after it was answered is",
      "refused (ALREADY_ANSWERED), as are an unknown question (UNKNOWN_QUESTION) and a text no option matches when the",
      "question takes none (INVALID_ANSWER).",
    ].join("\n"),
    flags: [["--by NAME", "who answers (default: your user name)"], ["--timeout S", "how long to wait for the answer (default 30)"], CONFIG],
    exit: `0 answered (or already with this answer), 1 refused or no answer, or ${NATS}, ${USAGE_ERROR}`,
  },
  roles: {
    summary: "the role files loaded for a workspace: each role, where it came from, what it overrides, and invalid files",
    usage: "roles [--workspace DIR] [--json] [--config FILE]",
    about: [
      "Loads the role catalogue as workers and the planner do: Baton's roles/, then the config's planning.roles folders,",
      "then the workspace's .claude/agents/ and .baton/roles/ (a later file replaces a role of the same name). Lists each",
      "role with its origin, file, description, agent, model and tools, then every file that did not load as",
      "file:line: field: message. A role file's agent and maxConcurrency are shown only: the worker's config decides them.",
    ].join("\n"),
    flags: [["--workspace DIR", "the workspace whose role files are loaded (default: the config's workspace, else the current folder)"], JSON_FLAG("{ workspace, roles, problems }"), CONFIG],
    exit: `0 listed (also when some files have problems), 1 could not run (e.g. an invalid config), ${USAGE_ERROR}`,
  },
  coordinator: {
    summary: "run a coordinator (run several for redundancy)",
    usage: "coordinator [--config FILE]",
    about: "Accepts feature requests, dispatches their tasks to role workers and judges the results; runs until SIGINT or\nSIGTERM. Logs are JSON lines on stdout (BATON_LOG_LEVEL).",
    flags: [CONFIG, ["--metrics-port N", "serve Prometheus metrics on port N at GET /metrics (0: any free port; default: the config's metrics.coordinatorPort, else none)"]],
    exit: `0 stopped on request, 1 failed (bad config, NATS unreachable), ${USAGE_ERROR}`,
  },
  worker: {
    summary: "run a worker of one role",
    usage: "worker --role ROLE [--concurrency N] [--config FILE] [--id NAME]",
    about: "Takes ROLE's tasks from its queue and runs each with the executor the config gives the role; runs until SIGINT\nor SIGTERM, which lets running tasks finish (within the drain grace). Logs are JSON lines on stdout.",
    flags: [
      ["-r, --role ROLE", "the role whose tasks it runs (required)"],
      ["-c, --concurrency N", "tasks run at once, 1-256 (default: the role's `concurrency`, else 1)"],
      ["--config FILE", "the config file (default: $BATON_CONFIG, else ./baton.config.yaml if present)"],
      ["--id NAME", "the worker's id (default ROLE-HOST-PID)"],
      ["--metrics-port N", "serve Prometheus metrics on port N at GET /metrics (0: any free port; default: the config's metrics.workerPort, else none)"],
    ],
    exit: `0 stopped on request, 1 failed (bad config, NATS unreachable), ${USAGE_ERROR}`,
  },
} as const satisfies Record<string, CommandHelp>;

export type HelpTopic = keyof typeof HELP;

export const isHelpTopic = (name: string): name is HelpTopic => Object.hasOwn(HELP, name);

const ENVIRONMENT = "environment: NATS_URL (default nats://127.0.0.1:4222), BATON_PREFIX (default baton), BATON_CONFIG, BATON_LOG_LEVEL, NO_COLOR";

/** `baton --help`: one line per command, then the environment and where exit codes are described. */
export function topHelp(): string {
  const width = Math.max(...Object.keys(HELP).map((name) => name.length)) + 2;
  return [
    "baton — orchestrates software-implementation work across role workers over NATS JetStream",
    "",
    "usage: baton <command> [arguments] [flags]",
    "",
    "commands:",
    ...Object.entries(HELP).map(([name, help]) => `  ${name.padEnd(width)}${help.summary}`),
    "",
    "  baton <command> --help (or baton help <command>) shows a command's flags and exit codes; baton --version its version.",
    "",
    ENVIRONMENT,
    "exit codes: 0 success, 1 failure (a feature failed, NATS unreachable, ...), 2 usage error or rejected request;",
    "  status adds 3 for a feature still running.",
  ].join("\n");
}

/** `baton <topic> --help`: the synopsis, what it does, its flags (always with -h, --help) and its exit codes. */
export function commandHelp(topic: HelpTopic): string {
  const help: CommandHelp = HELP[topic];
  const flags = [...help.flags, ["-h, --help", "this help"] as const];
  const width = Math.max(...flags.map(([flag]) => flag.length)) + 2;
  return [
    `usage: baton ${help.usage}`,
    "",
    help.about,
    "",
    "flags:",
    ...flags.map(([flag, meaning]) => `  ${flag.padEnd(width)}${meaning}`),
    "",
    `exit codes: ${help.exit}`,
  ].join("\n");
}

/** The short reminder printed after a usage error. */
export function usageLine(topic: HelpTopic): string {
  return `usage: baton ${HELP[topic].usage}\n(baton ${topic} --help shows every flag)`;
}
