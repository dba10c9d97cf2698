// `baton submit [FILE|-] [request flags] [--watch] [--json] [--init-git]`: reads the request (a file, and/or flags such as
// --template or --goal), validates it locally (a workspace on this machine must be a git repository with a commit, or
// --init-git makes it one), stores it in JetStream, reports acceptance.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { awaitSubmission, publishFeature } from "../../../shared/client/index.ts";
import type { ValidationIssue } from "../../../shared/protocol/common.ts";
import type { StatusEvent } from "../../../shared/protocol/events.ts";
import { checkFeatureValue, type FeatureRequest } from "../../../shared/protocol/feature.ts";
import { timeoutSeconds, type CliArgs } from "../args.ts";
import { cliConfig, withNats, type CliContext } from "../connect.ts";
import { initGitWorkspace, notReadyMessage, workspaceState } from "../git-workspace.ts";
import { dim, red, renderEvent, yellow } from "../render.ts";
import { mergeRequest, requestFlags, type FlagFields } from "../request-flags.ts";
import { watchFeature } from "./watch.ts";

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const file = args.positionals[0];
  const fields = requestFlags(args.values, process.cwd());
  // no FILE: the flags must make a request (UsageError before anything is read)
  if (file === undefined) mergeRequest(undefined, fields);
  return submit(ctx, file, {
    watch: args.values.watch, timeoutSeconds: timeoutSeconds(args), roles: ctx.cfg.configPath !== undefined, json: args.values.json, plain: args.values.plain === true, initGit: args.values["init-git"] === true, fields,
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
 * Checks the request here as far as this machine can: the schema, where its tasks come from, size, and (with a config)
 * roles and gates. A template is expanded by the coordinator (its templates are the authority), so its request is
 * checked without its steps: its extra tasks may depend on steps this side does not know. Returns the request to send.
 */
export function checkLocally(raw: unknown, limits: { roles?: readonly string[] | undefined; gates?: readonly string[] | undefined; maxBytes: number }):
  { ok: true; request: FeatureRequest } | { ok: false; errors: ValidationIssue[] } {
  let unexpanded: FeatureRequest | undefined;
  const check = checkFeatureValue(raw, {
    roles: limits.roles, gates: limits.gates,
    expand: (request) => {
      unexpanded = request;
      return { ok: true, value: { ...request, tasks: [] } };
    },
  });
  const size = Buffer.byteLength(JSON.stringify(raw ?? null));
  const errors = check.ok ? [] : [...check.errors];
  if (size > limits.maxBytes) errors.push({ path: "(root)", message: `request is ${size} bytes; the limit is ${limits.maxBytes} bytes` });
  if (!check.ok || errors.length) return { ok: false, errors };
  return { ok: true, request: unexpanded ?? check.value };
}

/** After an acceptance: what a planned feature, or one whose plan needs approval, does next, and the commands. */
function acceptedHints(event: Extract<StatusEvent, { kind: "feature.accepted" }>): string[] {
  const id = event.featureId;
  const hints: string[] = [];
  if (event.planning) hints.push(`the planner plans it first; \`baton watch ${id}\` shows the plan when it is ready`);
  if (event.approval === "required") hints.push(`its plan then waits for approval: \`baton status ${id}\` shows it, \`baton approve ${id}\` runs it`);
  return hints.map((hint) => dim(hint));
}

/**
 * Exit 0 accepted (or completed with --watch), 1 failed, 2 invalid, its local workspace not a git repository with a
 * commit (without `initGit`), rejected, or refused because the id belongs to a different request (every problem
 * printed; the other feature is never shown as this one's). Nothing is published before the workspace is ready.
 */
export async function submit(
  { cfg, names }: CliContext, file: string | undefined,
  opts: { watch: boolean; timeoutSeconds: number; roles: boolean; json?: boolean; plain?: boolean; initGit?: boolean; fields?: FlagFields },
): Promise<number> {
  const what = file === undefined ? "from the flags" : file;
  let raw: unknown;
  try {
    raw = mergeRequest(file === undefined ? undefined : readRequest(file), opts.fields ?? {});
  } catch (err) {
    console.error(red(`cannot read feature request ${what}: ${(err as Error).message}`));
    return 2;
  }
  // Roles and gates are checked here only with a config; the coordinator's config is the authority.
  const gates = Object.keys(cfg.gates);
  const check = checkLocally(raw, { roles: opts.roles ? cfg.knownRoles : undefined, gates: opts.roles && gates.length ? gates : undefined, maxBytes: cfg.coordinator.maxRequestBytes });
  if (!check.ok) {
    console.error(red(`feature request ${what} is invalid:`));
    printIssues(check.errors);
    return 2;
  }
  const { request } = check;
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
      console.error(red(`feature request ${what} was refused:`));
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
    if (opts.watch) return (await watchFeature(nc, names, featureId, { json: opts.json, plain: opts.plain })).code;
    console.error(renderEvent(outcome.event, `0/${outcome.event.tasks.length}`));
    for (const hint of acceptedHints(outcome.event)) console.error(hint);
    return 0;
  });
}
