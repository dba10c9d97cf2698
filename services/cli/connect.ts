// What the networked commands start with: the configuration (flags, config file, environment, parsed once)
// and a NATS connection that is closed when the command is done.
import { loadConfig, type BatonConfig } from "../../shared/config.ts";
import { connectNats, type NatsConnection } from "../../shared/nats.ts";
import { names, type Names } from "../../shared/subjects.ts";
import type { CliArgs } from "./args.ts";

export interface CliContext {
  cfg: Readonly<BatonConfig>;
  names: Names;
}

/** Loads the configuration (`--config`, BATON_CONFIG, the environment); throws ConfigError when it is invalid. */
export function cliConfig(args: CliArgs): CliContext {
  const cfg = loadConfig({ file: args.values.config });
  return { cfg, names: names(cfg.prefix) };
}

/**
 * Connects as `baton-<cmd>`, runs `fn`, and closes the connection however `fn` ends. Every command fails
 * fast with the same clear message when NATS does not answer at first; `persistent` connections (watching)
 * then ride out a NATS restart.
 */
export async function withNats<T>(ctx: CliContext, name: string, persistent: boolean, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectNats({ url: ctx.cfg.natsUrl, name, persistent, waitForServer: false });
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}
