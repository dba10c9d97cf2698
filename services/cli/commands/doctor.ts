// `baton doctor [--config FILE] [--json]`: checks a deployment in order (NATS, JetStream, streams, coordinators, their
// config fingerprints, workers per role and an integrator, then on this machine the agent CLIs, llm keys, git, the
// default workspace, the role files, templates and selection rules, and a planner for a config that plans) and prints
// one line per finding; exit 0 when healthy, 1 when a problem was found.
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { liveCoordinators, liveWorkers, type CoordinatorHeartbeat, type WorkerHeartbeat } from "../../../shared/client/index.ts";
import { configDifferences, configFingerprint, decisionConfig } from "../../../shared/fingerprint.ts";
import { INTEGRATOR_ROLE } from "../../../shared/protocol/workspace.ts";
import { connectNats, type NatsConnection } from "../../../shared/nats.ts";
import type { CliArgs } from "../args.ts";
import { cliConfig, type CliContext } from "../connect.ts";
import { green, red, yellow } from "../render.ts";
import { checkLocal } from "./doctor-local.ts";
import { checkPlanning } from "./doctor-planning.ts";

/** `ok` ✓, `problem` ✗ (makes the exit code 1), `warning` ! (reported, not failing). */
export type Verdict = "ok" | "problem" | "warning";

export interface Finding {
  check: string;
  verdict: Verdict;
  message: string;
  /** What to do about it, for problems and warnings. */
  remedy?: string;
}

type Report = (finding: Finding) => void;

const MARKS: Record<Verdict, string> = { ok: green("✓"), problem: red("✗"), warning: yellow("!") };

/** One finding as one line: mark, message, remedy. */
export function renderFinding(finding: Finding): string {
  return `${MARKS[finding.verdict]} ${finding.message}${finding.remedy ? ` — ${finding.remedy}` : ""}`;
}

export async function run(args: CliArgs): Promise<number> {
  const ctx = cliConfig(args);
  const findings: Finding[] = [];
  const report: Report = (finding) => {
    findings.push(finding);
    if (!args.values.json) console.log(renderFinding(finding));
  };
  await diagnose(ctx, report);
  // The environment is read once, here: the workers started from this shell would have it (values never printed).
  await checkLocal({ cfg: ctx.cfg, env: process.env, cwd: process.cwd() }, report);
  checkPlanning({ cfg: ctx.cfg, cwd: process.cwd() }, report);
  const healthy = !findings.some((finding) => finding.verdict === "problem");
  if (args.values.json) console.log(JSON.stringify({ healthy, natsUrl: ctx.cfg.natsUrl, prefix: ctx.names.prefix, findings }, null, 2));
  return healthy ? 0 : 1;
}

/** Runs the checks in order; stops early when a later check cannot run (no NATS, no JetStream). */
async function diagnose(ctx: CliContext, report: Report): Promise<void> {
  const url = ctx.cfg.natsUrl;
  let nc: NatsConnection;
  try {
    nc = await connectNats({ url, name: "baton-doctor", persistent: false });
  } catch (err) {
    const cause = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    report({ check: "nats", verdict: "problem", message: `NATS does not answer at ${url} (${cause})`, remedy: "start nats-server -js (or baton up), or set NATS_URL" });
    return;
  }
  try {
    report({ check: "nats", verdict: "ok", message: `NATS answers at ${url} (nats-server ${nc.info?.version ?? "of unknown version"})` });
    const jsm = await checkJetStream(nc, report);
    if (!jsm) return;
    await checkStreams(jsm, ctx, report);
    const onInvalid = (key: string, err: Error) =>
      report({ check: "heartbeats", verdict: "warning", message: `invalid heartbeat ${key} skipped: ${err.message}` });
    const coordinators = await liveCoordinators(nc, ctx.names, { onInvalid });
    const workers = await liveWorkers(nc, ctx.names, { onInvalid });
    checkCoordinators(coordinators, ctx, report);
    checkRoles(coordinators, workers, ctx, report);
  } finally {
    await nc.close();
  }
}

async function checkJetStream(nc: NatsConnection, report: Report): Promise<JetStreamManager | undefined> {
  try {
    const jsm = await jetstreamManager(nc);
    const account = await jsm.getAccountInfo();
    report({ check: "jetstream", verdict: "ok", message: `JetStream enabled (${account.streams} streams on this account)` });
    return jsm;
  } catch (err) {
    report({ check: "jetstream", verdict: "problem", message: `JetStream does not answer: ${(err as Error).message}`, remedy: "restart nats-server with -js (JetStream enabled)" });
    return undefined;
  }
}

async function checkStreams(jsm: JetStreamManager, ctx: CliContext, report: Report): Promise<void> {
  const { names } = ctx;
  // Every bucket is a KV bucket (stream KV_<name>) except the results object store (stream OBJ_<name>).
  const streamOf = (bucket: string) => (bucket === names.buckets.results ? `OBJ_${bucket}` : `KV_${bucket}`);
  const wanted = [...Object.values(names.streams), ...Object.values(names.buckets).map(streamOf)];
  const missing: string[] = [];
  for (const stream of wanted) {
    await jsm.streams.info(stream).catch(() => missing.push(stream));
  }
  if (!missing.length) report({ check: "streams", verdict: "ok", message: `Baton streams and buckets of prefix "${names.prefix}" exist (${wanted.length})` });
  else {
    report({
      check: "streams", verdict: "problem",
      message: missing.length === wanted.length ? `no Baton streams for prefix "${names.prefix}"` : `missing streams of prefix "${names.prefix}": ${missing.join(", ")}`,
      remedy: "start a coordinator (baton coordinator, or baton up): it creates them; or check BATON_PREFIX",
    });
  }
}

