// The chaos run's command line: `npm run chaos -- [--features N] [--seconds S] [--seed X] [--wait-seconds W] [--json FILE] [--keep]`.
import { resolve } from "node:path";
import { parseArgs } from "node:util";

export interface Options {
  features: number;
  seconds: number;
  seed: string;
  waitSeconds: number;
  json?: string | undefined;
  keep: boolean;
}

export const USAGE = "usage: npm run chaos -- [--features N (50)] [--seconds S (90)] [--seed X (1)] [--wait-seconds W (180)] [--json FILE] [--keep]";

/** Parses the arguments; prints the usage and exits 0 on --help; throws (naming the option) on a bad value. */
export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      features: { type: "string", default: "50" },
      seconds: { type: "string", default: "90" },
      seed: { type: "string", default: "1" },
      "wait-seconds": { type: "string", default: "180" },
      json: { type: "string" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, text: string, lo: number, hi: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < lo || value > hi) throw new Error(`--${name} must be an integer from ${lo} to ${hi}; got ${text}\n${USAGE}`);
    return value;
  };
  return {
    features: int("features", values.features, 1, 1000),
    seconds: int("seconds", values.seconds, 10, 3600),
    seed: values.seed,
    waitSeconds: int("wait-seconds", values["wait-seconds"], 10, 3600),
    json: values.json ? resolve(values.json) : undefined,
    keep: values.keep,
  };
}
