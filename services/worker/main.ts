// `baton worker --role <role> [--concurrency N] [--config FILE] [--id NAME]`: wires config → NATS → worker → shutdown.
// Runs the role's tasks with the executor from the operator's configuration.
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { loadConfig } from "../../shared/config.ts";
import { ConfigError } from "../../shared/errors.ts";
import { createLogger } from "../../shared/logging.ts";
import { connectNats } from "../../shared/nats.ts";
import { once, onShutdown, steps } from "../../shared/process.ts";
import { isToken, names } from "../../shared/subjects.ts";
import { createRunners } from "./runners/registry.ts";
import { createWorker } from "./worker.ts";

const USAGE = "usage: baton worker --role <role> [--concurrency N] [--config FILE] [--id NAME]";
const log = createLogger({ name: "worker" });

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      role: { type: "string", short: "r" },
      concurrency: { type: "string", short: "c" },
      config: { type: "string" },
      id: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!isToken(values.role)) throw new ConfigError(`--role must be 1-64 characters of [A-Za-z0-9_-]; got ${JSON.stringify(values.role ?? null)}\n${USAGE}`);
  let concurrency: number | undefined;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new ConfigError(`--concurrency must be an integer from 1 to 256; got ${values.concurrency}`);
  }
  if (values.id !== undefined && !/^[\x21-\x7e]{1,200}$/.test(values.id)) throw new ConfigError("--id must be 1-200 printable characters without spaces");
  return { role: values.role, concurrency, config: values.config, id: values.id };
}

async function main() {
  const args = parseCli(process.argv.slice(3));
  const cfg = loadConfig({ file: args.config });
  log.level = cfg.logLevel;
  const role = args.role;
  const workerId = args.id ?? `${role}-${hostname()}-${process.pid}`;
  const slots = args.concurrency ?? cfg.roles[role]?.concurrency ?? 1;
  // What runs each task is decided here, once, from the operator's config (never from a message).
  const runners = createRunners({ role, workerId, config: cfg, env: process.env, cwd: process.cwd() });
  if (runners.noExecutor) log.warn({ role, config: cfg.configPath ?? null }, `${runners.noExecutor.message}: its tasks will fail with NO_EXECUTOR`);

  const nc = await connectNats({ url: cfg.natsUrl, name: `baton-worker-${workerId}`, persistent: true, log });
  const worker = createWorker({ nc, names: names(cfg.prefix), role, workerId, slots, settings: cfg.worker, runners, log });

  const close = once(async () => {
    let code = 0;
    await steps(
      [
        ["drain the worker", async () => ((await worker.stop()) === "failed" ? (code = 1) : undefined)],
        ["drain the NATS connection", () => (nc.isClosed() ? undefined : nc.drain())],
      ],
      (step, e) => {
        code = 1;
        log.error({ err: e }, `shutdown step failed: ${step}`);
      },
    );
    log.info({ code }, "worker stopped");
    return code;
  });
  onShutdown(["SIGINT", "SIGTERM"], async (signal) => {
    log.info({ signal }, "shutting down");
    return close();
  });
  log.info({ role, workerId, slots, nats: cfg.natsUrl, prefix: cfg.prefix, executor: runners.executor?.describe ?? null }, "worker starting");
  await worker.start();
}

main().catch((e) => {
  log.fatal(e);
  process.exit(1);
});
