// `npm run demo`: the API-first feature end to end. Copies examples/sample-app into a fresh git
// workspace, starts `baton up` with the demo agents, submits examples/features/api-first.yaml
// against that workspace, follows it live (each task in its own git worktree, merged into the
// integration branch baton/<featureId>), then reports what it left (demo-report.ts).
// `npm run demo -- --agent claude-code|codex` runs the implementing roles on that agent CLI (examples/agent-demo).
// `npm run demo -- --plan auto [--approval] [--yes]` has the planner plan the feature from a goal, the plan wait for
// `baton approve`, and the api agent ask one question on the way (demo-plan.ts).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { worktreePaths } from "../services/worker/workspace/worktrees.ts";
import { DEMO_HELP, parseDemoArgs, prepareAgentRun, type DemoOptions } from "./agent-demo/setup.ts";
import { Guide, PLAN_GOAL, plannedRequest, writePlanConfig } from "./demo-plan.ts";
import { showReport } from "./demo-report.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "bin/baton.mjs");
const CONFIG = join(ROOT, "examples/baton.config.yaml");
const FEATURE = join(ROOT, "examples/features/api-first.yaml");
const READY = /^baton up: ready/m;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;

const PLAN_GOAL_SHORT = PLAN_GOAL.split(":")[0];

const say = (s: string) => console.log(`\x1b[1m▶ ${s}\x1b[0m`);
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

/** Runs a command to completion; throws with its output when it fails. */
function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Copies the sample app into `dir` and commits it: a git workspace, whose HEAD the feature's branch starts from. */
function createWorkspace(dir: string): void {
  cpSync(join(ROOT, "examples/sample-app"), dir, { recursive: true, filter: (src) => !src.includes("node_modules") });
  run("git", ["init", "-q"], dir);
  run("git", ["config", "user.name", "Baton demo"], dir);
  run("git", ["config", "user.email", "demo@baton.invalid"], dir);
  run("git", ["config", "commit.gpgsign", "false"], dir);
  run("git", ["add", "-A"], dir);
  run("git", ["commit", "-q", "-m", "sample app before the todos feature"], dir);
}

/** Resolves with the exit code of a child (128 + n for a signal, as a shell reports it). */
function exitOf(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once("exit", (code, signal) => r(code ?? (signal === "SIGINT" ? 130 : 143))));
}

/** The `baton up` child: its own process group, so Ctrl-C reaches it once, from us. */
class Stack {
  readonly child: ChildProcess;
  private output = "";
  private stopping: Promise<number> | undefined;

  constructor(config: string, logDir: string) {
    this.child = spawn(process.execPath, [BIN, "up", "--config", config, "--log-dir", logDir], {
      cwd: ROOT,
      env: process.env, // passes NATS_URL through when set
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const keep = (d: Buffer) => {
      this.output = (this.output + stripAnsi(d.toString())).slice(-20_000);
    };
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The dashboard's URL as `baton up` printed it, once it did. */
  dashboard(): string | undefined {
    return /^dashboard: (\S+)/m.exec(this.output)?.[1];
  }

  tail(lines = 30): string {
    return this.output.trimEnd().split("\n").slice(-lines).map((l) => `    ${l}`).join("\n");
  }

  /** Resolves when `baton up` prints its ready line; rejects if it exits or takes too long. */
  ready(): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => finish(new Error(`baton up was not ready within ${READY_TIMEOUT_MS / 1000}s`)), READY_TIMEOUT_MS);
      const check = () => READY.test(this.output) && finish();
      const onExit = (code: number | null, signal: string | null) => finish(new Error(`baton up exited (${signal ?? `code ${code}`}) before it was ready`));
      const finish = (e?: Error) => {
        clearTimeout(timer);
        this.child.stdout!.off("data", check);
        this.child.off("exit", onExit);
        if (e) reject(e);
        else resolvePromise();
      };
      this.child.stdout!.on("data", check);
      this.child.once("exit", onExit);
      check();
    });
  }

  /** SIGINT, then wait; SIGKILL to the whole group if it hangs. Safe to call twice. */
  stop(): Promise<number> {
    this.stopping ??= (async () => {
      if (!this.running) return exitOf(this.child);
      const exited = exitOf(this.child);
      this.child.kill("SIGINT");
      const timer = setTimeout(() => {
        console.error(`baton up did not stop within ${STOP_TIMEOUT_MS / 1000}s; killing it`);
        try {
          process.kill(-this.child.pid!, "SIGKILL");
        } catch {
          /* already gone */
        }
      }, STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    })();
    return this.stopping;
  }
}

