// `baton coordinator [--config FILE]`: wires config → NATS → Coordinator → shutdown hook.
import { parseArgs } from "node:util";
import { loadConfig } from "../../shared/config.ts";
import { createLogger } from "../../shared/logging.ts";
import { connectNats } from "../../shared/nats.ts";
import { onShutdown } from "../../shared/process.ts";
import { argsErrorMessage } from "../../shared/cli-args.ts";
import { commandHelp, usageLine } from "../../shared/usage.ts";
import { Coordinator } from "./coordinator.ts";
import type { FaultPoint } from "./runtime/apply-loop.ts";

let log = createLogger({ name: "coordinator" });


/** The command line: prints the usage and exits 0 for --help, 2 (with the usage, no stack trace) when it is wrong. */
function parseCli(argv: string[]): { config?: string | undefined } {
  const options = { config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true });
  } catch (err) {
    process.stderr.write(`baton coordinator: ${argsErrorMessage(err as Error, Object.keys(options))}\n${usageLine("coordinator")}\n`);
    process.exit(2);
  }
  if (parsed.values.help) {
    process.stdout.write(`${commandHelp("coordinator")}\n`);
    process.exit(0);
  }
  return { config: parsed.values.config };
}

async function main(): Promise<void> {
  const { config: file } = parseCli(process.argv.slice(3));
  const config = loadConfig({ file });
  log = createLogger({ name: "coordinator", level: config.logLevel });
  // Registered before connecting: a signal (or `baton up` going away) while NATS is still awaited stops the process too.
  let coordinator: Coordinator | undefined;
  onShutdown(["SIGINT", "SIGTERM"], async (signal) => {
    log.info({ signal }, "shutting down");
    await coordinator?.close();
    return 0;
  });
  const nc = await connectNats({ url: config.natsUrl, name: "baton-coordinator", persistent: true, log });
  const faults = config.faults;
  const fault = Object.keys(faults).length
    ? (point: FaultPoint) => {
        if (Math.random() < (faults[point] ?? 0)) {
          log.warn({ point }, "fault injection: SIGKILL");
          process.kill(process.pid, "SIGKILL");
        }
      }
    : undefined;
  if (fault) log.warn({ faults }, "fault injection enabled (BATON_FAULTS): this coordinator will kill itself at random");
  coordinator = new Coordinator({ nc, config, log, fault });
  await coordinator.start();
}

main().catch((e) => {
  log.fatal(e);
  process.exit(1);
});
