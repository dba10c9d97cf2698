// `baton up [--config FILE] [--log-dir DIR]`: a local dev stack — nats-server (if none answers), the coordinator, one
// worker process per configured role replica, an integrator (git workspaces) and the dashboard, as supervised children.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BatonConfig } from "../../../shared/config.ts";
import { INTEGRATOR_ROLE } from "../../../shared/protocol/workspace.ts";
import { connectNats } from "../../../shared/nats.ts";
import { onShutdown, sleep } from "../../../shared/process.ts";
import type { CliArgs } from "../args.ts";
import { cliConfig } from "../connect.ts";
import { bold, dim, green, red, yellow } from "../render.ts";
import { stopAll, Supervisor, type Child } from "../supervisor.ts";
import { planDashboard } from "../up-dashboard.ts";

/**
 * The `baton` bin the children are started with: the nearest `bin/baton.mjs` above this module, wherever it runs from
 * (the sources, dist/, or the CLI bundle dist/cli.cjs, whose dist/bin/baton.mjs hands over to the real one).
 */
function findBin(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const bin = join(dir, "bin", "baton.mjs");
    if (existsSync(bin)) return bin;
    if (dirname(dir) === dir) throw new Error(`cannot find bin/baton.mjs above ${from}`);
  }
}

const BIN = findBin(dirname(fileURLToPath(import.meta.url)));

/**
 * How much longer than its drain grace a worker gets before SIGKILL: after the grace its running tasks get
 * SIGTERM and up to 5 s more (services/worker/process/run.ts KILL_GRACE_MS) before they are handed back, then
 * it drains its NATS connection. Killing it sooner would leave a task to the ack wait instead of a nak.
 */
const WORKER_STOP_MARGIN_MS = 20_000;

