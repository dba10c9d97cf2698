// `baton coordinator [--config FILE]`: wires config → NATS → Coordinator → shutdown hook.
import { parseArgs } from "node:util";
import { loadConfig } from "../../shared/config.ts";
import { createLogger } from "../../shared/logging.ts";
import { connectNats } from "../../shared/nats.ts";
import { onShutdown } from "../../shared/process.ts";
import { Coordinator } from "./coordinator.ts";
import type { FaultPoint } from "./runtime/apply-loop.ts";

let log = createLogger({ name: "coordinator" });

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(3), options: { config: { type: "string", short: "c" } }, strict: true });
  const config = loadConfig({ file: values.config });
  log = createLogger({ name: "coordinator", level: config.logLevel });
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
  const coordinator = new Coordinator({ nc, config, log, fault });
  onShutdown(["SIGINT", "SIGTERM"], async (signal) => {
    log.info({ signal }, "shutting down");
    await coordinator.close();
    return 0;
  });
  await coordinator.start();
}

main().catch((e) => {
  log.fatal(e);
  process.exit(1);
});
