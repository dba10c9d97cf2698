// `baton submit FILE|- [--watch]`: validates locally, stores the request in JetStream, reports acceptance.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { publishFeature } from "../../../shared/client/index.ts";
import { checkFeatureValue } from "../../../shared/protocol/feature.ts";
import { UsageError, timeoutSeconds, type CliArgs } from "../args.ts";
import { cliConfig, withNats, type CliContext } from "../connect.ts";
import { red } from "../render.ts";
import { watchFeature } from "./watch.ts";

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const file = args.positionals[0];
  if (!file) throw new UsageError("submit needs a file (JSON or YAML) or - for stdin");
  return submit(ctx, file, { watch: args.values.watch, timeoutSeconds: timeoutSeconds(args), roles: !!args.values.config });
}

/** Reads JSON or YAML from a file or stdin (`-`). */
export function readRequest(file: string): unknown {
  const text = file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
  return parseYaml(text);
}

/** Exit 0 accepted (or completed with --watch), 1 failed, 2 invalid or rejected (every problem printed). */
export async function submit({ cfg, names }: CliContext, file: string, opts: { watch: boolean; timeoutSeconds: number; roles: boolean }): Promise<number> {
  let raw: unknown;
  try {
    raw = readRequest(file);
  } catch (err) {
    console.error(red(`cannot read feature request ${file}: ${(err as Error).message}`));
    return 2;
  }
  // Gates are checked here only when this config defines some; the coordinator's config is the authority.
  const gates = Object.keys(cfg.gates);
  const check = checkFeatureValue(raw, { roles: opts.roles ? cfg.knownRoles : undefined, gates: opts.roles && gates.length ? gates : undefined });
  const size = Buffer.byteLength(JSON.stringify(raw ?? null));
  const errors = check.ok ? [] : [...check.errors];
  if (size > cfg.coordinator.maxRequestBytes) errors.push({ path: "(root)", message: `request is ${size} bytes; the limit is ${cfg.coordinator.maxRequestBytes} bytes` });
  if (!check.ok || errors.length) {
    console.error(red(`feature request ${file} is invalid:`));
    for (const issue of errors) console.error(`  ${red("✗")} ${issue.path}: ${issue.message}`);
    return 2;
  }
  const request = check.value;
  return withNats({ cfg, names }, "baton-cli", false, async (nc) => {
    const { featureId, duplicate } = await publishFeature(nc, names, request);
    console.log(featureId);
    if (duplicate) console.error(`(already submitted: feature ${featureId} runs once)`);
    if (opts.watch) return (await watchFeature(nc, names, featureId)).code;
    const outcome = await watchFeature(nc, names, featureId, { untilAccepted: true, logs: false, timeoutMs: opts.timeoutSeconds * 1000, print: (line) => console.error(line) });
    if (outcome.view.state === "unknown") {
      console.error(`stored, but no coordinator accepted ${featureId} within ${opts.timeoutSeconds}s; it will run when one does`);
      return 0;
    }
    return outcome.code;
  });
}
