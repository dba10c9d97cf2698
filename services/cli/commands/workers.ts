// `baton workers [--json]`: the live workers, from their heartbeats.
import { liveWorkers } from "../../../shared/client/index.ts";
import type { CliArgs } from "../args.ts";
import { cliConfig, withNats } from "../connect.ts";
import { dim } from "../render.ts";

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  return withNats(ctx, "baton-workers", false, async (nc) => {
    const list = await liveWorkers(nc, ctx.names, { onInvalid: (key, err) => console.error(dim(`skipped invalid heartbeat ${key}: ${err.message}`)) });
    if (args.values.json) console.log(JSON.stringify(list, null, 2));
    else if (!list.length) console.log(dim("no live workers"));
    else for (const beat of list) console.log(`${beat.role.padEnd(12)} ${beat.workerId.padEnd(36)} ${`${beat.busy}/${beat.slots} busy`.padEnd(10)} ${dim(`pid ${beat.pid} on ${beat.host}, seen ${beat.at}`)}`);
    return 0;
  });
}