async function main(): Promise<number> {
  let options: DemoOptions;
  try {
    options = parseDemoArgs(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${DEMO_HELP}`);
    return 2;
  }
  if (options.help) {
    console.log(DEMO_HELP);
    return 0;
  }
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const runDir = join(ROOT, ".baton/demo", `${stamp}${options.agent ? `-${options.agent}` : ""}${options.plan ? "-plan" : ""}`);
  const workspace = join(runDir, "workspace");
  const logDir = join(runDir, "logs");
  const featureId = `demo-${Date.now().toString(36)}`;
  mkdirSync(logDir, { recursive: true });

  say(`workspace: copying examples/sample-app to ${relative(ROOT, workspace)} (git repo)`);
  createWorkspace(workspace);

  const agentRun = options.agent
    ? await prepareAgentRun({ root: ROOT, runDir, baseConfig: CONFIG, feature: FEATURE, agent: options.agent, scripted: options.scripted, env: process.env, say })
    : undefined;
  let config = agentRun?.config ?? CONFIG;
  if (options.plan) {
    config = join(runDir, "baton.config.yaml");
    writePlanConfig({ base: CONFIG, file: config });
  }
  if (agentRun || options.plan) say(`config: ${relative(ROOT, config)}`);
  const decide = options.plan || options.approval ? { plan: Boolean(options.plan), approval: options.approval, auto: options.auto } : undefined;
  try {
    return await follow({ config, runDir, workspace, logDir, featureId, decide, keep: options.keep === true });
  } finally {
    await agentRun?.stop();
  }
}

/** Where a person decides (--plan auto, --approval; --yes: the demo decides itself). */
interface Decisions {
  plan: boolean;
  approval: boolean;
  auto: boolean;
}

/** The request file: the planned feature's goal, else examples/features/api-first.yaml (with approval when asked). */
function writeRequest(runDir: string, featureId: string, workspace: string, decide: Decisions | undefined): string {
  const request = decide?.plan
    ? plannedRequest({ featureId, workspace, approval: decide.approval })
    : { ...(parseYaml(readFileSync(FEATURE, "utf8")) as Record<string, unknown>), id: featureId, workspace, ...(decide?.approval ? { approval: "required" } : {}) };
  const requestFile = join(runDir, "feature.json");
  writeFileSync(requestFile, JSON.stringify(request, null, 2) + "\n");
  return requestFile;
}

/** Starts `baton up` with `config`, submits the feature and follows it to its end; stops `baton up` in any case. */
async function follow(paths: { config: string; runDir: string; workspace: string; logDir: string; featureId: string; decide?: Decisions | undefined; keep: boolean }): Promise<number> {
  const { config, runDir, workspace, logDir, featureId, decide } = paths;
  say(`starting baton up (NATS ${process.env.NATS_URL ?? "nats://127.0.0.1:4222, started if none answers"}; logs in ${relative(ROOT, logDir)})`);
  const stack = new Stack(config, logDir);
  let interrupted = false;
  let submitChild: ChildProcess | undefined;
  // --keep: after the report, waits here until Ctrl-C, which then stops baton up as on any other end. A
  // terminal's Ctrl-C may arrive twice (from the terminal and forwarded by tsx): once the wait ended, the rest is ignored.
  let kept: (() => void) | "released" | undefined;
  // Ctrl-C reaches `submit` directly (same process group); `baton up` gets exactly one SIGINT, from here.
  // Every step below checks `interrupted` before it starts another process.
  const onSigint = () => {
    if (kept === "released") return;
    if (kept) return kept();
    if (interrupted) return;
    interrupted = true;
    console.error("\ninterrupted: stopping baton up…");
    submitChild?.kill("SIGINT");
    void stack.stop().then(() => process.exit(130));
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);

  try {
    try {
      await stack.ready();
    } catch (e) {
      if (interrupted) return 130;
      console.error(`\n${(e as Error).message}. Last output of baton up:\n${stack.tail()}`);
      console.error(`(full logs in ${logDir})`);
      return 1;
    }
    if (interrupted) return 130;
    console.log(stack.tail(20));

    const requestFile = writeRequest(runDir, featureId, workspace, decide);
    const what = decide?.plan ? `the goal "${PLAN_GOAL_SHORT}" (plan: auto${decide.approval ? ", approval: required" : ""})` : `${relative(ROOT, FEATURE)}${decide?.approval ? " (approval: required)" : ""}`;
    say(`submitting ${what} as ${featureId} and following it: each task runs in its own git worktree and is merged into baton/${featureId}; the workspace's checkout stays as it is`);
    // the guide says where a person decides and prints the commands; `submit --watch` shows everything else
    const guide = decide ? new Guide({ bin: BIN, config, featureId, auto: decide.auto, env: process.env, say }) : undefined;
    await guide?.start().catch((e: unknown) => say(`cannot follow the decisions (${(e as Error).message}); \`baton status ${featureId}\` shows them`));
    submitChild = spawn(process.execPath, [BIN, "submit", requestFile, "--watch", "--config", config], { cwd: ROOT, stdio: "inherit" });
    const code = await exitOf(submitChild);
    submitChild = undefined;
    await guide?.stop();
    if (interrupted) return 130;

    // where the workers made the feature's worktrees: the config's worker.worktrees.dir, else ~/.cache/baton/worktrees/…
    const dir = (parseYaml(readFileSync(config, "utf8")) as { worker?: { worktrees?: { dir?: string } } } | null)?.worker?.worktrees?.dir;
    const worktrees = (await worktreePaths(workspace, featureId, { dir })).feature;
    await showReport({ root: ROOT, bin: BIN, featureId, workspace, worktrees, say });
    if (interrupted) return 130;

    const verdict = code === 0 ? "completed" : code === 1 ? "failed" : code === 2 ? "rejected" : `ended with exit code ${code}`;
    say(`feature ${featureId} ${verdict}; workspace ${workspace}`);
    if (paths.keep && stack.running) {
      say(`baton up stays up: ${stack.dashboard() ? `the dashboard is at ${stack.dashboard()}; ` : ""}\`baton report ${featureId} --markdown --config ${relative(ROOT, config)}\` works meanwhile; Ctrl-C stops it`);
      await new Promise<void>((resolveKept) => (kept = () => {
        kept = "released";
        resolveKept();
      }));
    }
    return code;
  } finally {
    if (!interrupted && stack.running) say("stopping baton up");
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
