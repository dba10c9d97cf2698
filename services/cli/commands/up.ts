// `baton up [--config FILE] [--log-dir DIR]`: a local dev stack — nats-server (if none answers),
// the coordinator and one worker process per configured role replica, as supervised child processes.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BatonConfig } from "../../../shared/config.ts";
import { connectNats } from "../../../shared/nats.ts";
import { once, sleep } from "../../../shared/process.ts";
import type { CliArgs } from "../args.ts";
import { cliConfig } from "../connect.ts";
import { bold, dim, green, red, yellow } from "../render.ts";

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

interface Child {
  name: string;
  args: string[];
  ready: RegExp;
  proc?: ChildProcess;
  restarts: number[];
  log: WriteStream;
}

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
async function startLocalNats(url: string, storeDir: string, logDir: string): Promise<ChildProcess> {
  const parsed = new URL(url.split(",")[0]!.replace(/^nats:/, "http:"));
  if (!["127.0.0.1", "localhost", "0.0.0.0", "::1", "[::1]"].includes(parsed.hostname)) {
    throw new Error(`no NATS server answers at ${url}, and it is not a local address that \`baton up\` could start one on`);
  }
  if (spawnSync("nats-server", ["--version"]).error) throw new Error(NATS_INSTALL_HINT);
  mkdirSync(storeDir, { recursive: true });
  const out = createWriteStream(resolve(logDir, "nats-server.log"), { flags: "a" });
  const proc = spawn("nats-server", ["-js", "-a", parsed.hostname === "localhost" ? "127.0.0.1" : parsed.hostname, "-p", parsed.port || "4222", "-sd", storeDir], { stdio: ["ignore", "pipe", "pipe"] });
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
 * Runs the stack until SIGINT/SIGTERM: nats-server (started only when none answers at the configured URL),
 * the coordinator and one worker per role replica, each restarted with backoff when it dies (at most 5
 * times a minute). Stops them in order (workers, coordinator, nats-server) and exits 0. Returns 1 only
 * when no NATS server could be had.
 */
export async function up(cfg: Readonly<BatonConfig>, opts: { logDir?: string | undefined }): Promise<number> {
  const logDir = resolve(opts.logDir ?? ".baton/logs");
  mkdirSync(logDir, { recursive: true });
  let nats: ChildProcess | undefined;
  if (await natsAnswers(cfg.natsUrl)) {
    console.log(`nats: using the server at ${cfg.natsUrl}`);
  } else {
    const storeDir = resolve(".baton/nats");
    try {
      nats = await startLocalNats(cfg.natsUrl, storeDir, logDir);
    } catch (err) {
      console.error(red((err as Error).message));
      return 1;
    }
    console.log(`nats: started a local nats-server at ${cfg.natsUrl} ${dim(`(store ${storeDir})`)}`);
  }
  const children = planChildren(cfg, logDir);
  if (children.length === 1) console.log(yellow("no roles configured: only the coordinator starts (pass --config FILE with `roles:`)"));
  const supervisor = new Supervisor(logDir, { ...process.env, NATS_URL: cfg.natsUrl });
  const shutdown = once(async () => {
    supervisor.stopping = true;
    console.log(dim("stopping: workers, then the coordinator, then nats-server…"));
    await stopAll(children.filter((c) => c.name !== "coordinator"), (cfg.worker.drainGraceSeconds + 5) * 1000);
    await stopAll(children.filter((c) => c.name === "coordinator"), 10_000);
    if (nats && nats.exitCode === null) {
      const exited = new Promise<void>((done) => nats!.once("exit", () => done()));
      nats.kill("SIGTERM");
      await exited;
    }
    for (const child of children) child.log.end();
    console.log("stopped");
  });
  const onSignal = () => void shutdown().then(() => process.exit(0));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  await Promise.all(children.map(async (child) => {
    await supervisor.start(child);
    console.log(`${green("started")} ${child.name} ${dim(`(pid ${child.proc?.pid})`)}`);
  }));
  const roles = Object.entries(cfg.roles).map(([role, rc]) => (rc.replicas > 1 ? `${role}×${rc.replicas}` : role));
  console.log(`baton up: ready — coordinator + ${children.length - 1} workers${roles.length ? ` (${roles.join(", ")})` : ""} on ${cfg.natsUrl}; logs in ${logDir}; Ctrl-C stops everything`);
  console.log(dim(`submit work with ${bold("baton submit FILE --watch")}; follow it with ${bold("baton watch ID")}`));
  await new Promise<never>(() => {});
  return 0;
}

/** The coordinator, then one worker process per role replica, each with its log file in `logDir`. */
function planChildren(cfg: Readonly<BatonConfig>, logDir: string): Child[] {
  const cfgArgs = cfg.configPath ? ["--config", cfg.configPath] : [];
  const children: Child[] = [];
  const add = (name: string, args: string[], ready: RegExp) =>
    children.push({ name, args, ready, restarts: [], log: createWriteStream(resolve(logDir, `${name}.log`), { flags: "a" }) });
  add("coordinator", ["coordinator", ...cfgArgs], /"msg":"coordinator ready"/);
  for (const [role, rc] of Object.entries(cfg.roles)) {
    for (let replica = 1; replica <= rc.replicas; replica++) add(`worker-${role}-${replica}`, ["worker", "--role", role, ...cfgArgs], /"msg":"worker ready"/);
  }
  return children;
}

/** Starts child processes and restarts those that die, until `stopping`. */
class Supervisor {
  stopping = false;
  constructor(
    private readonly logDir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Spawns `child`; resolves once it printed its ready line (or exited). A death restarts it with backoff. */
  start(child: Child): Promise<void> {
    return new Promise((ready) => {
      const proc = spawn(process.execPath, [BIN, ...child.args], { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
      child.proc = proc;
      let buffered = "";
      let isReady = false;
      const onData = (chunk: Buffer) => {
        child.log.write(chunk);
        if (isReady) return;
        buffered += chunk.toString();
        if (child.ready.test(buffered)) {
          isReady = true;
          buffered = "";
          ready();
        }
      };
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", onData);
      proc.once("exit", (code, signal) => {
        if (!isReady) ready();
        if (!this.stopping) this.restartLater(child, code, signal);
      });
    });
  }

  private restartLater(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    const now = Date.now();
    child.restarts = child.restarts.filter((at) => now - at < 60_000);
    if (child.restarts.length >= 5) {
      console.error(red(`${child.name} exited (${signal ?? code}) 5 times within a minute; not restarting it. See ${resolve(this.logDir, child.name + ".log")}`));
      return;
    }
    child.restarts.push(now);
    const delay = 500 * 2 ** (child.restarts.length - 1);
    console.error(yellow(`${child.name} exited (${signal ?? `code ${code}`}); restarting in ${delay}ms`));
    setTimeout(() => !this.stopping && void this.start(child), delay);
  }
}

/** SIGTERM to each running process of the group, SIGKILL after `graceMs`; resolves when all exited. */
async function stopAll(group: Child[], graceMs: number): Promise<void> {
  await Promise.all(group.map(async (child) => {
    const proc = child.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode) return;
    const exited = new Promise<void>((done) => proc.once("exit", () => done()));
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(killer);
  }));
}
