// `baton ui [--port N] [--host ADDR] [--config FILE]`: wires config → NATS → the dashboard's HTTP server → shutdown hook.
import { parseArgs } from "node:util";
import { argsErrorMessage } from "../../shared/cli-args.ts";
import { loadConfig } from "../../shared/config.ts";
import { createLogger } from "../../shared/logging.ts";
import { connectNats, type NatsConnection } from "../../shared/nats.ts";
import { onShutdown, steps } from "../../shared/process.ts";
import { names } from "../../shared/subjects.ts";
import { commandHelp, usageLine } from "../../shared/usage.ts";
import { startUiServer, type UiServer } from "./server.ts";
import { refusal, serveSettings, UiUsageError } from "./settings.ts";
import { loadStaticFiles, publicDir } from "./static.ts";

let log = createLogger({ name: "ui" });

/** How long a button's action waits for a coordinator to apply it. */
const ACTION_WAIT_MS = 20_000;

function usageExit(problem: string): never {
  process.stderr.write(`baton ui: ${problem}\n${usageLine("ui")}\n`);
  process.exit(2);
}

/** The command line: prints the usage and exits 0 for --help, 2 (with the usage, no stack trace) when it is wrong. */
function parseCli(argv: string[]): { config?: string | undefined; port?: string | undefined; host?: string | undefined } {
  const options = { port: { type: "string", short: "p" }, host: { type: "string" }, config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true });
  } catch (err) {
    usageExit(argsErrorMessage(err as Error, Object.keys(options)));
  }
  if (parsed.values.help) {
    process.stdout.write(`${commandHelp("ui")}\n`);
    process.exit(0);
  }
  return { config: parsed.values.config, port: parsed.values.port, host: parsed.values.host };
}

async function main(): Promise<void> {
  const flags = parseCli(process.argv.slice(3));
  const config = loadConfig({ file: flags.config });
  log = createLogger({ name: "ui", level: config.logLevel });
  let settings;
  try {
    settings = serveSettings(config.ui, flags);
  } catch (err) {
    if (err instanceof UiUsageError) usageExit(err.message);
    throw err;
  }
  const refused = refusal(settings);
  if (refused) {
    process.stderr.write(`baton ui: ${refused}\n`);
    process.exit(1);
  }
  let nc: NatsConnection | undefined;
  let server: UiServer | undefined;
  onShutdown(["SIGINT", "SIGTERM"], async (signal) => {
    log.info({ signal }, "shutting down");
    await steps([["stop serving", () => server?.close()], ["drain NATS", () => nc?.drain()]], (step, err) => log.warn({ step, err: (err as Error).message }, "shutdown step failed"));
    return 0;
  });
  const files = loadStaticFiles(publicDir());
  nc = await connectNats({ url: config.natsUrl, name: "baton-ui", persistent: true, log });
  try {
    server = await startUiServer({ nc, names: names(config.prefix), log, actionWaitMs: ACTION_WAIT_MS, files, ...settings });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "EADDRINUSE" ? `port ${settings.port} on ${settings.host} is taken (--port N picks another; 0 = any free one)` : (err as Error).message;
    process.stderr.write(`baton ui: cannot serve: ${why}\n`);
    await nc.close();
    process.exit(1);
  }
  log.info({ url: server.url, host: settings.host, token: Boolean(settings.token) }, "dashboard ready");
  process.stdout.write(`dashboard: ${server.url}${settings.token ? " (token required: open it once with ?token=…)" : ""}\n`);
}

main().catch((err) => {
  log.fatal(err);
  process.exit(1);
});
