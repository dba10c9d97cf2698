// `baton submit FILE|- [--watch] [--json] [--init-git]`: validates locally (a workspace on this machine must be a git
// repository with a commit, or --init-git makes it one), stores the request in JetStream, reports acceptance.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { awaitSubmission, publishFeature } from "../../../shared/client/index.ts";
import type { ValidationIssue } from "../../../shared/protocol/common.ts";
import { checkFeatureValue } from "../../../shared/protocol/feature.ts";
import { UsageError, timeoutSeconds, type CliArgs } from "../args.ts";
import { cliConfig, withNats, type CliContext } from "../connect.ts";
import { initGitWorkspace, notReadyMessage, workspaceState } from "../git-workspace.ts";
import { dim, red, renderEvent, yellow } from "../render.ts";
import { watchFeature } from "./watch.ts";

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const file = args.positionals[0];
  if (!file) throw new UsageError("missing the request FILE (JSON or YAML), or - for stdin");
  return submit(ctx, file, {
    watch: args.values.watch, timeoutSeconds: timeoutSeconds(args), roles: ctx.cfg.configPath !== undefined, json: args.values.json, initGit: args.values["init-git"] === true,
  });
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
 * The request's workspace, when it exists on this machine, must be a git repository with a commit: with `initGit` it is
 * made one (said on stderr), else the submission is refused (exit code 2 returned). A workspace that does not exist here
 * is left to the workers; without git on this machine, nothing can be checked here (said on stderr).
 */
export function checkWorkspace(workspace: string | undefined, initGit: boolean): number | undefined {
  if (workspace === undefined) return undefined;
  const state = workspaceState(workspace);
  if (state.kind === "absent" || state.kind === "ready") return undefined;
  if (state.kind === "no-git") {
    console.error(yellow(`git is not installed here: cannot check that workspace ${workspace} is a git repository${initGit ? ", nor make it one" : ""}`));
    return initGit ? 1 : undefined;
  }
  if (!initGit) {
    console.error(red(notReadyMessage(workspace, state)));
    return 2;
  }
  try {
    console.error(initGitWorkspace(workspace, state));
    return undefined;
  } catch (err) {
    console.error(red((err as Error).message));
    return 1;
  }
}

/**
 * Exit 0 accepted (or completed with --watch), 1 failed, 2 invalid, its local workspace not a git repository with a
 * commit (without `initGit`), rejected, or refused because the id belongs to a different request (every problem
 * printed; the other feature is never shown as this one's). Nothing is published before the workspace is ready.
 */
export async function submit({ cfg, names }: CliContext, file: string, opts: { watch: boolean; timeoutSeconds: number; roles: boolean; json?: boolean; initGit?: boolean }): Promise<number> {
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
  const refused = checkWorkspace(request.workspace, opts.initGit === true);
  if (refused !== undefined) return refused;
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