async function natsAnswers(url: string): Promise<boolean> {
  try {
    const nc = await connectNats({ url, name: "baton-up-probe", persistent: false, timeoutMs: 1500 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

export const NATS_INSTALL_HINT = [
  "nats-server is not on PATH, and no NATS server answers at the configured URL.",
  "Install it, then run `baton up` again:",
  "  Debian/Ubuntu:  sudo apt-get install -y nats-server",
  "  other systems:  see the nats-server installation docs (a release binary or `go install github.com/nats-io/nats-server/v2@latest`)",
  "Or point NATS_URL at a running server started with JetStream (`nats-server -js`).",
].join("\n");

/** Starts a local nats-server with JetStream for `url`; resolves once it answers. */
async function startLocalNats(url: string, storeDir: string, logDir: string, onSpawn: (proc: ChildProcess) => void): Promise<ChildProcess> {
  const parsed = new URL(url.split(",")[0]!.replace(/^nats:/, "http:"));
  if (!["127.0.0.1", "localhost", "0.0.0.0", "::1", "[::1]"].includes(parsed.hostname)) {
    throw new Error(`no NATS server answers at ${url}, and it is not a local address that \`baton up\` could start one on`);
  }
  if (spawnSync("nats-server", ["--version"]).error) throw new Error(NATS_INSTALL_HINT);
  mkdirSync(storeDir, { recursive: true });
  const out = createWriteStream(resolve(logDir, "nats-server.log"), { flags: "a" });
  // Detached (its own process group): a Ctrl-C in the terminal must not stop it before the workers are done with it.
  const proc = spawn("nats-server", ["-js", "-a", parsed.hostname === "localhost" ? "127.0.0.1" : parsed.hostname, "-p", parsed.port || "4222", "-sd", storeDir], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  onSpawn(proc);
  proc.stdout!.pipe(out);
  proc.stderr!.pipe(out);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`nats-server exited with code ${proc.exitCode}; see ${resolve(logDir, "nats-server.log")}`);
    if (await natsAnswers(url)) return proc;
    await sleep(200);
  }
  proc.kill("SIGKILL");
  throw new Error("nats-server did not answer within 15s");
}

export async function run(args: CliArgs): Promise<number> {
  return up(cliConfig(args).cfg, { logDir: args.values["log-dir"] });
}

/**
 * Runs the stack until SIGINT/SIGTERM/SIGHUP: nats-server (started only when none answers at the configured URL),
 * the coordinator and one worker per role replica, each in its own process group (a terminal's Ctrl-C reaches
 * only this process) and restarted with backoff when it dies (at most 5 times a minute). The first signal stops
 * them in order — workers (each finishes its running tasks within the drain grace or hands them back), then the
 * coordinator, then nats-server — and exits 0; a second one kills every group at once and exits 130. Returns 1
 * only when no NATS server could be had. If this process is killed outright, the children notice (their IPC
 * channel closes) and shut down on their own; a nats-server it started is then left running.
 */
export async function up(cfg: Readonly<BatonConfig>, opts: { logDir?: string | undefined }): Promise<number> {
  const logDir = resolve(opts.logDir ?? ".baton/logs");
  mkdirSync(logDir, { recursive: true });
  const supervisor = new Supervisor(BIN, logDir, { ...process.env, NATS_URL: cfg.natsUrl }, (line) => console.log(line));
  const stack: Stack = { children: [], nats: undefined, ui: undefined };
  onShutdown(["SIGINT", "SIGTERM", "SIGHUP"], (signal) => stopStack(cfg, supervisor, stack, signal), {
    onForce: (signal) => {
      supervisor.stopping = true;
      const what = signal === "SIGINT" ? "second Ctrl-C" : `second signal (${signal})`;
      console.error(red(`${what}: forcing an immediate stop — SIGKILL to every process; tasks still running go back to the queue after the ack wait (${cfg.worker.ackWaitSeconds}s)`));
      supervisor.killAll("SIGKILL");
    },
  });
  if (await natsAnswers(cfg.natsUrl)) {
    console.log(`nats: using the server at ${cfg.natsUrl}`);
  } else {
    const storeDir = resolve(".baton/nats");
    try {
      await startLocalNats(cfg.natsUrl, storeDir, logDir, (proc) => ((stack.nats = proc), supervisor.adopt(proc)));
    } catch (err) {
      console.error(red((err as Error).message));
      return 1;
    }
    console.log(`nats: started a local nats-server at ${cfg.natsUrl} ${dim(`(store ${storeDir})`)}`);
  }
  const children = (stack.children = planChildren(cfg, logDir));
  console.log(cfg.configPath ? `config: ${cfg.configPath} ${dim(`(prefix ${cfg.prefix})`)}` : dim(`config: none (no --config, BATON_CONFIG or ./baton.config.yaml); prefix ${cfg.prefix}`));
  if (!Object.keys(cfg.roles).length) console.log(yellow("no roles configured: only the coordinator and the integrator start (`baton init` writes a config; or pass --config FILE with `roles:`)"));
  await Promise.all(children.map(async (child) => {
    await supervisor.start(child);
    if (!supervisor.stopping) console.log(`${green("started")} ${child.name} ${dim(`(pid ${child.proc?.pid})`)}`);
  }));
  if (!supervisor.stopping) await startDashboard(cfg, supervisor, stack, logDir);
  if (!supervisor.stopping) {
    const roles = Object.entries(stackRoles(cfg)).filter(([, replicas]) => replicas > 0).map(([role, replicas]) => (replicas > 1 ? `${role}×${replicas}` : role));
    console.log(`baton up: ready — coordinator + ${children.length - 1} workers${roles.length ? ` (${roles.join(", ")})` : ""} on ${cfg.natsUrl}; logs in ${logDir}; Ctrl-C stops everything`);
    console.log(dim(`submit work with ${bold("baton submit FILE --watch")}; follow it with ${bold("baton watch ID")}`));
  }
  await new Promise<never>(() => {});
  return 0;
}

interface Stack {
  children: Child[];
  /** The nats-server this process started, if it did. */
  nats: ChildProcess | undefined;
  /** The dashboard (`baton ui`), once started. */
  ui: Child | undefined;
}

/**
 * Starts the dashboard and prints its URL (not as `started …`: that line lists the stack's workers). Never fails
 * `baton up`: a taken port moves it to a free one, and a dashboard that cannot start is reported and left out.
 */
async function startDashboard(cfg: Readonly<BatonConfig>, supervisor: Supervisor, stack: Stack, logDir: string): Promise<void> {
  const plan = await planDashboard(cfg, logDir);
  if ("skipped" in plan) return void console.log(yellow(`dashboard not started: ${plan.skipped}`));
  stack.ui = plan.child;
  await supervisor.start(plan.child);
  if (supervisor.stopping) return;
  const running = plan.child.proc?.exitCode === null;
  if (!running) return void console.log(yellow(`dashboard did not start; see ${resolve(logDir, "ui.log")}`));
  console.log(`dashboard: ${bold(plan.url)} ${dim(`(pid ${plan.child.proc?.pid}${plan.note ? `; ${plan.note}` : ""})`)}`);
}

/** The orderly stop: workers (drained, with progress), then the coordinator, then our nats-server. Resolves with 0. */
async function stopStack(cfg: Readonly<BatonConfig>, supervisor: Supervisor, stack: Stack, signal: NodeJS.Signals): Promise<number> {
  supervisor.stopping = true;
  // SIGHUP: the terminal is gone; what cannot be printed must not stop the shutdown.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
  if (stack.ui) await stopAll([stack.ui], 5_000);
  const workers = stack.children.filter((child) => child.name !== "coordinator");
  console.log(dim(`${signal}: stopping — ${workers.length} workers (running tasks finish within ${cfg.worker.drainGraceSeconds}s or are handed back), then the coordinator, then nats-server; Ctrl-C again forces it`));
  await stopAll(workers, cfg.worker.drainGraceSeconds * 1000 + WORKER_STOP_MARGIN_MS, (names) => {
    if (names.length) console.log(dim(`still waiting for ${names.join(", ")} to drain…`));
  });
  await stopAll(stack.children.filter((child) => child.name === "coordinator"), 10_000);
  const nats = stack.nats;
  if (nats && nats.exitCode === null && nats.signalCode === null) {
    const exited = new Promise<void>((done) => nats.once("exit", () => done()));
    nats.kill("SIGTERM");
    const killer = setTimeout(() => nats.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
  }
  for (const child of [...stack.children, ...(stack.ui ? [stack.ui] : [])]) child.log.end();
  console.log("stopped");
  return 0;
}

/**
 * Role → worker processes to start: each configured role's replicas, and the integrator (which carries out the
 * workspace operations of git features: worktrees, merges, checkpoints, rollbacks) once unless `roles:` names it.
 */
export function stackRoles(cfg: Pick<BatonConfig, "roles">): Record<string, number> {
  const roles = Object.fromEntries(Object.entries(cfg.roles).map(([role, rc]) => [role, rc.replicas]));
  return Object.hasOwn(roles, INTEGRATOR_ROLE) ? roles : { ...roles, [INTEGRATOR_ROLE]: 1 };
}

/** The coordinator, then one worker process per role replica (stackRoles), each with its log file in `logDir`. */
function planChildren(cfg: Readonly<BatonConfig>, logDir: string): Child[] {
  const cfgArgs = cfg.configPath ? ["--config", cfg.configPath] : [];
  const children: Child[] = [];
  const add = (name: string, args: string[], ready: RegExp) =>
    children.push({ name, args, ready, restarts: [], log: createWriteStream(resolve(logDir, `${name}.log`), { flags: "a" }) });
  add("coordinator", ["coordinator", ...cfgArgs], /"msg":"coordinator ready"/);
  for (const [role, replicas] of Object.entries(stackRoles(cfg))) {
    for (let replica = 1; replica <= replicas; replica++) add(`worker-${role}-${replica}`, ["worker", "--role", role, ...cfgArgs], /"msg":"worker ready"/);
  }
  return children;
}
