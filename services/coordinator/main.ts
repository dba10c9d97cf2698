// `baton coordinator [--config FILE] [--metrics-port N]`: wires config → NATS → Coordinator → shutdown hook.
import { parseArgs } from "node:util";
import { loadConfig } from "../../shared/config.ts";
import { createLogger } from "../../shared/logging.ts";
import { connectNats } from "../../shared/nats.ts";
import { onShutdown } from "../../shared/process.ts";
import { argsErrorMessage } from "../../shared/cli-args.ts";
import { commandHelp, usageLine } from "../../shared/usage.ts";
import { Coordinator } from "./coordinator.ts";
import type { FaultPoint } from "./runtime/apply-loop.ts";
import { parsePort } from "../../shared/config-observe.ts";
import { names as buildNames } from "../../shared/subjects.ts";
import { serveCoordinatorMetrics, type ServedCoordinatorMetrics } from "./runtime/metrics.ts";
import { tracingSettingsFromEnv } from "../../shared/tracing/index.ts";
import { startTraces, type TraceObserver } from "./runtime/tracing.ts";

let log = createLogger({ name: "coordinator" });


/** The command line: prints the usage and exits 0 for --help, 2 (with the usage, no stack trace) when it is wrong. */
function parseCli(argv: string[]): { config?: string | undefined; metricsPort?: number | undefined } {
  const options = { config: { type: "string", short: "c" }, "metrics-port": { type: "string" }, help: { type: "boolean", short: "h" } } as const;
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
  const flag = parsed.values["metrics-port"];
  const metricsPort = flag === undefined ? undefined : parsePort(flag);
  if (flag !== undefined && metricsPort === undefined) {
    process.stderr.write(`baton coordinator: --metrics-port must be a port number from 0 to 65535 (0: any free port); got ${JSON.stringify(flag)}\n${usageLine("coordinator")}\n`);
    process.exit(2);
  }
  return { config: parsed.values.config, metricsPort };
}

async function main(): Promise<void> {
  const { config: file, metricsPort } = parseCli(process.argv.slice(3));
  const config = loadConfig({ file });
  log = createLogger({ name: "coordinator", level: config.logLevel });
  // Registered before connecting: a signal (or `baton up` going away) while NATS is still awaited stops the process too.
  let coordinator: Coordinator | undefined;
  let metrics: ServedCoordinatorMetrics | undefined;
  let traces: TraceObserver | undefined;
  onShutdown(["SIGINT", "SIGTERM"], async (signal) => {
    log.info({ signal }, "shutting down");
    await coordinator?.close();
    await metrics?.close();
    await traces?.close();
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
  const port = metricsPort ?? config.metrics.coordinatorPort;
  if (port !== undefined) {
    metrics = await serveCoordinatorMetrics({ nc, names: buildNames(config.prefix), store: () => coordinator?.store, log, host: config.metrics.host, port });
  }
  // Traces: on only when an OTLP endpoint is set in the standard OTEL_* variables (the only place they are read).
  traces = await startTraces({ settings: tracingSettingsFromEnv(process.env), nc, prefix: config.prefix, log });
  coordinator = new Coordinator({ nc, config, log, fault, observers: [...(metrics ? [metrics.metrics] : []), ...(traces ? [traces] : [])], onApplyMeasured: metrics?.metrics.onApplyMeasured, metricsUrl: metrics?.url });
  await coordinator.start();
}

main().catch((e) => {
  log.fatal(e);
  process.exit(1);
});
