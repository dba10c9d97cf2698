// `baton submit FILE|- [--watch] [--json]`: validates locally, stores the request in JetStream, reports acceptance.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { awaitSubmission, publishFeature } from "../../../shared/client/index.ts";
import type { ValidationIssue } from "../../../shared/protocol/common.ts";
import { checkFeatureValue } from "../../../shared/protocol/feature.ts";
import { UsageError, timeoutSeconds, type CliArgs } from "../args.ts";
import { cliConfig, withNats, type CliContext } from "../connect.ts";
import { dim, red, renderEvent } from "../render.ts";
import { watchFeature } from "./watch.ts";

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const file = args.positionals[0];
  if (!file) throw new UsageError("missing the request FILE (JSON or YAML), or - for stdin");
  return submit(ctx, file, { watch: args.values.watch, timeoutSeconds: timeoutSeconds(args), roles: ctx.cfg.configPath !== undefined, json: args.values.json });
}

/**
 * Reads JSON or YAML from a file or stdin (`-`). A relative `workspace` is resolved against the file's folder
 * (stdin: the current directory), so a request file can sit beside the project it works on.
 */
export function readRequest(file: string): unknown {
  const text = file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
  const raw: unknown = parseYaml(text);
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const workspace = (raw as { workspace?: unknown }).workspace;
  if (typeof workspace !== "string" || !workspace || isAbsolute(workspace)) return raw;
  const base = file === "-" ? process.cwd() : dirname(resolve(file));
  return { ...raw, workspace: resolve(base, workspace) };
}

const printIssues = (issues: readonly ValidationIssue[]) => {
  for (const issue of issues) console.error(`  ${red("✗")} ${issue.path}: ${issue.message}`);
};

/**
 * Exit 0 accepted (or completed with --watch), 1 failed, 2 invalid, rejected, or refused because the id
 * belongs to a different request (every problem printed; the other feature is never shown as this one's).
 */
export async function submit({ cfg, names }: CliContext, file: string, opts: { watch: boolean; timeoutSeconds: number; roles: boolean; json?: boolean }): Promise<number> {
  let raw: unknown;
  try {
    raw = readRequest(file);
  } catch (err) {
    console.error(red(`cannot read feature request ${file}: ${(err as Error).message}`));
    return 2;
  }
  // Roles and gates are checked here only with a config; the coordinator's config is the authority.
  const gates = Object.keys(cfg.gates);
  const check = checkFeatureValue(raw, { roles: opts.roles ? cfg.knownRoles : undefined, gates: opts.roles && gates.length ? gates : undefined });
  const size = Buffer.byteLength(JSON.stringify(raw ?? null));
  const errors = check.ok ? [] : [...check.errors];
  if (size > cfg.coordinator.maxRequestBytes) errors.push({ path: "(root)", message: `request is ${size} bytes; the limit is ${cfg.coordinator.maxRequestBytes} bytes` });
  if (!check.ok || errors.length) {
    console.error(red(`feature request ${file} is invalid:`));
    printIssues(errors);
    return 2;
  }
  const request = check.value;
  return withNats({ cfg, names }, "baton-cli", false, async (nc) => {
    const published = await publishFeature(nc, names, request);
    const { featureId } = published;
    // The id goes to stdout only once it names this request's feature (accepted, or stored and waiting for a
    // coordinator): a script's `id=$(baton submit …)` never gets the id of a feature it did not submit.
    const printId = () => {
      console.log(opts.json ? JSON.stringify({ featureId, duplicate: published.duplicate }) : featureId);
      if (published.duplicate) console.error(dim(`(already submitted: feature ${featureId} runs once)`));
    };
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once("SIGINT", stop);
    const hint = opts.watch ? setTimeout(() => console.error(dim(`waiting for feature ${featureId} to be accepted… (is \`baton coordinator\` or \`baton up\` running?)`)), 5000) : undefined;
    const outcome = await awaitSubmission(nc, names, published, { timeoutMs: opts.watch ? 0 : opts.timeoutSeconds * 1000, signal: ac.signal })
      .finally(() => (clearTimeout(hint), process.off("SIGINT", stop)));
    if (outcome.kind === "refused") {
      console.error(red(`feature request ${file} was refused:`));
      printIssues(outcome.errors);
      return 2;
    }
    if (outcome.kind === "timeout") {
      if (outcome.otherRequest) {
        console.error(red(`feature ${featureId} already exists from a different request; a coordinator will refuse this one (use a new id)`));
        return 2;
      }
      printId();
      if (ac.signal.aborted) {
        console.error(dim(`stopped waiting; feature ${featureId} is stored and runs when a coordinator accepts it`));
        return 1;
      }
      console.error(`stored, but no coordinator accepted ${featureId} within ${opts.timeoutSeconds}s; it will run when one does`);
      return 0;
    }
    printId();
    if (opts.watch) return (await watchFeature(nc, names, featureId, { json: opts.json })).code;
    console.error(renderEvent(outcome.event, `0/${outcome.event.tasks.length}`));
    return 0;
  });
}
