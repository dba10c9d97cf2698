// `baton <command>`: the command-line client. `coordinator` and `worker` are routed by bin/baton.mjs.
// Each command's module is imported only when that command runs, so `baton --help` loads this file alone.
import { parseArgs } from "node:util";
import { OPTIONS, UsageError, type CliArgs, type Command } from "./args.ts";
import { red } from "./render.ts";

const HELP = `baton — orchestrates software-implementation work across role workers over NATS JetStream

usage:
  baton up [--config FILE] [--log-dir DIR]     local stack: nats-server (if none answers), coordinator, workers
  baton coordinator [--config FILE]            run a coordinator (run several for redundancy)
  baton worker --role ROLE [--concurrency N] [--config FILE] [--id NAME]
  baton submit FILE|- [--watch] [--timeout S] [--config FILE]
                                               submit a feature request (JSON or YAML); prints its id
  baton watch ID                               replay a feature's history and follow it until it ends
  baton status ID [--json]                     a feature's current state, tasks and timings
  baton ls [--all] [--json]                    features, newest first, with state and progress
  baton workers [--json]                       live workers (from heartbeats)
  baton cancel|pause|resume ID [--reason TEXT] control a running feature

environment: NATS_URL (default nats://127.0.0.1:4222), BATON_PREFIX (default baton), BATON_CONFIG, BATON_LOG_LEVEL
exit codes: submit/watch 0 accepted|completed, 1 failed|cancelled, 2 rejected (every validation error printed)`;

/** Each command's module, loaded on demand (string literals, so the build rewrites them to .js). */
const COMMANDS: Record<string, () => Promise<Command>> = {
  up: () => import("./commands/up.ts"),
  submit: () => import("./commands/submit.ts"),
  watch: () => import("./commands/watch.ts"),
  status: () => import("./commands/status.ts"),
  ls: () => import("./commands/ls.ts"),
  workers: () => import("./commands/workers.ts"),
  cancel: () => import("./commands/control.ts"),
  pause: () => import("./commands/control.ts"),
  resume: () => import("./commands/control.ts"),
};

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
    console.log(HELP);
    return cmd ? 0 : 2;
  }
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: OPTIONS });
  const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!load) throw new UsageError(`unknown command "${cmd}"`);
  const args: CliArgs = { cmd, values, positionals };
  return (await load()).run(args);
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(red(`baton: ${err.message}`));
    if (err.name === "UsageError" || err.name === "TypeError") console.error("run `baton help` for usage");
    process.exit(err.name === "UsageError" ? 2 : 1);
  },
);
