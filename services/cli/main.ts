// `baton <command>`: the command-line client. `coordinator` and `worker` are routed by bin/baton.mjs.
import { parseArgs } from "node:util";
import { loadConfig } from "../../shared/config.ts";
import { connectNats } from "../../shared/nats.ts";
import { isToken, names } from "../../shared/subjects.ts";
import { status, workers } from "./commands/status.ts";
import { control } from "./commands/control.ts";
import { ls } from "./commands/ls.ts";
import { submit } from "./commands/submit.ts";
import { up } from "./commands/up.ts";
import { watchFeature } from "./commands/watch.ts";
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

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
    console.log(HELP);
    return cmd ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string", short: "c" },
      watch: { type: "boolean", short: "w", default: false },
      json: { type: "boolean", default: false },
      timeout: { type: "string", default: "30" },
      "log-dir": { type: "string" },
      reason: { type: "string" },
      all: { type: "boolean", default: false },
    },
  });
  const cfg = loadConfig({ file: values.config });
  const n = names(cfg.prefix);
  const needId = () => {
    const id = positionals[0];
    if (!id || !isToken(id)) throw new UsageError(`${cmd} needs a feature id ([A-Za-z0-9_-]{1,64})`);
    return id;
  };
  switch (cmd) {
    case "up":
      return up(cfg, { logDir: values["log-dir"] });
    case "submit": {
      const file = positionals[0];
      if (!file) throw new UsageError("submit needs a file (JSON or YAML) or - for stdin");
      return submit(cfg, file, { watch: values.watch, timeoutSeconds: Number(values.timeout) || 30, roles: !!values.config });
    }
    case "cancel":
    case "pause":
    case "resume": {
      const id = needId();
      const nc = await connectNats({ url: cfg.natsUrl, name: `baton-${cmd}`, persistent: false });
      try {
        return await control(nc, n, id, cmd, values.reason, (Number(values.timeout) || 30) * 1000);
      } finally {
        await nc.close();
      }
    }
    case "watch":
    case "status":
    case "ls":
    case "workers": {
      const id = cmd === "workers" || cmd === "ls" ? "" : needId();
      const nc = await connectNats({ url: cfg.natsUrl, name: `baton-${cmd}`, persistent: cmd === "watch" });
      try {
        if (cmd === "watch") return (await watchFeature(nc, n, id)).code;
        if (cmd === "status") return await status(nc, n, id, values.json);
        if (cmd === "ls") return await ls(nc, n, { all: values.all, json: values.json });
        return await workers(nc, n, values.json);
      } finally {
        await nc.close();
      }
    }
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

class UsageError extends Error {
  override name = "UsageError";
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(red(`baton: ${e.message}`));
    if (e.name === "UsageError" || e.name === "TypeError") console.error("run `baton help` for usage");
    process.exit(e.name === "UsageError" ? 2 : 1);
  },
);
