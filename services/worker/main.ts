// `baton worker --role <role> [--concurrency N] [--config FILE] [--id NAME] [--metrics-port N]`: wires config → NATS → worker → shutdown.
// Runs the role's tasks with the executor from the operator's configuration.
import { INTEGRATOR_ROLE } from "../../shared/protocol/workspace.ts";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { loadConfig } from "../../shared/config.ts";
import { createLogger } from "../../shared/logging.ts";
import { connectNats, type NatsConnection } from "../../shared/nats.ts";
import { once, onShutdown, steps } from "../../shared/process.ts";
import { isToken, names } from "../../shared/subjects.ts";
import { argsErrorMessage } from "../../shared/cli-args.ts";
import { commandHelp, usageLine } from "../../shared/usage.ts";
import { createRedactor, NO_SECRETS, workerSecrets, type Redactor } from "./redact.ts";
import { createRunners } from "./runners/registry.ts";
import { createWorker, type Worker } from "./worker.ts";
import { parsePort } from "../../shared/config-observe.ts";
import { serveWorkerMetrics, type ServedWorkerMetrics } from "./metrics.ts";

// Secrets are known once the config is read (main); every log line passes the redactor in force.
let redactor: Redactor = NO_SECRETS;
const log = createLogger({ name: "worker", rewrite: (line) => redactor.text(line) });

/** Wrong usage: the problem and the synopsis on stderr, exit 2 (no stack trace). */
function usageExit(problem: string): never {
  process.stderr.write(`baton worker: ${problem}\n${usageLine("worker")}\n`);
  process.exit(2);
}

function parseCli(argv: string[]) {
  const options = {
    role: { type: "string", short: "r" },
    concurrency: { type: "string", short: "c" },
    config: { type: "string" },
    id: { type: "string" },
    "metrics-port": { type: "string" },
    help: { type: "boolean", short: "h" },
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true });
  } catch (err) {
    usageExit(argsErrorMessage(err as Error, Object.keys(options)));
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(`${commandHelp("worker")}\n`);
    process.exit(0);
  }
  if (!isToken(values.role)) usageExit(values.role === undefined ? "--role is required" : `--role must be 1-64 characters of [A-Za-z0-9_-]; got ${JSON.stringify(values.role)}`);
  let concurrency: number | undefined;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) usageExit(`--concurrency must be an integer from 1 to 256; got ${values.concurrency}`);
  }
  if (values.id !== undefined && !/^[\x21-\x7e]{1,200}$/.test(values.id)) usageExit("--id must be 1-200 printable characters without spaces");
  const metricsFlag = values["metrics-port"];
  const metricsPort = metricsFlag === undefined ? undefined : parsePort(metricsFlag);
  if (metricsFlag !== undefined && metricsPort === undefined) usageExit(`--metrics-port must be a port number from 0 to 65535 (0: any free port); got ${JSON.stringify(metricsFlag)}`);
  return { role: values.role, concurrency, config: values.config, id: values.id, metricsPort };
}

async function main() {
  const args = parseCli(process.argv.slice(3));
  const cfg = loadConfig({ file: args.config });
  log.level = cfg.logLevel;
  redactor = createRedactor(workerSecrets(cfg, process.env));
  const role = args.role;
  const workerId = args.id ?? `${role}-${hostname()}-${process.pid}`;
  const slots = args.concurrency ?? cfg.roles[role]?.concurrency ?? 1;
  // What runs each task is decided here, once, from the operator's config (never from a message).
  const runners = createRunners({ role, workerId, config: cfg, env: process.env, cwd: process.cwd() });
  if (runners.noExecutor && role !== INTEGRATOR_ROLE) log.warn({ role, config: cfg.configPath ?? null }, `${runners.noExecutor.message}: its tasks will fail with NO_EXECUTOR`);

  // The shutdown hook comes first: a signal (or the death of `baton up`) while NATS is still awaited stops the process too.
  let nc: NatsConnection | undefined;
  let worker: Worker | undefined;
  let metrics: ServedWorkerMetrics | undefined;
  const close = once(async () => {
    let code = 0;
    await steps(
      [
        ["drain the worker", async () => ((await worker?.stop()) === "failed" ? (code = 1) : undefined)],
        ["drain the NATS connection", () => (!nc || nc.isClosed() ? undefined : nc.drain())],
        ["stop serving metrics", () => metrics?.close()],
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
  nc = await connectNats({ url: cfg.natsUrl, name: `baton-worker-${workerId}`, persistent: true, log });
  const workspaces = { workspace: cfg.workspace, workspaceRoots: cfg.workspaceRoots, cwd: process.cwd(), worktrees: cfg.worker.worktrees };
  const metricsPort = args.metricsPort ?? cfg.metrics.workerPort;
  if (metricsPort !== undefined) metrics = await serveWorkerMetrics({ role, slots, host: cfg.metrics.host, port: metricsPort, log });
  worker = createWorker({ nc, names: names(cfg.prefix), role, workerId, slots, settings: cfg.worker, runners, redact: redactor, workspaces, log, metrics: metrics?.metrics, metricsUrl: metrics?.url });
  log.info({ role, workerId, slots, nats: cfg.natsUrl, prefix: cfg.prefix, executor: runners.executor?.describe ?? null, redacting: redactor.names }, "worker starting");
  await worker.start();
}

main().catch((e) => {
  log.fatal(e);
  process.exit(1);
});
