// `baton up [--config FILE] [--log-dir DIR]`: a local dev stack — nats-server (if none answers),
// the coordinator and one worker process per configured role replica, as supervised child processes.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BatonConfig } from "../../../shared/config.ts";
import { connectNats } from "../../../shared/nats.ts";
import { once, sleep } from "../../../shared/process.ts";
import { bold, dim, green, red, yellow } from "../render.ts";

const BIN = fileURLToPath(new URL("../../../bin/baton.mjs", import.meta.url));

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
  const u = new URL(url.split(",")[0]!.replace(/^nats:/, "http:"));
  if (!["127.0.0.1", "localhost", "0.0.0.0", "::1", "[::1]"].includes(u.hostname)) {
    throw new Error(`no NATS server answers at ${url}, and it is not a local address that \`baton up\` could start one on`);
  }
  if (spawnSync("nats-server", ["--version"]).error) throw new Error(NATS_INSTALL_HINT);
  mkdirSync(storeDir, { recursive: true });
  const out = createWriteStream(resolve(logDir, "nats-server.log"), { flags: "a" });
  const proc = spawn("nats-server", ["-js", "-a", u.hostname === "localhost" ? "127.0.0.1" : u.hostname, "-p", u.port || "4222", "-sd", storeDir], { stdio: ["ignore", "pipe", "pipe"] });
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

export async function up(cfg: Readonly<BatonConfig>, o: { logDir?: string | undefined }): Promise<number> {
  const logDir = resolve(o.logDir ?? ".baton/logs");
  mkdirSync(logDir, { recursive: true });
  let nats: ChildProcess | undefined;
  if (await natsAnswers(cfg.natsUrl)) {
    console.log(`nats: using the server at ${cfg.natsUrl}`);
  } else {
    const storeDir = resolve(".baton/nats");
    try {
      nats = await startLocalNats(cfg.natsUrl, storeDir, logDir);
    } catch (e) {
      console.error(red((e as Error).message));
      return 1;
    }
    console.log(`nats: started a local nats-server at ${cfg.natsUrl} ${dim(`(store ${storeDir})`)}`);
  }
  const cfgArgs = cfg.configPath ? ["--config", cfg.configPath] : [];
  const children: Child[] = [];
  const add = (name: string, args: string[], ready: RegExp) =>
    children.push({ name, args, ready, restarts: [], log: createWriteStream(resolve(logDir, `${name}.log`), { flags: "a" }) });
  add("coordinator", ["coordinator", ...cfgArgs], /"msg":"coordinator ready"/);
  for (const [role, rc] of Object.entries(cfg.roles)) {
    for (let i = 1; i <= rc.replicas; i++) add(`worker-${role}-${i}`, ["worker", "--role", role, ...cfgArgs], /"msg":"worker ready"/);
  }
  if (children.length === 1) console.log(yellow("no roles configured: only the coordinator starts (pass --config FILE with `roles:`)"));

  let stopping = false;
  const env = { ...process.env, NATS_URL: cfg.natsUrl };
  const start = (c: Child): Promise<void> =>
    new Promise((ready) => {
      const proc = spawn(process.execPath, [BIN, ...c.args], { env, stdio: ["ignore", "pipe", "pipe"] });
      c.proc = proc;
      let buf = "";
      let isReady = false;
      const onData = (d: Buffer) => {
        c.log.write(d);
        if (isReady) return;
        buf += d.toString();
        if (c.ready.test(buf)) {
          isReady = true;
          buf = "";
          ready();
        }
      };
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", onData);
      proc.once("exit", (code, signal) => {
        if (!isReady) ready();
        if (stopping) return;
        const now = Date.now();
        c.restarts = c.restarts.filter((t) => now - t < 60_000);
        if (c.restarts.length >= 5) {
          console.error(red(`${c.name} exited (${signal ?? code}) 5 times within a minute; not restarting it. See ${resolve(logDir, c.name + ".log")}`));
          return;
        }
        c.restarts.push(now);
        const delay = 500 * 2 ** (c.restarts.length - 1);
        console.error(yellow(`${c.name} exited (${signal ?? `code ${code}`}); restarting in ${delay}ms`));
        setTimeout(() => !stopping && void start(c), delay);
      });
    });

  const shutdown = once(async () => {
    stopping = true;
    console.log(dim("stopping: workers, then the coordinator, then nats-server…"));
    const stopGroup = async (group: Child[], graceMs: number) => {
      await Promise.all(group.map(async (c) => {
        const p = c.proc;
        if (!p || p.exitCode !== null || p.signalCode) return;
        const exited = new Promise<void>((r) => p.once("exit", () => r()));
        p.kill("SIGTERM");
        const t = setTimeout(() => p.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(t);
      }));
    };
    await stopGroup(children.filter((c) => c.name !== "coordinator"), (cfg.worker.drainGraceSeconds + 5) * 1000);
    await stopGroup(children.filter((c) => c.name === "coordinator"), 10_000);
    if (nats && nats.exitCode === null) {
      const exited = new Promise<void>((r) => nats!.once("exit", () => r()));
      nats.kill("SIGTERM");
      await exited;
    }
    for (const c of children) c.log.end();
    console.log("stopped");
  });
  const onSignal = () => void shutdown().then(() => process.exit(0));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  await Promise.all(children.map(async (c) => {
    await start(c);
    console.log(`${green("started")} ${c.name} ${dim(`(pid ${c.proc?.pid})`)}`);
  }));
  const roles = Object.entries(cfg.roles).map(([r, rc]) => (rc.replicas > 1 ? `${r}×${rc.replicas}` : r));
  console.log(`baton up: ready — coordinator + ${children.length - 1} workers${roles.length ? ` (${roles.join(", ")})` : ""} on ${cfg.natsUrl}; logs in ${logDir}; Ctrl-C stops everything`);
  console.log(dim(`submit work with ${bold("baton submit FILE --watch")}; follow it with ${bold("baton watch ID")}`));
  await new Promise<never>(() => {});
  return 0;
}
