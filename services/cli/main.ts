// `baton <command>`: the command-line client. `coordinator` and `worker` are routed by bin/baton.mjs.
// Each command's module is imported only when that command runs, so `baton --help` loads this file, the flags and the help texts alone.
import { readFileSync } from "node:fs";
import { nearest } from "../../shared/protocol/suggest.ts";
import { asksForHelp, isCliCommand, parseCommand, UsageError, type CliCommand, type Command } from "./args.ts";
import { red } from "./colors.ts";
import { commandHelp, HELP, isHelpTopic, topHelp, usageLine } from "../../shared/usage.ts";

/** Each command's module, loaded on demand (string literals, so the build rewrites them to .js). */
const COMMANDS: Record<CliCommand, () => Promise<Command>> = {
  up: () => import("./commands/up.ts"),
  init: () => import("./commands/init.ts"),
  submit: () => import("./commands/submit.ts"),
  watch: () => import("./commands/watch.ts"),
  status: () => import("./commands/status.ts"),
  report: () => import("./commands/report.ts"),
  ls: () => import("./commands/ls.ts"),
  workers: () => import("./commands/workers.ts"),
  doctor: () => import("./commands/doctor.ts"),
  cancel: () => import("./commands/control.ts"),
  pause: () => import("./commands/control.ts"),
  resume: () => import("./commands/control.ts"),
  budget: () => import("./commands/budget.ts"),
  rollback: () => import("./commands/rollback.ts"),
  approve: () => import("./commands/control.ts"),
  reject: () => import("./commands/control.ts"),
  questions: () => import("./commands/questions.ts"),
  answer: () => import("./commands/answer.ts"),
  roles: () => import("./commands/roles.ts"),
};

/** The version in the package.json nearest above this module (the sources' or, bundled, dist/cli.cjs's). */
function packageVersion(): string {
  for (let dir = new URL(".", import.meta.url); ; dir = new URL("..", dir)) {
    try {
      return String(JSON.parse(readFileSync(new URL("package.json", dir), "utf8")).version);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (dir.pathname === "/") throw new Error("cannot find Baton's package.json");
  }
}

/** A name that is not a command, with the nearest one. */
function unknownCommand(name: string): UsageError {
  const near = nearest(name, Object.keys(HELP));
  return new UsageError(`unknown command "${name}"${near ? `; did you mean ${near}?` : ""}`);
}

async function main(cmd: string | undefined, rest: string[]): Promise<number> {
  if (cmd === undefined) {
    console.error(topHelp());
    return 2;
  }
  if (cmd === "--help" || cmd === "-h" || (cmd === "help" && !rest.length)) {
    console.log(topHelp());
    return 0;
  }
  if (cmd === "help") {
    if (!isHelpTopic(rest[0]!)) throw unknownCommand(rest[0]!);
    console.log(commandHelp(rest[0]));
    return 0;
  }
  if (cmd === "--version" || cmd === "-V" || cmd === "version") {
    console.log(packageVersion());
    return 0;
  }
  if (cmd.startsWith("-")) {
    const near = nearest(cmd.replace(/^-+/, ""), ["help", "version"]);
    throw new UsageError(`unknown flag ${cmd}${near ? `; did you mean --${near}?` : " (a command's flags come after it: baton <command> [flags])"}`);
  }
  if (!isCliCommand(cmd)) throw unknownCommand(cmd);
  if (asksForHelp(rest)) {
    console.log(commandHelp(cmd));
    return 0;
  }
  const args = parseCommand(cmd, rest);
  return (await COMMANDS[cmd]()).run(args);
}

const [cmd, ...rest] = process.argv.slice(2);
main(cmd, rest).then(
  (code) => process.exit(code),
  (err: Error) => {
    const usage = err.name === "UsageError";
    const inCommand = usage && cmd !== undefined && isCliCommand(cmd);
    console.error(red(`baton${inCommand ? ` ${cmd}` : ""}: ${err.message}`));
    if (inCommand) console.error(usageLine(cmd));
    else if (usage) console.error("run `baton help` for the commands");
    process.exit(usage ? 2 : 1);
  },
);