/** Live coordinators, then whether their fingerprints agree with each other and with this config file's. */
function checkCoordinators(coordinators: readonly CoordinatorHeartbeat[], ctx: CliContext, report: Report): void {
  const prefix = ctx.names.prefix;
  const configArg = ctx.cfg.configPath ? ` --config ${ctx.cfg.configPath}` : "";
  if (!coordinators.length) {
    report({ check: "coordinators", verdict: "problem", message: `no live coordinator on prefix "${prefix}": nothing accepts requests`, remedy: `start one: baton coordinator${configArg} (or baton up)` });
    return;
  }
  const versions = [...new Set(coordinators.map((beat) => beat.version))].join(", ");
  report({ check: "coordinators", verdict: "ok", message: `${coordinators.length} live coordinator(s) on prefix "${prefix}" (Baton ${versions})` });
  const byFingerprint = new Map<string, CoordinatorHeartbeat[]>();
  for (const beat of coordinators) byFingerprint.set(beat.fingerprint, [...(byFingerprint.get(beat.fingerprint) ?? []), beat]);
  const groups = [...byFingerprint.values()];
  if (groups.length > 1) {
    const listing = groups.map((group) => `${group[0]!.fingerprint} (${group.map((beat) => beat.coordinatorId).join(", ")})`).join(" vs ");
    const differences = configDifferences(groups[0]![0]!, groups[1]![0]!, [`in ${groups[0]![0]!.coordinatorId}`, `in ${groups[1]![0]!.coordinatorId}`]);
    report({
      check: "fingerprints", verdict: "problem",
      message: `coordinators disagree on the config: ${listing}${differences.length ? `; ${differences.join("; ")}` : ""}`,
      remedy: `give every coordinator of prefix "${prefix}" the same config, or give each stack its own BATON_PREFIX`,
    });
  } else {
    report({ check: "fingerprints", verdict: "ok", message: `coordinators agree on config fingerprint ${coordinators[0]!.fingerprint}` });
  }
  if (!ctx.cfg.configPath) return;
  const local = decisionConfig(ctx.cfg);
  const fingerprint = configFingerprint(local);
  const others = groups.filter((group) => group[0]!.fingerprint !== fingerprint);
  if (!others.length) {
    report({ check: "config", verdict: "ok", message: `${ctx.cfg.configPath} has the coordinators' fingerprint ${fingerprint}` });
    return;
  }
  const peer = others[0]![0]!;
  const differences = configDifferences(local, peer, ["in this config", `in ${peer.coordinatorId}`]);
  report({
    check: "config", verdict: "problem",
    message: `${ctx.cfg.configPath} has fingerprint ${fingerprint}, coordinator(s) ${others.flat().map((beat) => beat.coordinatorId).join(", ")} run ${others.map((group) => group[0]!.fingerprint).join(", ")}${differences.length ? `: ${differences.join("; ")}` : ""}`,
    remedy: `restart the coordinators with this config, or point at the right stack (BATON_PREFIX, NATS_URL)`,
  });
}

/**
 * Every role the config defines (`roles:` of the config file; without a file, the roles the live coordinators know)
 * has a live worker; an integrator worker is live (a warning when none: only git features need one); workers whose
 * role no coordinator knows are reported as a warning.
 */
function checkRoles(coordinators: readonly CoordinatorHeartbeat[], workers: readonly WorkerHeartbeat[], ctx: CliContext, report: Report): void {
  const known = new Set(coordinators.flatMap((beat) => beat.roles ?? []));
  const wanted = ctx.cfg.configPath ? Object.keys(ctx.cfg.roles).sort() : [...known].sort();
  const configArg = ctx.cfg.configPath ? ` --config ${ctx.cfg.configPath}` : "";
  for (const role of wanted) {
    const serving = workers.filter((beat) => beat.role === role);
    if (serving.length) report({ check: "roles", verdict: "ok", message: `role ${role}: ${serving.length} live worker(s)` });
    else report({ check: "roles", verdict: "problem", message: `role ${role}: no live worker; its tasks wait`, remedy: `baton worker --role ${role}${configArg}` });
  }
  if (!wanted.includes(INTEGRATOR_ROLE)) checkIntegrator(workers, configArg, report);
  // A coordinator whose config names no role accepts any: no worker's role is unknown to it.
  if (!coordinators.length || coordinators.some((beat) => beat.roles === null)) return;
  const strays = [...new Set(workers.filter((beat) => !known.has(beat.role) && beat.role !== INTEGRATOR_ROLE).map((beat) => beat.role))].sort();
  for (const role of strays) {
    const ids = workers.filter((beat) => beat.role === role).map((beat) => beat.workerId).join(", ");
    report({
      check: "roles", verdict: "warning",
      message: `role ${role} is served by ${ids}, but no coordinator knows it: no request can name it`,
      remedy: "add it to the coordinators' config (roles: or knownRoles:), or stop those workers",
    });
  }
}

/** A live worker of the built-in `integrator` role, which carries out git features' workspace operations. */
function checkIntegrator(workers: readonly WorkerHeartbeat[], configArg: string, report: Report): void {
  const serving = workers.filter((beat) => beat.role === INTEGRATOR_ROLE).length;
  if (serving) {
    report({ check: "roles", verdict: "ok", message: `role ${INTEGRATOR_ROLE}: ${serving} live worker(s) (git worktrees, integration, rollbacks)` });
    return;
  }
  report({
    check: "roles", verdict: "warning",
    message: `no live ${INTEGRATOR_ROLE} worker: features with a git workspace wait for their worktrees, merges and rollbacks`,
    remedy: `baton worker --role ${INTEGRATOR_ROLE}${configArg} (baton up starts one)`,
  });
}
