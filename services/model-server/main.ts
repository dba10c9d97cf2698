// The scripted model server as a process, for demos and for tests that start it apart:
// `tsx services/model-server/main.ts --script FILE.json [--port N] [--host H]` prints `{"url": "..."}` once listening.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { argsErrorMessage } from "../../shared/cli-args.ts";
import { once, onShutdown } from "../../shared/process.ts";
import { ALL_DIALECTS } from "./dialects.ts";
import { ScriptFile } from "./script.ts";
import { ModelServer } from "./server.ts";

const FLAGS = ["script", "port", "host"];

function options(): { script: string; port: number; host: string } {
  try {
    const { values } = parseArgs({ options: { script: { type: "string" }, port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" } } });
    if (!values.script) throw new Error("--script FILE.json is required");
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port number`);
    return { script: values.script, port, host: values.host };
  } catch (err) {
    process.stderr.write(`model-server: ${argsErrorMessage(err as Error, FLAGS)}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const opts = options();
  const file = ScriptFile.parse(JSON.parse(readFileSync(opts.script, "utf8")));
  const server = new ModelServer({ scripts: file.scripts, dialects: ALL_DIALECTS, port: opts.port, host: opts.host });
  const url = await server.start();
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  const close = once(() => server.close());
  onShutdown(["SIGINT", "SIGTERM"], async () => {
    await close();
    return 0;
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`model-server: ${(err as Error).message}\n`);
  process.exit(1);
});
